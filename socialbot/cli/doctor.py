"""`socialbot doctor`: one line per check, OK or the fix to make; exit 1 on any failure."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from socialbot.cli.common import console, friendly_errors, print_json, state
from socialbot.cli.render import visible
from socialbot.doctor import Check, Outcome, failed, run_checks

LABELS = {
    Outcome.OK: ("OK", "green"),
    Outcome.FAIL: ("FAIL", "bold red"),
    Outcome.SKIP: ("SKIP", "dim"),
}
AREA_WIDTH = 12


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor_command)


@friendly_errors
def doctor_command(
    ctx: typer.Context,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="Do not call X: the credentials are not checked (before you have them).",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per check, in a list.")
    ] = False,
) -> None:
    """Check settings, catalog, templates, database and X credentials, changing nothing."""
    root = state(ctx)
    checks = run_checks(root.settings, config_file=root.config_file, offline=offline)
    if as_json:
        print_json([check_json(c) for c in checks])
    else:
        for check in checks:
            console.print(line(check))
        problems = len(failed(checks))
        console.print(
            f"{problems} problem(s) to fix; run `socialbot doctor` again after."
            if problems
            else "All good.",
            markup=False,
        )
    if failed(checks):
        raise typer.Exit(1)


def line(check: Check) -> Text:
    """`OK    catalog      /etc/socialbot/hashtags.yaml: 24 categories`, the fix after `→`."""
    label, style = LABELS[check.outcome]
    # Text built here is not a printed string: its outside parts (a YAML value, a path) are made
    # visible here.
    text = Text.assemble(
        (label.ljust(5), style), " ", check.area.ljust(AREA_WIDTH), " ", visible(check.detail)
    )
    if check.fix:
        text.append(f" → {visible(check.fix)}")
    return text


def check_json(check: Check) -> dict[str, str | None]:
    return {
        "area": check.area,
        "outcome": check.outcome.value,
        "detail": check.detail,
        "fix": check.fix,
    }
