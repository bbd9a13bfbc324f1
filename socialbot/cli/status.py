"""`socialbot status`: the service at a glance, from the database alone."""

from __future__ import annotations

import math
import textwrap
from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from sqlalchemy.exc import DBAPIError

from socialbot.app import open_database, paces, utc_now
from socialbot.cli.common import console, friendly_errors, print_json, state
from socialbot.cli.render import Col, FitTable, against_budget, zone_label
from socialbot.errors import ConfigError
from socialbot.health import fallback_path, read_unsaved
from socialbot.metering import EndpointStatus, monthly_budget
from socialbot.network_settings import LABELS
from socialbot.reports import span_text
from socialbot.status import Status, read_status
from socialbot.store.db import driver_reason
from socialbot.timespan import local_time
from socialbot.usage import month_of


def register(app: typer.Typer) -> None:
    app.command("status")(status_command)


@friendly_errors
def status_command(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object, for monitoring.")
    ] = False,
) -> None:
    """Last poll and send, reply queues, X endpoints (failures, rate limits), the month's X spend,
    storm mode and the next scheduled broadcasts."""
    settings = state(ctx).settings()
    engine = open_database(settings, migrate=False)  # it reads; `run` or `db upgrade` migrate
    try:
        now = utc_now()
        status = read_status(
            engine,
            now,
            budget=monthly_budget(engine, settings, month_of(now)),
            unsaved=read_unsaved(fallback_path(settings.database_url)),
            paces=paces(settings),
        )
    except DBAPIError as exc:  # unreachable, or not migrated: one line, as `upgrade` would say
        raise ConfigError(
            f"database {engine.url.render_as_string(hide_password=True)}: cannot read "
            f"({driver_reason(exc, engine)}); is it up, and migrated (`socialbot db upgrade`)?"
        ) from None
    finally:
        engine.dispose()
    if as_json:
        print_json(status_json(status))
        return
    zone = settings.zone
    storm = (
        f"ON: {status.storm.name} #{status.storm.hashtag} since "
        f"{local_time(status.storm.since, zone)} (by {status.storm.by})"
        if status.storm
        else "off"
    )
    several = len(status.networks) > 1
    # A city on one network sees its name; one on X alone (or on none yet) reads as it always did.
    only = status.networks[0] if len(status.networks) == 1 else "x"
    polls = (
        ", ".join(f"{network} {_ago(at, status.at)}" for network, at in status.polls)
        if several and status.polls
        else _ago(status.last_poll, status.at)
    )
    for line in (
        f"database:     {status.database}",
        f"storm mode:   {storm}",
        f"last poll:    {polls}",
        f"last send:    {_ago(status.last_send, status.at)}",
        ("X failures:   " if not several and only == "x" else "API failures: ")
        + f"{status.failures_last_hour} in the last hour",
        f"job failures: {status.job_failures_last_hour} failed run(s) in the last hour"
        + ("" if status.jobs else " (none in 24 h)"),
        f"X spend:      {_spend(status)}",
        f"overdue:      {status.overdue_cases} open case(s) past their SLA "
        "(`socialbot cases list --overdue`)",
        f"inbox:        {_inbox(status, zone)}",
        f"broadcasts:   {status.broadcasts_missed_24h} missed, "
        f"{status.broadcasts_failed_24h} failed in the last 24 h",
        f"templates:    {_templates(status)}",
        *(f"held:         {hold.describe(settings.zone)}" for hold in status.holds),
        *_crm_lines(status),
    ):
        # Wrapped under its value, not its label, as the terminal would wrap it; a URL or an
        # endpoint (one word) is never broken, nor moved off its label's line.
        label, value = line[:14], line[14:]
        parts = textwrap.wrap(
            value, max(console.width - 14, 20), break_long_words=False, break_on_hyphens=False
        )
        wrapped = label + ("\n" + " " * 14).join(parts or [""])
        console.print(wrapped, markup=False)
    if status.jobs:
        jobs = FitTable(
            (
                Col("job"),
                Col("last hour", right=True, short="1 h"),
                Col("last 24 h", right=True, short="24 h"),
                Col("last error", wrap=True),
            ),
            title="Failed job runs",
        )
        for job in status.jobs:
            jobs.add_row(
                job.job,
                str(job.failures_last_hour),
                str(job.failures_last_day),
                f"{_ago(job.last_error_at, status.at)}: {job.last_error}",
            )
        console.print(jobs)
    queues = FitTable(
        (
            Col("account"),
            Col("waiting", right=True),
            Col("oldest waiting", short="oldest\nwaiting"),
            Col("failed last hour", right=True, short="failed\nlast hour"),
            Col("last sent", priority=1),
        ),
        title="Outbox",
    )
    for queue in status.queues:
        queues.add_row(
            f"{queue.network}/{queue.account}" if several else queue.account,
            str(queue.pending),
            _ago(queue.oldest_pending, status.at),
            str(queue.failed_last_hour),
            _ago(queue.last_sent, status.at),
        )
    console.print(queues)
    if status.paced:
        _print_paced(status, several)
    # The endpoint is a name to look up (`GET /2/users/:id/mentions`): whole, never cut short.
    endpoints = FitTable(
        (
            Col("account", priority=3),
            Col("endpoint"),
            Col("last worked", short="last\nworked"),
            Col("failures last hour", right=True, short="failures\nlast hour"),
            Col("rate limit left", wrap=True, narrowest=10, priority=1),
            Col("last error", wrap=True, priority=2),
        ),
        title="Endpoints" if several else f"{LABELS.get(only, only)} endpoints",
    )
    for point in status.endpoints:
        endpoints.add_row(
            f"{point.network}/{point.account}" if several else point.account,
            point.endpoint,
            _ago(point.last_ok_at, status.at),
            str(point.failures_last_hour),
            _rate(point, status.at),
            f"{_ago(point.last_error_at, status.at)}: {point.last_error}"
            if point.last_error
            else "-",
        )
    console.print(endpoints)
    upcoming = FitTable(
        (
            Col("id"),
            Col(f"due ({zone_label(zone, (u.due_at for u in status.upcoming))})", short="due"),
            Col("what", wrap=True),
            Col("repeats"),
        ),
        title=f"Next scheduled broadcasts, times in {zone.key}",
    )
    for item in status.upcoming:
        upcoming.add_row(
            f"#{item.broadcast_id}",
            local_time(item.due_at, zone, with_zone=False),
            item.what,
            item.cron or "once",
        )
    console.print(upcoming)


def _print_paced(status: Status, several: bool) -> None:
    """The paced queues (SMS): what is due, in segments, and how long it takes at the rate; and
    what the rate made miss its deadline, which is reported here rather than lost quietly."""
    paced = FitTable(
        (
            Col("account"),
            Col("due", right=True),
            Col("units", right=True),
            Col("rate", wrap=True, priority=2),
            Col("drains in", short="drains\nin"),
            Col("expired 24 h", right=True, short="expired\n24 h"),
        ),
        title="Paced sends (due now, at the send rate)",
    )
    for queue in status.paced:
        paced.add_row(
            f"{queue.network}/{queue.account}" if several else queue.account,
            str(queue.due),
            f"{queue.units} {queue.pace.unit}",
            queue.pace.describe(),
            _drain_text(queue.drain) if queue.units else "-",
            str(queue.expired_24h),
        )
    console.print(paced)


def _drain_text(span: timedelta) -> str:
    """How long a queue takes to send: seconds, rounded up, under a minute; else as reports
    say spans ("3 h 20 min")."""
    seconds = span.total_seconds()
    return f"{math.ceil(seconds)} s" if seconds < 60 else span_text(span)


def _crm_lines(status: Status) -> list[str]:
    """The Open311 CRM's lines, once a case has been queued for it."""
    crm = status.crm
    if crm is None:
        return []
    waiting = f", {crm.awaiting_id} awaiting the CRM's id" if crm.awaiting_id else ""
    oldest = f", oldest unsent {_ago(crm.oldest_unsent, status.at)}" if crm.queued else ""
    return [
        f"crm queue:    {crm.queued} unsent{waiting}{oldest}",
        f"crm failed:   {crm.failed} not accepted by the CRM (`socialbot cases list --crm-failed`)",
        f"crm sync:     last read {_ago(crm.last_sync, status.at)}",
    ]


def _inbox(status: Status, zone: ZoneInfo) -> str:
    """ "7 waiting, oldest 2 d (since Mon 09:14 EST), 1 storm post first", or "empty"."""
    inbox = status.inbox
    if not inbox.waiting or inbox.oldest is None:
        return "empty"
    age = status.at - inbox.oldest
    # A weekday names a day only within the week; an older message gets its date.
    form = "%a %H:%M %Z" if age < timedelta(days=6) else "%Y-%m-%d %H:%M %Z"
    said = (
        f"{inbox.waiting} waiting, oldest {span_text(age)} "
        f"(since {inbox.oldest.astimezone(zone):{form}})"
    )
    if inbox.priority:
        said += f", {inbox.priority} storm post{'s' if inbox.priority > 1 else ''} first"
    return said + " (`socialbot inbox list`)"


def _templates(status: Status) -> str:
    """How many replies went out as the built-in fallback text, and why the last one did."""
    failed = status.last_template_failure
    said = f"{status.template_fallbacks_24h} replies sent as the fallback text in the last 24 h"
    if failed is None:
        return said
    return (
        f"{said}; last {_ago(failed.at, status.at)}: {failed.template} ({failed.lang}): "
        f"{failed.problem} (fix it, then `socialbot doctor`)"
    )


def _spend(status: Status) -> str:
    budget = status.budget
    if budget is None:
        return "-"
    spent = f"${budget.spent:,.2f} this month (estimate, `socialbot usage`)"
    spent += against_budget(budget)
    if budget.holding_non_essential:
        spent += (
            f" ({status.held_replies} waiting): help, status answers and notices wait, case "
            "replies and broadcasts go on"
        )
    return spent


def _rate(point: EndpointStatus, now: datetime) -> str:
    if point.rate_remaining is None or point.rate_reset_at is None:
        return "-"
    limit = f"/{point.rate_limit}" if point.rate_limit is not None else ""
    minutes = max(int((point.rate_reset_at - now) / timedelta(minutes=1)), 0)
    return f"{point.rate_remaining}{limit}, resets in {minutes} min"


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
        "polls": [{"network": network, "at": iso(at)} for network, at in status.polls],
        "last_send": iso(status.last_send),
        "failures_last_hour": status.failures_last_hour,
        "job_failures_last_hour": status.job_failures_last_hour,
        "jobs": [
            {
                "job": j.job,
                "failures_last_hour": j.failures_last_hour,
                "failures_last_day": j.failures_last_day,
                "last_error": j.last_error,
                "last_error_at": iso(j.last_error_at),
            }
            for j in status.jobs
        ],
        "holds": [
            {
                "network": h.network,
                "account": h.account,
                "endpoint": h.endpoint,
                "until": iso(h.until),
                "since": iso(h.set_at),
                "reason": h.reason,
            }
            for h in status.holds
        ],
        "endpoints": [
            {
                "network": e.network,
                "account": e.account,
                "endpoint": e.endpoint,
                "last_ok_at": iso(e.last_ok_at),
                "failures_last_hour": e.failures_last_hour,
                "last_error": e.last_error,
                "last_error_at": iso(e.last_error_at),
                "rate_limit": e.rate_limit,
                "rate_remaining": e.rate_remaining,
                "rate_reset_at": iso(e.rate_reset_at),
            }
            for e in status.endpoints
        ],
        "spend": {
            "month_usd": round(status.budget.spent, 4),
            "budget_usd": status.budget.budget,
            "holding_non_essential": status.budget.holding_non_essential,
            "held_replies": status.held_replies,
        }
        if status.budget
        else None,
        "outbox": [
            {
                "network": q.network,
                "account": q.account,
                "waiting": q.pending,
                "oldest_waiting": iso(q.oldest_pending),
                "failed_last_hour": q.failed_last_hour,
                "last_sent": iso(q.last_sent),
            }
            for q in status.queues
        ],
        "paced": [
            {
                "network": q.network,
                "account": q.account,
                "due": q.due,
                "units": q.units,
                "unit": q.pace.unit,
                "per_second": q.pace.per_second,
                "drain_seconds": round(q.drain.total_seconds(), 1),
                "expired_24h": q.expired_24h,
            }
            for q in status.paced
        ],
        "next_broadcasts": [
            {"id": u.broadcast_id, "due_at": iso(u.due_at), "what": u.what, "cron": u.cron}
            for u in status.upcoming
        ],
        "broadcasts_missed_24h": status.broadcasts_missed_24h,
        "broadcasts_failed_24h": status.broadcasts_failed_24h,
        "overdue_cases": status.overdue_cases,
        "inbox": {
            "waiting": status.inbox.waiting,
            "by_reason": {reason.value: n for reason, n in status.inbox.by_reason},
            "oldest": iso(status.inbox.oldest),
            "priority": status.inbox.priority,
        },
        "crm": {
            "queued": status.crm.queued,
            "awaiting_id": status.crm.awaiting_id,
            "failed": status.crm.failed,
            "oldest_unsent": iso(status.crm.oldest_unsent),
            "last_sync": iso(status.crm.last_sync),
        }
        if status.crm
        else None,
        "template_fallbacks_24h": status.template_fallbacks_24h,
        "last_template_failure": {
            "at": iso(status.last_template_failure.at),
            "template": status.last_template_failure.template,
            "lang": status.last_template_failure.lang,
            "problem": status.last_template_failure.problem,
        }
        if status.last_template_failure
        else None,
    }
