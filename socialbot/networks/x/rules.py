"""What X takes in a post: its text rules (280 weighted characters, `socialbot.text`), its photo
rules, the names of the calls its rate limits hold, and how its handles are written."""

from __future__ import annotations

from datetime import timedelta

from socialbot import text, usage
from socialbot.errors import HandleError
from socialbot.networks.base import Endpoints, MediaRules
from socialbot.text_rules import TextRules

X_TEXT = TextRules(network="X", limit=280, measure=text.weighted_length, unit="weighted characters")

# X's media upload: JPEG, PNG, GIF and WebP images up to 5 MB, four to a post, alt text up to
# 1000 characters; an uploaded media id may be attached for 24 hours.
X_MEDIA = MediaRules(
    network="X",
    suffixes=(".jpg", ".jpeg", ".png", ".gif", ".webp"),
    max_bytes=5 * 1024 * 1024,
    max_count=4,
    max_alt_text=1000,
    id_lifetime=timedelta(hours=24),
)

X_ENDPOINTS = Endpoints(mentions=usage.MENTIONS, post=usage.CREATE_POST, own_posts=usage.OWN_POSTS)

# X's usernames: 1-15 letters, digits or underscores, compared without regard to case.
_HANDLE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
MAX_HANDLE = 15


def x_handle(handle: str) -> str:
    """`@SomeOne` → `someone`, as `Mention.author_username` is compared; HandleError if it is not
    an X handle. X handles never hold a '.' or a second '@': `maria.bsky.social` and
    `@ana@mastodon.social` are another network's."""
    name = handle.strip().removeprefix("@").lower()
    if not name or len(name) > MAX_HANDLE or not set(name) <= _HANDLE_CHARS:
        raise HandleError(f"{handle!r} is not an X handle (1-15 letters, digits or _)")
    return name
