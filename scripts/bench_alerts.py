"""An alert to a city's SMS subscribers: how fast it is fanned out into the outbox, and counted.

    .venv/bin/python scripts/bench_alerts.py [--subscribers N] [--postgres URL] [--json]

N subscribers (10,000), a fifth of them Spanish, spread over three districts and the whole city,
one in a hundred having said STOP, are written to a fresh database; then a bilingual alert is
sent to them all (`Broadcaster.send_now`: the subscribers read, one outbox row each written in
one multi-row INSERT, in the run's transaction), and its run is counted as `broadcast show`
counts it (`Broadcaster.run_view`: one GROUP BY). It prints the rows written a second and both
times. With `--postgres`, the same on a schema of its own in that database.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from _bench_common import Row, Stopwatch, as_json, postgres_url, print_table, sqlite_url
from sqlalchemy import insert

from socialbot.app import sms_alert_sending
from socialbot.broadcasts.broadcaster import Broadcaster, BroadcastRequest
from socialbot.broadcasts.templates import BroadcastTemplates
from socialbot.config import SHIPPED_TEMPLATES, load_settings
from socialbot.consent import record_consent
from socialbot.network_settings import Channel
from socialbot.store.db import make_engine, transaction, upgrade
from socialbot.store.models import ConsentAction, ConsentSource, Subscription

START = datetime(2026, 12, 20, 7, 0, tzinfo=UTC)
EN = "Snow emergency: no parking on main roads from 8 pm tonight. Cars will be towed."
ES = "Emergencia de nieve: prohibido estacionar en calles principales desde las 8 pm. Grúas."
DISTRICTS = ("Dorchester", "Roxbury", "Downtown")


def run(url: str, subscribers: int, templates: Path) -> tuple[float, float, int]:
    """Seconds to fan the alert out, seconds to count its run, rows written."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        with transaction(engine) as session:
            session.execute(
                insert(Subscription),
                [
                    {
                        "platform": "sms",
                        "address": f"+1617{n:07d}",
                        "district": (None, *DISTRICTS)[n % 4],
                        "lang": "es" if n % 5 == 0 else "en",
                        "created_at": START,
                    }
                    for n in range(subscribers)
                ],
            )
            for n in range(0, subscribers, 100):
                record_consent(
                    session,
                    "sms",
                    f"+1617{n:07d}",
                    ConsentAction.STOP,
                    ConsentSource.KEYWORD,
                    at=START,
                )
        how = sms_alert_sending(load_settings(database_url=url))
        broadcaster = Broadcaster(
            engine=engine,
            templates=BroadcastTemplates.for_dirs(templates, SHIPPED_TEMPLATES),
            channels=(Channel("sms", "intake"),),
            zone=ZoneInfo("America/New_York"),
            grace=timedelta(minutes=15),
            clock=lambda: START,
            media_dir=templates.parent / "media",
            text_rules={"sms": how.rules},
            media_rules={},
            subscribers={"sms": how},
            districts=DISTRICTS,
        )
        request = BroadcastRequest(
            account="intake", network="sms", langs=("en", "es"), texts=(EN, ES)
        )
        with Stopwatch() as fan_out:
            view = broadcaster.send_now(request, actor="bench")
        with Stopwatch() as count:
            counted = broadcaster.run_view(view.run.id or 0)
        assert counted.tally is not None
        return fan_out.seconds, count.seconds, counted.tally.total
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--postgres", metavar="URL", help="also on this PostgreSQL database")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="socialbot-bench-") as tmp:
        templates = Path(tmp) / "templates"
        (templates / "broadcast").mkdir(parents=True)
        engines = [("SQLite", sqlite_url())]
        if args.postgres:
            engines.append(("PostgreSQL", postgres_url(args.postgres)))
        for name, place in engines:
            with place as url:
                fan_out, count, written = run(url, args.subscribers, templates)
            key = name.lower()
            rows += [
                Row(f"{key}_rows_per_second", f"fan-out, {name}", written / fan_out, "rows/s"),
                Row(f"{key}_fan_out_seconds", f"fan-out of {written:,}, {name}", fan_out, "s"),
                Row(f"{key}_count_seconds", f"counting the run, {name}", count, "s"),
            ]
    if args.json:
        print(as_json(rows, subscribers=args.subscribers))
    else:
        print_table(f"An alert to {args.subscribers:,} SMS subscribers", rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
