"""`socialbot doctor`: one line per check, OK or the fix to make; exit 1 on any failure (a warning
is shown, and exits 0)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from socialbot.cli.common import console, friendly_errors, print_json, state
from socialbot.cli.render import visible
from socialbot.doctor import Check, Outcome, failed, run_checks, warnings

LABELS = {
    Outcome.OK: ("OK", "green"),
    Outcome.FAIL: ("FAIL", "bold red"),
    Outcome.SKIP: ("SKIP", "dim"),
    Outcome.WARN: ("WARN", "yellow"),
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
            help="Call no network: the credentials are only noted as set or not (before you "
            "have them).",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per check, in a list.")
    ] = False,
) -> None:
    """Check settings, catalog, templates, database and every network's credentials, changing
    nothing but a Bluesky session it had to sign in for (saved, as the service saves it). A city
    on X, Mastodon and Bluesky:

    \b
    OK    credentials  x/intake: @DemoCity311 (user id 1583000000000000001)
    OK    field names  SOCIALBOT_X_FIELD_NAMES=tweet: X accepts every name the mentions …
    OK    credentials  mastodon/intake: @city311@social.example.gov (account id 1134…) on …
    OK    instance     mastodon/intake: social.example.gov, Mastodon 4.5.2: posts of up to …
    WARN  policy       mastodon/intake: the account's notification policy filters mentions …
    OK    credentials  bluesky/intake: @city311.bsky.social (did:plc:c1ty…) at https://bsky…
    """
    root = state(ctx)
    checks = run_checks(root.settings, config_file=root.config_file, offline=offline)
    if as_json:
        print_json([check_json(c) for c in checks])
    else:
        for check in checks:
            console.print(line(check))
        console.print(summary(checks), markup=False)
    if failed(checks):
        raise typer.Exit(1)


def summary(checks: list[Check]) -> str:
    """The last line: the problems to fix and the warnings to read, or all good."""
    problems, warned = len(failed(checks)), len(warnings(checks))
    if problems:
        also = f", {warned} warning(s)" if warned else ""
        return f"{problems} problem(s) to fix{also}; run `socialbot doctor` again after."
    if warned:
        return f"No problems, {warned} warning(s): read the WARN lines."
    return "All good."


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
