"""`socialbot cases …`: what staff read."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from socialbot.app import open_database
from socialbot.cli.common import console, friendly_errors, state
from socialbot.cli.render import case_detail_json, case_detail_table, case_json, cases_table
from socialbot.domain import CaseStatus
from socialbot.errors import SocialbotError
from socialbot.store.queries import get_case, list_cases

app = typer.Typer(help="Read the cases the bot has opened.", no_args_is_help=True)


@app.command("list")
@friendly_errors
def list_command(
    ctx: typer.Context,
    status: Annotated[CaseStatus | None, typer.Option(help="Only cases in this status.")] = None,
    category: Annotated[
        str | None, typer.Option(help="Only this category key, e.g. pothole.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON array instead of a table.")
    ] = False,
) -> None:
    """List cases, oldest first."""
    engine = open_database(state(ctx).settings())
    cases = list_cases(engine, status=status, category=category)
    engine.dispose()
    if as_json:
        console.print_json(json.dumps([case_json(c) for c in cases], ensure_ascii=False))
    else:
        console.print(cases_table(cases, title=f"{len(cases)} case(s)"))


@app.command("show")
@friendly_errors
def show_command(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(metavar="N", help="The case number.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """One case with its history, photos, a map link and its replies."""
    engine = open_database(state(ctx).settings())
    detail = get_case(engine, case_id)
    engine.dispose()
    if detail is None:
        raise SocialbotError(f"case #{case_id} does not exist")
    if as_json:
        console.print_json(json.dumps(case_detail_json(detail), ensure_ascii=False))
    else:
        console.print(case_detail_table(detail))
