"""`socialbot block`, `unblock`, `blocked`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from socialbot import moderation
from socialbot.app import open_database, utc_now
from socialbot.cli.common import console, friendly_errors, recorded_as, state

Handle = Annotated[str, typer.Argument(metavar="@HANDLE", help="The X account, e.g. @someone.")]


def register(app: typer.Typer) -> None:
    app.command("block")(block_command)
    app.command("unblock")(unblock_command)
    app.command("blocked")(blocked_command)


@friendly_errors
def block_command(
    ctx: typer.Context,
    handle: Handle,
    reason: Annotated[str, typer.Option("--reason", help="Why, for the record.")] = "",
    actor: Annotated[
        str | None, typer.Option("--as", help="Who blocks. Default: your login.")
    ] = None,
) -> None:
    """Block an account: its posts are recorded but open nothing and get no reply."""
    engine = open_database(state(ctx).settings())
    try:
        row = moderation.block(engine, handle, by=recorded_as(actor), reason=reason, now=utc_now())
    finally:
        engine.dispose()
    console.print(f"blocked @{row.username}" + (f" (account {row.user_id})" if row.user_id else ""))


@friendly_errors
def unblock_command(ctx: typer.Context, handle: Handle) -> None:
    """Unblock an account."""
    engine = open_database(state(ctx).settings())
    try:
        moderation.unblock(engine, handle)
    finally:
        engine.dispose()
    console.print(f"unblocked @{moderation.normalize_handle(handle)}")


@friendly_errors
def blocked_command(ctx: typer.Context) -> None:
    """List blocked accounts."""
    engine = open_database(state(ctx).settings())
    try:
        rows = moderation.blocked(engine)
    finally:
        engine.dispose()
    table = Table(title=f"{len(rows)} blocked account(s)", title_justify="left")
    for column in ("account", "since (UTC)", "by", "reason"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            f"@{row.username}", f"{row.blocked_at:%Y-%m-%d %H:%M}", row.blocked_by, row.reason
        )
    console.print(table)
