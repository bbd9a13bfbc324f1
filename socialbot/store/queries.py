"""Read-side queries shared by the CLI, the demo and the tests."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy
from sqlalchemy import ColumnElement, Engine, and_, func, or_
from sqlmodel import col, select

from socialbot.domain import (
    REPORT_OUTCOMES,
    CaseStatus,
    GeoPoint,
    InboxReason,
    InboxState,
    MentionOutcome,
)
from socialbot.lifecycle import OPEN, CloseReason
from socialbot.location import EARTH_RADIUS_M, haversine_m
from socialbot.reports import CaseFacts, InboxFacts, MessageFacts, ReportFacts
from socialbot.store.db import transaction
from socialbot.store.models import (
    Case,
    CaseEvent,
    CrmRequest,
    CrmState,
    InboxItem,
    MentionRecord,
    OutboxMessage,
)

# The statuses a crew still owes work on: what "open", "backlog" and "overdue" count.
OPEN_STATUSES = OPEN


@dataclass(frozen=True, slots=True)
class CaseDetail:
    case: Case
    mentions: list[MentionRecord]
    events: list[CaseEvent]
    replies: list[OutboxMessage]
    crm: CrmRequest | None = None  # its request in the city's Open311 CRM, once queued


def list_cases(
    engine: Engine,
    *,
    status: CaseStatus | None = None,
    category: str | None = None,
    department: str | None = None,
    since: datetime | None = None,
    author: str | None = None,
    near: GeoPoint | None = None,
    radius_m: float | None = None,
    limit: int | None = None,
    district: str | None = None,
    overdue_at: datetime | None = None,
    crm_failed: bool = False,
) -> list[Case]:
    """Cases matching every filter given, by case number.

    `department` and `author` (with or without '@') ignore case; `since` keeps cases opened at
    or after it; `near` keeps cases within `radius_m` metres of it (cases without a location
    never match): a bounding box in SQL, then the exact great-circle distance here. `district`
    ignores case; `overdue_at` keeps open cases whose due time is before it; `crm_failed` keeps
    the cases the city's Open311 CRM refused (`CrmState.REJECTED`).
    """
    query = select(Case).order_by(col(Case.id))
    if status is not None:
        query = query.where(Case.status == status)
    if category is not None:
        query = query.where(Case.category == category)
    if department is not None:
        # lower() on both sides: the database folds the column and the value alike.
        query = query.where(func.lower(col(Case.department)) == func.lower(department))
    if since is not None:
        query = query.where(col(Case.created_at) >= since)
    if district is not None:
        query = query.where(func.lower(col(Case.district)) == func.lower(district))
    if overdue_at is not None:
        query = query.where(
            col(Case.due_at) < overdue_at, col(Case.status).in_(list(OPEN_STATUSES))
        )
    if crm_failed:
        query = query.where(
            col(Case.id).in_(
                select(CrmRequest.case_id).where(CrmRequest.state == CrmState.REJECTED)
            )
        )
    if author is not None:
        query = query.where(
            func.lower(col(Case.author_username)) == func.lower(author.removeprefix("@"))
        )
    if near is not None:
        if radius_m is None:
            raise ValueError("near needs radius_m")
        query = query.where(_within_box(near, radius_m))
    elif radius_m is not None:
        raise ValueError("radius_m needs near")
    if limit is not None and near is None:
        query = query.limit(limit)
    with transaction(engine) as session:
        cases = list(session.exec(query).all())
    if near is not None and radius_m is not None:
        cases = [
            case
            for case in cases
            if case.lat is not None
            and case.lon is not None
            and haversine_m(near, GeoPoint(case.lat, case.lon)) <= radius_m
        ]
        if limit is not None:
            cases = cases[:limit]
    return cases


@dataclass(frozen=True, slots=True)
class Box:
    """Latitudes south..north; longitudes as one or two ranges (two across the antimeridian);
    no longitude range at all when the circle reaches a pole."""

    south: float
    north: float
    lon_ranges: tuple[tuple[float, float], ...] | None


# About a centimetre: floating-point rounding must never drop a case on the circle's edge.
_PAD_DEG = 1e-7


def bounding_box(center: GeoPoint, radius_m: float) -> Box:
    """The smallest lat/lon box holding every point within `radius_m` of `center` on the sphere
    `haversine_m` uses, so the box is a safe prefilter for the exact distance.

    A degree of longitude shrinks with cos(latitude): the circle's widest longitude span is
    asin(sin d / cos lat) for an angular radius d, wider than d / cos lat suggests near the poles.
    """
    d = radius_m / EARTH_RADIUS_M  # angular radius, radians
    d_lat = math.degrees(d) + _PAD_DEG
    south, north = center.lat - d_lat, center.lat + d_lat
    if south <= -90.0 or north >= 90.0:  # a pole is inside: every longitude
        return Box(max(south, -90.0), min(north, 90.0), None)
    d_lon = math.degrees(math.asin(min(1.0, math.sin(d) / math.cos(math.radians(center.lat)))))
    d_lon += _PAD_DEG
    if d_lon >= 180.0:
        return Box(south, north, None)
    west, east = center.lon - d_lon, center.lon + d_lon
    if west < -180.0:
        ranges: tuple[tuple[float, float], ...] = ((west + 360.0, 180.0), (-180.0, east))
    elif east > 180.0:
        ranges = ((west, 180.0), (-180.0, east - 360.0))
    else:
        ranges = ((west, east),)
    return Box(south, north, ranges)


def _within_box(center: GeoPoint, radius_m: float) -> ColumnElement[bool]:
    box = bounding_box(center, radius_m)
    lat, lon = col(Case.lat), col(Case.lon)
    conditions: list[ColumnElement[bool]] = [
        lat.is_not(None),
        lon.is_not(None),
        lat.between(box.south, box.north),
    ]
    if box.lon_ranges is not None:
        conditions.append(or_(*(lon.between(west, east) for west, east in box.lon_ranges)))
    return and_(*conditions)


def get_case(engine: Engine, case_id: int) -> CaseDetail | None:
    if not 0 < case_id <= 2**31 - 1:  # no such key; the driver would overflow
        return None
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        if case is None:
            return None
        mentions = session.exec(
            select(MentionRecord)
            .where(MentionRecord.case_id == case_id)
            .order_by(col(MentionRecord.id))
        ).all()
        events = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.id))
        ).all()
        replies = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.case_id == case_id)
            .order_by(col(OutboxMessage.id))
        ).all()
        crm = session.exec(select(CrmRequest).where(CrmRequest.case_id == case_id)).first()
        return CaseDetail(case, list(mentions), list(events), list(replies), crm)


def outbox_rows(engine: Engine) -> list[OutboxMessage]:
    with transaction(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())


def case_facts(engine: Engine, *, until: datetime | None = None) -> list[CaseFacts]:
    """Every case as the reports read it (opened before `until`, when given)."""
    query = select(Case).order_by(col(Case.id))
    if until is not None:
        query = query.where(col(Case.created_at) < until)
    with transaction(engine) as session:
        return [_facts(case) for case in session.exec(query)]


def _facts(case: Case) -> CaseFacts:
    assert case.id is not None
    return CaseFacts(
        id=case.id,
        category=case.category,
        department=case.department,
        district=case.district,
        status=case.status,
        created_at=case.created_at,
        resolved_at=case.resolved_at,
        due_at=case.due_at,
        author_id=case.author_id,
        author_username=case.author_username,
        lat=case.lat,
        lon=case.lon,
        cell=case.cell,
        reporter_count=case.reporter_count,
        duplicate_of=case.duplicate_of if case.close_reason == CloseReason.DUPLICATE else None,
        closed_at=case.closed_at,
        network=case.platform,
    )


def report_facts(engine: Engine, *, until: datetime | None = None) -> list[ReportFacts]:
    """Every resident's report: the post that opened each case, and each report linked to a case
    as a duplicate (so "two people, twenty times each" shows)."""
    query = (
        select(MentionRecord, Case.category)
        .join(Case, col(MentionRecord.case_id) == col(Case.id))
        .where(col(MentionRecord.outcome).in_(REPORT_OUTCOMES))
        .order_by(col(MentionRecord.id))
    )
    if until is not None:
        query = query.where(col(MentionRecord.received_at) < until)
    with transaction(engine) as session:
        return [
            ReportFacts(
                case_id=record.case_id or 0,
                category=category,
                author_id=record.author_id,
                author_username=record.author_username,
                created_at=record.received_at,
                network=record.platform,
            )
            for record, category in session.exec(query)
        ]


def message_facts(engine: Engine, *, since: datetime, until: datetime) -> list[MessageFacts]:
    """Every mention received in ``[since, until)``: three columns a row, not the post's text."""
    query = (
        select(MentionRecord.platform, MentionRecord.outcome, MentionRecord.received_at)
        .where(col(MentionRecord.received_at) >= since, col(MentionRecord.received_at) < until)
        .order_by(col(MentionRecord.id))
    )
    with transaction(engine) as session:
        return [
            MessageFacts(network, MentionOutcome(outcome), received_at)
            for network, outcome, received_at in session.exec(query)
        ]


def inbox_facts(engine: Engine, *, since: datetime, until: datetime) -> list[InboxFacts]:
    """The inbox items the engagement figures can count: open now (on `ix_inbox_queue`), or
    closed in ``[since, until)``."""
    query = (
        sqlalchemy.select(  # six columns: more than sqlmodel's `select` is typed for
            col(InboxItem.platform),
            col(InboxItem.reason),
            col(InboxItem.state),
            col(InboxItem.created_at),
            col(InboxItem.closed_at),
            col(InboxItem.priority),
        )
        .where(
            or_(
                col(InboxItem.state) == InboxState.OPEN,
                and_(col(InboxItem.closed_at) >= since, col(InboxItem.closed_at) < until),
            )
        )
        .order_by(col(InboxItem.id))
    )
    with transaction(engine) as session:
        return [
            InboxFacts(network, InboxReason(reason), InboxState(state), created, closed, priority)
            for network, reason, state, created, closed, priority in session.execute(query)
        ]
