"""A storm surge through the real pipeline, measured.

    .venv/bin/python scripts/bench_intake.py [--quick] [--n N] [--network x|mastodon|bluesky]...
        [--postgres URL] [--profile] [--json]

N synthetic mentions (English and Spanish hashtags, photos, exact geo, small and city-wide places,
Google/Apple/OpenStreetMap links, typed coordinates, no location, unknown hashtags, reports from
outside the city, thread follow-ups, repeated reports and posts served twice) are served, on each
network chosen (`--network`, repeatable; all three by default), to that network's real adapter as
`socialbot run` builds it, in the network's own wire shape (see `_bench_networks`): X API v2
through tweepy, Mastodon's notifications through Mastodon.py (both mocked with `responses`),
Bluesky's through the atproto SDK (mocked with `respx`). They run through the real pipeline:
`poll_once` (fetch, parse, decide, cases, duplicates, outbox rows, cursor; one transaction a
page); between polls the queued replies go out, as the send job would post them (marked sent in
the database, untimed: posting is measured against X's quota by bench_outbox.py), so that
residents can answer them. The storm arrives in bursts, one poll each: 800 mentions (as many as X
keeps reachable on the mentions timeline) on every network, or `--per-poll`.

It prints, per network:
- mentions/s through intake (poll → case → reply queued), on SQLite and, with `--postgres`,
  PostgreSQL;
- the "floor" on that network's own pages as served: `json.loads` of each page and one bare
  `executemany` of its rows (id, author, text, time, raw JSON) into a plain SQLite table; and the
  ratio pipeline / floor;
and, for X only:
- the cost per mention of a fixed batch on top of 10k and of 1M past cases (seeded in bulk), and
  their ratio: how intake ages as the case history grows. The seeded databases get the
  statistics `socialbot run` keeps (its hourly `db:optimize` job's function), and nothing more;
  1M is measured once more without any (the worst hour: the job never ran);
- the peak RSS of a fresh process running N = 10k and N = 100k, and their ratio.

`--profile` runs each network's pipeline once more (SQLite, and PostgreSQL with `--postgres`)
under pyinstrument, apart from the timed runs (the profiler slows them), and prints where the time
inside `poll_once` goes (`_bench_profile`).

Timings exclude building the pages (the storm, not the bot) but include everything the bot does
with them, the HTTP mocks and the clients' request building and signing included. Each run
starts with an untimed warm-up poll (the network's first page) that pays the one-time costs: the
URL regex's compilation (its batch holds links), the templates, the statement caches, the
Mastodon instance document, the Bluesky sign-in.
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
from typing import Any

from _bench_common import (
    BOSTON,
    Row,
    Stopwatch,
    Storm,
    as_json,
    peak_rss_mb,
    postgres_url,
    print_table,
    progress,
    seed_history,
    sqlite_url,
)
from _bench_networks import NETWORKS, StormNetwork, for_name
from _bench_profile import Breakdown, PollProfiler, as_dict, print_breakdown
from sqlalchemy import Engine, bindparam, select, update

from socialbot.app import build_service
from socialbot.config import load_settings
from socialbot.poller import poll_once
from socialbot.store.models import OutboxMessage, OutboxState

SCRIPT = Path(__file__).resolve()
PER_POLL = 800  # X keeps the newest 800 mentions reachable: a poll never sees more
LABELS = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}
# Kinds of mention whose words hold a link: the warm-up needs one (see `check_warm_up`).
LINKED = frozenset({"map_link", "follow_up_location"})


@dataclass(slots=True)
class PipelineRun:
    mentions: int = 0
    intake: Stopwatch = field(default_factory=Stopwatch)
    floor: Stopwatch = field(default_factory=Stopwatch)
    outcomes: Counter[str] = field(default_factory=Counter)
    fetched: int = 0
    already_seen: int = 0
    malformed: int = 0
    replies_queued: int = 0
    pages: int = 0
    per_poll: int = 0
    profile: Breakdown | None = None

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

    def ingest(self, rows: list[tuple[str, str, str, str | None, str, str]]) -> None:
        self.db.execute("BEGIN")
        self.db.executemany("INSERT INTO mentions VALUES (?, ?, ?, ?, ?, ?)", rows)
        self.db.execute("COMMIT")

    def close(self) -> None:
        self.db.close()


def check_warm_up(storm: Storm, warm_up: int) -> None:
    """The warm-up must pay for the URL regex (compiled at its first use, ~0.5 s): a link."""
    if not any(storm.kind(i) in LINKED for i in range(warm_up)):
        raise SystemExit(f"the warm-up's {warm_up} mentions hold no link: it would time a compile")


def run_pipeline(
    database_url: str,
    n: int,
    *,
    network: str = "x",
    per_poll: int | None = None,
    history: int = 0,
    statistics: bool = True,
    floor: bool = False,
    profile: bool = False,
    say: Callable[[str], None] = lambda _m: None,
) -> PipelineRun:
    """N mentions of `network` through poll → case → reply queued, on a fresh database at
    `database_url` (with `history` past cases seeded first); between polls the replies go out.
    Timed after an untimed warm-up poll (the network's first page). `profile`: the polls run
    under pyinstrument (`_bench_profile`), which slows them: not a run to read the rate of."""
    storm = Storm.for_size(n, history)
    wire: StormNetwork = for_name(network, storm)
    settings = load_settings(database_url=database_url, city_bounds=BOSTON, **wire.settings())
    # The real adapter as `socialbot run` builds it: every call metered into the database.
    service = build_service(settings)
    if history:
        say(f"seeding {history:,} past cases")
        seed_history(service.engine, storm, statistics=statistics)
    per_poll = per_poll or wire.per_poll
    warm_up = wire.warm_up
    check_warm_up(storm, warm_up)
    profiler = PollProfiler() if profile else None
    if profiler is not None:
        profiler.attach(service.engine)
    run = PipelineRun(per_poll=per_poll)
    with tempfile.TemporaryDirectory(prefix="socialbot-floor-") as tmp, wire.serving():
        floor_db = Floor(Path(tmp) / "floor.db") if floor else None
        bursts = [(0, warm_up)] + [
            (start, min(warm_up + n, start + per_poll))
            for start in range(warm_up, warm_up + n, per_poll)
        ]
        for number, (start, stop) in enumerate(bursts):
            timed = number > 0
            wire.arrive(start, stop)  # the storm's work, not the bot's: untimed
            with run.intake if timed else Stopwatch():
                if profiler is not None and timed:
                    with profiler.poll():
                        report = poll_once(service.intake, service.clock, user_id=wire.user_id)
                else:
                    report = poll_once(service.intake, service.clock, user_id=wire.user_id)
            bodies = wire.polled()
            if floor_db is not None and timed:
                with run.floor:
                    for body in bodies:
                        floor_db.ingest(wire.floor_rows(body))  # json.loads and its rows
            queued = _replies_go_out(service.engine, service.clock(), wire.reply_id)
            if not timed:
                continue
            run.mentions += stop - start
            run.pages += len(bodies)
            run.fetched += report.fetched
            run.already_seen += report.already_seen
            run.malformed += report.malformed
            run.outcomes.update(h.decision.outcome.value for h in report.handled)
            run.replies_queued += queued
            if number % 10 == 0 or stop == warm_up + n:
                say(f"  {stop - warm_up:,}/{n:,} mentions, {run.rate:,.0f}/s")
        if floor_db is not None:
            floor_db.close()
    if profiler is not None:
        profiler.mentions = run.mentions
        run.profile = profiler.breakdown()
    service.close()
    return run


def _replies_go_out(engine: Engine, at: datetime, reply_id: Callable[[str], str]) -> int:
    """Every queued reply is posted, as the send job would post it (with the id the storm
    expects: see `StormNetwork.reply_id`); returns how many."""
    outbox = OutboxMessage.__table__  # type: ignore[attr-defined]
    with engine.begin() as connection:
        pending = connection.execute(
            select(outbox.c.id, outbox.c.in_reply_to_post_id).where(
                outbox.c.state == OutboxState.PENDING
            )
        ).all()
        if not pending:
            return 0
        connection.execute(
            update(outbox)
            .where(outbox.c.id == bindparam("row_id"))
            .values(state=OutboxState.SENT, posted_id=bindparam("reply"), sent_at=at),
            [
                {"row_id": row_id, "reply": reply_id(post) if post else None}
                for row_id, post in pending
            ],
        )
    return len(pending)


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
    parser.add_argument(
        "--per-poll",
        type=int,
        help="mentions a poll sees (default: 800)",
    )
    parser.add_argument(
        "--network",
        action="append",
        choices=NETWORKS,
        help="the network whose storm is run (repeatable; default: all three)",
    )
    parser.add_argument("--postgres", metavar="URL", help="also run on this PostgreSQL database")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also run each pipeline under pyinstrument and print where poll_once's time goes",
    )
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
    networks = list(dict.fromkeys(args.network or NETWORKS))
    small, large = args.history or (plan.history_small, plan.history_large)
    batch = args.history_batch or plan.history_batch
    rss_small, rss_large = args.rss or (plan.rss_small, plan.rss_large)
    say = progress(not args.json)
    rows: list[Row] = []
    notes: list[str] = []
    per_poll: dict[str, int] = {}
    profiles: dict[str, dict[str, Any]] = {}
    profiled: list[tuple[str, PipelineRun]] = []

    for network in networks:
        label = LABELS[network]
        key = "" if network == "x" else f"{network}_"  # X's keys as they always were
        say(f"{label}, SQLite: {n:,} mentions through the pipeline, and the floor on its pages")
        with sqlite_url() as url:
            lite = run_pipeline(
                url, n, network=network, per_poll=args.per_poll, floor=True, say=say
            )
        per_poll[network] = lite.per_poll
        slower = lite.floor_rate / lite.rate
        rows += [
            Row(
                f"{key}sqlite_rate",
                f"{label}: intake, SQLite",
                lite.rate,
                "mentions/s",
                "≥ 1,000",
                lite.rate >= 1000,
            ),
            Row(
                f"{key}floor_rate",
                f"{label}: floor (json.loads + executemany)",
                lite.floor_rate,
                "mentions/s",
            ),
            Row(
                f"{key}floor_ratio",
                "  intake / floor, time a mention",
                slower,
                "x",
                "≤ 10",
                slower <= 10,
            ),
        ]
        notes.append(
            f"{label}: {n:,} mentions, {lite.per_poll:,} a poll, {lite.pages:,} pages served "
            f"({lite.fetched:,} mentions read): "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(lite.outcomes.items()))
            + f"; already seen {lite.already_seen:,}; malformed {lite.malformed:,}; "
            f"{lite.replies_queued:,} replies queued"
        )
        if args.postgres:
            say(f"{label}, PostgreSQL: {n:,} mentions through the pipeline")
            with postgres_url(args.postgres) as url:
                pg = run_pipeline(url, n, network=network, per_poll=args.per_poll, say=say)
            rows.append(
                Row(
                    f"{key}postgres_rate",
                    f"{label}: intake, PostgreSQL",
                    pg.rate,
                    "mentions/s",
                    "≥ 1,000",
                    pg.rate >= 1000,
                )
            )
        if args.profile:
            say(f"{label}, SQLite: {n:,} mentions under the profiler")
            with sqlite_url() as url:
                run = run_pipeline(url, n, network=network, per_poll=args.per_poll, profile=True)
            profiled.append((f"{label}, SQLite", run))
            if args.postgres:
                say(f"{label}, PostgreSQL: {n:,} mentions under the profiler")
                with postgres_url(args.postgres) as url:
                    run = run_pipeline(
                        url, n, network=network, per_poll=args.per_poll, profile=True
                    )
                profiled.append((f"{label}, PostgreSQL", run))
    notes.append(
        "pages as each network serves them: X 100 a page (max_results), Mastodon 80 (the "
        "adapter's limit, its most), Bluesky 100 (its most; each poll reads back to the page "
        "holding its cursor, whose older items it reads again, and asks getPosts per 25 "
        "mentions); the floor parses the mention pages only"
    )

    if "history" not in args.skip and "x" in networks:  # X only: its storm, its adapter
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

    if "rss" not in args.skip and "x" in networks:
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

    for title, run in profiled:
        assert run.profile is not None
        profiles[title] = as_dict(run.profile)
    if args.json:
        print(
            as_json(
                rows,
                benchmark="intake",
                n=n,
                per_poll=per_poll.get("x", args.per_poll or PER_POLL),
                per_poll_by_network=per_poll,
                networks=networks,
                notes=notes,
                **({"profiles": profiles} if profiles else {}),
            )
        )
    else:
        print_table("socialbot intake benchmark (intake: poll → case → reply queued)", rows, notes)
        for title, run in profiled:
            assert run.profile is not None
            print()
            print_breakdown(
                f"where poll_once's time goes, {title}, {run.mentions:,} mentions (a run of its "
                "own, under pyinstrument, slower than the timed one):",
                run.profile,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
