"""The reply queue against X's posting quota, in simulated time.

    .venv/bin/python scripts/bench_outbox.py [--quick] [--replies N] [--limit 100]
        [--window-minutes 15] [--send-seconds 10] [--without-pacing] [--json]

N replies (5,000) are queued, then the real send job (`send_once`, through the real X adapter)
runs every `--send-seconds` of simulated time against a mocked POST /2/tweets that enforces a
quota as X does: `--limit` posts (100) a window of `--window-minutes` (15) per user, the window
starting at the first post after the last one ended, `x-rate-limit-limit/-remaining/-reset` on
every answer (and X's daily app quota, 10,000 a day, as `x-app-limit-24hour-*`), and a 429 for a
post over the quota. Nothing sleeps: the clock of the job and of the endpoint is advanced by hand.

It prints the share of the quota the queue used, from its first post until the window of its last
(a window X allows is "used" when it is full; a late start of the next one wastes time), and the
number of 429s X had to answer. `--without-pacing` runs the same queue with the adapter's quota
information hidden from the outbox, as before the outbox paced itself: one 429 a window.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import responses
from _bench_common import (
    CITY_ID,
    STORM_BASE,
    TWEETS_URL,
    Row,
    as_json,
    forget_calls,
    print_table,
    progress,
    sqlite_url,
)
from sqlalchemy import Engine, insert

from socialbot.metering import DatabaseMeter
from socialbot.networks.base import RateBudget
from socialbot.networks.x.adapter import XCredentials, XPlatform
from socialbot.outbox import Outbox, send_once
from socialbot.poller import reply_key
from socialbot.store.db import make_engine, transaction, upgrade
from socialbot.store.models import OutboxMessage, OutboxState

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # whole seconds: X's resets are epoch seconds
APP_DAILY_LIMIT = 10_000  # POST /2/tweets, per app, 24 hours


class SimClock:
    """The time of the send job and of the mocked X alike; moved by hand."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass(slots=True)
class Window:
    started: datetime
    length: timedelta
    used: int = 0

    @property
    def reset(self) -> datetime:
        return self.started + self.length


@dataclass(slots=True)
class QuotaEndpoint:
    """POST /2/tweets with X's per-user window and daily app quota, and its headers."""

    clock: SimClock
    limit: int
    window: timedelta
    current: Window | None = None
    day: Window | None = None
    posted: int = 0
    too_many: int = 0
    windows: list[Window] = field(default_factory=list)

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        now = self.clock()
        if self.current is None or now >= self.current.reset:
            # A window starts with the first post after the last one ended, on a whole second:
            # its reset is sent in epoch seconds.
            self.current = Window(now.replace(microsecond=0), self.window)
            self.windows.append(self.current)
        if self.day is None or now >= self.day.reset:
            self.day = Window(now, timedelta(hours=24))
        over = self.current.used >= self.limit or self.day.used >= APP_DAILY_LIMIT
        if not over:
            self.current.used += 1
            self.day.used += 1
        headers = {
            "content-type": "application/json",
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(self.limit - self.current.used),
            "x-rate-limit-reset": str(int(self.current.reset.timestamp())),
            "x-app-limit-24hour-limit": str(APP_DAILY_LIMIT),
            "x-app-limit-24hour-remaining": str(APP_DAILY_LIMIT - self.day.used),
            "x-app-limit-24hour-reset": str(int(self.day.reset.timestamp())),
        }
        if over:
            self.too_many += 1
            body = {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}
            return 429, headers, json.dumps(body)
        self.posted += 1
        text = json.loads(request.body)["text"]
        new_id = str(STORM_BASE * 2 + self.posted)
        body = {"data": {"id": new_id, "text": text, "edit_history_tweet_ids": [new_id]}}
        return 201, headers, json.dumps(body)

    def share_used(self) -> float:
        """Posts made, over what the quota allowed from the first post to the last window."""
        used = [w for w in self.windows if w.used]
        if not used:
            return 0.0
        before_last = (used[-1].started - used[0].started) / self.window
        return self.posted / (self.limit * before_last + used[-1].used)


class Unpaced(XPlatform):
    """The X adapter with its quota information hidden: how the outbox worked before pacing."""

    def post_budget(self) -> RateBudget | None:
        return None


@dataclass(frozen=True, slots=True)
class SendRun:
    replies: int
    posted: int
    too_many: int
    share: float
    simulated_hours: float
    seconds: float
    send_runs: int


def queue_replies(engine: Engine, replies: int, at: datetime) -> None:
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    rows = [
        {
            "platform": "x",
            "account": "intake",
            "dedupe_key": reply_key("x", str(STORM_BASE + n)),
            "in_reply_to_post_id": str(STORM_BASE + n),
            "template": "filed",
            "lang": "en",
            "text": f"Thanks! Your report is filed as case #{n} (Pothole). We'll reply here when "
            "the crew has fixed it.",
            "state": OutboxState.PENDING,
            "attempts": 0,
            "next_attempt_at": at,
            "created_at": at,
        }
        for n in range(1, replies + 1)
    ]
    with transaction(engine) as session:
        session.execute(insert(table), rows)


def run_queue(
    replies: int,
    *,
    limit: int,
    window: timedelta,
    send_seconds: float,
    paced: bool = True,
    say: Callable[[str], None] = lambda _m: None,
) -> SendRun:
    clock = SimClock()
    endpoint = QuotaEndpoint(clock, limit, window)
    credentials = XCredentials("ck", "cs", "at", "ats")
    started = time.perf_counter()
    runs = 0
    with sqlite_url() as url, responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        engine = make_engine(url)
        upgrade(engine)
        queue_replies(engine, replies, clock())
        mock.add_callback(responses.POST, TWEETS_URL, callback=endpoint)
        # Every post metered into the database, as `socialbot run` does.
        adapter = XPlatform if paced else Unpaced
        platform = adapter(credentials, meter=DatabaseMeter(engine), clock=clock)
        outbox = Outbox(engine=engine, platform=platform, user_id=lambda: CITY_ID)
        # Twice what the quota needs, at most: a queue that stalls ends the run, not the machine.
        give_up = clock() + window * (2 * replies / limit + 2)
        while endpoint.posted < replies and clock() < give_up:
            send_once(outbox, clock)
            runs += 1
            forget_calls(mock)
            clock.advance(send_seconds)
            if runs % 500 == 0:
                say(f"  {endpoint.posted:,}/{replies:,} posted, {endpoint.too_many} answered 429")
        engine.dispose()
    return SendRun(
        replies=replies,
        posted=endpoint.posted,
        too_many=endpoint.too_many,
        share=endpoint.share_used(),
        simulated_hours=(clock() - START) / timedelta(hours=1),
        seconds=time.perf_counter() - started,
        send_runs=runs,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="1,000 replies instead of 5,000")
    parser.add_argument("--replies", type=int, help="replies queued (default 5,000)")
    parser.add_argument("--limit", type=int, default=100, help="posts a window (X: 100)")
    parser.add_argument("--window-minutes", type=float, default=15, help="X: 15")
    parser.add_argument("--send-seconds", type=float, default=10, help="SOCIALBOT_SEND_SECONDS")
    parser.add_argument("--without-pacing", action="store_true", help="also run unpaced")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # a 429 is logged as a warning: the table says it
    replies = args.replies or (1_000 if args.quick else 5_000)
    window = timedelta(minutes=args.window_minutes)
    say = progress(not args.json)
    results: dict[bool, SendRun] = {}
    for paced in (True, False) if args.without_pacing else (True,):
        say(
            f"{replies:,} replies, {args.limit} posts a {args.window_minutes:g}-minute window, "
            f"{'paced by x-rate-limit-remaining' if paced else 'without pacing'}"
        )
        results[paced] = run_queue(
            replies,
            limit=args.limit,
            window=window,
            send_seconds=args.send_seconds,
            paced=paced,
            say=say,
        )
    run = results[True]
    rows = [
        Row("posted", "replies posted", run.posted, f"of {replies:,}"),
        Row(
            "quota_share",
            "share of the quota used",
            100 * run.share,
            "%",
            "≥ 95 %",
            run.share >= 0.95,
        ),
        Row("too_many", "429 answers", run.too_many, "", "0", run.too_many == 0),
        Row("simulated_hours", "simulated time", run.simulated_hours, "h"),
        Row("real_seconds", "real time", run.seconds, "s"),
    ]
    if False in results:
        unpaced = results[False]
        rows += [
            Row("unpaced_quota_share", "without pacing: share used", 100 * unpaced.share, "%"),
            Row("unpaced_too_many", "without pacing: 429 answers", unpaced.too_many, ""),
        ]
    context = {
        "benchmark": "outbox",
        "replies": replies,
        "limit": args.limit,
        "window_minutes": args.window_minutes,
        "send_seconds": args.send_seconds,
    }
    if args.json:
        print(as_json(rows, **context))
    else:
        print_table(
            f"socialbot outbox benchmark: {args.limit} posts / {args.window_minutes:g} min, "
            f"send job every {args.send_seconds:g} s",
            rows,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
