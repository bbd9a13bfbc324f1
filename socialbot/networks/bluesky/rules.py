"""What Bluesky takes in a post: its text rules (300 graphemes and 3000 UTF-8 bytes, the limits
of an `app.bsky.feed.post` record's `text`), its photo rules, the points a write costs, the
names of the calls its rate limits hold, and how its handles are written.

Bluesky counts a post's length in grapheme clusters (UAX #29: a family emoji, a flag, a letter
with its combining marks, a Devanagari syllable are one each), and the record also holds at most
3000 bytes of UTF-8. `measure` folds both into one number against one limit of 300: a text fits
when it has at most 300 graphemes and at most 3000 bytes, since ceil(bytes / 10) <= 300 exactly
when bytes <= 3000.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

import regex

from socialbot.errors import HandleError
from socialbot.networks.base import Endpoints, MediaRules
from socialbot.text_rules import TextRules

PLATFORM = "bluesky"
NETWORK = "Bluesky"
MAX_GRAPHEMES = 300  # app.bsky.feed.post#text maxGraphemes
MAX_BYTES = 3000  # app.bsky.feed.post#text maxLength (bytes of UTF-8)
_BYTES_PER_GRAPHEME = MAX_BYTES // MAX_GRAPHEMES

_GRAPHEME = regex.compile(r"\X")


def graphemes(text: str) -> int:
    """The number of grapheme clusters in `text` (UAX #29 extended clusters), as Bluesky counts."""
    return len(_GRAPHEME.findall(text))


def utf8_length(text: str) -> int:
    """The bytes `text` takes in UTF-8. A lone surrogate (which cannot be sent) counts three,
    as the U+FFFD it would be sent as does."""
    return len(text.encode("utf-8", errors="surrogatepass"))


def measure(text: str) -> int:
    """`text`'s length against one limit of `MAX_GRAPHEMES` that holds both of the record's
    limits: its graphemes, or a tenth of its UTF-8 bytes (rounded up), whichever is more."""
    return max(graphemes(text), math.ceil(utf8_length(text) / _BYTES_PER_GRAPHEME))


BLUESKY_TEXT = TextRules(
    network=NETWORK,
    limit=MAX_GRAPHEMES,
    measure=measure,
    unit="graphemes",
    mention_author=False,  # a reply notifies the post's author by being in its thread
)

# app.bsky.embed.images: up to 4 images, each blob at most 1,000,000 bytes of `image/*` (the
# PDS takes JPEG, PNG, WebP and GIF; Bluesky's CDN serves a GIF as a still image). Alt text has
# no limit in the lexicon; Bluesky's app stops at 2000 characters. An uploaded blob that no
# record refers to is deleted "within a time window (eg, minutes)" (uploadBlob's description);
# a PDS says no more, so an upload older than a few minutes is uploaded again.
BLUESKY_MEDIA = MediaRules(
    network=NETWORK,
    suffixes=(".jpg", ".jpeg", ".png", ".webp", ".gif"),
    max_bytes=1_000_000,
    max_count=4,
    max_alt_text=2000,
    id_lifetime=timedelta(minutes=5),
)

# Writes are metered in points per account: 5,000 an hour and 35,000 a day; a create costs 3.
POINTS_PER_CREATE = 3
POINTS_PER_HOUR = 5_000
POINTS_PER_DAY = 35_000

# The calls socialbot makes, as metered, held and shown by `status` (at most 64 characters).
NOTIFICATIONS = "GET app.bsky.notification.listNotifications"
CREATE_RECORD = "POST com.atproto.repo.createRecord"
GET_RECORD = "GET com.atproto.repo.getRecord"
UPLOAD_BLOB = "POST com.atproto.repo.uploadBlob"
GET_POSTS = "GET app.bsky.feed.getPosts"
CREATE_SESSION = "POST com.atproto.server.createSession"
REFRESH_SESSION = "POST com.atproto.server.refreshSession"
GET_SESSION = "GET com.atproto.server.getSession"

ENDPOINTS = Endpoints(mentions=NOTIFICATIONS, post=CREATE_RECORD, own_posts=GET_RECORD)

# What atproto names a handle that no longer verifies (a domain handle whose DNS record broke):
# a session's or getSession's `handle`, never the account's name.
INVALID_HANDLE = "handle.invalid"


# A handle is a domain name (atproto's handle syntax: labels of letters, digits and '-', the last
# starting with a letter), compared in lower case; at most as long as `wire` keeps one.
_HANDLE = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
)
MAX_HANDLE = 64


def bluesky_handle(handle: str) -> str:
    """`@Maria.bsky.social` → `maria.bsky.social`, as `Mention.author_username` is compared;
    HandleError if it is not a Bluesky handle. A handle always holds a '.' and never an '@',
    which tells it from an X or a Mastodon one. A DID is refused: it is an account's id, not
    a handle (a block keeps the DID the first post it sees brings, and follows it after)."""
    name = handle.strip().removeprefix("@").lower()
    if name.startswith("did:"):
        raise HandleError(
            f"{handle!r} is a DID, an account's id: give its handle, as maria.bsky.social"
        )
    if len(name) > MAX_HANDLE or name == INVALID_HANDLE or not _HANDLE.fullmatch(name):
        raise HandleError(
            f"{handle!r} is not a Bluesky handle (a domain name such as maria.bsky.social, "
            f"at most {MAX_HANDLE} characters)"
        )
    return name
