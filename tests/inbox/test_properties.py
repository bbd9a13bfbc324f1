"""Whatever staff type as a reply, it is queued exactly as previewed, or refused in one line with
nothing queued; and whatever a resident wrote, `inbox show` prints it harmlessly."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from sqlalchemy import Engine, delete
from sqlmodel import select

from socialbot.cli.inbox import detail_table, items_table
from socialbot.cli.render import _UNSAFE, PlainConsole
from socialbot.errors import SocialbotError
from socialbot.store.db import make_engine, transaction, upgrade
from socialbot.store.models import InboxItem, MentionRecord, OutboxMessage
from tests.inbox.made import EASTERN, RECEIVED, add_message, inbox

NETWORKS = [("x", "maria"), ("mastodon", "li@example.social"), ("bluesky", "ana.bsky.social")]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """One SQLite database for every example (a fresh one each would be slow); each example
    empties it first."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('inbox') / 'hypothesis.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


def _empty(engine: Engine) -> None:
    with transaction(engine) as session:
        for table in (InboxItem, OutboxMessage, MentionRecord):  # who refers to whom
            session.execute(delete(table))


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=600), network=st.sampled_from(NETWORKS))
def test_a_reply_is_queued_exactly_as_previewed_or_refused_in_one_line(
    shared: Engine, text: str, network: tuple[str, str]
) -> None:
    _empty(shared)
    name, handle = network
    item = add_message(shared, "@City ?", network=name, handle=handle)
    box = inbox(shared)
    try:
        draft = box.draft_reply(item, text, RECEIVED)
        done = box.reply(item, text, "maria", RECEIVED)
    except SocialbotError as refused:
        assert "\n" not in str(refused) and str(refused).startswith(f"inbox #{item}")
        with transaction(shared) as session:
            assert session.exec(select(OutboxMessage)).all() == []
        return
    assert draft.fits
    with transaction(shared) as session:
        (row,) = session.exec(select(OutboxMessage)).all()
    assert row.text == draft.text == done.text
    assert draft.rules.length(row.text) == draft.length <= draft.rules.limit


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=400), handle=st.one_of(st.none(), st.text(min_size=1, max_size=30)))
def test_show_and_list_print_any_message_as_plain_text_within_80_columns(
    shared: Engine, text: str, handle: str | None
) -> None:
    _empty(shared)
    item = add_message(shared, text.replace("\x00", ""), handle=handle)
    box = inbox(shared)
    out = io.StringIO()
    console = PlainConsole(file=out, width=80, highlight=False, soft_wrap=True)
    console.print(detail_table(box.detail(item), EASTERN))
    console.print(items_table(box.items(), EASTERN, RECEIVED, with_state=False))
    printed = out.getvalue()
    assert not _UNSAFE.search(printed.replace("\n", ""))
    assert all(cell_len(line) <= 80 for line in printed.splitlines()), printed
