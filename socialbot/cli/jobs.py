"""`socialbot run`, `poll` and `send`: the service and its two jobs, one at a time."""

from __future__ import annotations

from typing import Annotated

import typer

from socialbot import holds
from socialbot.app import Service, build_service
from socialbot.cli.common import console, err_console, friendly_errors, state
from socialbot.cli.render import handled_table, replies_table
from socialbot.config import Settings
from socialbot.errors import AuthFailed, PlatformError, RateLimited, Rejected, Unavailable
from socialbot.holds import Held
from socialbot.logs import redact
from socialbot.outbox import AUTH_RETRY, QUOTA_USED, Outbox, SendReport, send_once
from socialbot.poller import Intake, poll_once
from socialbot.scheduler import build_scheduler, run_forever
from socialbot.store.models import OutboxState
from socialbot.store.queries import outbox_rows

Once = Annotated[bool, typer.Option("--once", help="Do one cycle and exit instead of looping.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would happen; write nothing.")]
Verbose = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        help="With --once: log at SOCIALBOT_LOG_LEVEL (INFO by default) on stderr, not only "
        "warnings and errors.",
    ),
]


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
    app.command("poll")(poll_command)
    app.command("send")(send_command)


@friendly_errors
def run_command(ctx: typer.Context) -> None:
    """Run the service: poll mentions and post replies until SIGINT/SIGTERM."""
    service = build_service(state(ctx).settings())
    try:
        run_forever(build_scheduler(service))
    finally:
        service.close()


@friendly_errors
def poll_command(
    ctx: typer.Context, once: Once = False, dry_run: DryRun = False, verbose: Verbose = False
) -> None:
    """Fetch new mentions, open cases and queue replies (nothing is posted)."""
    service = build_service(_settings(ctx, once=once, verbose=verbose))
    try:
        _poll(service, once=once, dry_run=dry_run)
    finally:
        service.close()


def _poll(service: Service, *, once: bool, dry_run: bool) -> None:
    if not once:
        run_forever(build_scheduler(service, send=False))
        return
    named = len(service.intakes) > 1
    failures: list[PlatformError] = []
    for intake in service.intakes:  # every network the city reads, each on its own
        try:
            _poll_network(service, intake, dry_run=dry_run, named=named)
        except PlatformError as exc:
            if not named:
                raise
            # One network failing does not keep the others from polling; the exit still says.
            err_console.print(
                f"socialbot: {intake.platform.text_rules.network}: {redact(str(exc))}",
                markup=False,
            )
            failures.append(exc)
    if failures:  # each said in its line above; the exit says it too
        raise typer.Exit(1)


def _poll_network(service: Service, intake: Intake, *, dry_run: bool, named: bool) -> None:
    network = intake.platform
    prefix = f"{network.text_rules.network}: " if named else ""
    # A dry run writes nothing, so it may run beside the service; a real poll must not.
    lock = None if dry_run else service.poll_lock(network.name)
    try:
        if lock is not None and not lock.acquire_or_check():
            console.print(
                f"{prefix}Another socialbot instance is polling this account; nothing done.",
                markup=False,
            )
            return
        report = poll_once(intake, service.clock, dry_run=dry_run)
    except Held as held:  # the network's 429, heard by this or another process: no call before
        console.print(
            f"{held.hold.describe(service.settings.zone)}; nothing fetched.", markup=False
        )
        return
    except RateLimited as exc:  # the 429 just now: the hold it left says what waits, until when
        found = holds.current(
            intake.engine, network.name, intake.account, network.endpoints.mentions, service.clock()
        )
        if found is None:
            raise
        raise RateLimited(
            f"{found.describe(service.settings.zone)}; nothing fetched", exc.reset_at
        ) from None
    finally:
        if lock is not None:
            lock.release()
    title = f"{prefix}{len(report.handled)} new mention(s)" + (
        " — dry run, nothing saved" if dry_run else ""
    )
    console.print(handled_table(report.handled, title=title))
    for item in report.handled:
        if item.reply_text:
            console.print(f"reply to {item.post_id}: {item.reply_text}", markup=False)


@friendly_errors
def send_command(
    ctx: typer.Context, once: Once = False, dry_run: DryRun = False, verbose: Verbose = False
) -> None:
    """Post the queued replies."""
    service = build_service(_settings(ctx, once=once, verbose=verbose), migrate=False)
    try:
        _send(service, once=once, dry_run=dry_run)
    finally:
        service.close()


def _send(service: Service, *, once: bool, dry_run: bool) -> None:
    if not once:
        run_forever(build_scheduler(service, poll=False))
        return
    if dry_run:
        due = [r for r in outbox_rows(service.engine) if r.state is OutboxState.PENDING]
        console.print(
            replies_table(due, title=f"{len(due)} pending repl(ies) — dry run, nothing posted")
        )
        return
    for outbox in service.outboxes:  # the intake account's replies, then each other account's
        report = send_once(outbox, service.clock)
        if report.held is not None:
            console.print(
                f"{_queue_name(service, outbox)}: {report.held.describe(service.settings.zone)}.",
                markup=False,
            )
            continue
        paused = _paused(service, outbox, report)
        console.print(
            f"{_queue_name(service, outbox)}: sent {report.sent}, failed {report.failed}, "
            f"retrying later {report.retrying}, recovered {report.recovered}"
            + (f"; paused: {paused}" if paused else ""),
            markup=False,
        )


def _paused(service: Service, outbox: Outbox, report: SendReport) -> str | None:
    """Why the batch stopped early, and until when the rest of the queue waits, as a person
    reads it: not the exception's class name."""
    says, stopped = outbox.says, report.stopped_by
    if stopped is None:
        return None
    if report.paused is not None:  # X's wait, as every process reads it: what, why, until when
        return f"{report.paused.describe(service.settings.zone)}"
    if stopped == RateLimited.__name__:
        return f"{says} answered 429 (rate limit); the queue waits for its reset"
    if stopped == QUOTA_USED:
        return f"that post used {says}'s last one of its quota; the queue waits for its reset"
    if stopped == AuthFailed.__name__:
        return (
            f"{says} rejected the credentials; the queue is tried again in "
            f"{int(AUTH_RETRY.total_seconds()) // 60} minutes: fix them, then check with "
            "`sudo socialbot doctor`"
        )
    if stopped == Rejected.__name__:
        return (
            f"{says} refused {outbox.policy.max_rejections_in_a_row} posts in a row; the rest "
            "wait for the next send (`socialbot status` shows the last error)"
        )
    if stopped == Unavailable.__name__:
        return f"{says} did not answer; the rest wait for the next send"
    return stopped


def _settings(ctx: typer.Context, *, once: bool, verbose: bool) -> Settings:
    """One cycle is read by a person: warnings and errors only, unless `--verbose`. A loop is a
    service: its configured level."""
    root = state(ctx)
    return root.quiet_settings() if once and not verbose else root.settings()


def _queue_name(service: Service, outbox: Outbox) -> str:
    """The account, and its network when the city has more than one: "intake", "x/intake"."""
    if len({channel.network for channel in service.networks}) > 1:
        return f"{outbox.network}/{outbox.account}"
    return outbox.account
