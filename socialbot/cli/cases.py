"""`socialbot cases …`: what staff read."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from sqlalchemy import Engine

from socialbot import storable
from socialbot.app import build_staff, load_case_content, open_database, utc_now
from socialbot.cli.common import (
    console,
    err_console,
    friendly_errors,
    moment,
    print_data,
    print_json,
    recorded_as,
    since_form,
    state,
)
from socialbot.cli.render import (
    case_detail_json,
    case_detail_table,
    case_json,
    cases_csv,
    cases_table,
)
from socialbot.config import Settings
from socialbot.departments import department_named, known_departments
from socialbot.domain import CaseStatus, GeoPoint
from socialbot.errors import SocialbotError
from socialbot.lifecycle import Action, CloseReason
from socialbot.staff import DEPARTMENT_LENGTH, Request, requests_from_csv
from socialbot.store.queries import get_case, list_cases
from socialbot.timespan import SINCE_FORMS

app = typer.Typer(help="Read and work the cases the bot has opened.", no_args_is_help=True)


_RADIUS = re.compile(r"(\d+(?:\.\d+)?)\s*(m|km)?", re.IGNORECASE)
DEFAULT_RADIUS_M = 500.0


def parse_radius(text: str) -> float:
    """Metres from `500m`, `1km`, `1.5km` or `250` (metres)."""
    match = _RADIUS.fullmatch(text.strip())
    metres = 0.0
    if match:
        metres = float(match[1]) * (1000.0 if (match[2] or "m").lower() == "km" else 1.0)
    if metres <= 0:
        raise typer.BadParameter(
            f"expected a distance like 500m, 1km or 250 (metres), got {text!r}"
        )
    return metres


def parse_point(text: str) -> GeoPoint:
    """A point from `LAT,LON` in degrees, e.g. `42.35,-71.07`."""
    try:
        lat, lon = (float(part) for part in text.split(","))
        return GeoPoint(lat, lon)
    except ValueError:
        raise typer.BadParameter(
            f"expected LAT,LON in degrees like 42.35,-71.07, got {text!r}"
        ) from None


def _open(ctx: typer.Context) -> tuple[Settings, Engine]:
    """The settings and the database, once the content cases are filed with is checked
    (`load_case_content`): staff reading cases hear of a broken bounds, districts or catalog file
    at once, as `socialbot run` would at its next start."""
    settings = state(ctx).settings()
    load_case_content(settings)
    return settings, open_database(settings)


@app.command("list")
@friendly_errors
def list_command(
    ctx: typer.Context,
    status: Annotated[CaseStatus | None, typer.Option(help="Only cases in this status.")] = None,
    category: Annotated[
        str | None, typer.Option(help="Only this category key, e.g. pothole.")
    ] = None,
    department: Annotated[
        str | None,
        typer.Option(help="Only this department, the whole name in any case."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            metavar="WHEN",
            parser=since_form,
            help=f"Only cases opened since then: {SINCE_FORMS}.",
        ),
    ] = None,
    author: Annotated[
        str | None,
        typer.Option(metavar="@HANDLE", help="Only cases this resident reported, e.g. @maria."),
    ] = None,
    near: Annotated[
        GeoPoint | None,
        typer.Option(
            metavar="LAT,LON", parser=parse_point, help="Only cases within --radius of here."
        ),
    ] = None,
    radius: Annotated[
        float | None,
        typer.Option(
            metavar="DISTANCE",
            parser=parse_radius,
            help="With --near: 500m (default), 1km, 1.5km or 250 (metres).",
        ),
    ] = None,
    district: Annotated[
        str | None, typer.Option(help="Only this district (SOCIALBOT_DISTRICTS), in any case.")
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only open cases past their SLA due time.")
    ] = False,
    crm_failed: Annotated[
        bool,
        typer.Option(
            "--crm-failed",
            help="Only cases the city's Open311 CRM refused (see `cases show` for its words).",
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON array instead of a table.")
    ] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="CSV with a header row instead of a table.")
    ] = False,
) -> None:
    """List cases, oldest first. Filters combine: a case must match them all."""
    if as_json and as_csv:
        raise typer.BadParameter("choose one of --json and --csv", param_hint="--csv")
    if radius is not None and near is None:
        raise typer.BadParameter("needs --near LAT,LON", param_hint="--radius")
    settings, engine = _open(ctx)
    cases = list_cases(
        engine,
        status=status,
        category=category,
        department=department,
        since=moment(since, "--since", settings.zone) if since is not None else None,
        author=author,
        near=near,
        radius_m=(DEFAULT_RADIUS_M if radius is None else radius) if near is not None else None,
        district=district,
        overdue_at=utc_now() if overdue else None,
        crm_failed=crm_failed,
    )
    engine.dispose()
    if as_json:
        print_json([case_json(c) for c in cases])
    elif as_csv:
        print_data(cases_csv(cases))
    else:
        console.print(cases_table(cases, settings.zone, title=f"{len(cases)} case(s)"))


@app.command("show")
@friendly_errors
def show_command(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(metavar="N", help="The case number.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """One case with its history, photos, a map link, its thread and our replies."""
    settings, engine = _open(ctx)
    detail = get_case(engine, case_id)
    engine.dispose()
    if detail is None:
        raise SocialbotError(f"case #{case_id} does not exist")
    if as_json:
        print_json(case_detail_json(detail))
    else:
        console.print(case_detail_table(detail, settings.zone))


Actor = Annotated[
    str | None,
    typer.Option("--as", help="Who is acting, for the case history. Default: your login name."),
]
Note = Annotated[str, typer.Option("--note", help="Internal note for the history; never posted.")]
CaseIds = Annotated[list[int], typer.Argument(metavar="N...", help="Case numbers.")]


def _run(ctx: typer.Context, requests: list[Request | SocialbotError]) -> None:
    """Apply each request in its own transaction; print one line each and a summary."""
    staff = build_staff(state(ctx).settings())
    failed = 0
    try:
        with Progress(console=err_console, transient=True, disable=len(requests) < 2) as progress:
            task = progress.add_task("working", total=len(requests))
            for result in staff.act_all(requests, utc_now):
                progress.advance(task)
                if isinstance(result, SocialbotError):
                    failed += 1
                    console.print(f"refused: {result}", markup=False)
                    continue
                change = (
                    f"{result.from_status.value} → {result.to_status.value}"
                    if result.from_status is not result.to_status
                    else {Action.NOTE: "note added", Action.ASSIGN: "assigned"}.get(
                        result.action, result.to_status.value
                    )
                )
                line = f"case #{result.case_id}: {change}"
                if result.reply_text:
                    line += f"; reply queued: {result.reply_text}"
                console.print(line, markup=False)
    finally:
        staff.engine.dispose()
    if len(requests) > 1:
        console.print(f"{len(requests) - failed} done, {failed} refused")
    if failed:
        raise typer.Exit(1)


def _simple(action: Action, doc: str) -> None:
    @friendly_errors
    def command(
        ctx: typer.Context, case_ids: CaseIds, note: Note = "", actor: Actor = None
    ) -> None:
        _run(ctx, [Request(n, action, recorded_as(actor), note=note) for n in case_ids])

    command.__doc__ = doc
    app.command(action.value)(command)


_simple(Action.ACK, "Acknowledge cases: seen and sent to the crew.")
_simple(Action.START, "Mark cases in progress: the crew is on it.")
_simple(Action.REOPEN, "Reopen resolved or closed cases (back to in_progress).")


@app.command("assign")
@friendly_errors
def assign_command(
    ctx: typer.Context,
    case_ids: CaseIds,
    to: Annotated[
        str,
        typer.Option(
            "--to",
            help="The department that takes the cases: one the catalog or the districts name "
            "(case, accents and dashes as you like).",
        ),
    ],
    note: Note = "",
    actor: Actor = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Assign to a department the catalog does not name (a new one)."
        ),
    ] = False,
) -> None:
    """Hand cases to another department."""
    storable.check(to, "--to", DEPARTMENT_LENGTH)
    if not force:  # a typo must not open a department nobody reads
        content = load_case_content(state(ctx).settings())
        to = department_named(to, known_departments(content.catalog, content.districts))
    _run(
        ctx,
        [Request(n, Action.ASSIGN, recorded_as(actor), note=note, department=to) for n in case_ids],
    )


@app.command("note")
@friendly_errors
def note_command(
    ctx: typer.Context,
    case_id: Annotated[int, typer.Argument(metavar="N", help="The case number.")],
    text: Annotated[str, typer.Argument(help="The note. Internal: never posted.")],
    actor: Actor = None,
) -> None:
    """Add an internal note to a case's history."""
    _run(ctx, [Request(case_id, Action.NOTE, recorded_as(actor), note=text)])


@app.command("resolve")
@friendly_errors
def resolve_command(
    ctx: typer.Context,
    case_ids: Annotated[
        list[int] | None, typer.Argument(metavar="[N...]", help="Case numbers.")
    ] = None,
    note: Note = "",
    from_csv: Annotated[
        Path | None,
        typer.Option(
            "--from-csv", help="CSV with columns id and note, one case a row.", dir_okay=False
        ),
    ] = None,
    photo: Annotated[
        Path | None,
        typer.Option(
            "--photo",
            metavar="FILE",
            help="After-photo for the resident's reply (.jpg, .png, .gif, .webp, up to 5 MB; one "
            "case). The --note becomes its alt text. It is copied to SOCIALBOT_MEDIA_DIR, where "
            "the service reads it.",
        ),
    ] = None,
    actor: Actor = None,
) -> None:
    """Resolve cases; residents are told in their thread (see SOCIALBOT_NOTIFY_ON)."""
    who = recorded_as(actor)
    if photo is not None:
        if not case_ids or len(case_ids) != 1 or from_csv is not None:
            raise typer.BadParameter(
                "goes with exactly one case number, and not with --from-csv", param_hint="--photo"
            )
        staff = build_staff(state(ctx).settings())
        try:
            done = staff.act(
                Request(case_ids[0], Action.RESOLVE, who, note=note, photo=photo), utc_now()
            )
        except SocialbotError as exc:
            console.print(f"refused: {exc}", markup=False)
            raise typer.Exit(1) from None
        finally:
            staff.engine.dispose()
        console.print(
            f"case #{done.case_id}: {done.from_status.value} → {done.to_status.value}; "
            f"reply queued: {done.reply_text}",
            markup=False,
        )
        console.print(
            f"with photo {photo} (alt text: {done.photo_alt}); the service posts its copy "
            f"{done.photo}",
            markup=False,
        )
        return
    requests: list[Request | SocialbotError] = [
        Request(n, Action.RESOLVE, who, note=note) for n in case_ids or []
    ]
    if from_csv is not None:
        requests += requests_from_csv(from_csv, Action.RESOLVE, who)
    if not requests:
        raise typer.BadParameter("name case numbers or --from-csv FILE", param_hint="N...")
    _run(ctx, requests)


@app.command("merge")
@friendly_errors
def merge_command(
    ctx: typer.Context,
    case_ids: CaseIds,
    into: Annotated[int, typer.Option("--into", help="The case they are the same problem as.")],
    note: Note = "",
    actor: Actor = None,
) -> None:
    """Merge cases into another (the same problem): each is closed as its duplicate, its reporters
    join the other's count and hear when that one is resolved."""
    _run(
        ctx,
        [
            Request(
                n,
                Action.CLOSE,
                recorded_as(actor),
                note=note,
                reason=CloseReason.DUPLICATE,
                duplicate_of=into,
            )
            for n in case_ids
        ],
    )


@app.command("unmerge")
@friendly_errors
def unmerge_command(
    ctx: typer.Context, case_ids: CaseIds, note: Note = "", actor: Actor = None
) -> None:
    """Undo a merge: the case is reopened on its own and its reporters leave the other's count."""
    who = recorded_as(actor)
    _run(ctx, [Request(n, Action.REOPEN, who, note=note, unmerge=True) for n in case_ids])


@app.command("close")
@friendly_errors
def close_command(
    ctx: typer.Context,
    case_ids: CaseIds,
    reason: Annotated[CloseReason, typer.Option("--reason", help="Why the case is closed.")],
    of: Annotated[
        int | None, typer.Option("--of", help="With --reason duplicate: the case it duplicates.")
    ] = None,
    note: Note = "",
    actor: Actor = None,
) -> None:
    """Close cases without resolving them; residents get the reason's reply."""
    _run(
        ctx,
        [
            Request(n, Action.CLOSE, recorded_as(actor), note=note, reason=reason, duplicate_of=of)
            for n in case_ids
        ],
    )
