"""`socialbot block`, `unblock`, `blocked`: on every network the city runs, each handle read by
its network's rule (`app.handle_rules`)."""

from __future__ import annotations

from typing import Annotated

import typer

from socialbot import moderation
from socialbot.app import NETWORKS, handle_rules, open_database, utc_now
from socialbot.cli.common import console, friendly_errors, recorded_as, state
from socialbot.cli.render import Col, FitTable, local, zone_label
from socialbot.config import Settings
from socialbot.network_settings import LABELS
from socialbot.sms.phone import masked_in

Handle = Annotated[
    str,
    typer.Argument(
        metavar="@HANDLE",
        help="The account: @someone on X, @someone@instance.social (or a local @someone) on "
        "Mastodon, someone.bsky.social on Bluesky, a number in E.164 (+16175550123) on SMS.",
    ),
]
NetworkOption = Annotated[
    str | None,
    typer.Option(
        "--network",
        help=f"The account's network: {'|'.join(NETWORKS)}. Default: the one the handle's "
        "shape names, else the one the city runs that takes it.",
    ),
]


def register(app: typer.Typer) -> None:
    app.command("block")(block_command)
    app.command("unblock")(unblock_command)
    app.command("blocked")(blocked_command)


def _runs(settings: Settings) -> tuple[str, ...]:
    """The networks the city runs; a city on none yet reads as on X, as `status` has it."""
    return settings.networks or ("x",)


def _account(settings: Settings, handle: str, network: str | None) -> moderation.Account:
    return moderation.account_of(handle, handle_rules(settings), _runs(settings), network)


def _named(settings: Settings, account: moderation.Account) -> str:
    """`@handle`, and its network when the city runs several or not this one."""
    runs = _runs(settings)
    several = len(runs) > 1 or account.network not in runs
    label = LABELS.get(account.network, account.network)
    return f"@{account.username}" + (f" on {label}" if several else "")


@friendly_errors
def block_command(
    ctx: typer.Context,
    handle: Handle,
    network: NetworkOption = None,
    reason: Annotated[str, typer.Option("--reason", help="Why, for the record.")] = "",
    actor: Annotated[
        str | None, typer.Option("--as", help="Who blocks. Default: your login.")
    ] = None,
) -> None:
    """Block an account: its posts are recorded but open nothing and get no reply."""
    settings = state(ctx).settings()
    account = _account(settings, handle, network)
    engine = open_database(settings)
    try:
        row = moderation.block(engine, account, by=recorded_as(actor), reason=reason, now=utc_now())
    finally:
        engine.dispose()
    seen = f" (account {row.user_id})" if row.user_id else ""
    # A number (SMS) is personal data: shown masked, as everywhere.
    console.print(masked_in(f"blocked {_named(settings, account)}{seen}"), markup=False)


@friendly_errors
def unblock_command(ctx: typer.Context, handle: Handle, network: NetworkOption = None) -> None:
    """Unblock an account."""
    settings = state(ctx).settings()
    account = _account(settings, handle, network)
    engine = open_database(settings)
    try:
        moderation.unblock(engine, account)
    finally:
        engine.dispose()
    console.print(masked_in(f"unblocked {_named(settings, account)}"), markup=False)


@friendly_errors
def blocked_command(ctx: typer.Context) -> None:
    """List blocked accounts."""
    settings = state(ctx).settings()
    engine = open_database(settings)
    try:
        rows = moderation.blocked(engine)
    finally:
        engine.dispose()
    runs = _runs(settings)
    # The network is named when the city runs several, as `status` names them.
    several = len(runs) > 1 or any(row.platform not in runs for row in rows)
    zone = settings.zone
    table = FitTable(
        (
            *([Col("network")] if several else []),
            Col("account"),
            Col(f"since ({zone_label(zone, (r.blocked_at for r in rows))})", short="since"),
            Col("by", priority=1),
            Col("reason", wrap=True),
        ),
        title=f"{len(rows)} blocked account(s), times in {zone.key}",
    )
    for row in rows:
        table.add_row(
            *([LABELS.get(row.platform, row.platform)] if several else []),
            masked_in(f"@{row.username}"),
            local(row.blocked_at, zone),
            row.blocked_by,
            row.reason,
        )
    console.print(table)
