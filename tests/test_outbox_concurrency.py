"""Two senders on one database (two `socialbot run` processes): each reply is posted exactly once,
and on PostgreSQL a row another sender is claiming is skipped (`SKIP LOCKED`), never waited for."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlmodel import col

from socialbot.networks.x.replay import ReplayPlatform
from socialbot.outbox import Outbox, _claim, send_once
from socialbot.store.db import make_engine, transaction
from socialbot.store.models import OutboxMessage, OutboxState
from socialbot.store.queries import outbox_rows
from tests import xapi
from tests.city import queued_reply
from tests.conftest import Clock


def queue(engine: Engine, clock: Clock, count: int, *, thread: int = 0) -> list[int]:
    """`count` replies to as many posts; with `thread`, also a broadcast thread of that many posts
    (each after the one before). Returns the ids in order."""
    ids: list[int] = []
    with transaction(engine) as session:
        for n in range(1, count + 1):
            row = queued_reply(n, clock())
            session.add(row)
            session.flush()
            assert row.id is not None
            ids.append(row.id)
        before: int | None = None
        for n in range(1, thread + 1):
            post = OutboxMessage(
                platform="x",
                account="intake",
                dedupe_key=f"broadcast:1:{n}",
                template="broadcast",
                lang="en",
                text=f"Storm update, part {n} of {thread}.",
                next_attempt_at=clock(),
                created_at=clock(),
                after_id=before,
            )
            session.add(post)
            session.flush()
            assert post.id is not None
            ids.append(before := post.id)
    return ids


class Interleaving(ReplayPlatform):
    """Records posts like X would receive them; each post takes a moment, so two senders overlap.
    The senders share X's post ids, as two processes posting as one account do."""

    def __init__(self, user_id: str, ids: Iterator[int]) -> None:
        super().__init__(user_id)
        self._ids = ids

    def post(self, text: str, in_reply_to: str | None, media_ids: Sequence[str] = ()) -> str:
        time.sleep(0.002)
        return super().post(text, in_reply_to, media_ids)


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite lets one writer in at a time")
    return database_url


@pytest.fixture
def impatient(postgres_url: str) -> Iterator[Engine]:
    """An engine whose statements give up on a row lock after 2 s: a sender that waits for
    another's lock, instead of skipping its row, fails the test fast rather than hanging it."""
    url = make_url(postgres_url)
    options = f"{url.query.get('options', '')} -c lock_timeout=2000".strip()
    engine = make_engine(url.update_query_dict({"options": options}).render_as_string(False))
    yield engine
    engine.dispose()


def test_a_row_another_sender_is_claiming_is_skipped_not_waited_for(
    engine: Engine, impatient: Engine, clock: Clock
) -> None:
    first, second, third = queue(engine, clock, 3)
    platform = ReplayPlatform(xapi.CITY_ID)
    outbox = Outbox(engine=impatient, platform=platform, user_id=lambda: xapi.CITY_ID)

    with engine.connect() as other, other.begin():
        # The other process, in the middle of claiming the first row: it holds the row's lock.
        other.execute(
            select(OutboxMessage.id).where(col(OutboxMessage.id) == first).with_for_update()
        )
        began = time.monotonic()
        assert _claim(outbox, first, clock()) is None
        report = send_once(outbox, clock)
        waited = time.monotonic() - began

    assert waited < 1.5  # well under the lock timeout: nothing waited for the lock
    assert report.sent == 2
    assert [p.in_reply_to for p in platform.posted] == [xapi.post_id(2), xapi.post_id(3)]
    assert [(r.id, r.state) for r in outbox_rows(engine)] == [
        (first, OutboxState.PENDING),  # untouched: the other sender's business this round
        (second, OutboxState.SENT),
        (third, OutboxState.SENT),
    ]

    assert send_once(outbox, clock).sent == 1  # once the other let go, it is ours to send
    assert [p.in_reply_to for p in platform.posted][-1] == xapi.post_id(1)


def test_a_locked_row_is_not_failed_under_its_sender(
    engine: Engine, impatient: Engine, clock: Clock
) -> None:
    """Settling expired rows skips one another sender holds, rather than failing it mid-claim."""
    (row_id,) = queue(engine, clock, 1)
    with transaction(engine) as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.expires_at = clock() - timedelta(minutes=1)
    outbox = Outbox(
        engine=impatient, platform=ReplayPlatform(xapi.CITY_ID), user_id=lambda: xapi.CITY_ID
    )

    with engine.connect() as other, other.begin():
        other.execute(
            select(OutboxMessage.id).where(col(OutboxMessage.id) == row_id).with_for_update()
        )
        report = send_once(outbox, clock)

    assert (report.failed, report.sent) == (0, 0)
    assert send_once(outbox, clock).failed == 1  # let go: now it is settled, as before


def test_two_senders_at_once_post_each_reply_exactly_once(
    database_url: str, engine: Engine, clock: Clock
) -> None:
    ids = queue(engine, clock, 40, thread=5)
    senders = [make_engine(database_url) for _ in range(2)]  # two processes: two engines
    x_ids = itertools.count(9_000_000_000_000_000_000)
    platforms = [Interleaving(xapi.CITY_ID, x_ids) for _ in senders]
    outboxes = [
        Outbox(engine=e, platform=p, user_id=lambda: xapi.CITY_ID, batch=100)
        for e, p in zip(senders, platforms, strict=True)
    ]
    start = threading.Barrier(len(outboxes))

    def sender(outbox: Outbox) -> int:
        start.wait(10)
        sent = 0
        # A thread's next post waits for the one before it; whoever claims it, a later round
        # sends it. Both keep going until nothing is left.
        for _ in range(10):
            sent += send_once(outbox, clock).sent
        return sent

    try:
        with ThreadPoolExecutor(len(outboxes)) as pool:
            totals = [f.result(60) for f in [pool.submit(sender, o) for o in outboxes]]
    finally:
        for e in senders:
            e.dispose()

    posted = [p for platform in platforms for p in platform.posted]
    assert sum(totals) == len(posted) == len(ids)
    assert all(n == 1 for n in Counter(p.text for p in posted).values())
    rows = {r.id: r for r in outbox_rows(engine)}
    assert {r.state for r in rows.values()} == {OutboxState.SENT}
    by_id = {p.post_id: p for p in posted}
    assert sorted(r.posted_id for r in rows.values()) == sorted(by_id)  # each post recorded once
    chain = [rows[i] for i in ids[40:]]
    assert chain[0].in_reply_to_post_id is None
    for before, after in itertools.pairwise(chain):
        # Each post of the thread answers the one before, whichever sender posted which.
        assert by_id[after.posted_id or ""].in_reply_to == before.posted_id
