"""What staff do with the inbox, against a real database (SQLite, and PostgreSQL where the
`database_url` fixture offers it): list, show, reply, answer, done, assign and file, each once."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from socialbot.domain import CaseStatus, GeoPoint, InboxReason, InboxState
from socialbot.errors import InboxError
from socialbot.inbox import Inbox
from socialbot.store.db import make_engine, transaction
from socialbot.store.models import (
    Case,
    CaseEvent,
    InboxItem,
    MentionRecord,
    OutboxMessage,
)
from tests.conftest import Clock
from tests.inbox.made import RECEIVED, add_case, add_message, inbox


def outbox(engine: Engine) -> list[OutboxMessage]:
    with transaction(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())


def item_row(engine: Engine, item_id: int) -> InboxItem:
    with transaction(engine) as session:
        row = session.get(InboxItem, item_id)
        assert row is not None
        return row


# --- list and show ----------------------------------------------------------------------------


def test_the_list_is_what_waits_storm_posts_first_then_the_oldest(engine: Engine) -> None:
    newer = add_message(engine, "@City the bus stop is a mess", received=RECEIVED)
    older = add_message(engine, "@City hello?", received=RECEIVED - timedelta(days=2))
    storm = add_message(
        engine, "#BoSandy help", reason=InboxReason.STORM, priority=True, received=RECEIVED
    )
    closed = add_message(engine, "@City thanks for nothing", received=RECEIVED - timedelta(days=3))
    box = inbox(engine)
    box.done(closed, "maria", RECEIVED)

    assert [i.id for i in box.items()] == [storm, older, newer]
    every = box.items(include_closed=True)
    assert [i.id for i in every] == [storm, older, newer, closed]
    assert every[-1].state is InboxState.DONE and every[-1].closed_by == "maria"


def test_the_list_takes_a_network_and_a_since(engine: Engine) -> None:
    on_x = add_message(engine, "@City hi", received=RECEIVED - timedelta(days=8))
    on_mastodon = add_message(engine, "@city hi", network="mastodon", handle="li@example.social")
    box = inbox(engine)
    assert [i.id for i in box.items(network="mastodon")] == [on_mastodon]
    assert [i.id for i in box.items(since=RECEIVED - timedelta(days=7))] == [on_mastodon]
    assert {i.id for i in box.items()} == {on_x, on_mastodon}


def test_show_gives_the_case_thread_and_the_residents_open_cases(engine: Engine) -> None:
    case_id = add_case(engine)
    comment = add_message(
        engine,
        "@City can you also fix the sidewalk?",
        reason=InboxReason.COMMENT,
        case_id=case_id,
        received=RECEIVED + timedelta(hours=1),
    )
    detail = inbox(engine).detail(comment)
    assert detail.item.case_id == case_id
    assert [p.text for p in detail.thread] == [
        "@City #pothole on Elm St",
        "@City can you also fix the sidewalk?",
    ]
    assert [p.this for p in detail.thread] == [False, True]
    assert [c.id for c in detail.open_cases] == [case_id]


def test_show_without_a_case_gives_the_conversation_and_our_replies(engine: Engine) -> None:
    first = add_message(engine, "@City is the pool open?", conversation_id="c1")
    second = add_message(
        engine, "@City hello??", conversation_id="c1", received=RECEIVED + timedelta(hours=2)
    )
    add_message(engine, "@City other thread", conversation_id="c2")
    box = inbox(engine)
    box.reply(first, "The pool opens at 9.", "maria", RECEIVED + timedelta(hours=1))
    detail = box.detail(second)
    assert [(p.ours, p.text) for p in detail.thread] == [
        (False, "@City is the pool open?"),
        (True, "The pool opens at 9."),
        (False, "@City hello??"),
    ]
    assert detail.open_cases == ()


def test_an_unknown_number_is_one_line(engine: Engine) -> None:
    box = inbox(engine)
    for action in (
        lambda: box.detail(7),
        lambda: box.reply(7, "hi", "maria", RECEIVED),
        lambda: box.done(7, "maria", RECEIVED),
        lambda: box.assign(7, "Parks", RECEIVED),
        lambda: box.file(7, "pothole", None, "maria", RECEIVED),
        lambda: box.detail(2**40),
    ):
        with pytest.raises(InboxError, match=r"^inbox #\d+ does not exist"):
            action()


# --- reply --------------------------------------------------------------------------------------


def test_a_reply_is_queued_in_the_residents_thread_once(engine: Engine, clock: Clock) -> None:
    item = add_message(engine, "@City why is my street never plowed?", reply_context="ctx")
    box = inbox(engine)
    done = box.reply(item, "  We'll send a plow today.  ", "maria", clock())

    (row,) = outbox(engine)
    assert done.outbox_id == row.id and done.text == "We'll send a plow today."
    with transaction(engine) as session:
        mention = session.exec(select(MentionRecord)).one()
    assert (row.platform, row.account, row.dedupe_key) == ("x", "intake", f"inbox:{item}")
    assert (row.in_reply_to_post_id, row.reply_context) == (mention.post_id, "ctx")
    assert (row.mention_id, row.template, row.lang) == (mention.id, "inbox_reply", "en")
    assert row.recipient == mention.author_id == "2001"  # the one person it goes to
    closed = item_row(engine, item)
    assert (closed.state, closed.closed_by, closed.outbox_id) == (
        InboxState.REPLIED,
        "maria",
        row.id,
    )

    clock.advance(minutes=2)
    with pytest.raises(InboxError) as refused:
        box.reply(item, "Again!", "li", clock())
    assert str(refused.value) == f"inbox #{item} was replied to by maria at 07:00 EST; nothing sent"
    assert len(outbox(engine)) == 1


def test_a_reply_in_a_cases_thread_belongs_to_the_case(engine: Engine) -> None:
    case_id = add_case(engine)
    item = add_message(engine, "@City also the sidewalk", case_id=case_id)
    inbox(engine).reply(item, "We'll look at it.", "maria", RECEIVED)
    assert outbox(engine)[0].case_id == case_id


def test_on_mastodon_the_reply_names_the_resident_and_is_measured_with_the_name(
    engine: Engine,
) -> None:
    item = add_message(engine, "@city hola?", network="mastodon", handle="li@example.social")
    box = inbox(engine)
    draft = box.draft_reply(item, "We are on it.", RECEIVED)
    assert draft.text == "@li@example.social We are on it."
    # Mastodon counts a mention without its domain: "@li" and the words.
    assert draft.measured == "17 of 500 characters on Mastodon"
    box.reply(item, "We are on it.", "maria", RECEIVED)
    assert outbox(engine)[0].text == draft.text


def test_a_reply_too_long_for_the_network_is_refused_and_nothing_is_queued(
    engine: Engine,
) -> None:
    item = add_message(engine, "@City ?")
    box = inbox(engine)
    assert not box.draft_reply(item, "x" * 281, RECEIVED).fits
    with pytest.raises(InboxError) as refused:
        box.reply(item, "x" * 281, "maria", RECEIVED)
    assert str(refused.value) == (
        f"inbox #{item}: the reply is 281 of 280 weighted characters on X; "
        "shorten it (nothing queued)"
    )
    assert outbox(engine) == [] and item_row(engine, item).state is InboxState.OPEN


@pytest.mark.parametrize(
    ("text", "why"),
    [("   ", "the reply is empty"), ("ok\x1b[2J", "control character (\\x1b)")],
)
def test_a_reply_that_cannot_be_sent_is_refused(engine: Engine, text: str, why: str) -> None:
    item = add_message(engine, "@City ?")
    with pytest.raises(InboxError, match=re.escape(why)):
        inbox(engine).reply(item, text, "maria", RECEIVED)
    assert outbox(engine) == []


def test_two_staff_who_previewed_at_once_send_one_reply(engine: Engine) -> None:
    item = add_message(engine, "@City ?")
    box = inbox(engine)
    box.draft_reply(item, "Mine", RECEIVED)
    box.draft_reply(item, "No, mine", RECEIVED)  # both saw it open
    box.reply(item, "Mine", "maria", RECEIVED)
    with pytest.raises(InboxError, match="was replied to by maria"):
        box.reply(item, "No, mine", "li", RECEIVED)
    assert [r.text for r in outbox(engine)] == ["Mine"]


def test_two_replies_racing_in_two_sessions_queue_one(engine: Engine, database_url: str) -> None:
    item = add_message(engine, "@City ?")
    start = threading.Barrier(2)
    results: dict[str, object] = {}

    def reply_as(name: str) -> None:
        own = make_engine(database_url)  # its own connections: a session of its own
        try:
            start.wait()
            results[name] = inbox(own).reply(item, f"from {name}", name, RECEIVED)
        except InboxError as exc:
            results[name] = exc
        finally:
            own.dispose()

    threads = [threading.Thread(target=reply_as, args=(n,)) for n in ("maria", "li")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refused = [r for r in results.values() if isinstance(r, InboxError)]
    assert len(refused) == 1 and "was replied to by" in str(refused[0])
    (row,) = outbox(engine)
    winner = item_row(engine, item).closed_by
    assert row.text == f"from {winner}"


# --- answer -------------------------------------------------------------------------------------


def test_an_answer_goes_in_the_messages_language(engine: Engine) -> None:
    item = add_message(engine, "@City ¿cuándo pasa el camión?", lang="es")
    box = inbox(engine)
    done = box.answer(item, "trash_day", "maria", RECEIVED)
    (row,) = outbox(engine)
    assert row.text == done.text and row.text.startswith("La basura y el reciclaje")
    assert (row.template, row.lang) == ("answer", "es")
    assert "https://" not in row.text  # X bills a post with a link: the answer goes without it
    closed = item_row(engine, item)
    assert (closed.state, closed.answer_key) == (InboxState.ANSWERED, "trash_day")


def test_an_answer_carries_its_link_where_links_are_free(engine: Engine) -> None:
    item = add_message(engine, "@city trash?", network="mastodon", handle="li@example.social")
    draft = inbox(engine).draft_answer(item, "trash_day", RECEIVED)
    assert draft.text.startswith("@li@example.social Trash and recycling")
    assert draft.text.endswith("https://www.example.gov/trash-day")


def test_an_unknown_key_names_the_nearest(engine: Engine) -> None:
    item = add_message(engine, "@City ?")
    with pytest.raises(InboxError) as refused:
        inbox(engine).answer(item, "trash_dya", "maria", RECEIVED)
    assert str(refused.value).startswith("'trash_dya': no such entry in ")
    assert "did you mean trash_day" in str(refused.value)
    assert "\n" not in str(refused.value) and outbox(engine) == []


def test_an_answered_item_is_refused_naming_the_entry(engine: Engine, clock: Clock) -> None:
    item = add_message(engine, "@City ?")
    box = inbox(engine)
    box.answer(item, "trash_day", "maria", clock())
    clock.advance(days=1)
    with pytest.raises(InboxError) as refused:
        box.reply(item, "hi", "li", clock())
    assert str(refused.value) == (
        f"inbox #{item} was answered (trash_day) by maria on 2026-11-23 at 07:00 EST; nothing sent"
    )


# --- done and assign ----------------------------------------------------------------------------


def test_done_closes_without_a_reply_and_keeps_the_note(engine: Engine) -> None:
    item = add_message(engine, "@City lol")
    box = inbox(engine)
    box.done(item, "maria", RECEIVED, note="a joke")
    row = item_row(engine, item)
    assert (row.state, row.note, row.closed_by) == (InboxState.DONE, "a joke", "maria")
    assert outbox(engine) == []
    with pytest.raises(InboxError, match="was marked done by maria at 07:00 EST; nothing changed"):
        box.done(item, "li", RECEIVED)


def test_assign_says_who_had_it_before(engine: Engine) -> None:
    item = add_message(engine, "@City ?")
    box = inbox(engine)
    first = box.assign(item, "  Parks   Department ", RECEIVED)
    assert (first.to, first.before) == ("Parks Department", None)
    second = box.assign(item, "maria", RECEIVED)
    assert (second.to, second.before) == ("maria", "Parks Department")
    assert item_row(engine, item).state is InboxState.OPEN


@pytest.mark.parametrize(
    ("to", "why"), [("   ", "--to needs a name"), ("P" * 129, "--to: 129 characters")]
)
def test_assign_takes_1_to_128_characters(engine: Engine, to: str, why: str) -> None:
    item = add_message(engine, "@City ?")
    with pytest.raises(Exception, match=why):
        inbox(engine).assign(item, to, RECEIVED)
    inbox(engine).assign(item, "P" * 128, RECEIVED)


def test_assign_refuses_a_closed_item(engine: Engine) -> None:
    item = add_message(engine, "@City ?")
    box = inbox(engine)
    box.done(item, "maria", RECEIVED)
    with pytest.raises(InboxError, match="was marked done by maria"):
        box.assign(item, "Parks", RECEIVED)


# --- file ---------------------------------------------------------------------------------------


def case_of(engine: Engine, case_id: int) -> tuple[Case, list[CaseEvent]]:
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        events = session.exec(select(CaseEvent).where(CaseEvent.case_id == case_id)).all()
        return case, list(events)


def test_file_opens_the_case_as_intake_would_and_tells_the_resident(engine: Engine) -> None:
    item = add_message(engine, "@City there's a huge hole on Elm St near the school")
    done = inbox(engine).file(item, "#Potholes", GeoPoint(42.35, -71.06), "maria", RECEIVED)

    case, (event,) = case_of(engine, done.case_id or 0)
    assert (case.category, case.status, case.location_source) == (
        "pothole",
        CaseStatus.NEW,
        "staff",
    )
    assert case.department == "Public Works – Highway" and case.due_at is not None
    assert case.description == "@City there's a huge hole on Elm St near the school"
    assert case.public  # a public post's case, as intake would have opened it
    assert (event.actor, event.note) == ("maria", "filed from the inbox by maria")
    (row,) = outbox(engine)
    assert row.dedupe_key == f"inbox:{item}" and row.template == "filed"
    assert row.text.startswith(f"Thanks! Your report is filed as case #{case.id} (Pothole).")
    assert row.case_id == case.id
    with transaction(engine) as session:
        assert session.exec(select(MentionRecord.case_id)).one() == case.id
    closed = item_row(engine, item)
    assert (closed.state, closed.filed_case_id) == (InboxState.FILED, case.id)


def test_file_keeps_a_direct_messages_privacy_and_its_photos(engine: Engine) -> None:
    photo = "https://pbs.twimg.com/media/hole.jpg"
    item = add_message(engine, "@City hole on Elm St", public=False, photo_urls=(photo,))
    done = inbox(engine).file(item, "pothole", GeoPoint(42.35, -71.06), "maria", RECEIVED)

    case, _ = case_of(engine, done.case_id or 0)
    assert (case.public, case.photo_urls, case.public_photo_urls) == (False, [photo], [])


def test_file_finds_the_location_in_the_message(engine: Engine) -> None:
    item = add_message(engine, "@City hole at 42.3601, -71.0589 please")
    done = inbox(engine).file(item, "pothole", None, "maria", RECEIVED)
    case, _ = case_of(engine, done.case_id or 0)
    assert (case.lat, case.lon, case.location_source) == (42.3601, -71.0589, "text")


def test_file_without_a_location_asks_the_resident_for_one(engine: Engine) -> None:
    item = add_message(engine, "@City hay un bache enorme", lang="es")
    done = inbox(engine).file(item, "bache", None, "maria", RECEIVED)
    assert done.case_status is CaseStatus.NEEDS_LOCATION
    (row,) = outbox(engine)
    assert (row.template, row.lang) == ("needs_location", "es")


def test_file_refuses_a_place_outside_the_city(engine: Engine) -> None:
    item = add_message(engine, "@City hole")
    with pytest.raises(
        InboxError, match=re.escape("--at 40.71280,-74.00600 is outside the city bounds")
    ):
        inbox(engine).file(item, "pothole", GeoPoint(40.7128, -74.006), "maria", RECEIVED)
    assert outbox(engine) == [] and item_row(engine, item).state is InboxState.OPEN


def test_file_names_the_nearest_categories(engine: Engine) -> None:
    item = add_message(engine, "@City hole")
    with pytest.raises(InboxError) as refused:
        inbox(engine).file(item, "pothol", None, "maria", RECEIVED)
    assert str(refused.value).startswith("--category 'pothol': no category of the catalog;")
    assert "pothole" in str(refused.value)


def test_a_filed_item_is_refused_naming_its_case(engine: Engine) -> None:
    item = add_message(engine, "@City hole")
    box: Inbox = inbox(engine)
    done = box.file(item, "pothole", GeoPoint(42.35, -71.06), "maria", RECEIVED)
    with pytest.raises(InboxError) as refused:
        box.file(item, "pothole", GeoPoint(42.35, -71.06), "li", RECEIVED)
    assert str(refused.value) == (
        f"inbox #{item} was filed as case #{done.case_id} by maria at 07:00 EST; nothing filed"
    )
    with transaction(engine) as session:
        assert len(session.exec(select(Case)).all()) == 1
