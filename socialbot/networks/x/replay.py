"""A platform that serves X API v2 pages from memory and records what it would have posted.

It is first-class, not a test double: `socialbot demo` runs the real pipeline over it, and tests use
it wherever the network itself is not the subject. It parses pages with the same `x_wire` code as
the real X adapter, so the demo exercises the real parsing too.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from socialbot.domain import PostRef
from socialbot.errors import DataError, Unavailable
from socialbot.networks.base import Draft, MentionPage, OwnPost, RateBudget, Receipt
from socialbot.networks.timeline import match_drafts
from socialbot.networks.x import wire as x_wire
from socialbot.networks.x.rules import X_ENDPOINTS, X_MEDIA, X_TEXT


@dataclass(frozen=True, slots=True)
class RecordedPost:
    post_id: str
    text: str
    in_reply_to: str | None
    at: datetime
    media_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RecordedUpload:
    media_id: str
    path: Path
    alt_text: str


class ReplayPlatform:
    """Inbound: pages queued with `deliver`. Outbound: `uploaded` and `posted`, in order."""

    name = x_wire.PLATFORM
    text_rules = X_TEXT
    media_rules = X_MEDIA
    endpoints = X_ENDPOINTS

    def __init__(self, user_id: str, pages: Iterable[Mapping[str, Any]] = ()) -> None:
        self.user_id = user_id
        self._pages: list[Mapping[str, Any]] = list(pages)
        self.posted: list[RecordedPost] = []
        self.uploaded: list[RecordedUpload] = []
        self._ids = itertools.count(9_000_000_000_000_000_000)
        self._media_ids = itertools.count(1_726_000_000_000_000_000)

    @classmethod
    def from_file(cls, path: Path, user_id: str) -> ReplayPlatform:
        """Pages from a JSON file holding a list of mentions-timeline responses."""
        try:
            pages = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
        if not isinstance(pages, list):
            raise DataError(f"{path}: expected a JSON list of X API v2 mention pages")
        return cls(user_id, pages)

    def deliver(self, page: Mapping[str, Any]) -> None:
        self._pages.append(page)

    def own_user_id(self) -> str:
        return self.user_id

    def fetch_mentions(self, user_id: str, cursor: str | None) -> list[MentionPage]:
        """Like X: only posts newer than `cursor` (a post id), newest page first."""
        since_id = cursor
        pages: list[MentionPage] = []
        for payload in self._pages:
            try:
                page = x_wire.parse_mentions_page(payload)
            except DataError as exc:  # as the X adapter says it: X served nonsense, try later
                raise Unavailable(f"X served a mentions page that cannot be read: {exc}") from exc
            newer = tuple(m for m in page.mentions if _newer(m.post_id, since_id))
            broken = tuple(
                b for b in page.malformed if b.post_id is None or _newer(b.post_id, since_id)
            )
            if newer or broken:
                page = MentionPage(mentions=newer, malformed=broken)
                pages.append(x_wire.with_cursor(page, since_id))
        pages.sort(key=lambda p: int(p.newest_id or 0), reverse=True)
        return pages

    def publish(self, draft: Draft) -> Receipt:
        in_reply_to = draft.reply_to.id if draft.reply_to is not None else None
        posted = self.post(draft.text, in_reply_to, draft.media_ids)
        return Receipt(PostRef(posted), self.post_budget())

    def published(
        self, user_id: str, drafts: Sequence[Draft], since: datetime
    ) -> dict[str, list[PostRef]]:
        return match_drafts(drafts, self.recent_posts(user_id, since))

    def post(self, text: str, in_reply_to: str | None, media_ids: Sequence[str] = ()) -> str:
        post_id = str(next(self._ids))
        self.posted.append(
            RecordedPost(post_id, text, in_reply_to, datetime.now(UTC), tuple(media_ids))
        )
        return post_id

    def post_budget(self) -> RateBudget | None:
        """No quota here."""
        return None

    def upload_media(self, path: Path, alt_text: str) -> str:
        """Like X: the file must be readable (OSError otherwise); nothing is kept but the record."""
        with path.open("rb") as handle:
            handle.read(1)
        media_id = str(next(self._media_ids))
        self.uploaded.append(RecordedUpload(media_id, path, alt_text))
        return media_id

    def recent_posts(self, user_id: str, since: datetime) -> list[OwnPost]:
        return [
            OwnPost(post_id=p.post_id, in_reply_to=p.in_reply_to, text=p.text)
            for p in self.posted
            if p.at >= since
        ]


def _newer(post_id: str, since_id: str | None) -> bool:
    """Whether X would serve `post_id` after `since_id` (ids the parser kept are numeric)."""
    return since_id is None or int(post_id) > int(since_id)
