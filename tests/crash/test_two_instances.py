"""Two `socialbot run` processes on one PostgreSQL database, for real: exactly one polls (the
advisory lock of socialbot/store/poll_lock.py), the other takes the poll over within one poll
interval when the holder is SIGKILLed, both send, and the outbox's `FOR UPDATE SKIP LOCKED` claim
lets no reply out twice.

PostgreSQL only (SOCIALBOT_TEST_POSTGRES_URL): two processes on one SQLite file are covered by the
flock tests of the poll lock. The fake X takes `POST_SECONDS` to answer each post, as the real one
takes a fraction of a second: no single bot can drain a wave of replies before the other's send
job (every second) comes round, so that both send is certain, not luck; and each reply is in
flight long enough for the two senders to overlap."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from socialbot.domain import MentionOutcome
from socialbot.store.models import Case, MentionRecord, OutboxMessage, OutboxState
from tests import xapi
from tests.conftest import POSTGRES_URL
from tests.crash.fake_x import FakeX, Request
from tests.crash.harness import FAST, BotProcess, CrashHarness

pytestmark = [
    pytest.mark.slow,  # two real bots, killed and restarted (`-m "not slow"` leaves them out)
    pytest.mark.skipif(
        POSTGRES_URL is None,
        reason="two `socialbot run` on one database need PostgreSQL: set "
        "SOCIALBOT_TEST_POSTGRES_URL (two on one SQLite file: the poll lock's flock tests)",
    ),
    # The `database_url` fixture's PostgreSQL param only: a schema of this test's own.
    pytest.mark.parametrize("database_url", ["postgresql"], indirect=True),
]

PAGE_SIZE = 10  # a wave of 32 mentions is four pages
POST_SECONDS = 0.1  # how long the fake X takes to answer a post
POLL_SECONDS = float(FAST["SOCIALBOT_POLL_SECONDS"])
# The harness's 2 s recovery of `sending` rows is for one process only: with two, a bot would
# "recover" (re-queue, then re-send) a reply still in flight in the other. Production's is 120 s.
TWO_BOTS = {"SOCIALBOT_RECOVER_AFTER_SECONDS": "60"}
# A takeover is due within one poll interval of the kill; this much more for a loaded machine
# (a 2-core box shared with other work) to schedule the standby's tick and its first request.
TAKEOVER_SLACK = 3.0
TAGS = ["pothole", "graffiti", "streetlight", "downedtree", "missedtrash", "illegaldumping"]


@dataclass(frozen=True, slots=True)
class Seeded:
    post_id: str
    report: bool  # a hashtag and a location: a case is filed (else the help reply)


def seed(fake_x: FakeX, first: int, reports: int, help_requests: int) -> list[Seeded]:
    """`reports` located reports, then `help_requests` mentions without a hashtag (each one the
    help reply), mention numbers from `first` on (a multiple of 1000; larger is newer), each from
    its own resident, created in the last minutes. The reports lie on a grid about 450 m apart,
    far beyond the 50 m in which a report of the same category is a duplicate, each wave on points
    of its own (at most 40 reports a wave): every report opens a case of its own."""
    now = datetime.now(UTC)
    total = reports + help_requests
    seeded = []
    for i in range(total):
        n = first + i
        if i < reports:
            spot = (n // 1000 - 1) * 40 + n % 1000  # a point of its own in every wave
            where = (42.30 + (spot // 8) * 0.004, -71.10 + (spot % 8) * 0.0055)
            text = f"@DemoCity311 #{TAGS[i % len(TAGS)]} here, report {n}"
            tweet = xapi.tweet(n, text, author=str(10_000 + n), coordinates=where)
        else:
            text = f"@DemoCity311 I'd like to report a problem to the city (asking {n})"
            tweet = xapi.tweet(n, text, author=str(10_000 + n))
        created = now - timedelta(seconds=total - i)
        tweet["created_at"] = created.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        fake_x.add_mention(tweet)
        seeded.append(Seeded(tweet["id"], i < reports))
    return seeded


@pytest.fixture
def harness(tmp_path: Path, database_url: str) -> Iterator[CrashHarness]:
    harness = CrashHarness(tmp_path, database_url, page_size=PAGE_SIZE)
    FakeX.create(harness.fake_x.path, page_size=PAGE_SIZE, post_seconds=POST_SECONDS)
    try:
        yield harness
    finally:
        harness.close()  # the bots' logs, shown when the test failed


def start_leader_and_standby(harness: CrashHarness) -> tuple[BotProcess, BotProcess]:
    """Bot A, once it polls; then bot B, once it has found A polling (its jobs are running)."""
    a = harness.start(name="a", extra_env=TWO_BOTS)
    harness.wait_for("A the poll leader", lambda: "event=poll_leader" in a.log(), watch=[a])
    b = harness.start(name="b", extra_env=TWO_BOTS)
    skipped = "event=poll_skipped reason=another_instance_polls"
    harness.wait_for(
        "B's first poll tick",
        lambda: skipped in b.log() or "event=poll_leader" in b.log(),
        watch=[a, b],
    )
    assert skipped in b.log() and "event=poll_leader" not in b.log(), (
        f"B took the poll lock while A held it\n{harness.logs()}"
    )
    return a, b


def mention_requests(harness: CrashHarness) -> list[Request]:
    return [r for r in harness.fake_x.requests() if r.path.endswith("/mentions")]


@pytest.mark.timeout(180)
def test_two_instances_poll_one_at_a_time_and_post_each_reply_once(
    harness: CrashHarness,
) -> None:
    # The first wave is there when A starts: B joins while A is answering it. The second comes
    # once both run: A polls it (at its next tick), both send it.
    first = seed(harness.fake_x, 1000, reports=30, help_requests=2)
    a, b = start_leader_and_standby(harness)
    second = seed(harness.fake_x, 2000, reports=30, help_requests=2)
    seeded = first + second
    harness.wait_for(
        "every mention recorded and every reply settled",
        lambda: harness.settled([s.post_id for s in seeded]),
        watch=[a, b],
        timeout=90,
    )

    # Only A polled, and A polled more than once (its first poll, and the one that found the
    # second wave): B asked X for mentions not once while A held the lock.
    asked = Counter(r.pid for r in mention_requests(harness))
    assert set(asked) == {a.pid} and asked[a.pid] >= 2, (asked, a.pid, b.pid)
    assert "event=poll_leader" not in b.log()

    # Both sent, and every reply went out once.
    by = Counter(p.pid for p in harness.fake_x.posts())
    assert by[a.pid] > 0 and by[b.pid] > 0, f"posts by pid {by}, A {a.pid}, B {b.pid}"
    assert set(by) == {a.pid, b.pid}
    assert_each_mention_handled_once(harness, seeded)
    assert_each_mention_answered_once(harness, seeded)

    assert a.stop() == 0, a.log()
    assert b.stop() == 0, b.log()


@pytest.mark.timeout(180)
def test_when_the_polling_instance_dies_the_other_takes_over_within_one_poll_interval(
    harness: CrashHarness,
) -> None:
    before = seed(harness.fake_x, 1000, reports=8, help_requests=1)
    a, b = start_leader_and_standby(harness)
    harness.wait_for(
        "the first mentions answered",
        lambda: harness.settled([s.post_id for s in before]),
        watch=[a, b],
    )

    # B was started last, so this kill comes soon after B's first poll tick (found A polling):
    # B's next try is most of an interval away, the slow end of a takeover (about 4.8 s here).
    killed_at = time.time()  # the fake X's request times are this clock's, in the bots
    a.kill()
    after = seed(harness.fake_x, 2000, reports=8, help_requests=1)
    harness.wait_for(
        "B's first poll",
        lambda: any(r.pid == b.pid for r in mention_requests(harness)),
        watch=[b],
        timeout=POLL_SECONDS + 30,
    )
    asked = mention_requests(harness)
    takeover = next(r for r in asked if r.pid == b.pid).at - killed_at
    print(f"B polled {takeover:.2f} s after A was killed (poll interval {POLL_SECONDS:.0f} s)")
    assert 0 < takeover <= POLL_SECONDS + TAKEOVER_SLACK, (takeover, b.log())
    # One poller at a time: A's requests all before the kill, B's all after.
    assert {r.pid for r in asked} == {a.pid, b.pid}
    assert all(r.at < killed_at for r in asked if r.pid == a.pid)
    assert all(r.at > killed_at for r in asked if r.pid == b.pid)
    assert "event=poll_leader" in b.log()

    seeded = before + after
    harness.wait_for(
        "the new mentions answered",
        lambda: harness.settled([s.post_id for s in seeded]),
        watch=[b],
    )
    assert b.stop() == 0, b.log()

    assert_each_mention_handled_once(harness, seeded)
    assert_each_mention_answered_once(harness, seeded)
    # The new ones by B, A being dead; none of the old ones again.
    replied_by = {p.in_reply_to: p.pid for p in harness.fake_x.posts()}
    assert {replied_by[s.post_id] for s in after} == {b.pid}


def assert_each_mention_handled_once(harness: CrashHarness, seeded: list[Seeded]) -> None:
    """Each mention recorded once, with one case of its own (a report) or as unclassified (the
    help reply), and no other case."""
    with Session(harness.engine) as session:
        records = session.exec(select(MentionRecord)).all()
        cases = session.exec(select(Case)).all()
    assert Counter(r.post_id for r in records) == Counter(s.post_id for s in seeded)
    record = {r.post_id: r for r in records}
    opened = Counter(c.mention_post_id for c in cases)
    case_of = {c.mention_post_id: c.id for c in cases}
    for s in seeded:
        if s.report:
            assert opened[s.post_id] == 1, s
            assert record[s.post_id].outcome is MentionOutcome.CASE_OPENED, record[s.post_id]
            assert record[s.post_id].case_id == case_of[s.post_id]
        else:
            assert opened[s.post_id] == 0, s
            assert record[s.post_id].outcome is MentionOutcome.UNCLASSIFIED, record[s.post_id]
            assert record[s.post_id].case_id is None
    assert len(cases) == sum(s.report for s in seeded)
    assert all(c.duplicate_of is None for c in cases)


def assert_each_mention_answered_once(harness: CrashHarness, seeded: list[Seeded]) -> None:
    """One reply queued per mention, sent, and on X exactly once: the row's post and no other."""
    with Session(harness.engine) as session:
        outbox = session.exec(select(OutboxMessage)).all()
    posts = harness.fake_x.posts()
    wanted = Counter(s.post_id for s in seeded)
    assert Counter(o.in_reply_to_post_id for o in outbox) == wanted
    assert {o.state for o in outbox} == {OutboxState.SENT}
    assert Counter(p.in_reply_to for p in posts) == wanted, "a reply posted twice, or never"
    assert len(posts) == len(seeded)
    on_x = {p.id: (p.in_reply_to, p.text) for p in posts}
    assert {o.posted_id: (o.in_reply_to_post_id, o.text) for o in outbox} == on_x
