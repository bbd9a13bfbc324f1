"""Each person's say in what they are sent: STOP and START (`consent_events`) and the city's
alerts they asked for (`subscriptions`), read and written inside the caller's transaction.

A recipient is named as their network names them (`address`: on SMS the E.164 number, personal
data never printed in full). Their standing is their newest consent event: a STOP, and nothing
more is sent to them, no reply and no alert, until a START. The events are never changed nor
deleted: the record a sender keeps of who asked for nothing. A subscription ends (`ended_at`)
when they STOP or subscribe anew; the active ones are those that have not ended.

Network-neutral: nothing here asks which network it serves.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, exists, func, select, update
from sqlmodel import Session, col

from socialbot.store.db import conflict_insert
from socialbot.store.models import ConsentAction, ConsentEvent, ConsentSource, Subscription

__all__ = [
    "ActiveSubscriber",
    "active_subscribers",
    "is_stopped",
    "record_consent",
    "stopped",
    "stopped_clause",
    "subscribe",
    "unsubscribe",
]

# Bound parameters a statement may carry (SQLite's default limit is 32,766; a margin kept).
_CHUNK = 500


_EVENTS: Table = ConsentEvent.__table__  # type: ignore[attr-defined]


def _newest_is_stop(platform: Any, address: Any) -> ColumnElement[bool]:
    event, newer = _EVENTS.alias("event"), _EVENTS.alias("newer")
    return exists().where(
        event.c.platform == platform,
        event.c.address == address,
        event.c.action == ConsentAction.STOP.value,
        ~exists().where(
            newer.c.platform == event.c.platform,
            newer.c.address == event.c.address,
            newer.c.id > event.c.id,
        ),
    )


def stopped_clause(platform: Any, address: Any) -> ColumnElement[bool]:
    """SQL true where (`platform`, `address`), columns of the caller's query, said STOP last:
    what a query of rows to send leaves out (`NOT stopped_clause(...)`). A NULL address (a post
    anyone reads) is never stopped."""
    return and_(address.is_not(None), _newest_is_stop(platform, address))


def stopped(session: Session, platform: str, addresses: Iterable[str]) -> set[str]:
    """Of `addresses` on `platform`, those whose newest consent event is a STOP."""
    wanted = sorted(set(addresses))
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        newest = (
            select(_EVENTS.c.address, func.max(_EVENTS.c.id).label("id"))
            .where(_EVENTS.c.platform == platform, _EVENTS.c.address.in_(chunk))
            .group_by(_EVENTS.c.address)
            .subquery()
        )
        query = (
            select(_EVENTS.c.address)
            .join(newest, _EVENTS.c.id == newest.c.id)
            .where(_EVENTS.c.action == ConsentAction.STOP.value)
        )
        found.update(session.execute(query).scalars())
    return found


def is_stopped(session: Session, platform: str, address: str) -> bool:
    """Whether `address` on `platform` said STOP last."""
    return bool(stopped(session, platform, (address,)))


def record_consent(
    session: Session,
    platform: str,
    address: str,
    action: ConsentAction,
    source: ConsentSource,
    *,
    at: datetime,
    word: str | None = None,
    mention_id: int | None = None,
) -> bool:
    """Record one STOP or START; a STOP also ends the recipient's subscriptions. False when the
    text that said it (`mention_id`) was recorded already (a page read again after a crash):
    nothing is written twice."""
    insert = conflict_insert(session.get_bind().dialect.name, ConsentEvent).values(
        platform=platform,
        address=address,
        action=action.value,
        source=source.value,
        word=word,
        mention_id=mention_id,
        at=at,
    )
    if mention_id is not None:
        insert = insert.on_conflict_do_nothing(index_elements=["mention_id"])
    written = session.execute(insert.returning(ConsentEvent.id)).first() is not None
    if written and action is ConsentAction.STOP:
        unsubscribe(session, platform, address, at=at, reason="stop")
    return written


@dataclass(frozen=True, slots=True)
class ActiveSubscriber:
    """A recipient an alert for a district goes to, in the language they subscribed in."""

    subscription_id: int
    address: str
    district: str | None
    lang: str


def subscribe(
    session: Session,
    platform: str,
    address: str,
    *,
    district: str | None,
    lang: str,
    at: datetime,
    mention_id: int | None = None,
) -> int:
    """Subscribe `address` to the alerts of `district` (None: the whole city) in `lang`,
    ending the subscription they had (the new one replaces it). The new row's id."""
    unsubscribe(session, platform, address, at=at, reason="replaced")
    row = Subscription(
        platform=platform,
        address=address,
        district=district,
        lang=lang,
        mention_id=mention_id,
        created_at=at,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def unsubscribe(session: Session, platform: str, address: str, *, at: datetime, reason: str) -> int:
    """End every active subscription of `address`; how many there were."""
    result = session.execute(
        update(Subscription)
        .where(
            col(Subscription.platform) == platform,
            col(Subscription.address) == address,
            col(Subscription.ended_at).is_(None),
        )
        .values(ended_at=at, ended_reason=reason)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def active_subscribers(
    session: Session, platform: str, districts: Collection[str] | None
) -> list[ActiveSubscriber]:
    """The active subscribers on `platform` an alert for `districts` reaches (None: the whole
    city, every subscriber): those of one of the districts and those of the whole city, never
    one whose newest consent event is a STOP, oldest subscription first."""
    query = select(Subscription).where(
        col(Subscription.platform) == platform,
        col(Subscription.ended_at).is_(None),
        ~stopped_clause(col(Subscription.platform), col(Subscription.address)),
    )
    if districts is not None:
        query = query.where(
            col(Subscription.district).is_(None) | col(Subscription.district).in_(list(districts))
        )
    rows = session.execute(query.order_by(col(Subscription.id))).scalars()
    return [ActiveSubscriber(_id(row.id), row.address, row.district, row.lang) for row in rows]


def _id(value: int | None) -> int:
    assert value is not None  # a row read back has its id
    return value
