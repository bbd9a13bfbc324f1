"""`socialbot demo`."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from socialbot.cli.common import console, friendly_errors, state
from socialbot.cli.render import cases_table, handled_table, replies_table
from socialbot.demo import DEMO_SETTINGS, run_demo
from socialbot.store.queries import list_cases, outbox_rows


def register(app: typer.Typer) -> None:
    app.command("demo")(demo_command)


@friendly_errors
def demo_command(
    ctx: typer.Context,
    db: Annotated[
        Path | None,
        typer.Option(help="SQLite file to create (must not exist). Default: a new temporary file."),
    ] = None,
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
    run = run_demo(settings)
    console.print(
        handled_table(
            run.first.handled,
            title=f"Polled {run.first.fetched} mentions in {run.first.pages} pages",
        )
    )
    console.print()
    console.print(cases_table(list_cases(run.service.engine), title="Cases opened"))
    console.print()
    console.print(
        replies_table(outbox_rows(run.service.engine), title=f"Replies posted ({run.sent.sent})")
    )
    console.print()
    console.print(
        f"Polled again: {len(run.second.handled)} new mention(s), "
        f"{len(run.platform.posted)} replies in all — nothing is filed or answered twice."
    )
    run.service.close()
    console.print(f"The demo database is {db}; look around with:")
    console.print(
        f"  SOCIALBOT_DATABASE_URL={url} socialbot cases show 1", markup=False, soft_wrap=True
    )
