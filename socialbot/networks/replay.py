"""What every replay network shares: the outbound side, recorded instead of posted.

A replay network serves recorded pages in its network's real wire format, parsed by that
network's own wire code (`networks/x/replay.py`, `networks/mastodon/replay.py`), so the demo and
the tests exercise the real parsing. What it would have posted and uploaded is kept here, in
order; recovery after a crash finds it by our timeline, as on X.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from socialbot.domain import PostRef
from socialbot.errors import DataError
from socialbot.networks.base import Draft, OwnPost, RateBudget, Receipt
from socialbot.networks.timeline import match_drafts


@dataclass(frozen=True, slots=True)
class RecordedPost:
    post_id: str
    text: str
    in_reply_to: str | None
    at: datetime
    media_ids: tuple[str, ...] = ()
    context: str = ""  # the reply context of the post it answers, as the adapter was given it


@dataclass(frozen=True, slots=True)
class RecordedUpload:
    media_id: str
    path: Path
    alt_text: str


class RecordingOutbound:
    """`publish`, `upload_media` and `published` of a replay network; posts get ids from
    `first_id` up, uploads from `first_media_id`."""

    def __init__(self, first_id: int, first_media_id: int) -> None:
        self.posted: list[RecordedPost] = []
        self.uploaded: list[RecordedUpload] = []
        self._ids = itertools.count(first_id)
        self._media_ids = itertools.count(first_media_id)

    def publish(self, draft: Draft) -> Receipt:
        reply_to = draft.reply_to
        # Through `post`, which tests override to fail on cue; the context is noted after.
        posted = self.post(draft.text, reply_to.id if reply_to else None, draft.media_ids)
        if reply_to is not None and reply_to.context:
            self.posted = [
                dataclasses.replace(p, context=reply_to.context) if p.post_id == posted else p
                for p in self.posted
            ]
        return Receipt(PostRef(posted), self.post_budget())

    def post(self, text: str, in_reply_to: str | None, media_ids: Sequence[str] = ()) -> str:
        post_id = str(next(self._ids))
        at = datetime.now(UTC)
        self.posted.append(RecordedPost(post_id, text, in_reply_to, at, tuple(media_ids)))
        return post_id

    def post_budget(self) -> RateBudget | None:
        """No quota here."""
        return None

    def upload_media(self, path: Path, alt_text: str) -> str:
        """As a network would: the file must be readable (OSError otherwise)."""
        with path.open("rb") as handle:
            handle.read(1)
        media_id = str(next(self._media_ids))
        self.uploaded.append(RecordedUpload(media_id, path, alt_text))
        return media_id

    def published(
        self, user_id: str, drafts: Sequence[Draft], since: datetime
    ) -> dict[str, list[PostRef]]:
        return match_drafts(drafts, self.recent_posts(user_id, since))

    def recent_posts(self, user_id: str, since: datetime) -> list[OwnPost]:
        return [
            OwnPost(post_id=p.post_id, in_reply_to=p.in_reply_to, text=p.text)
            for p in self.posted
            if p.at >= since
        ]


def read_pages(path: Path, network: str) -> list[Any]:
    """A JSON file holding a list of pages as `network` serves them; DataError naming the file
    (and line) otherwise."""
    try:
        pages = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(pages, list):
        raise DataError(f"{path}: expected a JSON list of {network} pages")
    return pages
