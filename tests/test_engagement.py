"""The engagement figures as pure functions: what each one counts, on a few hand-made facts, and
what holds for any facts at all (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from socialbot.config import load_settings
from socialbot.domain import InboxReason, InboxState, MentionOutcome
from socialbot.reports import (
    NOT_ENGAGEMENT,
    STAFF_ANSWERS,
    TOTAL_KEY,
    InboxFacts,
    MessageFacts,
    engagement,
    span_text,
)
from socialbot.status import read_status
from socialbot.store.queries import inbox_facts, message_facts
from socialbot.web import metrics
from tests import engagement_city

SINCE = datetime(2026, 11, 2, tzinfo=UTC)
UNTIL = datetime(2026, 11, 23, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_a_blocked_account_our_own_posts_and_unreadable_payloads_are_not_messages_in() -> None:
    messages = [
        MessageFacts("x", MentionOutcome.IGNORED, SINCE),  # a retweet, a blocked account
        MessageFacts("x", MentionOutcome.MALFORMED, SINCE),
        MessageFacts("x", MentionOutcome.LIMITED, SINCE),  # a resident, over the daily limit
        MessageFacts("x", MentionOutcome.OUTSIDE_CITY, SINCE),
        MessageFacts("x", MentionOutcome.CASE_OPENED, UNTIL),  # `until` is excluded
    ]
    result = engagement(messages, [], since=SINCE, until=UNTIL, now=NOW)
    assert result.total.messages_in == 2 and result.total.reports_filed == 0


def test_staff_answers_count_when_closed_and_what_waits_counts_now() -> None:
    before = SINCE - 3 * HOUR
    items = [
        # Came in before the window, answered in it: counted, 4 h.
        InboxFacts("x", InboxReason.QUESTION, InboxState.REPLIED, before, SINCE + HOUR),
        # Answered after the window: not counted in it.
        InboxFacts("x", InboxReason.QUESTION, InboxState.ANSWERED, SINCE, UNTIL + HOUR),
        InboxFacts("x", InboxReason.COMMENT, InboxState.DONE, SINCE, SINCE + HOUR),
        InboxFacts("x", InboxReason.STORM, InboxState.OPEN, NOW - 5 * HOUR, None, True),
    ]
    total = engagement([], items, since=SINCE, until=UNTIL, now=NOW).total
    assert (total.answered_by_staff, total.closed_without_reply) == (1, 1)
    assert total.median_to_staff_answer == total.p90_to_staff_answer == 4 * HOUR
    assert (total.unanswered, total.oldest_unanswered_age) == (1, 5 * HOUR)


@pytest.mark.parametrize(
    ("span", "said"),
    [
        (timedelta(seconds=59), "< 1 min"),
        (timedelta(minutes=45, seconds=59), "45 min"),
        (timedelta(hours=3), "3 h"),
        (timedelta(hours=3, minutes=20), "3 h 20 min"),
        (timedelta(hours=47, minutes=59), "47 h 59 min"),
        (timedelta(days=2), "2 d"),
        (timedelta(days=2, hours=4, minutes=59), "2 d 4 h"),
        (timedelta(seconds=-30), "< 1 min"),  # a clock behind: never a negative time
    ],
)
def test_a_span_reads_as_people_say_it(span: timedelta, said: str) -> None:
    assert span_text(span) == said


MOMENT = st.datetimes(
    min_value=datetime(2026, 10, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)
NETWORK = st.sampled_from(["x", "mastodon", "bluesky"])
MESSAGE = st.builds(MessageFacts, NETWORK, st.sampled_from(list(MentionOutcome)), MOMENT)


@st.composite
def inbox_item(draw: st.DrawFn) -> InboxFacts:
    state = draw(st.sampled_from(list(InboxState)))
    created = draw(MOMENT)
    closed = (
        None
        if state is InboxState.OPEN
        else created + draw(st.timedeltas(timedelta(0), HOUR * 900))
    )
    reason = draw(st.sampled_from(list(InboxReason)))
    return InboxFacts(draw(NETWORK), reason, state, created, closed, draw(st.booleans()))


@given(messages=st.lists(MESSAGE, max_size=40), items=st.lists(inbox_item(), max_size=30))
def test_the_channels_add_up_to_the_total_for_any_facts(
    messages: list[MessageFacts], items: list[InboxFacts]
) -> None:
    result = engagement(messages, items, since=SINCE, until=UNTIL, now=NOW)
    total = result.total
    inside = [m for m in messages if SINCE <= m.received_at < UNTIL]
    assert total.messages_in == sum(1 for m in inside if m.outcome not in NOT_ENGAGEMENT)
    closed = [i for i in items if i.closed_at is not None and SINCE <= i.closed_at < UNTIL]
    assert total.answered_by_staff == sum(1 for i in closed if i.state in STAFF_ANSWERS)
    assert total.answered_by_staff + total.closed_without_reply == len(closed)
    assert total.unanswered == sum(1 for i in items if i.state is InboxState.OPEN)
    for field in ("messages_in", "reports_filed", "answered_by_staff", "unanswered"):
        assert getattr(total, field) == sum(getattr(row, field) for row in result.rows)
    for row in (*result.rows, total):
        # Staff's `inbox file` adds reports to the messages that came in as unclassified.
        by_staff = sum(
            1
            for i in closed
            if i.state is InboxState.FILED
            and SINCE <= i.created_at < UNTIL
            and row.key in (i.network, TOTAL_KEY)
        )
        assert row.reports_filed - by_staff + row.reports_linked + row.answered_automatically <= (
            row.messages_in
        )
        if row.median_to_staff_answer is not None:
            assert row.p90_to_staff_answer is not None
            assert timedelta(0) <= row.median_to_staff_answer <= row.p90_to_staff_answer
        if row.oldest_unanswered_age is not None:
            assert row.oldest_unanswered_age >= timedelta(0)
            assert span_text(row.oldest_unanswered_age)


def test_the_store_reads_count_the_same_on_every_database(engine: Engine) -> None:
    """The hand-counted month of `tests/engagement_city.py`, read back by report, status and
    /metrics from SQLite and (with SOCIALBOT_TEST_POSTGRES_URL) PostgreSQL."""
    now = datetime.now(UTC).replace(microsecond=0)
    engagement_city.build(engine, now)
    since, until = now - 30 * engagement_city.DAY, now
    result = engagement(
        message_facts(engine, since=since, until=until),
        inbox_facts(engine, since=since, until=until),
        since=since,
        until=until,
        now=now,
    )
    assert [row.key for row in result.rows] == ["mastodon", "x"]
    total = result.total
    # 5 reports came in with their hashtag; staff filed one more from the inbox.
    assert (total.messages_in, total.reports_filed, total.answered_by_staff) == (14, 6, 3)
    assert total.median_to_staff_answer == 2 * HOUR
    assert total.oldest_unanswered_age == 50 * engagement_city.DAY

    inbox = read_status(engine, now).inbox
    assert inbox.by_reason == ((InboxReason.QUESTION, 1), (InboxReason.STORM, 1))
    assert (inbox.waiting, inbox.priority, inbox.oldest) == (2, 1, now - 50 * engagement_city.DAY)

    scraped = {
        (s.name, s.labels.get("reason")): s.value
        for family in text_string_to_metric_families(
            metrics.render(engine, load_settings(), lambda: now).decode()
        )
        for s in family.samples
    }
    assert scraped[("socialbot_inbox_waiting", "storm")] == 1
    assert scraped[("socialbot_inbox_oldest_seconds", None)] == 50 * 24 * 3600
