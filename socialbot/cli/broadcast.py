"""`socialbot broadcast …` and `socialbot storm …`: alerts from the notify account.

`broadcast send` always shows exactly what will be posted, with each post's weighted length, and
asks before posting (unless `--yes`); `--dry-run` stops after the preview and needs no
credentials. On a network whose broadcasts go to its subscribers (SMS) the preview is the text
each language's subscribers get, how many they are, each text's encoding and segments, and what
the whole send costs and takes at the sender's pace; the texts are queued for `socialbot run`,
which sends them at that pace (a command held open for hours would be no way to send them).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from socialbot.app import (
    build_broadcaster,
    load_broadcast_templates,
    open_database,
    post_queued,
    utc_now,
)
from socialbot.broadcasts import storm
from socialbot.broadcasts.audience import Audience, about
from socialbot.broadcasts.broadcaster import (
    Broadcaster,
    BroadcastRequest,
    LogEntry,
    Preview,
    RunView,
    TextTally,
)
from socialbot.broadcasts.compose import OPTIONAL_MARK, parse_var_args
from socialbot.cli.common import console, friendly_errors, moment, print_json, recorded_as, state
from socialbot.cli.render import Col, FitTable, zone_label
from socialbot.config import Settings
from socialbot.network_settings import Channel
from socialbot.store.models import Broadcast
from socialbot.timespan import SINCE_FORMS, local_time

app = typer.Typer(
    help="Alerts to residents: send now, schedule, and the log.", no_args_is_help=True
)
storm_app = typer.Typer(help="Storm mode: a campaign hashtag on every alert.", no_args_is_help=True)

Actor = Annotated[
    str | None, typer.Option("--as", help="Who sends, for the log. Default: your login name.")
]
BroadcastId = Annotated[int, typer.Argument(metavar="ID", help="The broadcast's number.")]


@app.command("send")
@friendly_errors
def send_command(
    ctx: typer.Context,
    template: Annotated[
        str | None,
        typer.Argument(help="Template name (see `socialbot broadcast templates`)."),
    ] = None,
    var: Annotated[
        list[str] | None,
        typer.Option(
            "--var",
            metavar="NAME=VALUE",
            help="A template variable; NAME.es=VALUE for one language only. Repeat as needed.",
        ),
    ] = None,
    text: Annotated[
        list[str] | None,
        typer.Option("--text", help="Post this text instead of a template; once per --lang."),
    ] = None,
    lang: Annotated[
        str, typer.Option("--lang", help="Languages to post, in order: en, es or en,es.")
    ] = "en",
    media: Annotated[
        Path | None,
        typer.Option(
            "--media", help="An image (JPEG, PNG, GIF, WebP) for the first post.", dir_okay=False
        ),
    ] = None,
    alt: Annotated[
        str | None, typer.Option("--alt", help="The image's description, for screen readers.")
    ] = None,
    account: Annotated[
        list[str] | None,
        typer.Option(
            "--account",
            help="Account to post from, on every network it is on; repeat for more. "
            "Default: SOCIALBOT_BROADCAST_ACCOUNT.",
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Post once at this local time: 'YYYY-MM-DD HH:MM'."),
    ] = None,
    cron: Annotated[
        str | None,
        typer.Option("--cron", help='Post on this crontab schedule, local time: "0 7 * * TUE".'),
    ] = None,
    channel: Annotated[
        list[str] | None,
        typer.Option(
            "--channel",
            metavar="NETWORK",
            help="Only this network (x, mastodon, bluesky, sms); repeat for more. Default: "
            "every network the account is on, and SMS's alert subscribers.",
        ),
    ] = None,
    district: Annotated[
        str | None,
        typer.Option(
            "--district",
            metavar="NAME",
            help="Text only this district's alert subscribers (and the whole city's); a "
            "name of SOCIALBOT_DISTRICTS. Public posts go out as always.",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the posts; post and record nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before posting.")] = False,
    actor: Actor = None,
) -> None:
    """Preview, confirm and post (or schedule) an alert from a template or a text."""
    settings = state(ctx).quiet_settings()  # a person reads it: no INFO lines over it
    broadcaster = build_broadcaster(settings)
    try:
        requests = [
            BroadcastRequest(
                account=name,
                langs=tuple(part.strip() for part in lang.split(",") if part.strip()),
                template=template,
                variables=parse_var_args(var or []),
                texts=tuple(text or ()),
                media=media,
                alt=alt,
                district=district,
            )
            for name in dict.fromkeys(account or settings.broadcast_accounts)
        ]
        when = broadcaster.when(at, cron)
        networks = list(dict.fromkeys(channel)) if channel else None
        # A subscriber network is one target whichever accounts were named.
        targets = list(
            {
                (t.network, t.account): t
                for request in requests
                for t in broadcaster.targets(request, networks)
            }.values()
        )
        # Every network's preview first: staff see all that will go out before saying yes.
        previews = [broadcaster.prepare(target, dry_run=dry_run) for target in targets]
        schedule = _schedule_text(broadcaster, when, cron)
        several = broadcaster.several_networks
        for preview in previews:
            if preview.audience is not None:
                console.print(audience_table(preview, preview.audience))
                for line in audience_summary(preview.audience):
                    console.print(line, markup=False)
            else:
                console.print(preview_table(preview))
            on = f" on {preview.rules.network}" if several else ""
            console.print(f"From account {preview.account!r}{on}, {schedule}.", markup=False)
        if dry_run:
            console.print("Dry run: nothing posted, nothing scheduled.")
            return
        question = _question(previews, schedule == "now")
        if not yes and not typer.confirm(question, default=False):
            console.print("Nothing posted.")
            raise typer.Exit(1)
        if when is not None or cron is not None:
            for target in targets:
                row = broadcaster.schedule(target, recorded_as(actor), at=when, cron=cron)
                next_at = local_time(row.next_due_at, broadcaster.zone)
                on = f" on {row.platform}" if several else ""
                console.print(
                    f"Scheduled broadcast #{row.id}{on}; next at {next_at}. "
                    f"`socialbot run` posts it; `socialbot broadcast cancel {row.id}` stops it.",
                    markup=False,
                )
            return
        # Each network's broadcast is its own: one that fails does not keep the next from going.
        outcomes = [_send_now(settings, broadcaster, t, recorded_as(actor)) for t in targets]
        if not all(outcomes):
            raise typer.Exit(1)
    finally:
        broadcaster.engine.dispose()


def _question(previews: list[Preview], now: bool) -> str:
    """ "Post 2 post(s) and text 10,000 subscriber(s) on 3 networks now?" """
    posts = sum(p.post_count for p in previews if p.audience is None)
    texts = sum(p.post_count for p in previews if p.audience is not None)
    where = f" on {len(previews)} networks" if len(previews) > 1 else ""
    if not now:
        return f"Schedule it{where}?"
    said = [f"post {posts} post(s)"] if any(p.audience is None for p in previews) else []
    if any(p.audience is not None for p in previews):
        said.append(f"text {texts:,} subscriber(s)")
    return f"{' and '.join(said).capitalize()}{where} now?"


def _send_now(
    settings: Settings, broadcaster: Broadcaster, request: BroadcastRequest, actor: str
) -> bool:
    """Record, queue and post `request` on its network; whether it all went out (to
    subscribers: whether it was queued; `socialbot run` sends them at the sender's pace)."""
    view = broadcaster.send_now(request, actor)
    channel = Channel(view.broadcast.platform, view.broadcast.account)
    on = f" on {channel.network}" if broadcaster.several_networks else ""
    tally = view.tally
    if tally is not None:
        console.print(run_table(view, title=f"Broadcast #{view.broadcast.id}{on}: queued"))
        console.print(
            f"Queued {tally.total:,} text(s): `socialbot run` sends them at the sender's pace.",
            markup=False,
        )
        console.print(f"See `socialbot broadcast show {view.broadcast.id}`.", markup=False)
        return True
    report = post_queued(settings, broadcaster, channel)
    view = broadcaster.run_view(view.run.id or 0)
    console.print(run_table(view, title=f"Broadcast #{view.broadcast.id}{on}: {view.outcome}"))
    if view.outcome == "sent":
        return True
    if report.held is not None:
        console.print(f"{report.held.describe(settings.zone)}.", markup=False)
    if view.outcome == "sending":
        deadline = min((p.expires_at for p in view.posts if p.expires_at), default=None)
        console.print(
            f"Not all posted yet ({report.stopped_by or 'waiting'}); `socialbot run` keeps trying "
            f"until {local_time(deadline, broadcaster.zone)}, then gives up. "
            f"See `socialbot broadcast show {view.broadcast.id}`.",
            markup=False,
        )
    return False


def _schedule_text(broadcaster: Broadcaster, when: datetime | None, cron: str | None) -> str:
    if when is not None:
        return f"once at {local_time(when, broadcaster.zone)}"
    if cron is not None:
        first = broadcaster.recurrence(cron).next_after(broadcaster.clock())
        return f"on cron {cron!r}, first at {local_time(first, broadcaster.zone)}"
    return "now"


def preview_table(preview: Preview) -> FitTable:
    rules = preview.rules
    table = FitTable(
        (Col("post"), Col("text", wrap=True, narrowest=30), Col("length", right=True)),
        title="Preview: exactly what will be posted",
        show_lines=True,
    )
    for thread in preview.threads:
        for part, post in enumerate(thread.posts, start=1):
            label = f"{thread.lang} {part}/{len(thread.posts)}"
            if part == 1 and preview.media is not None:
                label += f"\n+ image {preview.media.name}"
            table.add_row(label, post, f"{rules.length(post)}/{rules.limit}")
    # Which network's rules the lengths are: an account on another network splits differently.
    captions = [f"lengths as {rules.describe()}"]
    if preview.storm is not None:
        captions.append(f"storm mode: {preview.storm.name} #{preview.storm.hashtag}")
    table.style["caption"] = "\n".join(captions)
    return table


def audience_table(preview: Preview, audience: Audience) -> FitTable:
    """What each language's subscribers are texted: how many they are, the text, its encoding
    and its segments (units) each."""
    rules = preview.rules
    table = FitTable(
        (
            Col("lang"),
            Col("subscribers", right=True, short="to"),
            Col("text", wrap=True, narrowest=30),
            Col("encoding", short="enc"),
            Col(rules.unit, right=True, short="units"),
        ),
        title="Preview: exactly what each subscriber will be texted",
        show_lines=True,
    )
    for text in audience.texts:
        table.add_row(
            text.lang,
            f"{audience.counts.get(text.lang, 0):,}",
            text.text,
            text.encoding,
            f"{text.units}/{rules.limit}",
        )
    captions = [f"an alert on {rules.network}: one text each, at most {rules.limit} {rules.unit}"]
    if preview.storm is not None:
        captions.append(f"storm mode: {preview.storm.name} #{preview.storm.hashtag}")
    table.style["caption"] = "\n".join(captions)
    return table


def audience_summary(audience: Audience) -> list[str]:
    """Who, how much and how long, a line each (the console does not wrap them):
    "2,000 subscriber(s): Dorchester and the whole city", "2,500 segments, about $20.75",
    "about 42 min at 1 segment/s"."""
    sending = audience.sending
    unit = sending.rules.unit
    who = f"{audience.district} and the whole city" if audience.district else "the whole city"
    rate = f"{sending.units_per_second:g} {unit.removesuffix('s')}/s"
    return [
        f"{audience.subscribers:,} subscriber(s): {who}",
        f"{audience.units:,} {unit} in all, about ${audience.cost:,.2f}",
        f"the whole send takes {about(audience.duration)} at {rate}",
    ]


def run_table(view: RunView, title: str) -> FitTable:
    """Each post of a broadcast: its state (and error), the id it was posted as (whole: a
    19-digit id is what staff search for) and its text. To subscribers: each text, and how
    many of it were sent, are queued, were not sent for a STOP, or failed."""
    if view.texted is not None:
        return _texted_table(view.texted, title)
    table = FitTable(
        (
            Col("post"),
            Col("state", wrap=True, narrowest=10),
            Col("posted id"),
            Col("text", wrap=True),
        ),
        title=title,
        show_lines=True,
    )
    for post in view.posts:
        table.add_row(
            f"{post.lang} {post.part}/{post.parts}",
            post.state.value + (f"\n{post.error}" if post.error else ""),
            post.posted_id or "-",
            post.text,
        )
    return table


def _texted_table(texted: tuple[TextTally, ...], title: str) -> FitTable:
    table = FitTable(
        (Col("text to"), Col("state", wrap=True, narrowest=10), Col("text", wrap=True)),
        title=title,
        show_lines=True,
    )
    for tally in texted:
        table.add_row(
            f"{tally.lang}\n{tally.total:,}",
            tally.describe().replace(", ", "\n"),
            tally.text,
        )
    if not texted:
        table.add_row("-", "no subscribers", "-")
    return table


@app.command("templates")
@friendly_errors
def templates_command(ctx: typer.Context) -> None:
    """List the broadcast templates, their languages and variables."""
    templates = load_broadcast_templates(state(ctx).settings())
    table = FitTable(
        (
            Col("template"),
            Col("languages", short="langs"),
            Col("use it for", wrap=True),
            Col("variables (example)", wrap=True, short="variables"),
        ),
        show_lines=True,
    )
    for template in templates.all():
        variables = "\n".join(
            f"{v.name}{OPTIONAL_MARK if v.optional else ''}: {v.description} ({v.example})"
            for v in template.doc.variables
        )
        table.add_row(template.name, ",".join(template.langs), template.doc.description, variables)
    console.print(table)


@app.command("list")
@friendly_errors
def list_command(ctx: typer.Context) -> None:
    """The scheduled broadcasts, next due first."""
    broadcaster = build_broadcaster(state(ctx).settings())
    try:
        rows = broadcaster.scheduled()
    finally:
        broadcaster.engine.dispose()
    zone = broadcaster.zone
    table = FitTable(
        (
            Col("id"),
            Col(f"next ({zone_label(zone, (r.next_due_at for r in rows))})", short="next"),
            Col("repeats"),
            Col("what", wrap=True),
            Col("langs", priority=2),
            Col("account", priority=3),
            Col("by", priority=1),
        ),
        title=f"{len(rows)} scheduled broadcast(s), times in {zone.key}",
    )
    for row in rows:
        table.add_row(
            str(row.id),
            local_time(row.next_due_at, zone, with_zone=False),
            row.cron or "once",
            _what(row),
            row.langs,
            _account(broadcaster, row.platform, row.account),
            row.created_by,
        )
    console.print(table)


def _account(broadcaster: Broadcaster, network: str, account: str) -> str:
    """`notify`, or `mastodon/notify` where the city posts on several networks."""
    return f"{network}/{account}" if broadcaster.several_networks else account


def _what(row: Broadcast) -> str:
    if row.template is None:
        first = next(iter(row.texts.values()), "")
        return f"text: {first[:60]}{'…' if len(first) > 60 else ''}"
    values = ", ".join(f"{k}={v}" for k, v in row.variables.items())
    return f"{row.template} ({values})" if values else row.template


@app.command("show")
@friendly_errors
def show_command(ctx: typer.Context, broadcast_id: BroadcastId) -> None:
    """One broadcast: what, when, who, and each time it went out with its posted ids."""
    broadcaster = build_broadcaster(state(ctx).settings())
    try:
        row, runs = broadcaster.get(broadcast_id)
    finally:
        broadcaster.engine.dispose()
    zone = broadcaster.zone
    lines = [
        f"Broadcast #{row.id}: {row.state.value}",
        # Two lines: the text's first 60 characters alone fill most of an 80-column one.
        f"what: {_what(row)}",
        f"languages {row.langs}; account {row.account} on {row.platform}",
        f"by {row.created_by} at {local_time(row.created_at, zone)}",
    ]
    if row.district:
        lines.append(f"district: {row.district} (its subscribers and the whole city's)")
    if row.cron or row.at:
        lines.append(f"schedule: {row.cron or 'once'}; next {local_time(row.next_due_at, zone)}")
    if row.media_path:
        lines.append(f"image: {row.media_path} (alt: {row.media_alt})")
    if row.cancelled_at:
        lines.append(f"cancelled by {row.cancelled_by} at {local_time(row.cancelled_at, zone)}")
    for line in lines:
        console.print(line, markup=False)
    for view in runs:
        title = f"due {local_time(view.run.due_at, zone)}: {view.outcome}"
        if view.run.error:
            title += f" — {view.run.error}"
        console.print(run_table(view, title=title))


@app.command("cancel")
@friendly_errors
def cancel_command(ctx: typer.Context, broadcast_id: BroadcastId, actor: Actor = None) -> None:
    """Stop a scheduled broadcast (what already went out stays in the log)."""
    broadcaster = build_broadcaster(state(ctx).quiet_settings())
    try:
        broadcaster.cancel(broadcast_id, recorded_as(actor))
    finally:
        broadcaster.engine.dispose()
    console.print(f"Cancelled broadcast #{broadcast_id}.")


@app.command("log")
@friendly_errors
def log_command(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option("--since", help=f"How far back: {SINCE_FORMS}.")
    ] = "7d",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array, for scripts.")] = False,
) -> None:
    """Every broadcast sent, scheduled, cancelled, missed or failed: who, when, the exact text,
    the account and the posted ids."""
    settings = state(ctx).settings()
    start = moment(since, "--since", settings.zone) if since else None
    broadcaster = build_broadcaster(settings)
    try:
        entries = broadcaster.log(start)
    finally:
        broadcaster.engine.dispose()
    if as_json:
        print_json([_entry_json(e) for e in entries])
        return
    zone = broadcaster.zone
    table = FitTable(
        (
            Col(f"when ({zone_label(zone, (e.at for e in entries))})", short="when"),
            Col("event", wrap=True, narrowest=10),
            Col("id"),
            Col("account", priority=2),
            Col("by", priority=1),
            Col("text", wrap=True),
            Col("posted ids"),
        ),
        title=f"{len(entries)} broadcast event(s) since {since}, times in {zone.key}",
        show_lines=True,
    )
    for entry in entries:
        event = entry.event + (f"\n{entry.error}" if entry.error else "")
        if entry.texted is not None:
            event += "\n" + entry.texted.describe().replace(", ", "\n")
        table.add_row(
            local_time(entry.at, zone, with_zone=False),
            event,
            f"#{entry.broadcast_id}",
            _account(broadcaster, entry.network, entry.account),
            entry.by,
            _summary(entry),
            "\n".join(entry.posted_ids) or "-",
        )
    console.print(table)


def _summary(entry: LogEntry) -> str:
    """The first line of the first post, and how many posts: the full texts are in `--json`."""
    if not entry.texts:
        return entry.template or ""
    first = entry.texts[0].splitlines()[0]
    short = first if len(first) <= 60 else first[:59] + "…"
    several = "texts" if entry.texted is not None else "posts"
    return short + (f" ({len(entry.texts)} {several})" if len(entry.texts) > 1 else "")


def _entry_json(entry: LogEntry) -> dict[str, Any]:
    return {
        "at": entry.at.isoformat(),
        "event": entry.event,
        "broadcast_id": entry.broadcast_id,
        "run_id": entry.run_id,
        "network": entry.network,
        "account": entry.account,
        "by": entry.by,
        "template": entry.template,
        "due_at": entry.due_at.isoformat() if entry.due_at else None,
        "campaign": entry.campaign,
        "texts": list(entry.texts),
        "posted_ids": list(entry.posted_ids),
        "error": entry.error,
        "texted": None
        if entry.texted is None
        else {
            "sent": entry.texted.sent,
            "queued": entry.texted.queued,
            "opted_out": entry.texted.opted_out,
            "failed": entry.texted.failed,
        },
    }


@storm_app.command("start")
@friendly_errors
def storm_start_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="The storm's name, e.g. Sandy.")],
    hashtag: Annotated[str, typer.Option("--hashtag", help="The campaign hashtag, e.g. BoSandy.")],
    actor: Actor = None,
) -> None:
    """Turn storm mode on: every alert carries the hashtag; emergency reports get a storm line."""
    # Only the database: a broken template must not keep storm mode from being switched.
    settings = state(ctx).settings()
    engine = open_database(settings)
    try:
        row = storm.start(engine, name, hashtag, recorded_as(actor), utc_now, settings.zone)
    finally:
        engine.dispose()
    console.print(
        f"Storm mode on: {row.name} #{row.hashtag}. Every broadcast now carries #{row.hashtag}.",
        markup=False,
    )


@storm_app.command("stop")
@friendly_errors
def storm_stop_command(ctx: typer.Context, actor: Actor = None) -> None:
    """Turn storm mode off."""
    engine = open_database(state(ctx).settings())
    try:
        row = storm.stop(engine, recorded_as(actor), utc_now)
    finally:
        engine.dispose()
    console.print(f"Storm mode off (was {row.name} #{row.hashtag}).", markup=False)
