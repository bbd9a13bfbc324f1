"""A storm surge through the real pipeline, measured.

    .venv/bin/python scripts/bench_intake.py [--quick] [--n N] [--postgres URL] [--json]

N synthetic mentions in X API v2's wire shape (pages of 100; English and Spanish hashtags, photos,
exact geo, small and city-wide places, Google/Apple/OpenStreetMap links, typed coordinates, no
location, unknown hashtags, reports from outside the city, thread follow-ups, repeated reports and
posts X serves twice) are served to the real X adapter (tweepy) through `responses`, and run
through the real pipeline: `poll_once` (parse, decide, cases, outbox rows, cursor; one transaction
a page); between polls the queued replies go out, as the send job would post them (marked sent in
the database, untimed: posting is measured against X's quota by bench_outbox.py), so that residents
can answer them. The storm arrives in bursts of `--per-poll`
mentions (800: as many as X keeps reachable on the mentions timeline), one poll each.

It prints:
- mentions/s through the intake pipeline (poll → case → reply queued; the replies are then
  marked posted, untimed), on SQLite and, with `--postgres`, PostgreSQL;
- the "floor" on the same pages: `json.loads` of each page and one bare `executemany` of its rows
  (id, author, text, time, raw JSON) into a plain SQLite table; and the ratio pipeline / floor;
- the cost per mention of a fixed batch on top of 10k and of 1M past cases (seeded in bulk), and
  their ratio: how intake ages as the case history grows. The seeded databases get the
  statistics `socialbot run` keeps (its hourly `db:optimize` job's function), and nothing more;
  1M is measured once more without any (the worst hour: the job never ran);
- the peak RSS of a fresh process running N = 10k and N = 100k, and their ratio.

Timings exclude building the pages (the storm, not the bot) but include everything the bot does
with them, `responses` and tweepy's request signing included.
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import responses
from _bench_common import (
    BOSTON,
    CITY_ID,
    MENTIONS_URL,
    REPLY_OFFSET,
    MentionsServer,
    Row,
    Stopwatch,
    Storm,
    as_json,
    forget_calls,
    peak_rss_mb,
    postgres_url,
    print_table,
    progress,
    seed_history,
    sqlite_url,
)
from sqlalchemy import BigInteger, Engine, String, cast, update

from socialbot.app import build_service
from socialbot.config import load_settings
from socialbot.poller import poll_once
from socialbot.store.models import OutboxMessage, OutboxState

SCRIPT = Path(__file__).resolve()
PER_POLL = 800  # X keeps the newest 800 mentions reachable: a poll never sees more
WARM_UP = 100  # mentions run before timing starts (connections, statement caches)


@dataclass(slots=True)
class PipelineRun:
    mentions: int = 0
    intake: Stopwatch = field(default_factory=Stopwatch)
    floor: Stopwatch = field(default_factory=Stopwatch)
    outcomes: Counter[str] = field(default_factory=Counter)
    already_seen: int = 0
    malformed: int = 0
    replies_queued: int = 0

    @property
    def rate(self) -> float:
        """Mentions a second through intake: fetched, decided, filed, their replies queued."""
        return self.mentions / self.intake.seconds

    @property
    def floor_rate(self) -> float:
        return self.mentions / self.floor.seconds

    @property
    def per_mention_ms(self) -> float:
        return 1000 * self.intake.seconds / self.mentions


class Floor:
    """The least any intake could do with a page: parse it and insert its rows in one statement."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute(
            "CREATE TABLE mentions (post_id TEXT, author_id TEXT, text TEXT, lang TEXT, "
            "created_at TEXT, raw TEXT)"
        )

    def ingest(self, body: str) -> None:
        page = json.loads(body)
        rows = [
            (t["id"], t["author_id"], t["text"], t.get("lang"), t["created_at"], json.dumps(t))
            for t in page.get("data", [])
        ]
        self.db.execute("BEGIN")
        self.db.executemany("INSERT INTO mentions VALUES (?, ?, ?, ?, ?, ?)", rows)
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()


def run_pipeline(
    database_url: str,
    n: int,
    *,
    per_poll: int = PER_POLL,
    history: int = 0,
    statistics: bool = True,
    floor: bool = False,
    say: Callable[[str], None] = lambda _m: None,
) -> PipelineRun:
    """N mentions through poll → case → outbox → posted, on a fresh database at `database_url`
    (with `history` past cases seeded first). Timed after a warm-up of WARM_UP mentions."""
    settings = load_settings(
        database_url=database_url,
        city_bounds=BOSTON,
        x_consumer_key="ck",
        x_consumer_secret="cs",
        x_access_token="at",
        x_access_token_secret="ats",
    )
    # The real X adapter as `socialbot run` builds it: every call metered into the database.
    service = build_service(settings)
    storm = Storm.for_size(n, history)
    if history:
        say(f"seeding {history:,} past cases")
        seed_history(service.engine, storm, statistics=statistics)
    server = MentionsServer(storm)
    run = PipelineRun()
    with (
        tempfile.TemporaryDirectory(prefix="socialbot-floor-") as tmp,
        responses.RequestsMock(assert_all_requests_are_fired=False) as mock,
    ):
        floor_db = Floor(Path(tmp) / "floor.db") if floor else None
        mock.add_callback(responses.GET, MENTIONS_URL, callback=server)
        bursts = [(0, WARM_UP)] + [
            (start, min(WARM_UP + n, start + per_poll))
            for start in range(WARM_UP, WARM_UP + n, per_poll)
        ]
        for number, (start, stop) in enumerate(bursts):
            timed = number > 0
            bodies = server.arrive(start, stop)  # the storm's work, not the bot's: untimed
            if floor_db is not None and timed:
                with run.floor:
                    for body in bodies:
                        floor_db.ingest(body)
            with run.intake if timed else Stopwatch():
                report = poll_once(service.intake, service.clock, user_id=CITY_ID)
            server.moved_past(json.loads(bodies[0])["meta"]["newest_id"])
            queued = _replies_go_out(service.engine, service.clock())
            forget_calls(mock)
            if not timed:
                continue
            run.mentions += stop - start
            run.already_seen += report.already_seen
            run.malformed += report.malformed
            run.outcomes.update(h.decision.outcome.value for h in report.handled)
            run.replies_queued += queued
            if number % 10 == 0 or stop == WARM_UP + n:
                say(f"  {stop - WARM_UP:,}/{n:,} mentions, {run.rate:,.0f}/s")
        if floor_db is not None:
            floor_db.close()
    service.close()
    return run


def _replies_go_out(engine: Engine, at: datetime) -> int:
    """Every queued reply is posted, as the send job would post it (with the id the storm
    expects: see `_bench_common.reply_id`); returns how many."""
    outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
    their_reply = cast(outbox.c.in_reply_to_post_id, BigInteger) + REPLY_OFFSET
    with engine.begin() as connection:
        done = connection.execute(
            update(outbox)
            .where(outbox.c.state == OutboxState.PENDING)
            .values(state=OutboxState.SENT, posted_id=cast(their_reply, String), sent_at=at)
        )
    return done.rowcount


def rss_child(n: int) -> None:
    """Run N mentions on a fresh SQLite database and print this process's peak RSS as JSON."""
    with sqlite_url() as url:
        run = run_pipeline(url, n)
    print(json.dumps({"n": n, "rss_mb": peak_rss_mb(), "rate": run.rate}))


def measure_rss(n: int) -> float:
    """Peak RSS of a fresh interpreter running N mentions: independent of anything run before."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--rss-child", str(n)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1])["rss_mb"])


@dataclass(frozen=True, slots=True)
class Plan:
    n: int
    history_small: int
    history_large: int
    history_batch: int
    rss_small: int
    rss_large: int


FULL = Plan(
    n=10_000,
    history_small=10_000,
    history_large=1_000_000,
    history_batch=2_000,
    rss_small=10_000,
    rss_large=100_000,
)
QUICK = Plan(
    n=2_000,
    history_small=10_000,
    history_large=100_000,
    history_batch=1_000,
    rss_small=2_000,
    rss_large=10_000,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes: about a minute")
    parser.add_argument("--n", type=int, help="mentions for the throughput runs")
    parser.add_argument("--per-poll", type=int, default=PER_POLL, help="mentions a poll sees")
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL database")
    parser.add_argument("--history", type=int, nargs=2, metavar=("SMALL", "LARGE"))
    parser.add_argument("--history-batch", type=int)
    parser.add_argument("--rss", type=int, nargs=2, metavar=("SMALL", "LARGE"))
    parser.add_argument("--skip", action="append", default=[], choices=["history", "rss"])
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.rss_child is not None:
        rss_child(args.rss_child)
        return 0

    plan = QUICK if args.quick else FULL
    n = args.n or plan.n
    small, large = args.history or (plan.history_small, plan.history_large)
    batch = args.history_batch or plan.history_batch
    rss_small, rss_large = args.rss or (plan.rss_small, plan.rss_large)
    say = progress(not args.json)
    rows: list[Row] = []

    say(f"SQLite: {n:,} mentions through the pipeline, and the floor on the same pages")
    with sqlite_url() as url:
        lite = run_pipeline(url, n, per_poll=args.per_poll, floor=True, say=say)
    slower = lite.floor_rate / lite.rate
    rows += [
        Row(
            "sqlite_rate",
            "pipeline, SQLite (poll → case → reply queued)",
            lite.rate,
            "mentions/s",
            "≥ 1,000",
            lite.rate >= 1000,
        ),
        Row("floor_rate", "floor (json.loads + executemany)", lite.floor_rate, "mentions/s"),
        Row("floor_ratio", "  pipeline / floor, time a mention", slower, "x", "≤ 10", slower <= 10),
    ]
    notes = [
        f"storm of {n:,} mentions, {args.per_poll:,} a poll: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(lite.outcomes.items()))
        + f"; served twice {lite.already_seen:,}; malformed {lite.malformed:,}; "
        f"{lite.replies_queued:,} replies queued"
    ]
    if args.postgres:
        say(f"PostgreSQL: {n:,} mentions through the pipeline")
        with postgres_url(args.postgres) as url:
            pg = run_pipeline(url, n, per_poll=args.per_poll, say=say)
        rows += [
            Row("postgres_rate", "pipeline, PostgreSQL", pg.rate, "mentions/s"),
        ]

    if "history" not in args.skip:
        costs = {}
        for seeded in (small, large):
            say(f"SQLite: {batch:,} mentions on top of {seeded:,} past cases")
            with sqlite_url() as url:
                costs[seeded] = run_pipeline(url, batch, history=seeded, say=say).per_mention_ms
        say(f"SQLite: {batch:,} mentions on top of {large:,} past cases, no statistics yet")
        with sqlite_url() as url:
            bare = run_pipeline(url, batch, history=large, statistics=False, say=say)
        growth = costs[large] / costs[small]
        bare_growth = bare.per_mention_ms / costs[small]
        rows += [
            Row("cost_small_history", f"per mention, {small:,} past cases", costs[small], "ms"),
            Row("cost_large_history", f"per mention, {large:,} past cases", costs[large], "ms"),
            Row(
                "history_ratio",
                f"  {large:,} / {small:,}",
                growth,
                "x",
                "≤ 1.5",
                growth <= 1.5,
            ),
            Row(
                "cost_large_history_no_statistics",
                f"per mention, {large:,} past cases, no statistics",
                bare.per_mention_ms,
                "ms",
            ),
            Row(
                "history_ratio_no_statistics",
                f"  {large:,} without statistics / {small:,}",
                bare_growth,
                "x",
                "≤ 1.5",
                bare_growth <= 1.5,
            ),
        ]
        notes.append(
            "history: the seeded databases carry the statistics the hourly db:optimize job of "
            "`socialbot run` leaves (the function it calls, store.statistics.analyze); the "
            "'no statistics' row is the worst hour, a database that never ran it"
        )

    if "rss" not in args.skip:
        rss = {}
        for size in (rss_small, rss_large):
            say(f"peak RSS of a fresh process running {size:,} mentions")
            rss[size] = measure_rss(size)
        rows += [
            Row("rss_small", f"peak RSS, {rss_small:,} mentions", rss[rss_small], "MB"),
            Row(
                "rss_large",
                f"peak RSS, {rss_large:,} mentions",
                rss[rss_large],
                "MB",
                "< 150",
                rss[rss_large] < 150,
            ),
            Row(
                "rss_ratio",
                f"  {rss_large:,} / {rss_small:,}",
                rss[rss_large] / rss[rss_small],
                "x",
                "flat (≤ 1.1)",
                rss[rss_large] / rss[rss_small] <= 1.1,
            ),
        ]

    if args.json:
        print(as_json(rows, benchmark="intake", n=n, per_poll=args.per_poll, notes=notes))
    else:
        print_table("socialbot intake benchmark", rows, notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
