"""The send job: post queued replies, at most once each.

A row is claimed (state `sending`, committed) before the network call and marked `sent` after it.
A crash between the two leaves it `sending`; such a row is never simply re-sent: `recover` first
asks the network whether the row's draft (its idempotency key `outbox:<id>`) was published
(`Network.published`), and re-queues the row only if it was not. The error type decides the
retry (see `RetryPolicy`). A network may say with every post how much of its quota is left
(`Receipt.budget`); after the last post it allows, the queue waits for the reset as after a 429,
without spending a request on the 429.

A reply may carry a photo (`media_path`, from `cases resolve --photo`). It is uploaded just before
the post, and its media id kept on the row, so a retry after a failed post does not upload it
again, for as long as the network keeps the id (`media_id_fresh`). A photo that is missing at send
time fails that row for good, with the path in `last_error`: the reply never goes out without its
photo, and the rows behind it still go.

A broadcast thread is a chain of rows: each after the first names the row it threads under
(`after_id`) and is claimed only once that row is sent, taking its `posted_id` as `in_reply_to`.
A row whose predecessor failed fails too (a thread with a hole would read wrong), and a row with
an `expires_at` is failed rather than posted after it (an alert posted hours late misleads).

Each (network, account) has its own queue: an `Outbox` sends only the rows of its network's
`account`, and a rate limit or an auth failure pauses only that queue. Two networks' `intake`
accounts never send each other's rows.

A row that goes to one person (`recipient`) is never sent once their newest consent event is a
STOP (`consent`): the claim, in its own transaction, fails it instead, without a request. A
network that says the person opted out (`OptedOut`: Twilio's 21610) records that STOP for them
(source `carrier`) and fails the row the same way, never retried. A paced network's sends are
spaced by its `Pacer` (`pacing`: SMS's segments a second), in memory: waiting writes nothing.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from socialbot import consent, failpoints, holds
from socialbot.config import INTAKE_ACCOUNT
from socialbot.domain import PostRef
from socialbot.errors import (
    AuthFailed,
    OptedOut,
    PlatformError,
    RateLimited,
    Rejected,
    Unavailable,
)
from socialbot.networks.base import Draft, Network, Receipt
from socialbot.pacing import Pacer
from socialbot.store.db import transaction
from socialbot.store.models import ConsentAction, ConsentSource, OutboxMessage, OutboxState
from socialbot.usage import NON_ESSENTIAL, BudgetState

log = logging.getLogger(__name__)
# After a 401/403 the credentials need a human; look again now and then, not in a tight loop.
AUTH_RETRY = timedelta(minutes=5)
# How much sooner than the network's stated lifetime of an uploaded media id we stop trusting it.
# A row's photo is uploaded after the row was created, so its media id is surely alive while the
# row is younger than the lifetime less this; later, the photo is uploaded afresh at each attempt.
MEDIA_ID_MARGIN = timedelta(hours=1)
# X's media ids live 24 hours: its rows reuse an upload for 23.
MEDIA_ID_FRESH = timedelta(hours=23)
# A non-essential reply held back by the monthly budget this long is dropped, not posted late.
HELD_AT_MOST = timedelta(days=1)
# `SendReport.stopped_by` when X said, with a post, that it was the last its quota allowed.
QUOTA_USED = "QuotaUsed"
# `SendReport.stopped_by` when the process was asked to stop while a paced send waited its turn.
STOPPING = "Stopping"
# A row failed because its recipient said STOP: the reason, which never names them.
OPTED_OUT = "not sent: the recipient opted out (STOP); nothing goes to them until they text START"
# How every row dropped at its deadline begins (`status` counts them by it).
EXPIRED = "not posted by its deadline"
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to wait after a transient failure: grows by `factor`, jittered, capped."""

    first_delay: timedelta = timedelta(seconds=30)
    factor: float = 1.5
    max_delay: timedelta = timedelta(hours=1)
    jitter: float = 0.2  # ± share of the delay, so a fleet of retries does not stampede
    # Transient failures are retried until the reply is this old: an outage of hours (a storm,
    # the city's own link down) must not throw the queue away, but a week-late reply helps no one.
    give_up_after: timedelta = timedelta(days=2)
    # This many refused posts in a row look like a problem with the account, not with the posts.
    max_rejections_in_a_row: int = 3
    # A `sending` row younger than this may still be in flight in another process.
    recover_after: timedelta = timedelta(minutes=2)

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        base = self.first_delay.total_seconds() * self.factor ** max(attempts - 1, 0)
        capped = min(base, self.max_delay.total_seconds())
        spread = (rng or random).uniform(-self.jitter, self.jitter)
        return timedelta(seconds=capped * (1 + spread))


@dataclass(slots=True)
class SendReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    recovered: int = 0
    requeued: int = 0
    unverified: int = 0  # failed in a way that may have posted: left for `recover` to check
    stopped_by: str | None = None  # why the batch ended early: rate limit, quota used, auth
    opted_out: int = 0  # failed without a request, or on the network's word: the person said STOP
    expired: int = 0  # failed at their deadline (`expires_at`), never sent late
    held: holds.Hold | None = None  # posting was held by X's limit: nothing was tried
    # The wait the network asked for during this batch (a 429, the quota's last post), as
    # written down for every process: the rest of the queue waits for it. None when it could not
    # be written (the queue's rows still wait, each with its own next attempt).
    paused: holds.Hold | None = None


@dataclass(frozen=True, slots=True)
class Outbox:
    engine: Engine
    platform: Network
    user_id: Callable[[], str]  # our own account id, needed only to recover interrupted sends
    policy: RetryPolicy = RetryPolicy()
    batch: int = 50
    account: str = INTAKE_ACCOUNT
    # This month's X spend against the budget (`usage`); None: no budget to keep.
    budget: Callable[[], BudgetState] | None = None
    # The network's send rate (SMS: segments a second); None: it sends as fast as it answers.
    pacer: Pacer | None = None

    @property
    def network(self) -> str:
        return self.platform.name

    @property
    def says(self) -> str:
        """The network's name as messages say it: "X", "Mastodon"."""
        return self.platform.text_rules.network

    def queue(self) -> tuple[Any, Any]:
        """The conditions that pick this outbox's rows: its network's, its account's."""
        return (
            col(OutboxMessage.platform) == self.platform.name,
            col(OutboxMessage.account) == self.account,
        )


def media_id_fresh(network: Network) -> timedelta:
    """How long after a row was created the media id uploaded for it is reused."""
    return max(network.media_rules.id_lifetime - MEDIA_ID_MARGIN, timedelta(0))


def draft_of(row: OutboxMessage, media_ids: tuple[str, ...] = ()) -> Draft:
    """`row` as the network is asked to publish it; its key is the row's, across every retry."""
    reply_to = (
        PostRef(row.in_reply_to_post_id, row.reply_context)
        if row.in_reply_to_post_id is not None
        else None
    )
    return Draft(
        key=f"outbox:{row.id}",
        text=row.text,
        reply_to=reply_to,
        media_ids=media_ids,
        lang=row.lang,
        created_at=row.created_at,
        recipient=row.recipient,
    )


def send_once(outbox: Outbox, now: Clock, *, dry_run: bool = False) -> SendReport:
    """Post every due reply (up to `batch`). With `dry_run`, list them and change nothing.

    Near the monthly budget, the non-essential replies (`usage.NON_ESSENTIAL`) wait; one that
    waited `HELD_AT_MOST` is dropped, since a day-old answer to "hello?" helps no one."""
    report = SendReport()
    holding = outbox.budget is not None and outbox.budget().holding_non_essential
    if not dry_run:
        recover(outbox, now, report)
        _settle_unpostable(outbox, now(), report)
        if holding:
            _drop_held(outbox, now(), report)
        # The network's wait, as whichever process heard it wrote it down (`holds`): not one
        # POST before.
        report.held = holds.current(
            outbox.engine, outbox.network, outbox.account, outbox.platform.endpoints.post, now()
        )
        if report.held is not None:
            report.stopped_by = RateLimited.__name__
            log.info("event=send_held account=%s until=%s", outbox.account, report.held.until)
            return report
    query = select(OutboxMessage).where(
        *outbox.queue(),
        OutboxMessage.state == OutboxState.PENDING,
        OutboxMessage.next_attempt_at <= now(),
    )
    if holding:
        query = query.where(col(OutboxMessage.template).not_in(sorted(NON_ESSENTIAL)))
    with transaction(outbox.engine) as session:
        due = session.exec(query.order_by(col(OutboxMessage.id)).limit(outbox.batch)).all()
    if dry_run:
        for waiting in due:
            log.info(
                "event=would_post outbox_id=%s in_reply_to=%s photo=%s",
                waiting.id,
                waiting.in_reply_to_post_id,
                waiting.media_path,
            )
        return report
    rejected_in_a_row = 0
    for due_row in due:
        if outbox.pacer is not None and not outbox.pacer.turn(due_row.text):
            report.stopped_by = STOPPING  # asked to stop while waiting: the row stays pending
            break
        row = _claim(outbox, due_row.id, now(), report)
        if row is None:
            continue  # another sender took it, or its recipient said STOP
        failpoints.hit("send.after_claim")
        try:
            media_ids, reused = _media(outbox, row, now())
            try:
                receipt = outbox.platform.publish(draft_of(row, media_ids))
            except Rejected as exc:
                if not (reused and _refuses_media(exc)):
                    raise
                # The network let the stored media id expire sooner than we counted on: upload
                # afresh.
                log.warning("event=media_expired outbox_id=%s media_id=%s", row.id, media_ids[0])
                media_ids, _ = _media(outbox, row, now(), fresh=True)
                receipt = outbox.platform.publish(draft_of(row, media_ids))
        except _PhotoMissing as exc:
            # Our file, not X's refusal: fails this row only, and is no sign of a blocked account.
            _photo_missing(outbox, row.id, str(exc), report)
            continue
        except OptedOut as exc:
            # The person's own word, through the network: a STOP of theirs, not the account's
            # trouble (no rejection in a row counted), and the row is never tried again.
            _opted_out(outbox, row, str(exc), now(), report)
            continue
        except PlatformError as exc:
            stop = _failed(outbox, row.id, exc, now(), report)
            if isinstance(exc, RateLimited):
                _hold_posting(outbox, exc, now())
            rejected_in_a_row = rejected_in_a_row + 1 if isinstance(exc, Rejected) else 0
            if rejected_in_a_row >= outbox.policy.max_rejections_in_a_row:
                stop = True
                log.error(
                    "event=send_paused reason=rejections_in_a_row count=%d", rejected_in_a_row
                )
            if stop:
                report.stopped_by = type(exc).__name__
                break
            continue
        rejected_in_a_row = 0
        failpoints.hit("send.after_post")
        _mark_sent(outbox, row.id, receipt, now())
        report.sent += 1
        log.info(
            "event=sent network=%s outbox_id=%s posted_id=%s in_reply_to=%s",
            outbox.network,
            row.id,
            receipt.ref.id,
            row.in_reply_to_post_id,
        )
        budget = receipt.budget
        if budget is not None and budget.remaining <= 0 and budget.reset_at > now():
            # That was the quota's last post: wait for the reset rather than knock and get a 429.
            with transaction(outbox.engine) as session:
                _hold_queue(session, outbox, budget.reset_at)
            holds.hold(
                outbox.engine,
                outbox.network,
                outbox.account,
                outbox.platform.endpoints.post,
                budget.reset_at,
                now(),
                f"{outbox.says} said that post was the last its quota allowed",
            )
            report.stopped_by = QUOTA_USED
            log.info("event=quota_used until=%s", budget.reset_at.isoformat())
            break
    if report.stopped_by in (RateLimited.__name__, QUOTA_USED):
        report.paused = holds.current(
            outbox.engine, outbox.network, outbox.account, outbox.platform.endpoints.post, now()
        )
    return report


def recover(outbox: Outbox, now: Clock, report: SendReport) -> None:
    """Settle rows a crash (or an answer that may have posted) left `sending`: sent if the
    network shows the row's draft as published (`Network.published`: our own posts, a reply by
    the post it answers and a post of its own by its text, on X and Mastodon alike), else queued
    again after the retry delay, or failed once past `give_up_after`."""
    cutoff = now() - outbox.policy.recover_after
    with transaction(outbox.engine) as session:
        stuck = session.exec(
            select(OutboxMessage).where(
                *outbox.queue(),
                OutboxMessage.state == OutboxState.SENDING,
                col(OutboxMessage.claimed_at) <= cutoff,
            )
        ).all()
    if not stuck:
        return
    since = min(r.claimed_at for r in stuck if r.claimed_at is not None) - timedelta(minutes=5)
    own_posts = outbox.platform.endpoints.own_posts
    try:
        holds.check(outbox.engine, outbox.network, outbox.account, own_posts, now())
        found = outbox.platform.published(outbox.user_id(), [draft_of(row) for row in stuck], since)
    except PlatformError as exc:
        if isinstance(exc, RateLimited) and not isinstance(exc, holds.Held):
            holds.hold(
                outbox.engine,
                outbox.network,
                outbox.account,
                own_posts,
                _limit_ends(exc, now()),
                now(),
                f"{outbox.says} answered 429",
            )
        log.warning("event=recover_deferred rows=%d error=%r", len(stuck), str(exc))
        return
    candidates = {ref.id for refs in found.values() for ref in refs}
    with transaction(outbox.engine) as session:
        # A post may have several replies of ours (filed, then resolved), and two broadcasts may
        # read alike: a post already recorded on another row is not the one this row is missing.
        taken = set(
            session.exec(
                select(OutboxMessage.posted_id).where(
                    OutboxMessage.platform == outbox.network,
                    col(OutboxMessage.posted_id).in_(sorted(candidates)),
                )
            ).all()
        )
    with transaction(outbox.engine) as session:
        for stale in stuck:
            row = session.get(OutboxMessage, stale.id, with_for_update=True)
            if row is None or row.state is not OutboxState.SENDING:
                continue
            if row.claimed_at != stale.claimed_at:
                continue  # claimed again since we looked: another sender's business now
            key = draft_of(row).key
            posted = next((ref for ref in found.get(key, ()) if ref.id not in taken), None)
            if posted is not None:
                taken.add(posted.id)
                row.state, row.posted_id, row.sent_at = OutboxState.SENT, posted.id, now()
                row.posted_context = posted.context
                report.recovered += 1
                log.info("event=recovered_sent outbox_id=%s posted_id=%s", row.id, posted.id)
            elif now() - row.created_at > outbox.policy.give_up_after:
                # Not on the network, and too old to be of use: the same give-up as any retry.
                row.state = OutboxState.FAILED
                row.last_error = (
                    f"gave up after {row.attempts} attempt(s) over {now() - row.created_at}: "
                    f"{row.last_error or 'not confirmed by ' + outbox.says}"
                )[:1000]
                report.failed += 1
                log.error("event=send_gave_up outbox_id=%s error=%r", row.id, row.last_error)
            else:
                # Not on the network: the attempt failed, and waits as any failed attempt does,
                # counted from when it was made (`attempts` counts the claims, this one
                # included). Queued at once, a 5xx that keeps coming would be a POST every round.
                row.state = OutboxState.PENDING
                claimed = row.claimed_at or now()
                row.next_attempt_at = max(now(), claimed + outbox.policy.delay(row.attempts))
                report.requeued += 1
                log.info(
                    "event=recovered_requeued outbox_id=%s attempts=%d next=%s",
                    row.id,
                    row.attempts,
                    row.next_attempt_at.isoformat(),
                )


def _claim(
    outbox: Outbox, row_id: int | None, at: datetime, report: SendReport | None = None
) -> OutboxMessage | None:
    """The row, now ours (`sending`), as it stands; None when another sender has it, or when its
    recipient's newest consent event is a STOP: then it is failed here, in the claim's
    transaction, so no STOP recorded before the claim is ever sent past.

    On PostgreSQL a row another sender is claiming right now is skipped (`SKIP LOCKED`), not
    waited for; one it has claimed is no longer pending. SQLite renders no `FOR UPDATE`: there
    `BEGIN IMMEDIATE` lets one writer at a time in, which serializes claims the same way."""
    report = report if report is not None else SendReport()
    with transaction(outbox.engine) as session:
        row = session.exec(
            select(OutboxMessage)
            .where(
                col(OutboxMessage.id) == row_id,
                OutboxMessage.state == OutboxState.PENDING,
                OutboxMessage.next_attempt_at <= at,  # not put off by a limit since we looked
            )
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            return None
        if row.recipient is not None and consent.is_stopped(session, row.platform, row.recipient):
            row.state, row.last_error = OutboxState.FAILED, OPTED_OUT
            report.failed += 1
            report.opted_out += 1
            log.warning("event=send_opted_out outbox_id=%s source=consent", row.id)
            return None
        if row.expires_at is not None and row.expires_at <= at:
            # Its deadline passed while it waited its turn (a paced queue): never sent late.
            row.state, row.last_error = OutboxState.FAILED, _expired(outbox, row)
            report.failed += 1
            report.expired += 1
            log.error("event=send_dropped outbox_id=%s error=%r", row.id, row.last_error)
            return None
        if row.after_id is not None:
            before = session.get(OutboxMessage, row.after_id)
            if before is None or before.state is not OutboxState.SENT:
                return None  # the post it threads under is not out yet
            row.in_reply_to_post_id = before.posted_id
            row.reply_context = before.posted_context
        row.state, row.claimed_at, row.attempts = OutboxState.SENDING, at, row.attempts + 1
        return row


def _settle_unpostable(outbox: Outbox, at: datetime, report: SendReport) -> None:
    """Fail the rows that must never be posted now: past their deadline, or threading under a
    post that failed (and so, one link at a time, the rest of that thread)."""
    with transaction(outbox.engine) as session:
        # Locked, so a row another sender claims meanwhile is not failed under it; one it is
        # claiming right now is left for the next round.
        waiting = session.exec(
            select(OutboxMessage)
            .where(
                *outbox.queue(),
                OutboxMessage.state == OutboxState.PENDING,
                (col(OutboxMessage.expires_at) <= at) | col(OutboxMessage.after_id).is_not(None),
            )
            .with_for_update(skip_locked=True)
        ).all()
        for row in sorted(waiting, key=lambda r: r.id or 0):
            before = session.get(OutboxMessage, row.after_id) if row.after_id else None
            if row.expires_at is not None and row.expires_at <= at:
                row.last_error = _expired(outbox, row)
                report.expired += 1
            elif before is not None and before.state is OutboxState.FAILED:
                row.last_error = (
                    f"not posted: the post it threads under (outbox #{before.id}) failed"
                )
            else:
                continue
            row.state = OutboxState.FAILED
            session.flush()  # the next link of the chain sees this one failed
            report.failed += 1
            log.error("event=send_dropped outbox_id=%s error=%r", row.id, row.last_error)
    if report.expired:
        # The count in one line too: a paced queue that cannot drain in time says how much it lost.
        log.error(
            "event=send_expired network=%s account=%s count=%d",
            outbox.network,
            outbox.account,
            report.expired,
        )


def _expired(outbox: Outbox, row: OutboxMessage) -> str:
    """Why `row` is dropped at its deadline; on a paced network, that the rate was the cause."""
    deadline = f"{EXPIRED} {row.expires_at:%Y-%m-%d %H:%M} UTC (after {row.attempts} attempt(s))"
    if outbox.pacer is not None:
        return (
            f"{deadline}: it waited longer than the send rate ({outbox.pacer.pace.describe()}) "
            "allowed; dropped rather than sent late"
        )
    return f"{deadline}; dropped rather than posted late"


def _opted_out(
    outbox: Outbox, row: OutboxMessage, said: str, at: datetime, report: SendReport
) -> None:
    """The network refused `row` because its person opted out: their STOP recorded (source
    `carrier`, no text of theirs to point to) and the row failed, both at once."""
    with transaction(outbox.engine) as session:
        stored = session.get(OutboxMessage, row.id)
        assert stored is not None
        stored.state, stored.last_error = OutboxState.FAILED, f"{OPTED_OUT} ({said})"[:1000]
        # Every row to one person names them (`recipient`); the STOP is theirs. One already
        # standing is not written again.
        address = stored.recipient
        if address is not None and not consent.is_stopped(session, stored.platform, address):
            consent.record_consent(
                session, stored.platform, address, ConsentAction.STOP, ConsentSource.CARRIER, at=at
            )
    report.failed += 1
    report.opted_out += 1
    log.warning("event=send_opted_out outbox_id=%s source=carrier", row.id)


def _drop_held(outbox: Outbox, at: datetime, report: SendReport) -> None:
    """Fail the non-essential replies the budget has held for `HELD_AT_MOST`."""
    with transaction(outbox.engine) as session:
        stale = session.exec(
            select(OutboxMessage)
            .where(
                *outbox.queue(),
                OutboxMessage.state == OutboxState.PENDING,
                col(OutboxMessage.template).in_(sorted(NON_ESSENTIAL)),
                col(OutboxMessage.created_at) <= at - HELD_AT_MOST,
            )
            .with_for_update(skip_locked=True)
        ).all()
        for row in stale:
            row.state = OutboxState.FAILED
            row.last_error = (
                f"not posted: held for {HELD_AT_MOST} while the month's X spend was near "
                "SOCIALBOT_MONTHLY_BUDGET, and too old to be of use now"
            )
            report.failed += 1
            log.warning("event=send_dropped outbox_id=%s reason=monthly_budget", row.id)


def _limit_ends(exc: RateLimited, at: datetime) -> datetime:
    """When the network's limit is over: its reset time, else a minute from now."""
    return exc.reset_at if exc.reset_at and exc.reset_at > at else at + timedelta(minutes=1)


def _hold_posting(outbox: Outbox, exc: RateLimited, at: datetime) -> None:
    """Write the network's wait down for every process that posts from this account."""
    holds.hold(
        outbox.engine,
        outbox.network,
        outbox.account,
        outbox.platform.endpoints.post,
        _limit_ends(exc, at),
        at,
        f"{outbox.says} answered 429",
    )


def _hold_queue(session: Session, outbox: Outbox, until: datetime) -> None:
    """No row of the account's queue is tried before `until`. A limit is the account's, not a
    row's: its whole queue waits, in the database, so a restart does not knock on the closed door
    either."""
    session.execute(
        update(OutboxMessage)
        .where(
            *outbox.queue(),
            col(OutboxMessage.state) == OutboxState.PENDING,
            col(OutboxMessage.next_attempt_at) < until,
        )
        .values(next_attempt_at=until)
    )


class _PhotoMissing(Exception):
    """The row's photo cannot be read at send time."""


def _media(
    outbox: Outbox, row: OutboxMessage, at: datetime, *, fresh: bool = False
) -> tuple[tuple[str, ...], bool]:
    """The media ids to post `row` with: none, the one uploaded before, or a fresh upload; and
    whether the id is the one uploaded before (it may have expired on the network's side)."""
    if row.media_path is None:
        return (), False
    reusable = at - row.created_at <= media_id_fresh(outbox.platform)
    if not fresh and row.media_id is not None and reusable:
        return (row.media_id,), True
    path = Path(row.media_path)
    try:
        media_id = outbox.platform.upload_media(path, row.media_alt or "")
    except OSError as exc:
        raise _PhotoMissing(
            f"photo {path} cannot be read ({exc.strerror or exc}); the reply was not sent "
            "without it (reopen the case and resolve it again to send a new one)"
        ) from exc
    with transaction(outbox.engine) as session:
        stored = session.get(OutboxMessage, row.id)
        assert stored is not None
        stored.media_id = media_id
    log.info("event=media_uploaded outbox_id=%s media_id=%s", row.id, media_id)
    return (media_id,), False


def _refuses_media(exc: Rejected) -> bool:
    """X's 400 on a post names `media.media_ids` when a media id is unknown to it (expired)."""
    return exc.parameter is not None and exc.parameter.startswith("media")


def _photo_missing(outbox: Outbox, row_id: int | None, error: str, report: SendReport) -> None:
    with transaction(outbox.engine) as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.state, row.last_error = OutboxState.FAILED, error
    report.failed += 1
    log.error("event=send_failed outbox_id=%s error=%r", row_id, error)


def _mark_sent(outbox: Outbox, row_id: int | None, receipt: Receipt, at: datetime) -> None:
    with transaction(outbox.engine) as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.state, row.posted_id, row.posted_context, row.sent_at, row.last_error = (
            OutboxState.SENT,
            receipt.ref.id,
            receipt.ref.context,
            at,
            None,
        )


def _failed(
    outbox: Outbox, row_id: int | None, exc: PlatformError, at: datetime, report: SendReport
) -> bool:
    """Record the failure; returns True when the rest of the batch should wait too."""
    with transaction(outbox.engine) as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.last_error = str(exc)[:1000]
        if isinstance(exc, Unavailable) and exc.maybe_done:
            # The post may exist without our knowing its id: never re-send blind. The row stays
            # `sending`; `recover` asks the network and settles it either way.
            report.unverified += 1
            log.warning("event=send_unverified outbox_id=%s error=%r", row.id, row.last_error)
            return True
        if isinstance(exc, Rejected):
            row.state = OutboxState.FAILED
            report.failed += 1
            log.error("event=send_failed outbox_id=%s error=%r", row.id, row.last_error)
            return False
        if (
            not isinstance(exc, RateLimited | AuthFailed)
            and at - row.created_at > outbox.policy.give_up_after
        ):
            row.state = OutboxState.FAILED
            report.failed += 1
            log.error(
                "event=send_gave_up outbox_id=%s age=%s error=%r",
                row.id,
                at - row.created_at,
                row.last_error,
            )
            return True
        # The post did not happen (the network said so): back to the queue.
        row.state = OutboxState.PENDING
        report.retrying += 1
        if isinstance(exc, RateLimited | AuthFailed):
            row.attempts -= 1  # waiting our turn, or for new credentials, is not a failed attempt
            if isinstance(exc, RateLimited):
                until = _limit_ends(exc, at)
                log.warning("event=rate_limited outbox_id=%s until=%s", row.id, until.isoformat())
            else:
                until = at + AUTH_RETRY
                log.error("event=auth_failed outbox_id=%s error=%r", row.id, row.last_error)
            _hold_queue(session, outbox, until)
            row.next_attempt_at = until
            return True
        # The network is having a bad moment: back off this row, leave the rest for later.
        row.next_attempt_at = at + outbox.policy.delay(row.attempts)
        log.warning(
            "event=send_retry outbox_id=%s attempts=%d next=%s",
            row.id,
            row.attempts,
            row.next_attempt_at.isoformat(),
        )
        return True
