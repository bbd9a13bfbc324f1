"""Storm mode: a named campaign whose hashtag every broadcast carries while it is on.

At most one campaign is on at a time; starting and stopping are recorded with who and when, so
the audit shows when the city was in storm mode.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from socialbot.domain import StormMode
from socialbot.errors import BroadcastError
from socialbot.hashtags import extract_hashtags
from socialbot.store.db import transaction
from socialbot.store.models import StormCampaign

UTC_ZONE = ZoneInfo("UTC")

MAX_NAME, MAX_HASHTAG = StormMode.MAX_NAME, StormMode.MAX_HASHTAG


def active(session: Session) -> StormCampaign | None:
    return session.exec(
        select(StormCampaign)
        .where(col(StormCampaign.stopped_at).is_(None))
        .order_by(col(StormCampaign.id).desc())
    ).first()


def mode(session: Session) -> StormMode | None:
    """Storm mode as `session` sees it, or None when it is off."""
    row = active(session)
    return StormMode(name=row.name, hashtag=row.hashtag) if row else None


def current(engine: Engine) -> StormMode | None:
    """Storm mode as it is now, or None when it is off."""
    with transaction(engine) as session:
        return mode(session)


def start(
    engine: Engine,
    name: str,
    hashtag: str,
    actor: str,
    now: Callable[[], datetime],
    zone: ZoneInfo = UTC_ZONE,
) -> StormCampaign:
    """Storm mode on, as `actor`; refused while a storm is on (named with its start, in `zone`:
    the city's)."""
    name, tag = name.strip(), hashtag.strip().removeprefix("#")
    if not name or len(name) > MAX_NAME:
        raise BroadcastError(
            f"--name {name!r}: give the storm's name, at most {MAX_NAME} characters"
        )
    if extract_hashtags(f"#{tag}") != [tag] or len(tag) > MAX_HASHTAG:
        raise BroadcastError(
            f"--hashtag {hashtag!r}: not a hashtag X would recognise (letters, digits and _, not "
            f"only digits, at most {MAX_HASHTAG} characters), e.g. BoSandy"
        )
    with transaction(engine) as session:
        on = active(session)
        if on is not None:
            raise BroadcastError(
                f"storm mode is already on: {on.name} #{on.hashtag} since "
                f"{on.started_at.astimezone(zone):%Y-%m-%d %H:%M %Z}; run `socialbot storm stop` "
                "first"
            )
        row = StormCampaign(name=name, hashtag=tag, started_at=now(), started_by=actor)
        session.add(row)
        session.flush()
        return row


def stop(engine: Engine, actor: str, now: Callable[[], datetime]) -> StormCampaign:
    with transaction(engine) as session:
        row = active(session)
        if row is None:
            raise BroadcastError("storm mode is not on")
        row.stopped_at, row.stopped_by = now(), actor
        return row
