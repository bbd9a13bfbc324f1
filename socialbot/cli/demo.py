"""`socialbot demo`."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from socialbot import reports
from socialbot.app import utc_now
from socialbot.cli.common import console, friendly_errors, state
from socialbot.cli.render import (
    Col,
    FitTable,
    cases_table,
    handled_table,
    replies_table,
    zone_label,
)
from socialbot.cli.report import summary_table
from socialbot.config import Settings
from socialbot.demo import DEMO_SETTINGS, DemoRun, run_demo
from socialbot.store.queries import case_facts, list_cases, outbox_rows


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)


@friendly_errors
def demo_command(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option(help="SQLite file to create (must not exist). Default: a new temporary file."),
    ] = None,
    no_week: Annotated[
        bool,
        typer.Option(
            "--no-week",
            help="Stop after intake, every case as filed: to try the staff commands yourself.",
        ),
    ] = False,
) -> None:
    """Run the real pipeline over shipped sample mentions, without credentials."""
    if db is None:
        db = Path(tempfile.mkdtemp(prefix="socialbot-demo-")) / "demo.db"
    elif db.exists():
        raise typer.BadParameter(
            f"{db} exists; the demo starts from a fresh database", param_hint="--db"
        )
    url = f"sqlite:///{db.resolve()}"
    # The tables below tell the story; per-event log lines would bury them.
    settings = state(ctx).settings(database_url=url, log_level="WARNING", **DEMO_SETTINGS)
    run = run_demo(settings, staff_week=not no_week)
    names = {n.name: n.text_rules.network for n in run.service.intake_networks}
    for network, first in run.first.items():
        console.print(
            handled_table(
                first.handled,
                title=f"{names[network]}: polled {first.fetched} mentions in {first.pages} "
                + ("page" if first.pages == 1 else "pages"),
            )
        )
        console.print()
    console.print(cases_table(list_cases(run.service.engine), settings.zone, title="Cases opened"))
    console.print()
    rows = outbox_rows(run.service.engine)
    for network, name in names.items():
        replies = [r for r in rows if r.mention_id is not None and r.platform == network]
        console.print(
            replies_table(
                replies, title=f"{name}: replies posted in their threads ({len(replies)})"
            )
        )
        console.print()
    again = sum(len(report.handled) for report in run.second.values())
    console.print(
        f"Polled again: {again} new mention(s), "
        f"{run.sent.sent} replies in all — nothing is filed or answered twice.",
        soft_wrap=False,
    )
    if no_week:
        run.service.close()
        console.print(f"The demo database is {db}; work its cases and inbox with, for example:")
        for command in ("cases ack 1", "inbox list"):
            console.print(
                f"  SOCIALBOT_DATABASE_URL={url} socialbot {command}", markup=False, soft_wrap=True
            )
        return
    console.print()
    console.print(week_table(run, settings))
    console.print()
    status_replies = [r for r in outbox_rows(run.service.engine) if r.mention_id is None]
    console.print(
        replies_table(
            status_replies,
            title=f"Residents told in their threads ({run.status_sent.sent}); case #1's three "
            "reporters each hear it is fixed",
        )
    )
    console.print()
    now = utc_now()
    week = reports.summary(
        case_facts(run.service.engine),
        since=now - timedelta(days=7),
        until=now,
        now=now,
        by=reports.GroupBy.CATEGORY,
        zone=settings.zone,
    )
    console.print(
        summary_table([*week.rows, week.total], week.by, "The week in figures (socialbot report)")
    )
    run.service.close()
    console.print(f"The demo database is {db}; look around with:")
    for command in ("cases show 1", "report --by district", "report hotspots", "inbox list"):
        console.print(
            f"  SOCIALBOT_DATABASE_URL={url} socialbot {command}", markup=False, soft_wrap=True
        )


def week_table(run: DemoRun, settings: Settings) -> FitTable:
    zone = settings.zone
    table = FitTable(
        (
            Col(f"when ({zone_label(zone, (at for at, _ in run.week))})", short="when"),
            Col("case"),
            Col("action"),
            Col("status"),
            Col("resident told", short="told"),
        ),
        title="A week of staff work (simulated, through `socialbot cases …`)",
    )
    for at, done in run.week:
        table.add_row(
            f"{at.astimezone(settings.zone):%a %H:%M}",
            f"#{done.case_id}",
            done.action.value,
            f"{done.from_status.value} → {done.to_status.value}",
            "yes" if done.reply_text else "—",
        )
    return table
