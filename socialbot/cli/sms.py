"""`socialbot sms …`: the SMS channel as staff see it, in counts. No command lists a number: a
phone number is personal data (`sms.phone.mask` wherever one must be shown)."""

from __future__ import annotations

from typing import Annotated

import typer

from socialbot.app import open_database
from socialbot.cli.common import console, friendly_errors, print_json, state
from socialbot.cli.render import Col, FitTable
from socialbot.districts import load_districts
from socialbot.subscribers import SubscriberCounts, subscriber_counts

app = typer.Typer(help="SMS: alert subscribers, in counts.", no_args_is_help=True)

PLATFORM = "sms"
WHOLE_CITY = "(whole city)"


@app.command("subscribers")
@friendly_errors
def subscribers_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object, for scripts.")] = False,
) -> None:
    """Active alert subscribers by district and language, and the numbers opted out (STOP);
    never a number."""
    settings = state(ctx).settings()
    engine = open_database(settings)
    try:
        counts = subscriber_counts(engine, PLATFORM)
    finally:
        engine.dispose()
    if as_json:
        print_json(
            {
                "network": PLATFORM,
                "subscribers": counts.total,
                "by_district": [
                    {"district": c.district, "lang": c.lang, "count": c.count}
                    for c in counts.active
                ],
                "opted_out": counts.opted_out,
            }
        )
        return
    names = load_districts(settings.districts).names if settings.districts else ()
    console.print(subscribers_table(counts, names))
    console.print(f"{counts.opted_out:,} number(s) opted out (STOP):", markup=False)
    console.print("  texted nothing, no reply and no alert, until they text START.", markup=False)


def subscribers_table(counts: SubscriberCounts, districts: tuple[str, ...]) -> FitTable:
    """A row a district (every one of SOCIALBOT_DISTRICTS, those with none too, then any a
    subscription names that the file no longer has), a column a language, and the totals."""
    langs = sorted({c.lang for c in counts.active} | {"en", "es"})
    grid: dict[str | None, dict[str, int]] = {None: {}}
    grid.update({name: {} for name in districts})
    for count in counts.active:
        grid.setdefault(count.district, {})[count.lang] = count.count
    table = FitTable(
        (
            Col("district", wrap=True),
            *(Col(lang, right=True) for lang in langs),
            Col("total", right=True),
        ),
        title=f"{counts.total:,} active alert subscriber(s) on SMS, by district and language",
    )
    for district, by_lang in grid.items():
        label = WHOLE_CITY if district is None else district
        if district is not None and district not in districts:
            label += " (not in SOCIALBOT_DISTRICTS)"
        table.add_row(
            label,
            *(f"{by_lang.get(lang, 0):,}" for lang in langs),
            f"{sum(by_lang.values()):,}",
        )
    table.add_row(
        "total",
        *(f"{sum(c.count for c in counts.active if c.lang == lang):,}" for lang in langs),
        f"{counts.total:,}",
    )
    table.style["caption"] = f"{WHOLE_CITY}: every alert; a district's: its row and this one"
    return table
