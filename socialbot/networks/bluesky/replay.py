"""A Bluesky that serves recorded notification pages from memory and records what it would have
posted: the demo's third network, parsed by the same `wire` code as the real adapter.

Its posts are named as the real adapter names them, `<our DID>/<record key>` with the record key
chosen from the draft (`tid.record_key`), and answer with the same reply context, so a reply to
a reply in the demo threads under the same root as it would on Bluesky.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from socialbot.domain import PostRef
from socialbot.errors import DataError, Unavailable
from socialbot.networks.base import Draft, MentionPage, Receipt
from socialbot.networks.bluesky import rules, tid, wire
from socialbot.networks.replay import RecordedPost, RecordingOutbound, read_pages


class BlueskyReplay(RecordingOutbound):
    """Inbound: pages of `app.bsky.notification.listNotifications` as the server serves them
    (newest first), queued with `deliver`. Outbound: `uploaded` and `posted`, in order."""

    name = rules.PLATFORM
    text_rules = rules.BLUESKY_TEXT
    media_rules = rules.BLUESKY_MEDIA
    endpoints = rules.ENDPOINTS

    def __init__(self, user_id: str, pages: Iterable[Any] = ()) -> None:
        super().__init__(1, first_media_id=1)
        self.user_id = user_id
        self._pages: list[Any] = list(pages)

    @classmethod
    def from_file(cls, path: Path, user_id: str) -> BlueskyReplay:
        return cls(user_id, read_pages(path, "Bluesky notifications"))

    def deliver(self, page: Mapping[str, Any]) -> None:
        self._pages.append(page)

    def own_user_id(self) -> str:
        return self.user_id

    def fetch_mentions(self, user_id: str, cursor: str | None) -> list[MentionPage]:
        """As the adapter pages: every recorded page down to the stored cursor, newest first,
        each with the cursor of its newest notification."""
        since = wire.parse_cursor(cursor) if cursor is not None else None
        pages: list[MentionPage] = []
        for payload in self._pages:
            try:
                read = wire.parse_notifications(payload, user_id, since)
            except DataError as exc:
                raise Unavailable(f"Bluesky served a page that cannot be read: {exc}") from exc
            if read.newest is None or (since is not None and read.newest <= since):
                continue
            pages.append(
                MentionPage(
                    mentions=read.mentions,
                    malformed=read.malformed,
                    cursor=read.newest.encode(),
                )
            )
        pages.sort(key=lambda p: wire.parse_cursor(p.cursor or ""), reverse=True)
        return pages

    def publish(self, draft: Draft) -> Receipt:
        """Recorded under the post id and with the reply context the real adapter would get."""
        created = draft.created_at or datetime.now(UTC)
        rkey = tid.record_key(draft.key, created)
        uri = f"at://{self.user_id}/{wire.POST_COLLECTION}/{rkey}"
        cid = "bafyrei" + hashlib.sha256(uri.encode()).hexdigest()[:52]
        parent = wire.read_reply_context(draft.reply_to.context) if draft.reply_to else None
        root_uri, root_cid = (parent.root_uri, parent.root_cid) if parent else (uri, cid)
        post_id = wire.post_id(uri)
        self.posted.append(
            RecordedPost(
                post_id,
                draft.text,
                draft.reply_to.id if draft.reply_to else None,
                datetime.now(UTC),
                draft.media_ids,
                draft.reply_to.context if draft.reply_to else "",
            )
        )
        return Receipt(PostRef(post_id, wire.ReplyContext(uri, cid, root_uri, root_cid).encode()))
