"""The contract every network adapter offers: what the core and the jobs know of a network.

A network is reached through one `Network`: it reads its mentions a page at a time, each page with
the opaque cursor the poller stores once that page is committed; it publishes a `Draft` (text,
what it replies to, media, an idempotency key) and answers with a `Receipt` (the new post's
reference, the rate budget and cost the network reported); and after a crash it says which drafts
it had already published (`published`), each network in its own way: X by our timeline, Mastodon
by `Idempotency-Key` and our own statuses. It declares its text rules, media rules and the names
of its endpoints (rate-limit holds and metering are kept per endpoint). An adapter translates its
SDK's errors into `socialbot.errors.PlatformError` subclasses; nothing of an SDK leaks past it.

The core and the jobs never ask which network they hold: there is no `if network == ...` outside
`socialbot/networks/`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from socialbot.domain import Mention, PostRef, RateBudget, is_post_id
from socialbot.storable import clean_text, storable_json
from socialbot.text_rules import TextRules

__all__ = [
    "Draft",
    "Endpoints",
    "Malformed",
    "MediaRules",
    "MentionPage",
    "Network",
    "PostRef",
    "RateBudget",
    "Receipt",
    "TextRules",
]

MAX_PROBLEM = 1000  # a malformed item's reason, as stored


@dataclass(frozen=True, slots=True)
class MediaRules:
    """What a network takes as a photo in a post: file types, size, how many, the alt text's
    length, and how long an uploaded media id may be attached before it must be uploaded again."""

    network: str  # display name, for messages: "X"
    suffixes: tuple[str, ...]
    max_bytes: int
    max_count: int
    max_alt_text: int
    id_lifetime: timedelta

    @property
    def megabytes(self) -> int:
        return self.max_bytes // 1024 // 1024


@dataclass(frozen=True, slots=True)
class Endpoints:
    """The network's names for the three calls the jobs hold off after a rate limit, as metered,
    held (`socialbot.holds`) and shown by `status`."""

    mentions: str
    post: str
    own_posts: str


@dataclass(frozen=True, slots=True)
class Draft:
    """A post to publish. `key` is the outbox row's idempotency key: the same draft sent twice
    (a retry after an answer that was lost) carries the same key, and the adapter makes sure a
    network that understands keys posts it once. `reply_to`: the post it answers, None for a
    post of its own. `created_at`: when the draft was queued, the same across every retry: a
    network whose posts we name ourselves (Bluesky's record key) names it from this and the key,
    so that a retry names it the same. `recipient`: the one person it is sent to, on a network
    that sends to people rather than to a timeline (SMS: their phone number, an alert's
    subscriber's too, which answers no text); None for a post anyone may read, and a network that
    posts publicly ignores it."""

    key: str
    text: str
    reply_to: PostRef | None = None
    media_ids: tuple[str, ...] = ()
    lang: str | None = None
    created_at: datetime | None = None
    recipient: str | None = None


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the network said of a published draft: the new post (to thread under), what is left
    of the posting quota (None: it said nothing; the outbox stops at zero, before a 429), and the
    estimated cost in US dollars (None: the network bills nothing)."""

    ref: PostRef
    budget: RateBudget | None = None
    cost: float | None = None


@dataclass(frozen=True, slots=True)
class Malformed:
    """An item of a page we could not understand: recorded and skipped, the page goes on.
    `post_id` is None when the item has no id that is one; `raw` is storable JSON text."""

    post_id: str | None
    problem: str
    raw: str

    @classmethod
    def of(cls, post_id: str | None, error: BaseException, item: object) -> Malformed:
        """`item` of a page, which `error` kept from being read: its reason made storable and
        cut to `MAX_PROBLEM`, its JSON made storable whatever it holds."""
        return cls(post_id, clean_text(str(error))[:MAX_PROBLEM], storable_json(item))

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
    # Where the next poll starts once this page is committed: opaque to the core, moved in the
    # same transaction as the page. None: the page moves no cursor (it holds nothing new).
    cursor: str | None = None

    @property
    def newest_id(self) -> str | None:
        """The highest numeric post id on the page, malformed items included (they are recorded
        too): X's cursor. Networks with other ids set `cursor` their own way."""
        ids = [m.post_id for m in self.mentions] + [
            b.post_id for b in self.malformed if b.post_id is not None
        ]
        numeric = [i for i in ids if is_post_id(i)]
        return max(numeric, key=int) if numeric else None


@dataclass(frozen=True, slots=True)
class OwnPost:
    """A post of ours as the network shows it: a reply (`in_reply_to`) or a post of its own;
    `context`, what a reply under it needs (`PostRef.context`), as `publish`'s receipt says it."""

    post_id: str
    in_reply_to: str | None
    text: str = ""
    context: str = ""


class Network(Protocol):
    """What socialbot needs from a network, and nothing more."""

    @property
    def name(self) -> str:
        """Short network name stored with every row: "x", "mastodon"."""
        ...

    @property
    def text_rules(self) -> TextRules:
        """How long a post may be, measured how; whether a reply must name its resident."""
        ...

    @property
    def media_rules(self) -> MediaRules:
        """What it takes as a photo."""
        ...

    @property
    def endpoints(self) -> Endpoints:
        """Its names for the calls that rate limits hold."""
        ...

    def own_user_id(self) -> str:
        """The id of the account we act as (one authenticated call)."""
        ...

    def fetch_mentions(self, user_id: str, cursor: str | None) -> list[MentionPage]:
        """Every page of mentions after `cursor` (None: the account's first poll, as far back as
        the network serves), newest page first, each with the cursor that covers it."""
        ...

    def publish(self, draft: Draft) -> Receipt:
        """Post `draft`. An `Unavailable` with `maybe_done` means it may have been posted: the
        outbox then asks `published` before it would ever post it again."""
        ...

    def upload_media(self, path: Path, alt_text: str) -> str:
        """Upload the image at `path` with its alt text; returns the media id to publish with.

        An upload is not a post: a failed one never leaves anything a resident could see, so its
        `Unavailable` is never `maybe_done`. OSError when the file cannot be read.
        """
        ...

    def published(
        self, user_id: str, drafts: Sequence[Draft], since: datetime
    ) -> Mapping[str, Sequence[PostRef]]:
        """Of `drafts` (each claimed since `since`, whose send was interrupted), the ones the
        network shows as posted: key → the posts of ours that may be it, best first. The outbox
        takes the first one no other row has recorded. A draft absent from the answer was not
        posted."""
        ...
