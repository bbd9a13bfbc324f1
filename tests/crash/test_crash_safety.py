"""Crash safety, for real: a `socialbot run` process is SIGKILLed at a failpoint of the poll or
send cycle (see socialbot/failpoints.py), restarted, and left to finish. Then every mention is
recorded once, with exactly one case (a report) or unclassified record (no hashtag), and X got
exactly one reply to each, none twice, none lost. On SQLite, and on PostgreSQL when
SOCIALBOT_TEST_POSTGRES_URL is set."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

from socialbot.domain import MentionOutcome
from socialbot.store.models import Case, MentionRecord, OutboxMessage, OutboxState
from tests import xapi
from tests.crash.fake_x import FakeX
from tests.crash.harness import CrashHarness

# Real processes killed and restarted: minutes in all (`-m "not slow"` leaves them out).
pytestmark = pytest.mark.slow

PAGE_SIZE = 3  # 9 mentions: three pages, so a poll commits page by page


@dataclass(frozen=True, slots=True)
class Seeded:
    post_id: str
    report: bool  # a hashtag: a case is filed (else the help reply, an unclassified record)


@dataclass(frozen=True, slots=True)
class Left:
    """What the kill must have left behind (None: not checked), so the restart has work to do."""

    recorded: int | None = None  # mentions in the database
    sending: int | None = None  # replies claimed and not settled
    posts: int | None = None  # posts X has


# Each failpoint, and what the database and X hold when the process has died at it. Pages are
# handled oldest first, 3 mentions each; the send job may start on the first page's replies
# while the poll is on the next ones, so the send scenarios do not count the mentions.
SCENARIOS = {
    "poll.after_fetch": Left(recorded=0, sending=0, posts=0),
    "poll.mid_page": Left(recorded=0, sending=0, posts=0),
    "poll.mid_page@2": Left(recorded=PAGE_SIZE),
    "poll.after_commit": Left(recorded=PAGE_SIZE),
    "send.after_claim": Left(sending=1, posts=0),
    "send.after_post": Left(sending=1, posts=1),
    "send.after_post@3": Left(sending=1, posts=3),
}


def seed(fake_x: FakeX) -> list[Seeded]:
    """Nine mentions of the last minutes, each from its own resident: seven located reports
    (each over a kilometre from the others: no duplicates), one report without a location (a
    case waiting for one) and a common question (answered from answers.yaml)."""
    located = [
        ("pothole", (42.3601, -71.0589)),
        ("graffiti", (42.3500, -71.0800)),
        ("streetlight", (42.3300, -71.1000)),
        ("downedtree", (42.3100, -71.1200)),
        ("missedtrash", (42.2900, -71.0500)),
        ("illegaldumping", (42.2700, -71.0900)),
        ("pothole", (42.3750, -71.0300)),
    ]
    texts: list[tuple[str, tuple[float, float] | None, bool]] = [
        (f"@DemoCity311 #{tag} here, report {i}", where, True)
        for i, (tag, where) in enumerate(located)
    ]
    texts.insert(4, ("@DemoCity311 #sidewalk broken, somewhere on my street", None, True))
    texts.insert(7, ("@DemoCity311 when is trash day on my street?", None, False))
    now = datetime.now(UTC)
    seeded = []
    for i, (text, where, report) in enumerate(texts):
        tweet = xapi.tweet(1000 + i, text, author=str(3000 + i), coordinates=where)
        created = now - timedelta(minutes=len(texts) - i)
        tweet["created_at"] = created.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        fake_x.add_mention(tweet)
        seeded.append(Seeded(tweet["id"], report))
    return seeded


@pytest.fixture
def harness(tmp_path: Path, database_url: str) -> Iterator[CrashHarness]:
    harness = CrashHarness(tmp_path, database_url, page_size=PAGE_SIZE)
    try:
        yield harness
    finally:
        harness.close()  # the bots' logs, shown when the test failed


@pytest.mark.timeout(180)
@pytest.mark.parametrize("failpoint", list(SCENARIOS))
def test_a_kill_at_any_point_loses_nothing_and_answers_no_one_twice(
    harness: CrashHarness, failpoint: str
) -> None:
    seeded = seed(harness.fake_x)
    ids = [s.post_id for s in seeded]

    killed = harness.start(failpoints=failpoint, name="killed")
    killed.wait_killed()
    assert f"event=failpoint name={failpoint.split('@')[0]} " in killed.log()
    assert_left(harness, SCENARIOS[failpoint])

    restarted = harness.start(name="restarted")
    harness.wait_for(
        "every mention recorded and every reply settled",
        lambda: harness.settled(ids),
        watch=[restarted],
    )
    assert restarted.stop() == 0, restarted.log()

    assert_each_mention_handled_once(harness, seeded)
    assert_each_mention_answered_once(harness, seeded)


@pytest.mark.timeout(180)
def test_a_first_poll_cut_short_still_answers_no_post_older_than_the_backfill(
    harness: CrashHarness,
) -> None:
    """A new install files and answers only the last SOCIALBOT_BACKFILL_HOURS of mentions. Its
    first poll killed after its oldest page, the restart must not take the next pages, older than
    the window too, for mentions to answer."""
    old = [
        xapi.tweet(500 + i, f"@DemoCity311 #pothole last week {i}", author=str(2500 + i))
        for i in range(2 * PAGE_SIZE)  # two pages of them, before the nine recent ones
    ]
    week_ago = datetime.now(UTC) - timedelta(days=7)
    for tweet in old:
        tweet["created_at"] = week_ago.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        harness.fake_x.add_mention(tweet)
    seeded = seed(harness.fake_x)
    day = {"SOCIALBOT_BACKFILL_HOURS": "24"}

    harness.start(failpoints="poll.after_commit", name="killed", extra_env=day).wait_killed()
    assert_left(harness, Left(recorded=PAGE_SIZE, posts=0))  # the oldest page: three ignored
    restarted = harness.start(name="restarted", extra_env=day)
    harness.wait_for(
        "every mention recorded and every reply settled",
        lambda: harness.settled([t["id"] for t in old] + [s.post_id for s in seeded]),
        watch=[restarted],
    )
    assert restarted.stop() == 0, restarted.log()

    assert_each_mention_handled_once(harness, seeded, ignored=[t["id"] for t in old])
    assert_each_mention_answered_once(harness, seeded)


def assert_left(harness: CrashHarness, left: Left) -> None:
    with Session(harness.engine) as session:
        recorded = session.exec(select(func.count()).select_from(MentionRecord)).one()
        sending = session.exec(
            select(func.count()).where(OutboxMessage.state == OutboxState.SENDING)
        ).one()
    found = Left(recorded, sending, len(harness.fake_x.posts()))
    wanted = {k: v for k, v in asdict(left).items() if v is not None}
    assert {k: asdict(found)[k] for k in wanted} == wanted


def assert_each_mention_handled_once(
    harness: CrashHarness, seeded: list[Seeded], ignored: Sequence[str] = ()
) -> None:
    """Each of `seeded` recorded once, with its case or its answer; each of `ignored`
    recorded once as ignored."""
    with Session(harness.engine) as session:
        records = session.exec(select(MentionRecord)).all()
        cases = session.exec(select(Case)).all()
    assert Counter(r.post_id for r in records) == Counter([*(s.post_id for s in seeded), *ignored])
    record = {r.post_id: r for r in records}
    for post_id in ignored:
        assert record[post_id].outcome is MentionOutcome.IGNORED, record[post_id]
        assert record[post_id].case_id is None
    opened = Counter(c.mention_post_id for c in cases)
    case_of = {c.mention_post_id: c.id for c in cases}
    for s in seeded:
        if s.report:
            assert opened[s.post_id] == 1, s
            assert record[s.post_id].outcome in (
                MentionOutcome.CASE_OPENED,
                MentionOutcome.NEEDS_LOCATION,
            )
            assert record[s.post_id].case_id == case_of[s.post_id]
        else:
            assert opened[s.post_id] == 0, s
            assert record[s.post_id].outcome is MentionOutcome.ANSWERED
            assert record[s.post_id].case_id is None
    assert len(cases) == sum(s.report for s in seeded)  # no stray case from a rolled-back page


def assert_each_mention_answered_once(harness: CrashHarness, seeded: list[Seeded]) -> None:
    with Session(harness.engine) as session:
        outbox = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
    posts = harness.fake_x.posts()
    # Every mention here wants a reply: one queued, one on X, and each the other's.
    assert Counter(o.in_reply_to_post_id for o in outbox) == Counter(s.post_id for s in seeded)
    assert [o.state for o in outbox] == [OutboxState.SENT] * len(seeded)
    assert Counter(p.in_reply_to for p in posts) == Counter(s.post_id for s in seeded)
    assert len({p.text for p in posts}) == len(posts), "a text was posted twice"
    on_x = {p.id: (p.in_reply_to, p.text) for p in posts}
    assert {o.posted_id: (o.in_reply_to_post_id, o.text) for o in outbox} == on_x
