"""`socialbot status`: the service at a glance, from the database alone."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from socialbot.app import open_database, utc_now
from socialbot.cli.common import console, friendly_errors, local_time, state
from socialbot.status import Status, read_status


def register(app: typer.Typer) -> None:
    app.command("status")(status_command)


@friendly_errors
def status_command(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object, for monitoring.")
    ] = False,
) -> None:
    """Last poll, reply queues, storm mode and the next scheduled broadcasts."""
    settings = state(ctx).settings()
    engine = open_database(settings)
    try:
        status = read_status(engine, utc_now())
    finally:
        engine.dispose()
    if as_json:
        console.print_json(json.dumps(status_json(status)))
        return
    zone = settings.zone
    storm = (
        f"ON: {status.storm.name} #{status.storm.hashtag} since "
        f"{local_time(status.storm.since, zone)} (by {status.storm.by})"
        if status.storm
        else "off"
    )
    for line in (
        f"database:     {status.database}",
        f"storm mode:   {storm}",
        f"last poll:    {_ago(status.last_poll, status.at)}",
        f"overdue:      {status.overdue_cases} open case(s) past their SLA "
        "(`socialbot cases list --overdue`)",
        f"broadcasts:   {status.broadcasts_missed_24h} missed, "
        f"{status.broadcasts_failed_24h} failed in the last 24 h",
    ):
        console.print(line, markup=False)
    queues = Table(title="Outbox")
    for column in ("account", "waiting", "oldest waiting", "failed last hour", "last sent"):
        queues.add_column(column)
    for queue in status.queues:
        queues.add_row(
            queue.account,
            str(queue.pending),
            _ago(queue.oldest_pending, status.at),
            str(queue.failed_last_hour),
            _ago(queue.last_sent, status.at),
        )
    console.print(queues)
    upcoming = Table(title="Next scheduled broadcasts")
    for column in ("id", "due", "what", "repeats"):
        upcoming.add_column(column)
    for item in status.upcoming:
        upcoming.add_row(
            f"#{item.broadcast_id}", local_time(item.due_at, zone), item.what, item.cron or "once"
        )
    console.print(upcoming)


def _ago(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = int((now - moment) / timedelta(seconds=1))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def status_json(status: Status) -> dict[str, Any]:
    def iso(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "at": iso(status.at),
        "database": status.database,
        "storm": {
            "name": status.storm.name,
            "hashtag": status.storm.hashtag,
            "since": iso(status.storm.since),
            "by": status.storm.by,
        }
        if status.storm
        else None,
        "last_poll": iso(status.last_poll),
        "outbox": [
            {
                "account": q.account,
                "waiting": q.pending,
                "oldest_waiting": iso(q.oldest_pending),
                "failed_last_hour": q.failed_last_hour,
                "last_sent": iso(q.last_sent),
            }
            for q in status.queues
        ],
        "next_broadcasts": [
            {"id": u.broadcast_id, "due_at": iso(u.due_at), "what": u.what, "cron": u.cron}
            for u in status.upcoming
        ],
        "broadcasts_missed_24h": status.broadcasts_missed_24h,
        "broadcasts_failed_24h": status.broadcasts_failed_24h,
        "overdue_cases": status.overdue_cases,
    }
