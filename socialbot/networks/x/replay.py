"""A network that serves X API v2 pages from memory and records what it would have posted.

It is first-class, not a test double: `socialbot demo` runs the real pipeline over it, and tests use
it wherever the network itself is not the subject. It parses pages with the same `x_wire` code as
the real X adapter, so the demo exercises the real parsing too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from socialbot.errors import DataError, Unavailable
from socialbot.networks.base import MentionPage
from socialbot.networks.replay import RecordingOutbound, read_pages
from socialbot.networks.x import wire as x_wire
from socialbot.networks.x.rules import X_ENDPOINTS, X_MEDIA, X_TEXT


class ReplayPlatform(RecordingOutbound):
    """Inbound: X pages queued with `deliver`. Outbound: `uploaded` and `posted`, in order."""

    name = x_wire.PLATFORM
    text_rules = X_TEXT
    media_rules = X_MEDIA
    endpoints = X_ENDPOINTS

    def __init__(self, user_id: str, pages: Iterable[Mapping[str, Any]] = ()) -> None:
        super().__init__(
            first_id=9_000_000_000_000_000_000, first_media_id=1_726_000_000_000_000_000
        )
        self.user_id = user_id
        self._pages: list[Mapping[str, Any]] = list(pages)

    @classmethod
    def from_file(cls, path: Path, user_id: str) -> ReplayPlatform:
        """Pages from a JSON file holding a list of mentions-timeline responses."""
        return cls(user_id, read_pages(path, "X API v2 mention"))

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


def _newer(post_id: str, since_id: str | None) -> bool:
    """Whether X would serve `post_id` after `since_id` (ids the parser kept are numeric)."""
    return since_id is None or int(post_id) > int(since_id)
