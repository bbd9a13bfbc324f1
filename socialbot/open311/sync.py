"""The sync job of Open311: what the city's CRM says of the requests we made, brought back.

First the tokens: a request the CRM answered with a token is asked after (`tokens/{token}`)
until the CRM has given it an id. Then the forwarded cases, in batches of `batch` ids (`GET
requests?service_request_id=a,b,…`): the CRM's status, extended status, notes and time are kept
on the case's row (`cases show` shows them beside ours), and when they changed, what they mean
(`statuses.closure_of`) is done to the case through the same path as a staff command
(`Staff.act`, actor "open311"): the events, and every reporter told in their own thread with
the category's templates. The CRM's `status_notes` are written for its staff: they become the
action's internal note, never a reply.

The CRM is the system of record: its change wins over ours. It is acted on when it is news
(the CRM's word differs from the last sync's), so a case staff reopened here after the CRM
closed it stays reopened until the CRM says something new. A CRM "duplicate" names no case of
ours, so the case is closed with the plain closed reply, the CRM's word in the note.

Where the endpoint offers FixMyStreet's `servicerequestupdates` (`[open311] updates = true`),
a sync after the first asks only the updates since the last fetch (`crm_update_marks`) and acts
on them as on states; the closure's time is the CRM's either way (`report` counts the crew's
time to close).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, or_
from sqlmodel import col, select

from socialbot import storable
from socialbot.errors import CrmRejected, SocialbotError, Unavailable
from socialbot.lifecycle import OPEN, Action, CloseReason
from socialbot.open311.client import Open311Client
from socialbot.open311.statuses import Closure, applies, closure_of
from socialbot.open311.wire import RequestState
from socialbot.staff import Request, Staff
from socialbot.store.db import transaction
from socialbot.store.models import Case, CrmRequest, CrmState, CrmUpdatesMark

log = logging.getLogger(__name__)
ACTOR = "open311"
Clock = Callable[[], datetime]


@dataclass(slots=True)
class SyncReport:
    checked: int = 0  # requests the CRM told us about (tokens and states)
    closed: int = 0  # cases resolved or closed because the CRM closed their request
    changed: int = 0  # requests whose CRM state or notes changed since the last sync
    failed: int = 0  # ids that could not be asked or read, actions that were refused


def sync_once(
    engine: Engine,
    client: Open311Client,
    staff: Staff,
    now: Clock,
    *,
    batch: int = 50,
    updates: bool = False,
) -> SyncReport:
    """Resolve the tokens, then fetch the forwarded cases' states and act on what changed.
    With `updates` (the endpoint offers `servicerequestupdates`), only what changed since the
    last fetch is asked, once a first sync has read every state."""
    report = SyncReport()
    _resolve_tokens(engine, client, now, report)
    if not (updates and _fetch_updates(engine, client, staff, now, report)):
        began = now()
        read_all = _fetch_states(engine, client, staff, now, report, batch)
        if updates and read_all:  # every state as of `began`: the updates can go on from there
            _mark(engine, client.endpoint[:MARK_KEY], began)
    log.info(
        "event=crm_synced checked=%d closed=%d changed=%d failed=%d",
        report.checked,
        report.closed,
        report.changed,
        report.failed,
    )
    return report


def _fetch_states(
    engine: Engine,
    client: Open311Client,
    staff: Staff,
    now: Clock,
    report: SyncReport,
    batch: int,
) -> bool:
    """`GET requests?service_request_id=…` for every forwarded case with something to learn;
    False when some could not be asked (the CRM down)."""
    with transaction(engine) as session:
        rows = session.exec(
            select(CrmRequest.id, CrmRequest.service_request_id)
            .join(Case, col(Case.id) == col(CrmRequest.case_id))
            .where(
                CrmRequest.state == CrmState.SENT,
                col(CrmRequest.service_request_id).is_not(None),
                # An open case, or one whose request the CRM has not closed: something to learn.
                or_(
                    col(Case.status).in_(sorted(OPEN)),
                    col(CrmRequest.crm_status).is_(None),
                    col(CrmRequest.crm_status) != "closed",
                ),
            )
            .order_by(col(CrmRequest.id))
        ).all()
    ids = [srid for _, srid in rows if srid is not None]
    for start in range(0, len(ids), max(batch, 1)):
        chunk = ids[start : start + max(batch, 1)]
        try:
            page = client.requests(chunk)
        except (Unavailable, CrmRejected) as exc:
            report.failed += len(chunk)
            log.warning("event=crm_sync_failed ids=%d error=%r", len(chunk), str(exc))
            if isinstance(exc, Unavailable):
                return False  # the CRM is down: the rest waits for the next round
            continue
        report.failed += page.skipped
        wanted = set(chunk)
        for state in page:
            if state.service_request_id in wanted:
                wanted.discard(state.service_request_id)  # the first answer for an id counts
                _apply(engine, staff, state, now, report)
    return True


# Each fetch of updates reaches back this far before the last one's end: an update the CRM
# stamped a little before it became visible is still read. Read twice, it is no news (`_apply`).
OVERLAP = timedelta(minutes=10)


def _fetch_updates(
    engine: Engine, client: Open311Client, staff: Staff, now: Clock, report: SyncReport
) -> bool:
    """The updates since the last fetch, acted on like states, oldest first; True when they
    stood in for the batch of states. False the first time (no mark yet: every state is read,
    then the mark set), and when the endpoint refuses the call (it may not offer it after all:
    the states are read instead). The CRM down: True, and the mark stays, so the next round
    asks from the same time and nothing is missed."""
    key = client.endpoint[:MARK_KEY]
    end = now()
    with transaction(engine) as session:
        mark = session.get(CrmUpdatesMark, key)
        since = mark.fetched_until if mark is not None else None
    if since is None:
        return False
    try:
        page = client.updates(since - OVERLAP, end)
    except Unavailable as exc:
        report.failed += 1
        log.warning("event=crm_updates_failed error=%r", str(exc))
        return True
    except CrmRejected as exc:
        report.failed += 1
        log.warning("event=crm_updates_refused error=%r", str(exc))
        return False
    report.failed += page.skipped
    oldest_first = sorted(page, key=lambda u: (u.updated_at or end, u.update_id))
    for update in oldest_first:
        _apply(engine, staff, update.state, now, report)
    _mark(engine, key, end)
    return True


MARK_KEY = storable.column_length(CrmUpdatesMark.endpoint)


def _mark(engine: Engine, key: str, until: datetime) -> None:
    with transaction(engine) as session:
        mark = session.get(CrmUpdatesMark, key, with_for_update=True)
        if mark is None:
            session.add(CrmUpdatesMark(endpoint=key, fetched_until=until))
        elif until > mark.fetched_until:
            mark.fetched_until = until


def _resolve_tokens(engine: Engine, client: Open311Client, now: Clock, report: SyncReport) -> None:
    with transaction(engine) as session:
        waiting = session.exec(
            select(CrmRequest.id, CrmRequest.token)
            .where(CrmRequest.state == CrmState.TOKEN, col(CrmRequest.token).is_not(None))
            .order_by(col(CrmRequest.id))
        ).all()
    for row_id, token in waiting:
        assert token is not None
        try:
            accepted = client.token(token)
        except Unavailable as exc:
            report.failed += 1
            log.warning("event=crm_token_failed error=%r", str(exc))
            return  # the CRM is down: the other tokens wait too
        except CrmRejected as exc:  # e.g. a token the CRM no longer knows: staff look at it
            report.failed += 1
            with transaction(engine) as session:
                row = session.get(CrmRequest, row_id)
                assert row is not None
                row.last_error = str(exc)[:1000]
            log.warning("event=crm_token_refused row=%s error=%r", row_id, str(exc))
            continue
        report.checked += 1
        if accepted.service_request_id is None:
            continue  # not given an id yet: asked again next round
        with transaction(engine) as session:
            row = session.get(CrmRequest, row_id, with_for_update=True)
            if row is None or row.state is not CrmState.TOKEN:
                continue
            holder = session.exec(
                select(CrmRequest.case_id).where(
                    CrmRequest.service_request_id == accepted.service_request_id,
                    col(CrmRequest.id) != row_id,
                )
            ).first()
            if holder is not None:
                # As the forwarder does with a reused id: two rows on one id would each be told
                # the other's news. This one is left to staff, never sent again.
                row.state = CrmState.REJECTED
                row.last_error = (
                    f"the CRM's token {token} became request id {accepted.service_request_id}, "
                    f"which is case #{holder}'s: not recorded (ask the CRM which is this case's)"
                )
                report.failed += 1
                log.error(
                    "event=crm_id_reused case_id=%s service_request_id=%s holder=%s",
                    row.case_id,
                    accepted.service_request_id,
                    holder,
                )
                continue
            row.state, row.service_request_id = CrmState.SENT, accepted.service_request_id
            row.synced_at, row.last_error = now(), None
        log.info(
            "event=crm_token_resolved case_id=%s service_request_id=%s",
            row.case_id,
            accepted.service_request_id,
        )


def _apply(
    engine: Engine, staff: Staff, state: RequestState, now: Clock, report: SyncReport
) -> None:
    """Keep the CRM's word on the row; when it is news, do what it means to the case."""
    with transaction(engine) as session:
        row = session.exec(
            select(CrmRequest).where(
                CrmRequest.service_request_id == state.service_request_id,
                CrmRequest.state == CrmState.SENT,
            )
        ).first()
        if row is None:
            return  # a request we did not make (an update of another channel's), or not sent
        report.checked += 1
        if (
            state.updated_at is not None
            and row.crm_updated_at is not None
            and state.updated_at < row.crm_updated_at
        ):
            # Older than the CRM's word we hold (an update the overlap reads again, behind a
            # later one): no news, however it differs from where the request is now.
            return
        said = (state.status, state.extended_status)
        news = said != (row.crm_status, row.crm_extended_status)
        # The first reading of a plain open request is where every request starts: no change.
        first = row.crm_status is None
        moved = news and not (first and said == ("open", None))
        if moved or (not first and row.crm_status_notes != state.status_notes):
            report.changed += 1
        row.crm_status, row.crm_extended_status = state.status, state.extended_status
        row.crm_status_notes = state.status_notes
        row.crm_updated_at = state.updated_at or row.crm_updated_at
        row.synced_at = now()
        case = session.get(Case, row.case_id)
        assert case is not None
        case_id, case_status = row.case_id, case.status
    if not news:
        return
    closure = closure_of(state)
    if closure is None or not applies(closure, case_status):
        return
    request = _request(case_id, closure, state)
    try:
        staff.act(request, now())
    except SocialbotError as exc:
        report.failed += 1
        log.error(
            "event=crm_action_refused case_id=%s action=%s error=%r",
            case_id,
            request.action.value,
            str(exc),
        )
        return
    if request.action in (Action.RESOLVE, Action.CLOSE):
        report.closed += 1
    log.info(
        "event=crm_acted case_id=%s action=%s crm_status=%s extended=%s",
        case_id,
        request.action.value,
        state.status,
        state.extended_status,
    )


def _request(case_id: int, closure: Closure, state: RequestState) -> Request:
    """The staff action the CRM's state asks for, its notes the internal note."""
    said = f"the CRM says {state.extended_status or state.status}"
    note = f"{said}: {state.status_notes}" if state.status_notes else said
    reason = closure.reason
    if reason is CloseReason.DUPLICATE:
        # Of a request we may never have made: no case of ours to point `--of` at.
        reason = CloseReason.INVALID
        note += " (a duplicate of another of its requests)"
    # The CRM's time of the change, not our sync's: `report` counts the crew's time to close.
    return Request(
        case_id, closure.action, ACTOR, note=note, reason=reason, happened_at=state.updated_at
    )
