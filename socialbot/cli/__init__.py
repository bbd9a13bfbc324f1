"""The `socialbot` command. Thin: parse, build the service from settings, call, print.

Any `SocialbotError` becomes one line on stderr and exit code 1 (2 for usage errors, from Typer);
never a traceback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from socialbot.cli import (
    broadcast,
    calendar,
    cases,
    db,
    demo,
    doctor,
    inbox,
    jobs,
    moderation,
    open311,
    report,
    sms,
    status,
    usage,
    web,
)
from socialbot.cli.common import State
from socialbot.config import LogFormat

app = typer.Typer(
    name="socialbot",
    help="Social-media intake bot and notifier for city 311 services.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config", help="TOML settings file (default: $SOCIALBOT_CONFIG).", dir_okay=False
        ),
    ] = None,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            "--log-format",
            help="Log lines as `text` (key=value fields) or `json` "
            "(default: $SOCIALBOT_LOG_FORMAT, else text).",
        ),
    ] = None,
) -> None:
    ctx.obj = State(config_file=config, log_format=log_format)


app.add_typer(cases.app, name="cases")
app.add_typer(db.app, name="db")
app.add_typer(broadcast.app, name="broadcast")
app.add_typer(broadcast.storm_app, name="storm")
app.add_typer(report.app, name="report")
app.add_typer(report.export_app, name="export")
app.add_typer(open311.app, name="open311")
app.add_typer(calendar.app, name="calendar")
app.add_typer(inbox.app, name="inbox")
app.add_typer(sms.app, name="sms")
status.register(app)
usage.register(app)
doctor.register(app)
jobs.register(app)
moderation.register(app)
demo.register(app)
web.register(app)
