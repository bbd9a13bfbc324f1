"""The database reads behind the web service's pages: plain rows into `PublicCase`s, a bounded
number of queries a page whatever the number of cases (the service reads a database that may hold
millions of them while the bot writes to it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, false, func, null, select
from sqlmodel import col

from socialbot.domain import CaseStatus, GeoPoint
from socialbot.lifecycle import FINISHED, OPEN
from socialbot.store.models import Case, CaseEvent, OutboxMessage
from socialbot.web.public import PublicCase, public_address, public_photo, public_text

# The resolved reply that carries staff's after-photo (`cases resolve --photo`).
AFTER_PHOTO_TEMPLATES = ("resolved",)

_COLUMNS = (
    col(Case.id),
    col(Case.category),
    col(Case.department),
    col(Case.status),
    col(Case.close_reason),
    col(Case.duplicate_of),
    col(Case.created_at),
    col(Case.updated_at),
    col(Case.resolved_at),
    col(Case.closed_at),
    col(Case.due_at),
    col(Case.lat),
    col(Case.lon),
    col(Case.description),
    # The first photo alone, read out of the JSON list by the database (json_extract, ->>):
    # parsing each case's whole list in Python was a third of a list's time.
    col(Case.public_photo_urls)[0].as_string(),
    col(Case.public),
    col(Case.lang),
    col(Case.address),
)


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Which cases a list shows: `numbers` alone when given (Open311's service_request_id
    overrides every other filter), else the rest, newest first, at most `limit`."""

    numbers: tuple[int, ...] | None = None
    categories: tuple[str, ...] | None = None
    open: bool | None = None  # True: open only; False: closed only; None: both
    start: datetime | None = None
    end: datetime | None = None
    limit: int = 1000


def read_case(
    engine: Engine, number: int, *, show_words: bool, history: bool = True
) -> PublicCase | None:
    """Case `number` as anyone may see it; None if there is no such case. Without `history`
    (Open311, which shows neither) `acknowledged_at` is None and `has_after_photo` false."""
    statement = _BY_NUMBER if history else _BY_NUMBER_BARE
    with engine.connect() as connection:
        row = connection.execute(statement, {"number": number}).first()
    return _public(row, show_words) if row is not None else None


def read_cases(
    engine: Engine, where: CaseFilter, *, show_words: bool, history: bool = True
) -> list[PublicCase]:
    """The cases `where` names, newest first, as anyone may see them: one query (the cases, when
    each was first acknowledged, whether it has an after-photo) whatever their number. Without
    `history` (Open311, which shows neither) the cases alone: `acknowledged_at` is None and
    `has_after_photo` false."""
    query = _SELECT if history else _SELECT_BARE
    if where.numbers is not None:
        query = query.where(col(Case.id).in_(where.numbers))
    else:
        if where.categories is not None:
            query = query.where(col(Case.category).in_(where.categories))
        if where.open is not None:
            query = query.where(col(Case.status).in_(list(OPEN if where.open else FINISHED)))
        if where.start is not None:
            query = query.where(col(Case.created_at) >= where.start)
        if where.end is not None:
            query = query.where(col(Case.created_at) <= where.end)
    query = query.order_by(*_NEWEST_FIRST).limit(where.limit)
    with engine.connect() as connection:
        rows: list[Any] = list(connection.execute(query).all())
    return [_public(row, show_words) for row in rows]


def change_mark(engine: Engine) -> int | None:
    """What changes whenever a case does: the newest case event's id (opening, every staff
    action, a follow-up, a duplicate linked, a closure from the CRM each write one). One look-up
    of the primary key's end, for `answer_cache.AnswerCache`."""
    with engine.connect() as connection:
        mark: int | None = connection.execute(_CHANGE_MARK).scalar()
    return mark


@dataclass(frozen=True, slots=True)
class AfterPhoto:
    """The photo staff attached when resolving a case, and the alt text its reply carried."""

    path: Path
    alt: str | None


def after_photo(engine: Engine, number: int) -> Path | None:
    """The file of the after-photo staff attached to case `number`'s resolved reply (the newest
    one), if the case is public; None otherwise. The file may be gone since."""
    photo = read_after_photo(engine, number)
    return photo.path if photo is not None else None


def read_after_photo(engine: Engine, number: int) -> AfterPhoto | None:
    """`after_photo` with its alt text (the resolve's note, or the text staff.py made up)."""
    with engine.connect() as connection:
        row = connection.execute(_AFTER_PHOTO_OF, {"number": number}).first()
    return AfterPhoto(Path(row[0]), row[1] or None) if row is not None and row[0] else None


# When staff first moved each case past new (ack, start or a resolve straight away), and whether
# staff attached an after-photo: correlated subqueries on the indexed case_id, computed for the
# rows returned only. One statement built once: SQLAlchemy's statement building and cache key
# cost more than SQLite's answer for one case (scripts/bench_web.py).
_MOVED = [s.value for s in CaseStatus if s not in (CaseStatus.NEW, CaseStatus.NEEDS_LOCATION)]
_ACKNOWLEDGED = (
    select(func.min(col(CaseEvent.at)))
    .where(
        col(CaseEvent.case_id) == col(Case.id),
        col(CaseEvent.to_status).in_(_MOVED),
        col(CaseEvent.from_status).is_not(None),
    )
    .scalar_subquery()
)
_AFTER_PHOTO = (
    select(col(OutboxMessage.id))
    .where(
        col(OutboxMessage.case_id) == col(Case.id),
        col(OutboxMessage.template).in_(AFTER_PHOTO_TEMPLATES),
        col(OutboxMessage.media_path).is_not(None),
    )
    .exists()
)
_SELECT = select(*_COLUMNS, _ACKNOWLEDGED, _AFTER_PHOTO)
_SELECT_BARE = select(*_COLUMNS, null(), false())
_NEWEST_FIRST = (col(Case.created_at).desc(), col(Case.id).desc())
_AFTER_PHOTO_OF = (  # built once, as _BY_NUMBER: a status page reads it with its case
    select(col(OutboxMessage.media_path), col(OutboxMessage.media_alt))
    .join(Case, col(Case.id) == col(OutboxMessage.case_id))
    .where(
        col(OutboxMessage.case_id) == bindparam("number"),
        col(Case.public).is_(True),
        col(OutboxMessage.template).in_(AFTER_PHOTO_TEMPLATES),
        col(OutboxMessage.media_path).is_not(None),
    )
    .order_by(col(OutboxMessage.id).desc())
    .limit(1)
)
_CHANGE_MARK = select(func.max(col(CaseEvent.id)))
_BY_NUMBER = _SELECT.where(col(Case.id) == bindparam("number"))
_BY_NUMBER_BARE = _SELECT_BARE.where(col(Case.id) == bindparam("number"))


def _public(row: Any, show_words: bool) -> PublicCase:
    (number, category, department, status, reason, of, created, updated, resolved, closed, due,
     lat, lon, text, photos, public, lang, address, acknowledged, photo) = row  # fmt: skip
    return PublicCase(
        number=number,
        category=category,
        department=department,
        status=CaseStatus(status),
        close_reason=reason,
        duplicate_of=of,
        requested_at=created,
        updated_at=updated,
        acknowledged_at=acknowledged,
        resolved_at=resolved,
        closed_at=closed,
        expected_at=due,
        point=GeoPoint(lat, lon) if lat is not None and lon is not None else None,
        text=public_text(text, bool(public), show_words),
        photo_url=public_photo([photos] if photos else [], bool(public)),
        has_after_photo=bool(photo) and bool(public),
        lang=lang,
        address=public_address(address, bool(public)),
    )
