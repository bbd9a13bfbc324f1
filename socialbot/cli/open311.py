"""`socialbot open311 …`: the city's Open311 CRM beside our catalog, and one round of the sync."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from socialbot.app import build_staff, load_case_content, make_forwarder, open311_client, utc_now
from socialbot.cli.common import console, friendly_errors, print_json, state
from socialbot.cli.render import Col, FitTable
from socialbot.open311.forwarder import enqueue_due, forward_once
from socialbot.open311.mapping import ServiceMap, compare_services, wanted_definitions
from socialbot.open311.sync import sync_once

app = typer.Typer(
    help="The city's Open311 CRM: its services beside our categories, and the sync.",
    no_args_is_help=True,
)


@app.command("services")
@friendly_errors
def services_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of tables.")] = False,
) -> None:
    """The CRM's services beside our categories: which category is filed as which service,
    which are not sent, and which required attributes the catalog gives no value."""
    settings = state(ctx).settings()
    catalog = load_case_content(settings).catalog
    client = open311_client(settings)
    try:
        services = client.services()
        definitions = {
            code: client.definition(code) for code in wanted_definitions(catalog, services)
        }
    finally:
        client.close()
    found = compare_services(catalog, services, definitions)
    if as_json:
        print_json(services_json(found))
        return
    console.print(
        services_table(found, title=f"{len(found.services)} service(s) at {client.endpoint}")
    )
    if found.unmapped:
        console.print(f"not sent (no open311_service_code): {', '.join(found.unmapped)}")
    for problem in found.problems:
        console.print(f"problem: {problem.describe()}", markup=False)
    if not found.problems:
        console.print(
            "every mapped category has a listed service and a value for each required attribute"
        )


def services_table(found: ServiceMap, title: str) -> FitTable:
    # Codes and category keys are ids: never broken across lines (one a line when several);
    # the CRM's names and groups are free text, and wrap.
    # The required attributes we cannot fill: a column only when some service has one.
    missing = any(row.missing for row in found.services)
    table = FitTable(
        (
            Col("service_code", short="code"),
            Col("name", wrap=True, narrowest=12),
            Col("group", wrap=True, narrowest=10, priority=2),
            Col("attrs", priority=1),
            Col("category"),
            *([Col("missing")] if missing else []),
        ),
        title=title,
    )
    for row in found.services:
        cells = [
            row.code,
            row.name,
            row.group or "—",
            "yes" if row.metadata else "no",
            "\n".join(row.categories) or "—",
        ]
        table.add_row(*cells, *(["\n".join(row.missing) or "—"] if missing else []))
    return table


def services_json(found: ServiceMap) -> dict[str, Any]:
    return {
        "services": [
            {
                "service_code": row.code,
                "name": row.name,
                "group": row.group,
                "metadata": row.metadata,
                "categories": list(row.categories),
                "missing_attributes": list(row.missing),
            }
            for row in found.services
        ],
        "unmapped_categories": list(found.unmapped),
        "problems": [
            {
                "category": p.category,
                "service_code": p.service_code,
                "attribute": p.attribute,
                "problem": p.describe(),
            }
            for p in found.problems
        ],
    }


@app.command("sync")
@friendly_errors
def sync_command(
    ctx: typer.Context,
    once: Annotated[
        bool, typer.Option("--once", help="One round: send what is due, read back what changed.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Say how many cases would be queued and sent; change nothing."
        ),
    ] = False,
) -> None:
    """Send the cases due for the city's CRM, then read back what it says of the forwarded ones
    (closed there: resolved here, every reporter told). `socialbot run` does this on its own."""
    if not once:
        raise typer.BadParameter(
            "the service runs the sync (`socialbot run`); for one round here, add --once",
            param_hint="--once",
        )
    settings = state(ctx).quiet_settings()  # a person reads it: no INFO lines over it
    client = open311_client(settings)  # a missing endpoint is said before anything is opened
    staff = build_staff(settings)  # checks catalog, templates and database first
    try:
        forwarder = make_forwarder(settings, staff.engine, staff.catalog, client)
        if not forwarder.rules:
            console.print(
                "no category has an open311_service_code: nothing is sent (see `socialbot "
                "open311 services`)",
                markup=False,
            )
        if dry_run:
            new = enqueue_due(forwarder, utc_now, dry_run=True)
            report = forward_once(forwarder, utc_now, dry_run=True)
            console.print(
                f"dry run: would queue {new} case(s); {new + report.due} request(s) due to be "
                f"sent ({report.due} queued before); nothing queued, sent or read back",
                markup=False,
            )
            return
        queued = enqueue_due(forwarder, utc_now)
        sent = forward_once(forwarder, utc_now)
        console.print(
            f"send: queued {queued}, sent {sent.sent}, token {sent.token}, rejected "
            f"{sent.rejected}, retrying later {sent.retrying}, recovered {sent.recovered}"
            + (f"; stopped: {sent.stopped_by}" if sent.stopped_by else ""),
            markup=False,
        )
        synced = sync_once(
            staff.engine, forwarder.client, staff, utc_now, updates=settings.open311_updates
        )
        console.print(
            f"sync: checked {synced.checked}, changed {synced.changed}, closed {synced.closed}, "
            f"failed {synced.failed}",
            markup=False,
        )
    finally:
        client.close()
        staff.engine.dispose()
