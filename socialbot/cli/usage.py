"""`socialbot usage`: a month's calls by network, account and endpoint (X's API calls, the SMS
texts and their segments), and what they are estimated to cost; X's spend against its budget."""

from __future__ import annotations

from typing import Annotated

import typer

from socialbot.app import open_database, utc_now
from socialbot.cli.common import console, friendly_errors, print_json, state
from socialbot.cli.render import Col, FitTable, against_budget
from socialbot.errors import ConfigError
from socialbot.metering import BILLED_NETWORKS, monthly_budget, read_usage
from socialbot.network_settings import LABELS
from socialbot.usage import Charge, month_of


def register(app: typer.Typer) -> None:
    app.command("usage")(usage_command)


@friendly_errors
def usage_command(
    ctx: typer.Context,
    month: Annotated[
        str | None,
        typer.Option(
            "--month",
            help="YYYY-MM, e.g. 2026-11: X's billing month, which runs in UTC (not the city's "
            "time). Default: this month.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
) -> None:
    """Calls this month by account and endpoint, with the estimated spend (X's calls at the
    SOCIALBOT_PRICE_* settings, against SOCIALBOT_MONTHLY_BUDGET; SMS by its segments at
    SOCIALBOT_TWILIO_PRICE_PER_SEGMENT)."""
    settings = state(ctx).settings()
    wanted = month or month_of(utc_now())
    engine = open_database(settings)
    try:
        try:
            lines = read_usage(engine, wanted, settings.prices)
        except ValueError as exc:
            raise ConfigError(f"--month: {exc}") from None
        budget = monthly_budget(engine, settings, wanted)
    finally:
        engine.dispose()
    by_network: dict[str, float] = {}
    for line in lines:
        by_network[line.network] = by_network.get(line.network, 0.0) + line.spend
    total = sum(by_network.values())
    if as_json:
        print_json(
            {
                "month": wanted,
                "endpoints": [
                    {
                        "network": u.network,
                        "account": u.account,
                        "endpoint": u.endpoint,
                        "calls": u.calls,
                        "errors": u.errors,
                        "billed": {c.value: n for c, n in sorted(u.units.items())},
                        "spend_usd": round(u.spend, 4),
                    }
                    for u in lines
                ],
                "spend_usd": round(total, 4),
                "spend_by_network_usd": {n: round(d, 4) for n, d in sorted(by_network.items())},
                "budget_spend_usd": round(budget.spent, 4),
                "budget_usd": budget.budget,
                "holding_non_essential": budget.holding_non_essential,
            }
        )
        return
    networks = {u.network for u in lines}
    several = len(networks) > 1
    # Only X bills; another network's calls are counted beside, at no cost. A city on one
    # network sees its name (X when there is no call yet, as always).
    only = next(iter(networks)) if len(networks) == 1 else "x"
    label = "API" if several else f"{LABELS.get(only, only)} API"
    # The month is X's billing month, which runs in UTC (`--month` says so).
    table = FitTable(
        (
            Col("account", priority=1),
            Col("endpoint"),
            Col("calls", right=True),
            Col("failed", right=True),
            Col("billed", wrap=True),
            Col("est. spend", right=True, short="spend"),
        ),
        title=f"{label} usage, {wanted} (the month in UTC)",
    )
    for line in lines:
        table.add_row(
            f"{line.network}/{line.account}" if several else line.account,
            line.endpoint,
            f"{line.calls:,}",
            f"{line.errors:,}",
            ", ".join(f"{n:,} {_UNITS[c]}" for c, n in sorted(line.units.items())) or "-",
            f"${line.spend:,.2f}",
        )
    console.print(table)
    unbudgeted = {n: d for n, d in by_network.items() if n not in BILLED_NETWORKS and d}
    if not unbudgeted:
        console.print(f"total: ${total:,.2f} (estimate){against_budget(budget)}", markup=False)
        return
    # The budget is X's (`metering.BILLED_NETWORKS`): said apart from what it does not cap.
    console.print(f"total: ${total:,.2f} (estimate)", markup=False)
    budgeted = " and ".join(LABELS.get(n, n) for n in sorted(BILLED_NETWORKS))
    console.print(f"{budgeted}: ${budget.spent:,.2f}{against_budget(budget)}", markup=False)
    for network, dollars in sorted(unbudgeted.items()):
        console.print(f"{LABELS.get(network, network)}: ${dollars:,.2f} (no budget)", markup=False)


_UNITS = {
    Charge.POST_READ: "post(s) read",
    Charge.USER_READ: "user(s) read",
    Charge.POST_CREATE: "post(s)",
    Charge.POST_CREATE_URL: "post(s) with a link",
    Charge.MEDIA_UPLOAD: "photo(s)",
    Charge.SMS_SEGMENT: "segment(s)",
}
