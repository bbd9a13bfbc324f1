"""`socialbot db …`: schema migrations."""

from __future__ import annotations

import typer

from socialbot.cli.common import console, friendly_errors, state
from socialbot.store.db import make_engine, schema_is_current, upgrade

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
@friendly_errors
def upgrade_command(ctx: typer.Context) -> None:
    """Apply any pending migrations (run, poll and demo do this by themselves)."""
    settings = state(ctx).settings()
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()
    console.print(
        f"database {engine.url.render_as_string(hide_password=True)} is at the newest schema"
    )


@app.command("check")
@friendly_errors
def check_command(ctx: typer.Context) -> None:
    """Exit 1 if migrations are pending."""
    engine = make_engine(state(ctx).settings().database_url, create=False)
    current = schema_is_current(engine)
    engine.dispose()
    if not current:
        console.print("migrations pending: run `socialbot db upgrade`")
        raise typer.Exit(1)
    console.print("schema is current")
