"""Blocking accounts: staff's answer to abuse. A blocked account's posts are still recorded (the
audit trail stays whole) but open nothing and get no reply."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func
from sqlmodel import col, select

from socialbot.errors import SocialbotError
from socialbot.store.db import transaction
from socialbot.store.models import BlockedAuthor, MentionRecord

HANDLE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


def normalize_handle(handle: str) -> str:
    """`@SomeOne` → `someone`; X handles are 1-15 letters, digits or underscores."""
    name = handle.strip().removeprefix("@").lower()
    if not name or len(name) > 15 or not set(name) <= HANDLE_CHARS:
        raise SocialbotError(f"{handle!r} is not an X handle (1-15 letters, digits or _)")
    return name


def block(
    engine: Engine, handle: str, *, by: str, reason: str, now: datetime, platform: str = "x"
) -> BlockedAuthor:
    name = normalize_handle(handle)
    with transaction(engine) as session:
        if session.exec(
            select(BlockedAuthor).where(
                BlockedAuthor.platform == platform, BlockedAuthor.username == name
            )
        ).first():
            raise SocialbotError(f"@{name} is already blocked")
        # Handles can change; the account id we have seen with it cannot.
        user_id = session.exec(
            select(MentionRecord.author_id)
            .where(
                MentionRecord.platform == platform,
                func.lower(col(MentionRecord.author_username)) == name,
            )
            .order_by(col(MentionRecord.id).desc())
        ).first()
        row = BlockedAuthor(
            platform=platform,
            username=name,
            user_id=user_id,
            blocked_at=now,
            blocked_by=by,
            reason=reason,
        )
        session.add(row)
        return row


def unblock(engine: Engine, handle: str, *, platform: str = "x") -> None:
    name = normalize_handle(handle)
    with transaction(engine) as session:
        row = session.exec(
            select(BlockedAuthor).where(
                BlockedAuthor.platform == platform, BlockedAuthor.username == name
            )
        ).first()
        if row is None:
            raise SocialbotError(f"@{name} is not blocked")
        session.delete(row)


def blocked(engine: Engine) -> list[BlockedAuthor]:
    with transaction(engine) as session:
        return list(
            session.exec(select(BlockedAuthor).order_by(col(BlockedAuthor.blocked_at))).all()
        )
