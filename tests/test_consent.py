"""A recipient's STOP and START, and the alerts they subscribed to, on a real database: the
newest word wins, a STOP ends their subscriptions, nothing is recorded twice for one text, and
an alert reaches the active subscribers of its district and of the whole city only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from socialbot.consent import (
    active_subscribers,
    is_stopped,
    record_consent,
    stopped,
    stopped_clause,
    subscribe,
)
from socialbot.domain import MentionOutcome
from socialbot.store.models import (
    ConsentAction,
    ConsentEvent,
    ConsentSource,
    MentionRecord,
    OutboxMessage,
)

AT = datetime(2026, 12, 20, 10, 0, tzinfo=UTC)
ANA, BEN, CY = "+16175550123", "+16175550145", "+16175550167"
STOP, START = ConsentAction.STOP, ConsentAction.START
KEYWORD, CARRIER = ConsentSource.KEYWORD, ConsentSource.CARRIER


def _mention(session: Session, post_id: str) -> int:
    row = MentionRecord(
        platform="sms",
        account="intake",
        post_id=post_id,
        author_id=ANA,
        text="STOP",
        created_at=AT,
        received_at=AT,
        outcome=MentionOutcome.IGNORED,
        raw="{}",
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def test_the_newest_word_wins_and_a_text_is_recorded_once(engine: Engine) -> None:
    with Session(engine) as session:
        first = _mention(session, "SM1")
        assert record_consent(
            session, "sms", ANA, STOP, KEYWORD, at=AT, word="STOP", mention_id=first
        )
        assert not record_consent(session, "sms", ANA, STOP, KEYWORD, at=AT, mention_id=first)
        record_consent(session, "sms", BEN, STOP, CARRIER, at=AT)
        record_consent(session, "sms", BEN, START, KEYWORD, at=AT + timedelta(minutes=1))
        session.commit()
    with Session(engine) as session:
        assert stopped(session, "sms", [ANA, BEN, CY]) == {ANA}
        assert is_stopped(session, "sms", ANA) and not is_stopped(session, "sms", BEN)
        assert not is_stopped(session, "mastodon", ANA)  # a number is a person on one network
        assert len(session.exec(select(ConsentEvent)).all()) == 3  # the record is kept whole


def test_a_stop_ends_the_subscriptions_and_an_alert_reaches_its_district(engine: Engine) -> None:
    with Session(engine) as session:
        subscribe(session, "sms", ANA, district="Dorchester", lang="es", at=AT)
        subscribe(session, "sms", BEN, district=None, lang="en", at=AT)
        subscribe(session, "sms", CY, district="Roxbury", lang="en", at=AT)
        # a new subscribing replaces the old: CY moves to Dorchester
        subscribe(session, "sms", CY, district="Dorchester", lang="en", at=AT)
        session.commit()
    with Session(engine) as session:
        everyone = active_subscribers(session, "sms", None)
        assert [s.address for s in everyone] == [ANA, BEN, CY]
        assert [s.address for s in active_subscribers(session, "sms", ["Roxbury"])] == [BEN]
        dorchester = active_subscribers(session, "sms", ["Dorchester"])
        assert [(s.address, s.lang) for s in dorchester] == [(ANA, "es"), (BEN, "en"), (CY, "en")]
        record_consent(session, "sms", ANA, STOP, KEYWORD, at=AT)
        session.commit()
    with Session(engine) as session:
        assert [s.address for s in active_subscribers(session, "sms", ["Dorchester"])] == [BEN, CY]
        # START alone subscribes to nothing: they ask for alerts again
        record_consent(session, "sms", ANA, START, KEYWORD, at=AT + timedelta(hours=1))
        assert ANA not in {s.address for s in active_subscribers(session, "sms", None)}


def test_a_query_of_rows_to_send_leaves_out_who_said_stop(engine: Engine) -> None:
    with Session(engine) as session:
        for key, recipient in (("a", ANA), ("b", BEN), ("c", None)):
            session.add(
                OutboxMessage(
                    platform="sms",
                    account="intake",
                    dedupe_key=key,
                    template="filed",
                    lang="en",
                    text="filed",
                    next_attempt_at=AT,
                    created_at=AT,
                    recipient=recipient,
                )
            )
        record_consent(session, "sms", ANA, STOP, KEYWORD, at=AT)
        session.commit()
        query = select(OutboxMessage.dedupe_key).where(
            ~stopped_clause(col(OutboxMessage.platform), col(OutboxMessage.recipient))
        )
        assert sorted(session.execute(query).scalars()) == ["b", "c"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from([ANA, BEN, CY]), st.sampled_from([STOP, START])), max_size=12
    )
)
def test_standing_is_the_newest_event_whatever_the_order(
    engine: Engine, events: list[tuple[str, ConsentAction]]
) -> None:
    with Session(engine) as session:
        for address, action in events:
            record_consent(session, "fuzz", address, action, KEYWORD, at=AT)
        newest: dict[str, ConsentAction] = {}
        for address, action in events:
            newest[address] = action
        assert stopped(session, "fuzz", [ANA, BEN, CY]) == {
            a for a, x in newest.items() if x is STOP
        }
        session.rollback()  # each example starts from no events: the fixture's database is shared
