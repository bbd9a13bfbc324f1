"""A Mastodon that serves recorded notification pages from memory and records what it would
have posted: the demo's second network, parsed by the same `wire` code as the real adapter."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from socialbot.errors import DataError, Unavailable
from socialbot.networks.base import MentionPage
from socialbot.networks.mastodon import wire
from socialbot.networks.mastodon.adapter import ENDPOINTS
from socialbot.networks.mastodon.text import MASTODON_MEDIA, mastodon_text_rules
from socialbot.networks.replay import RecordingOutbound, read_pages


class MastodonReplay(RecordingOutbound):
    """Inbound: pages of `GET /api/v1/notifications` as the server serves them (newest first),
    queued with `deliver`. Outbound: `uploaded` and `posted`, in order."""

    name = wire.PLATFORM
    text_rules = mastodon_text_rules()
    media_rules = MASTODON_MEDIA
    endpoints = ENDPOINTS

    def __init__(self, user_id: str, pages: Iterable[Sequence[Any]] = ()) -> None:
        super().__init__(113_600_000_000_000_000, first_media_id=113_600_000_000_900_000)
        self.user_id = user_id
        self._pages: list[Sequence[Any]] = list(pages)

    @classmethod
    def from_file(cls, path: Path, user_id: str) -> MastodonReplay:
        return cls(user_id, read_pages(path, "Mastodon notifications"))

    def deliver(self, page: Sequence[Any]) -> None:
        self._pages.append(page)

    def own_user_id(self) -> str:
        return self.user_id

    def fetch_mentions(self, user_id: str, cursor: str | None) -> list[MentionPage]:
        """As `min_id` would: the notifications newer than `cursor`, newest page first."""
        pages: list[MentionPage] = []
        for payload in self._pages:
            newer = [item for item in payload if _newer(item, cursor)]
            if not newer:
                continue
            try:
                pages.append(wire.parse_notifications(newer, cursor))
            except DataError as exc:
                raise Unavailable(f"Mastodon served a page that cannot be read: {exc}") from exc
        pages.sort(key=lambda p: wire.id_order(p.cursor or ""), reverse=True)
        return pages


def _newer(item: Any, cursor: str | None) -> bool:
    """Whether the server would serve `item` after `cursor` (an item without an id: yes, it is
    recorded as malformed)."""
    notification_id = item.get("id") if isinstance(item, dict) else None
    if cursor is None or not wire.is_id(notification_id):
        return True
    return wire.id_order(notification_id) > wire.id_order(cursor)
