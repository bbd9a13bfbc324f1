"""How many people asked for the city's alerts, and how many said STOP: counts only, never an
address (on SMS a phone number, personal data), for `socialbot sms subscribers`.

Network-neutral: the caller names the network (`platform`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, Table, func, select
from sqlmodel import col

from socialbot.consent import stopped_clause
from socialbot.store.db import transaction
from socialbot.store.models import ConsentAction, ConsentEvent, Subscription

_EVENTS: Table = ConsentEvent.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class SubscriberCount:
    """Active subscribers of one district (None: the whole city) in one language."""

    district: str | None
    lang: str
    count: int


@dataclass(frozen=True, slots=True)
class SubscriberCounts:
    """The active subscriptions by district and language (none of a number that said STOP
    last), and how many addresses said STOP last: sent nothing until they say START."""

    active: tuple[SubscriberCount, ...]
    opted_out: int

    @property
    def total(self) -> int:
        return sum(c.count for c in self.active)


def subscriber_counts(engine: Engine, platform: str) -> SubscriberCounts:
    """Two GROUP BYs on `platform`'s subscriptions and consent events."""
    active = (
        select(col(Subscription.district), col(Subscription.lang), func.count())
        .where(
            col(Subscription.platform) == platform,
            col(Subscription.ended_at).is_(None),
            ~stopped_clause(col(Subscription.platform), col(Subscription.address)),
        )
        .group_by(col(Subscription.district), col(Subscription.lang))
    )
    newest = (
        select(func.max(_EVENTS.c.id).label("id"))
        .where(_EVENTS.c.platform == platform)
        .group_by(_EVENTS.c.address)
        .subquery()
    )
    stopped = (
        select(func.count())
        .select_from(_EVENTS.join(newest, _EVENTS.c.id == newest.c.id))
        .where(_EVENTS.c.action == ConsentAction.STOP.value)
    )
    with transaction(engine) as session:
        rows = session.execute(active).all()
        opted_out = int(session.execute(stopped).scalar_one())
    counts = sorted(
        (SubscriberCount(district, lang, int(count)) for district, lang, count in rows),
        key=lambda c: (c.district is not None, c.district or "", c.lang),
    )
    return SubscriberCounts(tuple(counts), opted_out)
