"""`socialbot inbox …`: the messages that wait for staff, and what staff do with each.

What goes to a resident (`reply`, `answer`, `file`) is shown first exactly as it will be posted,
with its length against the network's limit, and asked about before it is queued (unless
`--yes`), as `broadcast send` does; `done` and `assign` send nothing and ask nothing. Every
item is closed once (`socialbot.inbox`): a second try is refused with who closed it and when.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from socialbot import people
from socialbot.app import NETWORKS, opened_inbox, utc_now
from socialbot.cli.cases import parse_point
from socialbot.cli.common import (
    console,
    friendly_errors,
    moment,
    print_json,
    recorded_as,
    since_form,
    state,
)
from socialbot.cli.render import Col, FitTable, field_list, local, zone_label
from socialbot.domain import GeoPoint
from socialbot.inbox import Closed, Detail, Draft, FilePlan, Item
from socialbot.people import shown_handle
from socialbot.timespan import SINCE_FORMS

app = typer.Typer(
    help="The staff inbox: messages that are not reports, waiting for a person.",
    no_args_is_help=True,
)

EMPTY = "The inbox is empty: nothing waits for staff."

ItemId = Annotated[int, typer.Argument(metavar="N", help="The inbox item's number (#N).")]
Actor = Annotated[
    str | None,
    typer.Option("--as", help="Who is acting, for the record. Default: your login name."),
]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before queueing it.")]


@app.command("list")
@friendly_errors
def list_command(
    ctx: typer.Context,
    network: Annotated[
        str | None, typer.Option("--network", help="Only messages from this network, e.g. x.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            metavar="WHEN", parser=since_form, help=f"Only messages received since: {SINCE_FORMS}."
        ),
    ] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="The closed ones too, with their state.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON array instead of a table.")
    ] = False,
) -> None:
    """The messages waiting for staff: storm posts first, then the oldest."""
    settings = state(ctx).settings()
    name = _network(network) if network is not None else None
    with opened_inbox(settings) as inbox:
        items = inbox.items(
            network=name,
            since=moment(since, "--since", settings.zone) if since is not None else None,
            include_closed=everything,
        )
    now = utc_now()
    if as_json:
        print_json([item_json(item, settings.zone, now) for item in items])
    elif not items:
        filtered = network is not None or since is not None or everything
        console.print("No message of the inbox matches." if filtered else EMPTY)
    else:
        console.print(items_table(items, settings.zone, now, with_state=everything))


@app.command("show")
@friendly_errors
def show_command(ctx: typer.Context, item_id: ItemId) -> None:
    """One message: who, when, why it is here, its thread, and the resident's open cases."""
    settings = state(ctx).settings()
    with opened_inbox(settings) as inbox:
        detail = inbox.detail(item_id)
    console.print(detail_table(detail, settings.zone))


@app.command("reply")
@friendly_errors
def reply_command(
    ctx: typer.Context,
    item_id: ItemId,
    text: Annotated[str, typer.Argument(help="Your reply, in your own words.")],
    actor: Actor = None,
    yes: Yes = False,
) -> None:
    """Reply in the resident's thread, in your own words (previewed, then queued once)."""
    who = recorded_as(actor)
    with opened_inbox(state(ctx).quiet_settings()) as inbox:
        draft = inbox.draft_reply(item_id, text, utc_now())
        _confirm_post(draft, "your reply", yes)
        done = inbox.reply(item_id, text, who, utc_now())
    _print_queued(done)


@app.command("answer")
@friendly_errors
def answer_command(
    ctx: typer.Context,
    item_id: ItemId,
    key: Annotated[str, typer.Argument(help="The key of an entry of answers.yaml.")],
    actor: Actor = None,
    yes: Yes = False,
) -> None:
    """Send an entry of answers.yaml, in the message's language (previewed, then queued once)."""
    who = recorded_as(actor)
    with opened_inbox(state(ctx).quiet_settings(), answers=True) as inbox:
        draft = inbox.draft_answer(item_id, key, utc_now())
        _confirm_post(draft, f"answers.yaml's {inbox.answer_named(key).key}", yes)
        done = inbox.answer(item_id, key, who, utc_now())
    _print_queued(done)


@app.command("done")
@friendly_errors
def done_command(
    ctx: typer.Context,
    item_id: ItemId,
    note: Annotated[
        str, typer.Option("--note", help="Why no reply is needed, for the record; never posted.")
    ] = "",
    actor: Actor = None,
) -> None:
    """Close a message that needs no reply."""
    who = recorded_as(actor)
    with opened_inbox(state(ctx).settings()) as inbox:
        inbox.done(item_id, who, utc_now(), note=note)
    console.print(f"inbox #{item_id}: done; nothing sent", markup=False)


@app.command("assign")
@friendly_errors
def assign_command(
    ctx: typer.Context,
    item_id: ItemId,
    to: Annotated[
        str, typer.Option("--to", help="Who sees to it: a person or a department (free text).")
    ],
) -> None:
    """Give an open message to a person or a department; it stays in the inbox."""
    with opened_inbox(state(ctx).settings()) as inbox:
        assigned = inbox.assign(item_id, to, utc_now())
    line = f"inbox #{item_id}: assigned to {assigned.to}"
    if assigned.before is not None and assigned.before != assigned.to:
        line += f" (was {assigned.before})"
    elif assigned.before == assigned.to:
        line += " (as it was)"
    console.print(line, markup=False)


@app.command("file")
@friendly_errors
def file_command(
    ctx: typer.Context,
    item_id: ItemId,
    category: Annotated[
        str,
        typer.Option("--category", help="The category: its key or any of its hashtags."),
    ],
    at: Annotated[
        GeoPoint | None,
        typer.Option(
            "--at",
            metavar="LAT,LON",
            parser=parse_point,
            help="Where the problem is. Default: a map link or coordinates in the message.",
        ),
    ] = None,
    actor: Actor = None,
    yes: Yes = False,
) -> None:
    """Make the message a case, as if the resident had posted it properly, and tell them."""
    who = recorded_as(actor)
    settings = state(ctx).quiet_settings()
    with opened_inbox(settings, filing=True) as inbox:
        plan = inbox.plan_file(item_id, category, at, utc_now())
        console.print(plan_table(plan))
        question = f"File it as a case and tell {plan.item.who}?"
        if not yes and not typer.confirm(question, default=False):
            console.print("Nothing filed, nothing sent.")
            raise typer.Exit(1)
        done = inbox.file(item_id, category, at, who, utc_now())
    status = done.case_status.value if done.case_status else "?"
    console.print(
        f"inbox #{item_id}: filed as case #{done.case_id} ({status}); "
        f"reply queued as outbox #{done.outbox_id}:",
        markup=False,
    )
    console.print(_wrapped(done.text or ""))


def _network(typed: str) -> str:
    """`--network` as a network's short name; a usage error for a name socialbot does not know,
    which would otherwise list nothing and read as an empty inbox."""
    name = typed.strip().lower()
    if name not in NETWORKS:
        raise typer.BadParameter(
            f"{typed!r} is not a network socialbot knows: {', '.join(NETWORKS)}",
            param_hint="--network",
        )
    return name


def _confirm_post(draft: Draft, what: str, yes: bool) -> None:
    """The preview, a refusal when it is too long, and the question (unless `--yes`)."""
    if not draft.fits:
        raise draft.too_long()
    console.print(preview_table(draft, what))
    question = f"Queue it in {draft.to}'s thread on {draft.rules.network}?"
    if not yes and not typer.confirm(question, default=False):
        console.print("Nothing sent.")
        raise typer.Exit(1)


def _print_queued(done: Closed) -> None:
    console.print(
        f"inbox #{done.item_id}: {done.state.value}; queued as outbox #{done.outbox_id} "
        "(`socialbot run` sends it)",
        markup=False,
    )


# --- how it looks --------------------------------------------------------------------------


def _wrapped(text: str) -> FitTable:
    """Free text on lines that fit the terminal, indented under the line it belongs to."""
    return FitTable(
        (Col("text", wrap=True),), [(text,)], show_header=False, box=None, padding=(0, 2)
    )


def age(since: datetime, now: datetime) -> str:
    """How long a message has waited, as staff read it at a glance: `12 m`, `3 h`, `2 d`."""
    waited = max(now - since, timedelta(0))
    if waited < timedelta(hours=1):
        return f"{int(waited.total_seconds() // 60)} m"
    if waited < timedelta(days=2):
        return f"{int(waited.total_seconds() // 3600)} h"
    return f"{waited.days} d"


def _closed_line(item: Item, zone: ZoneInfo) -> str:
    if item.closed_at is None:
        return item.state.value
    return (
        f"{item.state.value}\nby {item.closed_by or '?'}\n"
        f"{local(item.closed_at, zone, '%m-%d %H:%M')}"
    )


def items_table(items: list[Item], zone: ZoneInfo, now: datetime, *, with_state: bool) -> FitTable:
    """`inbox list`: on 80 columns the age, number, handle and message; the case, assignee,
    network, reason and time received where there is room."""
    zone_name = zone_label(zone, (i.received_at for i in items))
    columns = [
        Col("#"),
        Col("age", right=True),
        Col("from"),
        Col("network", short="net", priority=3),
        Col("reason", priority=4),
        Col("case", priority=2),
        Col("assigned", priority=1, wrap=True, narrowest=10),
        Col(f"received ({zone_name})", short="received", priority=5),
        Col("message", wrap=True, narrowest=20),
    ]
    if with_state:
        columns.insert(1, Col("state", priority=1))
    waiting = [i for i in items if i.state.value == "open"]
    title = (
        f"{len(items)} message(s), {len(waiting)} waiting for staff"
        if with_state
        else f"{len(items)} message(s) waiting for staff, storm posts first, then the oldest"
    )
    table = FitTable(columns, title=f"{title}; times in {zone.key}")
    for item in items:
        row = [
            f"#{item.id}",
            age(item.received_at, now),
            item.who,
            item.network,
            item.reason.value + (" (first)" if item.priority else ""),
            f"#{item.case_id}" if item.case_id is not None else "—",
            item.assigned_to or "—",
            local(item.received_at, zone, "%m-%d %H:%M"),
            item.text,
        ]
        if with_state:
            row.insert(1, _closed_line(item, zone))
        table.add_row(*row)
    return table


def detail_table(detail: Detail, zone: ZoneInfo) -> FitTable:
    """`inbox show`: one field a line, the value wrapping under itself; times in the city's zone
    with its abbreviation."""
    item = detail.item

    def when(moment: datetime) -> str:
        return local(moment, zone, "%Y-%m-%d %H:%M %Z")

    closed = ""
    if item.closed_at is not None:
        closed = f" by {item.closed_by or '?'} at {when(item.closed_at)}"
        if item.answer_key:
            closed += f" (answers.yaml: {item.answer_key})"
        if item.filed_case_id is not None:
            closed += f" as case #{item.filed_case_id}"
    rows = [
        ("from", f"{item.who} on {item.network} (post {item.post_id}, account {item.account})"),
        ("received", when(item.received_at)),
        ("language", item.lang or "not given"),
        ("reason", item.reason.value + (", first in line" if item.priority else "")),
        ("state", item.state.value + closed),
        ("assigned", item.assigned_to or "—"),
        ("case", f"#{item.case_id}" if item.case_id is not None else "—"),
        ("message", item.text),
    ]
    if item.location is not None:
        point = item.location.point
        rows.append(("location", f"{point.lat:.5f},{point.lon:.5f} ({item.location.source})"))
    if item.address is not None:
        rows.append(("address", item.address))
    if item.note:
        rows.append(("note", item.note))
    for post in detail.thread:
        mark = "▶ " if post.this else ""
        who = f"{post.who} (ours, {post.state})" if post.ours else post.who
        rows.append(("thread", f"{mark}{when(post.at)} {who}: {post.text}"))
    for case in detail.open_cases:
        rows.append(
            (
                "open case",
                f"#{case.id} {case.category} ({case.status.value}), opened {when(case.created_at)}",
            )
        )
    if not detail.open_cases:
        rows.append(("open cases", "none"))
    return field_list(rows, f"Inbox #{item.id}")


def preview_table(draft: Draft, what: str) -> FitTable:
    table = FitTable(
        (Col("to"), Col("text", wrap=True, narrowest=30), Col("length", right=True)),
        title=f"Preview of {what}: exactly what will be posted",
        show_lines=True,
    )
    table.add_row(
        f"{draft.to}\n{draft.rules.network}", draft.text, f"{draft.length}/{draft.rules.limit}"
    )
    table.style["caption"] = f"{draft.measured}; language {draft.lang}"
    return table


def plan_table(plan: FilePlan) -> FitTable:
    location = plan.location
    if location is not None:
        where = f"{location.point.lat:.5f},{location.point.lon:.5f} ({location.source.value})"
    elif plan.item.address is not None:
        where = "no point: filed by its address"
    else:
        where = "none: the case waits for one, and the resident is asked"
    rows = [
        ("message", f"#{plan.item.id} {plan.item.who}: {plan.item.text}"),
        ("category", f"{plan.category.key} ({plan.category.name(plan.lang)})"),
        ("department", plan.department),
        ("district", plan.district or "—"),
        ("location", where),
        *([("address", plan.item.address)] if plan.item.address else []),
        ("status", plan.status.value),
        ("reply", f"the {'filed' if plan.located else 'needs_location'} reply, in {plan.lang}"),
    ]
    return field_list(rows, "The case it opens")


def item_json(item: Item, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """An item for `--json`: times in ISO 8601 with the city's offset."""

    def iso(moment: datetime | None) -> str | None:
        return moment.astimezone(zone).isoformat() if moment is not None else None

    return {
        "id": item.id,
        "state": item.state.value,
        "network": item.network,
        "account": item.account,
        "post_id": item.post_id,
        "author": shown_handle(item.handle),
        "author_id": people.shown_id(item.author_id, personal=item.personal),
        "reason": item.reason.value,
        "priority": item.priority,
        "received_at": iso(item.received_at),
        "age_seconds": int(max((now - item.received_at).total_seconds(), 0)),
        "lang": item.lang,
        "text": item.text,
        "case_id": item.case_id,
        "assigned_to": item.assigned_to,
        "closed_at": iso(item.closed_at),
        "closed_by": item.closed_by,
        "answer_key": item.answer_key,
        "note": item.note,
        "outbox_id": item.outbox_id,
        "filed_case_id": item.filed_case_id,
        "address": item.address,
    }
