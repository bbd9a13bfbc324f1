"""The send job of Open311: each located case of a mapped category becomes one request in the
city's CRM, at most once.

`enqueue_due` gives every case that should go a row in `crm_requests` (one a case: the unique
`case_id`): located (a point, or an address in words: `form` sends it as `address_string`), of a
category the catalog maps to a service code, open, and not a duplicate (a report linked to
another case, or merged into one, is that case's request). A `needs_location` case is queued
once it has a location.

`forward_once` sends the due rows, in the reply outbox's crash-safe way (`socialbot.outbox`): a
row is claimed (`sending`, committed) before the POST and marked after it. A POST whose answer
was lost (a timeout, a 5xx, a dropped connection: `Unavailable.maybe_done`), or a process killed
between the two, leaves the row `sending`; such a row is never POSTed blind: `recover` first
searches the CRM for the request by the reference every description carries ("socialbot case
#123", `form.reference`), and queues the row again only if the CRM has no such request.

The CRM's answer is an id (`sent`) or a token (`token`: `sync` asks later what id it became,
without holding up the queue). A 4xx with the CRM's errors body refuses the case (`rejected`,
the CRM's words in `last_error`), never retried; a 401, 403 or 429 is about our key or our pace,
not the case: the queue waits and tries again. A 5xx, a timeout or no connection is retried as
FixMyStreet does it: after 5 minutes, then every 30, without end (an outage of a day loses
nothing; `status` shows the oldest unsent). A case merged into another before its row went is
never sent (`dropped`, as is one staff resolved or closed first); merged after, it sends
nothing more: the CRM's request stays one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from socialbot.catalog import Catalog
from socialbot.errors import CrmRejected, SocialbotError, Unavailable
from socialbot.lifecycle import OPEN, CloseReason
from socialbot.open311.client import Open311Client
from socialbot.open311.form import (
    ForwardedCase,
    ServiceRule,
    case_of_reference,
    request_form,
)
from socialbot.open311.wire import Accepted
from socialbot.store.db import transaction
from socialbot.store.models import Case, CrmRequest, CrmState
from socialbot.store.poll_lock import PollLock

log = logging.getLogger(__name__)
# The lock one sending process holds (`store.poll_lock`: a file beside SQLite, an advisory
# lock on PostgreSQL).
SENDER = ("open311", "send")
Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class ForwardPolicy:
    """FixMyStreet's rhythm: a failed send goes again after `first_delay`, then every `delay`."""

    first_delay: timedelta = timedelta(minutes=5)
    delay: timedelta = timedelta(minutes=30)
    # A `sending` row younger than this may still be in flight (a crash, or a lost answer).
    # Two processes never send at once (`SENDER`), so no POST in flight is looked for.
    recover_after: timedelta = timedelta(minutes=2)
    # On a CRM that answers tokens, a lost POST the CRM does not list is looked for again every
    # `delay` this long before it is sent again: such a CRM lists a request only once its back
    # office has given it an id, which may take hours.
    unverified_for: timedelta = timedelta(hours=6)
    # How far around the claim the CRM is searched for a lost request: its clock may be off.
    search_margin: timedelta = timedelta(hours=1)

    def wait(self, attempts: int) -> timedelta:
        """How long after attempt number `attempts` (1 for the first) the next one is made."""
        return self.first_delay if attempts <= 1 else self.delay


@dataclass(slots=True)
class ForwardReport:
    sent: int = 0  # the CRM answered with its request id
    token: int = 0  # the CRM answered with a token: the id comes later (`sync`)
    rejected: int = 0  # the CRM refused the case: never sent again
    retrying: int = 0  # failed for now: goes again later
    recovered: int = 0  # a lost answer found in the CRM by our reference: not POSTed twice
    requeued: int = 0  # a lost answer the CRM has no request for: queued again
    unverified: int = 0  # may have reached the CRM: left for `recover` to look up
    dropped: int = 0  # merged into another case before it went: never sent
    due: int = 0  # with `dry_run`: what would have been sent
    stopped_by: str | None = None  # why the batch ended early


@dataclass(frozen=True, slots=True)
class Forwarder:
    engine: Engine
    client: Open311Client
    # Our category key → how it is filed (`catalog`'s `open311_service_code` and attributes).
    rules: Mapping[str, ServiceRule]
    catalog: Catalog
    api_key: str | None = None
    jurisdiction_id: str | None = None
    send_handle: bool = False  # SOCIALBOT_OPEN311_SEND_HANDLE: the resident's handle is personal
    lang: str = "en"  # the language of the category names the CRM's staff read
    policy: ForwardPolicy = ForwardPolicy()
    batch: int = 50


def enqueue_due(forwarder: Forwarder, now: Clock, *, dry_run: bool = False) -> int:
    """Queue every case that should go to the CRM and has no row yet; returns how many. With
    `dry_run`, count (and log) the cases a real run would queue, write nothing."""
    if not forwarder.rules:
        return 0
    at = now()
    with transaction(forwarder.engine) as session:
        cases = session.exec(_due_cases(forwarder)).all()
        if dry_run:
            for case in cases:
                log.info("event=would_enqueue case_id=%s category=%s", case.id, case.category)
            return len(cases)
        for case in cases:
            assert case.id is not None
            if _adopt(session, case.id) is not None:
                continue  # a case merged into it went already: its request is this case's
            session.add(
                CrmRequest(
                    case_id=case.id,
                    service_code=forwarder.rules[case.category].service_code,
                    next_attempt_at=at,
                    created_at=at,
                )
            )
        try:
            session.flush()
        except IntegrityError:
            # Another process queued some of them meanwhile: its rows stand, ours wait a round.
            session.rollback()
            log.info("event=crm_enqueue_raced")
            return 0
    if cases:
        log.info("event=crm_enqueued cases=%d", len(cases))
    return len(cases)


def _adopt(session: Session, case_id: int) -> CrmRequest | None:
    """The request a case merged into `case_id` already made (sent, awaiting its id, or maybe
    in flight), moved to `case_id`: a merge after sending is sent as nothing, and the CRM's word
    on that one request reaches every reporter of the case that stands. None if there is none.
    `case_id` must have no row of its own (the column is unique)."""
    row = _adoptable(session, case_id)
    if row is None:
        return None
    log.info("event=crm_adopted case_id=%s from_case_id=%s", case_id, row.case_id)
    row.case_id = case_id
    session.add(row)
    return row


def _adoptable(session: Session, case_id: int) -> CrmRequest | None:
    """The request a case merged into `case_id` already made, if any (see `_adopt`)."""
    merged = select(Case.id).where(col(Case.duplicate_of) == case_id)
    return session.exec(
        select(CrmRequest)
        .where(
            col(CrmRequest.case_id).in_(merged),
            col(CrmRequest.state).in_([CrmState.SENT, CrmState.TOKEN, CrmState.SENDING]),
        )
        .order_by(col(CrmRequest.id))
    ).first()


def _due_cases(forwarder: Forwarder) -> SelectOfScalar[Case]:
    """The cases that should go to the CRM and have no row yet: located, open, of a mapped
    category, not a duplicate of another case."""
    return (
        select(Case)
        .where(
            col(Case.category).in_(sorted(forwarder.rules)),
            col(Case.status).in_(sorted(OPEN)),
            or_(
                and_(col(Case.lat).is_not(None), col(Case.lon).is_not(None)),
                col(Case.address).is_not(None),
            ),
            col(Case.duplicate_of).is_(None),
            col(Case.id).not_in(select(CrmRequest.case_id)),
        )
        .order_by(col(Case.id))
    )


def forward_once(forwarder: Forwarder, now: Clock, *, dry_run: bool = False) -> ForwardReport:
    """Send every due row (up to `batch`). With `dry_run`, count and log them, change nothing.
    One process sends at a time (the `SENDER` lock: `socialbot run` and `open311 sync --once`
    beside it): a POST slow to answer in one is never taken for a lost one by the other."""
    if dry_run:
        return _forward(forwarder, now, dry_run=True)
    lock = PollLock(forwarder.engine, platform=SENDER[0], account=SENDER[1])
    try:
        if not lock.acquire_or_check():
            log.info("event=crm_send_skipped reason=another_process_sends")
            return ForwardReport(stopped_by="another process is sending")
        return _forward(forwarder, now, dry_run=False)
    finally:
        lock.release()


def _forward(forwarder: Forwarder, now: Clock, *, dry_run: bool) -> ForwardReport:
    report = ForwardReport()
    if not dry_run:
        recover(forwarder, now, report)
    with transaction(forwarder.engine) as session:
        due = session.exec(
            select(CrmRequest)
            .where(
                CrmRequest.state == CrmState.PENDING,
                CrmRequest.next_attempt_at <= now(),
            )
            .order_by(col(CrmRequest.id))
            .limit(forwarder.batch)
        ).all()
    if dry_run:
        for waiting in due:
            log.info(
                "event=would_forward case_id=%s service_code=%s",
                waiting.case_id,
                waiting.service_code,
            )
        report.due = len(due)
        return report
    for due_row in due:
        claimed = _claim(forwarder, due_row.id, now())
        if claimed is None:
            continue  # another sender took it, or it was dropped
        row, case = claimed
        if row.state is CrmState.DROPPED:
            report.dropped += 1
            continue
        try:
            rule = forwarder.rules.get(case.category) or ServiceRule(row.service_code)
            form = request_form(
                _forwarded(forwarder, case),
                ServiceRule(row.service_code, rule.attributes),
                api_key=forwarder.api_key,
                jurisdiction_id=forwarder.jurisdiction_id,
                with_handle=forwarder.send_handle,
            )
        except SocialbotError as exc:  # nothing the CRM could take: ours to fix, not to retry
            _finish(forwarder, row.id, CrmState.REJECTED, now(), error=str(exc))
            report.rejected += 1
            log.error("event=crm_unsendable case_id=%s error=%r", row.case_id, str(exc))
            continue
        try:
            accepted = forwarder.client.post_request(form)
        except CrmRejected as exc:
            if exc.about_the_case:
                said = "; ".join(e.description or e.code for e in exc.errors)
                _finish(forwarder, row.id, CrmState.REJECTED, now(), error=said)
                report.rejected += 1
                log.error("event=crm_rejected case_id=%s error=%r", row.case_id, said)
                continue
            _retry(forwarder, row.id, str(exc), now(), report, counted=False)
            report.stopped_by = CrmRejected.__name__
            break
        except Unavailable as exc:
            if exc.maybe_done:
                # The CRM may hold the request without our knowing its id: never POST it again
                # blind. The row stays `sending`; `recover` searches for it.
                _note(forwarder, row.id, str(exc))
                report.unverified += 1
                log.warning("event=crm_unverified case_id=%s error=%r", row.case_id, str(exc))
            else:
                _retry(forwarder, row.id, str(exc), now(), report, counted=True)
            report.stopped_by = Unavailable.__name__
            break  # the CRM is having a bad moment: the rest of the batch waits too
        _accepted(forwarder, row.id, accepted, now(), report)
    return report


def recover(forwarder: Forwarder, now: Clock, report: ForwardReport) -> None:
    """Settle rows a crash (or a lost answer) left `sending`: `sent` if the CRM holds a request
    whose description names the row's case, else queued again after the retry delay. When the
    CRM cannot be searched now, they stay as they are, for the next round."""
    cutoff = now() - forwarder.policy.recover_after
    with transaction(forwarder.engine) as session:
        stuck = session.exec(
            select(CrmRequest).where(
                CrmRequest.state == CrmState.SENDING,
                col(CrmRequest.claimed_at) <= cutoff,
                CrmRequest.next_attempt_at <= now(),  # not looked for in the last `delay`
            )
        ).all()
    by_code: dict[str, list[CrmRequest]] = {}
    for row in stuck:
        by_code.setdefault(row.service_code, []).append(row)
    margin = forwarder.policy.search_margin
    for code, rows in sorted(by_code.items()):
        start = min(r.claimed_at or r.created_at for r in rows) - margin
        try:
            found = forwarder.client.search(code, start, now() + margin)
        except (Unavailable, CrmRejected) as exc:
            log.warning("event=crm_recover_deferred rows=%d error=%r", len(rows), str(exc))
            continue
        ids: dict[int, str] = {}
        for state in found:
            case_id = case_of_reference(state.description or "")
            if case_id is not None:
                ids.setdefault(case_id, state.service_request_id)
        for stale in rows:
            _settle(forwarder, stale, ids.get(stale.case_id), now(), report)


def _settle(
    forwarder: Forwarder,
    stale: CrmRequest,
    service_request_id: str | None,
    at: datetime,
    report: ForwardReport,
) -> None:
    with transaction(forwarder.engine) as session:
        row = session.get(CrmRequest, stale.id, with_for_update=True)
        if row is None or row.state is not CrmState.SENDING or row.claimed_at != stale.claimed_at:
            return  # claimed again since we looked: another sender's business now
        if service_request_id is not None:
            row.state, row.service_request_id, row.sent_at = CrmState.SENT, service_request_id, at
            row.last_error = None
            report.recovered += 1
            log.info(
                "event=crm_recovered case_id=%s service_request_id=%s",
                row.case_id,
                service_request_id,
            )
            return
        claimed_at = row.claimed_at or at
        if at - claimed_at < forwarder.policy.unverified_for and _answers_tokens(session):
            # Not listed yet proves nothing on a CRM that answers tokens: looked for again
            # later, never POSTed blind.
            row.next_attempt_at = at + forwarder.policy.delay
            report.unverified += 1
            log.info(
                "event=crm_still_unverified case_id=%s next_look=%s",
                row.case_id,
                row.next_attempt_at.isoformat(),
            )
            return
        # Not in the CRM: the attempt failed, and waits as any failed attempt does, counted from
        # when it was made.
        row.state = CrmState.PENDING
        claimed = row.claimed_at or at
        row.next_attempt_at = max(at, claimed + forwarder.policy.wait(row.attempts))
        report.requeued += 1
        log.info(
            "event=crm_requeued case_id=%s attempts=%d next=%s",
            row.case_id,
            row.attempts,
            row.next_attempt_at.isoformat(),
        )


def _answers_tokens(session: Session) -> bool:
    """Whether the CRM has answered a request with a token (its request ids come later)."""
    return (
        session.exec(select(CrmRequest.id).where(col(CrmRequest.token).is_not(None))).first()
        is not None
    )


def _claim(
    forwarder: Forwarder, row_id: int | None, at: datetime
) -> tuple[CrmRequest, Case] | None:
    """The row, now ours (`sending`), and its case; None when another sender has it. A row
    whose case was merged into another, resolved or closed meanwhile is `dropped` instead, and
    never sent."""
    with transaction(forwarder.engine) as session:
        row = session.exec(
            select(CrmRequest)
            .where(
                col(CrmRequest.id) == row_id,
                CrmRequest.state == CrmState.PENDING,
                CrmRequest.next_attempt_at <= at,
            )
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            return None
        case = session.get(Case, row.case_id)
        assert case is not None  # a foreign key
        if _adoptable(session, row.case_id) is not None:
            # A case merged into this one went already: that request is this case's; this row,
            # queued before the merge, is never sent.
            session.delete(row)
            session.flush()  # the delete first: `case_id` is unique
            _adopt(session, row.case_id)
            return None
        if case.duplicate_of is not None or case.close_reason == CloseReason.DUPLICATE.value:
            row.state = CrmState.DROPPED
            row.last_error = (
                f"not sent: merged into case #{case.duplicate_of} before it went "
                "(that case is the CRM's request)"
            )
            log.info("event=crm_dropped case_id=%s into=%s", row.case_id, case.duplicate_of)
            return row, case
        if case.status not in OPEN:
            # Staff finished it before it went: the CRM would open work that is already done.
            row.state = CrmState.DROPPED
            row.last_error = f"not sent: the case was {case.status.value} before it went"
            log.info("event=crm_dropped case_id=%s status=%s", row.case_id, case.status.value)
            return row, case
        row.state, row.claimed_at, row.attempts = CrmState.SENDING, at, row.attempts + 1
        return row, case


def _forwarded(forwarder: Forwarder, case: Case) -> ForwardedCase:
    assert case.id is not None
    category = forwarder.catalog.find(case.category)
    return ForwardedCase(
        id=case.id,
        category=case.category,
        category_name=category.name(forwarder.lang) if category is not None else case.category,
        lat=case.lat,
        lon=case.lon,
        description=case.description,
        photo_urls=tuple(u for u in case.public_photo_urls if u.startswith("https://")),
        network=case.platform,
        district=case.district,
        author_username=case.author_username,
        address=case.address,
    )


def _accepted(
    forwarder: Forwarder,
    row_id: int | None,
    accepted: Accepted,
    at: datetime,
    report: ForwardReport,
) -> None:
    with transaction(forwarder.engine) as session:
        row = session.get(CrmRequest, row_id)
        assert row is not None
        row.sent_at, row.last_error = at, None
        holder = _holder(session, accepted.service_request_id, row.id)
        if holder is not None:
            # Two cases on one id would each be told the other's news by `sync`: neither row
            # takes the id twice. This one is made (never sent again) and left to staff.
            row.state = CrmState.REJECTED
            row.last_error = (
                f"the CRM answered request id {accepted.service_request_id}, which is case "
                f"#{holder}'s: not recorded (ask the CRM which request is this case's)"
            )
            report.rejected += 1
            log.error(
                "event=crm_id_reused case_id=%s service_request_id=%s holder=%s",
                row.case_id,
                accepted.service_request_id,
                holder,
            )
            return
        if accepted.service_request_id is not None:
            row.state, row.service_request_id = CrmState.SENT, accepted.service_request_id
            report.sent += 1
        else:
            row.state, row.token = CrmState.TOKEN, accepted.token
            report.token += 1
    log.info(
        "event=crm_forwarded case_id=%s service_request_id=%s token=%s",
        row.case_id,
        accepted.service_request_id,
        accepted.token,
    )


def _holder(session: Session, service_request_id: str | None, row_id: int | None) -> int | None:
    """The case whose row already holds `service_request_id`, other than row `row_id`'s."""
    if service_request_id is None:
        return None
    return session.exec(
        select(CrmRequest.case_id).where(
            CrmRequest.service_request_id == service_request_id, col(CrmRequest.id) != row_id
        )
    ).first()


def _finish(
    forwarder: Forwarder, row_id: int | None, state: CrmState, at: datetime, *, error: str
) -> None:
    with transaction(forwarder.engine) as session:
        row = session.get(CrmRequest, row_id)
        assert row is not None
        row.state, row.last_error = state, error[:1000]


def _note(forwarder: Forwarder, row_id: int | None, error: str) -> None:
    with transaction(forwarder.engine) as session:
        row = session.get(CrmRequest, row_id)
        assert row is not None
        row.last_error = error[:1000]


def _retry(
    forwarder: Forwarder,
    row_id: int | None,
    error: str,
    at: datetime,
    report: ForwardReport,
    *,
    counted: bool,
) -> None:
    """Back to the queue after the policy's wait. Not `counted`: a refusal of our key or pace,
    which is no failed attempt of the case's; the whole queue waits the long delay."""
    with transaction(forwarder.engine) as session:
        row = session.get(CrmRequest, row_id)
        assert row is not None
        row.state, row.last_error = CrmState.PENDING, error[:1000]
        if counted:
            row.next_attempt_at = at + forwarder.policy.wait(row.attempts)
        else:
            row.attempts -= 1
            row.next_attempt_at = at + forwarder.policy.delay
            session.execute(
                update(CrmRequest)
                .where(
                    col(CrmRequest.state) == CrmState.PENDING,
                    col(CrmRequest.next_attempt_at) < row.next_attempt_at,
                )
                .values(next_attempt_at=row.next_attempt_at)
            )
        report.retrying += 1
        log.warning(
            "event=crm_retry case_id=%s attempts=%d next=%s error=%r",
            row.case_id,
            row.attempts,
            row.next_attempt_at.isoformat(),
            row.last_error,
        )
