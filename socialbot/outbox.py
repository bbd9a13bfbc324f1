"""The send job: post queued replies, at most once each.

A row is claimed (state `sending`, committed) before the network call and marked `sent` after it.
A crash between the two leaves it `sending`; such a row is never simply re-sent: `recover` first
looks for our own reply to the same post on the network, and re-queues the row only if there is
none. The error type decides the retry (see `RetryPolicy`).

A reply may carry a photo (`media_path`, from `cases resolve --photo`). It is uploaded just before
the post, and its media id kept on the row, so a retry after a failed post does not upload it
again, for as long as X keeps the id (`MEDIA_ID_FRESH`). A photo that is missing at send time fails
that row for good, with the path in `last_error`: the reply never goes out without its photo, and
the rows behind it still go.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, update
from sqlmodel import col, select

from socialbot.errors import AuthFailed, PlatformError, RateLimited, Rejected, Unavailable
from socialbot.platforms.base import Platform
from socialbot.store.db import transaction
from socialbot.store.models import OutboxMessage, OutboxState

log = logging.getLogger(__name__)
# After a 401/403 the credentials need a human; look again now and then, not in a tight loop.
AUTH_RETRY = timedelta(minutes=5)
# X lets an uploaded photo be attached for 24 hours (`expires_after_secs`). A row's photo is
# uploaded after the row was created, so its media id is surely alive while the row is younger
# than this; a reply still unsent after that uploads its photo afresh at each attempt.
MEDIA_ID_FRESH = timedelta(hours=23)
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
    stopped_by: str | None = None  # why the batch ended early: rate limit, auth


@dataclass(frozen=True, slots=True)
class Outbox:
    engine: Engine
    platform: Platform
    user_id: Callable[[], str]  # our own account id, needed only to recover interrupted sends
    policy: RetryPolicy = RetryPolicy()
    batch: int = 50


def send_once(outbox: Outbox, now: Clock, *, dry_run: bool = False) -> SendReport:
    """Post every due reply (up to `batch`). With `dry_run`, list them and change nothing."""
    report = SendReport()
    if not dry_run:
        recover(outbox, now, report)
    with transaction(outbox.engine) as session:
        due = session.exec(
            select(OutboxMessage)
            .where(
                OutboxMessage.state == OutboxState.PENDING, OutboxMessage.next_attempt_at <= now()
            )
            .order_by(col(OutboxMessage.id))
            .limit(outbox.batch)
        ).all()
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
        row = _claim(outbox, due_row.id, now())
        if row is None:
            continue  # another sender took it
        try:
            media_ids = _media(outbox, row, now())
            posted_id = outbox.platform.post(row.text, row.in_reply_to_post_id, media_ids)
        except _PhotoMissing as exc:
            # Our file, not X's refusal: fails this row only, and is no sign of a blocked account.
            _photo_missing(outbox, row.id, str(exc), report)
            continue
        except PlatformError as exc:
            stop = _failed(outbox, row.id, exc, now(), report)
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
        _mark_sent(outbox, row.id, posted_id, now())
        report.sent += 1
        log.info(
            "event=sent outbox_id=%s posted_id=%s in_reply_to=%s",
            row.id,
            posted_id,
            row.in_reply_to_post_id,
        )
    return report


def recover(outbox: Outbox, now: Clock, report: SendReport) -> None:
    """Settle rows a crash left `sending`: sent if our reply is on X, else queued again."""
    cutoff = now() - outbox.policy.recover_after
    with transaction(outbox.engine) as session:
        stuck = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.state == OutboxState.SENDING, col(OutboxMessage.claimed_at) <= cutoff
            )
        ).all()
    if not stuck:
        return
    since = min(r.claimed_at for r in stuck if r.claimed_at is not None) - timedelta(minutes=5)
    try:
        replies = outbox.platform.recent_replies(outbox.user_id(), since)
    except PlatformError as exc:
        log.warning("event=recover_deferred rows=%d error=%r", len(stuck), str(exc))
        return
    with transaction(outbox.engine) as session:
        # A post may have several replies of ours (filed, then resolved): one already recorded
        # on another row is not the one this row is missing.
        known = set(
            session.exec(
                select(OutboxMessage.posted_id).where(
                    col(OutboxMessage.posted_id).in_([r.post_id for r in replies])
                )
            ).all()
        )
    found = {r.in_reply_to: r.post_id for r in replies if r.post_id not in known}
    with transaction(outbox.engine) as session:
        for stale in stuck:
            row = session.get(OutboxMessage, stale.id, with_for_update=True)
            if row is None or row.state is not OutboxState.SENDING:
                continue
            if row.claimed_at != stale.claimed_at:
                continue  # claimed again since we looked: another sender's business now
            posted = found.get(row.in_reply_to_post_id) if row.in_reply_to_post_id else None
            if posted is not None:
                row.state, row.posted_id, row.sent_at = OutboxState.SENT, posted, now()
                report.recovered += 1
                log.info("event=recovered_sent outbox_id=%s posted_id=%s", row.id, posted)
            elif row.in_reply_to_post_id is None:
                # Nothing to look it up by: a duplicate would be worse than a missing post.
                row.state = OutboxState.FAILED
                row.last_error = "interrupted while posting and cannot be verified; not re-sent"
                report.failed += 1
            else:
                row.state, row.next_attempt_at = OutboxState.PENDING, now()
                report.requeued += 1
                log.info("event=recovered_requeued outbox_id=%s", row.id)


def _claim(outbox: Outbox, row_id: int | None, at: datetime) -> OutboxMessage | None:
    """The row, now ours (`sending`), as it stands; None when another sender has it."""
    with transaction(outbox.engine) as session:
        row = session.get(OutboxMessage, row_id, with_for_update=True)
        if row is None or row.state is not OutboxState.PENDING:
            return None
        row.state, row.claimed_at, row.attempts = OutboxState.SENDING, at, row.attempts + 1
        return row


class _PhotoMissing(Exception):
    """The row's photo cannot be read at send time."""


def _media(outbox: Outbox, row: OutboxMessage, at: datetime) -> tuple[str, ...]:
    """The media ids to post `row` with: none, the one uploaded before, or a fresh upload."""
    if row.media_path is None:
        return ()
    if row.media_id is not None and at - row.created_at <= MEDIA_ID_FRESH:
        return (row.media_id,)
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
    return (media_id,)


def _photo_missing(outbox: Outbox, row_id: int | None, error: str, report: SendReport) -> None:
    with transaction(outbox.engine) as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.state, row.last_error = OutboxState.FAILED, error
    report.failed += 1
    log.error("event=send_failed outbox_id=%s error=%r", row_id, error)


def _mark_sent(outbox: Outbox, row_id: int | None, posted_id: str, at: datetime) -> None:
    with transaction(outbox.engine) as session:
        row = session.get(OutboxMessage, row_id)
        assert row is not None
        row.state, row.posted_id, row.sent_at, row.last_error = (
            OutboxState.SENT,
            posted_id,
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
            # `sending`; `recover` looks for our reply on X and settles it either way.
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
                until = (
                    exc.reset_at
                    if exc.reset_at and exc.reset_at > at
                    else at + timedelta(minutes=1)
                )
                log.warning("event=rate_limited outbox_id=%s until=%s", row.id, until.isoformat())
            else:
                until = at + AUTH_RETRY
                log.error("event=auth_failed outbox_id=%s error=%r", row.id, row.last_error)
            # The limit is the endpoint's, not this row's: the whole queue waits, in the database,
            # so a restart does not knock on the closed door either.
            session.execute(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.state) == OutboxState.PENDING,
                    col(OutboxMessage.next_attempt_at) < until,
                )
                .values(next_attempt_at=until)
            )
            row.next_attempt_at = until
            return True
        # X is having a bad moment: back off this row and leave the rest of the batch for later.
        row.next_attempt_at = at + outbox.policy.delay(row.attempts)
        log.warning(
            "event=send_retry outbox_id=%s attempts=%d next=%s",
            row.id,
            row.attempts,
            row.next_attempt_at.isoformat(),
        )
        return True
