"""The narrow interface every network adapter offers, and the page of mentions it returns.

The core and the jobs only ever see this protocol and the dataclasses of `socialbot.domain`;
an adapter translates its SDK's errors into `socialbot.errors.PlatformError` subclasses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from socialbot.domain import Mention, RateBudget, is_post_id

__all__ = ["Malformed", "MentionPage", "OwnPost", "Platform", "RateBudget"]


# What X takes as a photo in a post (media_category=tweet_image), and its alt text's limit.
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp")
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_ALT_TEXT = 1000
MAX_PROBLEM = 1000  # a malformed item's reason, as stored


@dataclass(frozen=True, slots=True)
class Malformed:
    """An item of a page we could not understand: recorded and skipped, the page goes on.
    `post_id` is None when the item has no id that is one; `raw` is storable JSON text."""

    post_id: str | None
    problem: str
    raw: str

    @property
    def key(self) -> str:
        """What it is recorded under: its post id, else a digest of its JSON, so that the same
        broken item served again is recognised, not recorded twice."""
        if self.post_id is not None:
            return self.post_id
        return "malformed:" + hashlib.sha256(self.raw.encode("utf-8")).hexdigest()[:40]


@dataclass(frozen=True, slots=True)
class MentionPage:
    mentions: tuple[Mention, ...]
    malformed: tuple[Malformed, ...] = ()
    next_token: str | None = None
    # The network's partial errors beside the page's data (a post it referred to but could not
    # find): logged and counted; the page's own posts go on.
    errors: tuple[str, ...] = ()

    @property
    def newest_id(self) -> str | None:
        """The highest post id on the page, malformed items included (they are recorded too)."""
        ids = [m.post_id for m in self.mentions] + [
            b.post_id for b in self.malformed if b.post_id is not None
        ]
        numeric = [i for i in ids if is_post_id(i)]
        return max(numeric, key=int) if numeric else None


@dataclass(frozen=True, slots=True)
class OwnPost:
    """A post of ours as the network shows it: a reply (`in_reply_to`) or a post of its own."""

    post_id: str
    in_reply_to: str | None
    text: str = ""


class Platform(Protocol):
    """What socialbot needs from a network, and nothing more."""

    @property
    def name(self) -> str:
        """Short platform name stored with every row, e.g. "x"."""
        ...

    def own_user_id(self) -> str:
        """The numeric id of the account we act as (one authenticated call)."""
        ...

    def fetch_mentions(self, user_id: str, since_id: str | None) -> list[MentionPage]:
        """Every page of mentions newer than `since_id`, as served: newest page first."""
        ...

    def post(self, text: str, in_reply_to: str | None, media_ids: Sequence[str] = ()) -> str:
        """Publish `text`, threaded under `in_reply_to` when given, with the media of `media_ids`
        (from `upload_media`) attached; returns the new post's id."""
        ...

    def post_budget(self) -> RateBudget | None:
        """What is left of the posting quota after the last successful `post`, as the network
        said with it; None when it said nothing. The outbox stops at zero, before a 429."""
        ...

    def upload_media(self, path: Path, alt_text: str) -> str:
        """Upload the image at `path` with its alt text; returns the media id to `post` with.

        An upload is not a post: a failed one never leaves anything a resident could see, so its
        `Unavailable` is never `maybe_done`. OSError when the file cannot be read.
        """
        ...

    def recent_posts(self, user_id: str, since: datetime) -> list[OwnPost]:
        """Our own posts since `since`: how a crash between posting and recording is healed."""
        ...
