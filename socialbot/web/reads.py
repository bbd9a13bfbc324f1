"""The database reads behind the web service's pages: plain rows into `PublicCase`s, a bounded
number of queries a page whatever the number of cases (the service reads a database that may hold
millions of them while the bot writes to it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, select
from sqlmodel import col

from socialbot.domain import CaseStatus, GeoPoint
from socialbot.lifecycle import FINISHED, OPEN
from socialbot.store.models import Case, CaseEvent, OutboxMessage
from socialbot.web.public import PublicCase, public_photo, public_text

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
    col(Case.photo_urls),
    col(Case.public),
    col(Case.lang),
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
    """Case `number` as anyone may see it; None if there is no such case."""
    where = CaseFilter(numbers=(number,), limit=1)
    cases = read_cases(engine, where, show_words=show_words, history=history)
    return cases[0] if cases else None


def read_cases(
    engine: Engine, where: CaseFilter, *, show_words: bool, history: bool = True
) -> list[PublicCase]:
    """The cases `where` names, newest first, as anyone may see them: three queries (the cases,
    when each was first acknowledged, which have an after-photo) whatever their number. Without
    `history` (Open311, which shows neither) the cases' query alone: `acknowledged_at` is None
    and `has_after_photo` false."""
    query = select(*_COLUMNS)
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
    query = query.order_by(col(Case.created_at).desc(), col(Case.id).desc()).limit(where.limit)
    with engine.connect() as connection:
        rows: list[Any] = list(connection.execute(query).all())
        numbers: list[int] = [row[0] for row in rows] if history else []
        acknowledged = _acknowledged(connection, numbers)
        with_photo = _after_photos(connection, [r[0] for r in rows if r[15]] if history else [])
    return [
        _public(row, acknowledged.get(row[0]), row[0] in with_photo, show_words) for row in rows
    ]


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
    query = (
        select(col(OutboxMessage.media_path), col(OutboxMessage.media_alt))
        .join(Case, col(Case.id) == col(OutboxMessage.case_id))
        .where(
            col(OutboxMessage.case_id) == number,
            col(Case.public).is_(True),
            col(OutboxMessage.template).in_(AFTER_PHOTO_TEMPLATES),
            col(OutboxMessage.media_path).is_not(None),
        )
        .order_by(col(OutboxMessage.id).desc())
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return AfterPhoto(Path(row[0]), row[1] or None) if row is not None and row[0] else None


def _acknowledged(connection: Connection, numbers: Sequence[int]) -> dict[int, datetime]:
    """When staff first moved each case past new (ack, start or a resolve straight away)."""
    if not numbers:
        return {}
    moved = [s.value for s in CaseStatus if s not in (CaseStatus.NEW, CaseStatus.NEEDS_LOCATION)]
    query = (
        select(col(CaseEvent.case_id), func.min(col(CaseEvent.at)))
        .where(
            col(CaseEvent.case_id).in_(numbers),
            col(CaseEvent.to_status).in_(moved),
            col(CaseEvent.from_status).is_not(None),
        )
        .group_by(col(CaseEvent.case_id))
    )
    return {case_id: at for case_id, at in connection.execute(query).all()}


def _after_photos(connection: Connection, numbers: Sequence[int]) -> set[int]:
    if not numbers:
        return set()
    query = (
        select(col(OutboxMessage.case_id))
        .where(
            col(OutboxMessage.case_id).in_(numbers),
            col(OutboxMessage.template).in_(AFTER_PHOTO_TEMPLATES),
            col(OutboxMessage.media_path).is_not(None),
        )
        .distinct()
    )
    return {case_id for (case_id,) in connection.execute(query).all() if case_id is not None}


def _public(row: Any, acknowledged: datetime | None, photo: bool, show_words: bool) -> PublicCase:
    (number, category, department, status, reason, of, created, updated, resolved, closed, due,
     lat, lon, text, photos, public, lang) = row  # fmt: skip
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
        photo_url=public_photo(list(photos or []), bool(public)),
        has_after_photo=photo and bool(public),
        lang=lang,
    )
