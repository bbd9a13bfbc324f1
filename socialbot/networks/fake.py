"""A network that lives in memory: inbound queue, outbound list, scripted failures.

It is first-class, not a test double: the adapter contract suite holds it to the same rules as
X and Mastodon, and tests use it wherever no real network's wire format is the subject. It is
deliberately unlike X where the contract lets networks differ: its post ids are not numbers, its
cursor is an opaque token, it keeps idempotency keys (a draft published twice is one post, as on
a network that honours `Idempotency-Key`), and its text rules are whatever it is given.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from socialbot.domain import Mention, PostRef, RateBudget
from socialbot.errors import PlatformError, Rejected
from socialbot.networks.base import Draft, Endpoints, MediaRules, MentionPage, Receipt
from socialbot.text_rules import TextRules

FAKE_TEXT = TextRules(network="Fake", limit=300, measure=len, mention_author=True)
FAKE_MEDIA = MediaRules(
    network="Fake",
    suffixes=(".jpg", ".jpeg", ".png"),
    max_bytes=2 * 1024 * 1024,
    max_count=4,
    max_alt_text=500,
    id_lifetime=timedelta(hours=6),
)
FAKE_ENDPOINTS = Endpoints(mentions="fake:mentions", post="fake:post", own_posts="fake:own_posts")


@dataclass(frozen=True, slots=True)
class Published:
    """A post the fake network holds: what was asked for, and when."""

    ref: PostRef
    draft: Draft
    at: datetime


@dataclass(slots=True)
class FakeNetwork:
    """A network of one account, `user_id`. Inbound: `deliver` mentions (they get the fake's
    own ids and cursor positions). Outbound: `published`, in order. `fail_next(call, error)`
    makes the next call of that name (`fetch_mentions`, `publish`, `upload_media`, `published`)
    raise `error`; with `after=True` a publish fails *after* it has posted (a lost answer)."""

    user_id: str = "fake-city"
    name: str = "fake"
    text_rules: TextRules = FAKE_TEXT
    media_rules: MediaRules = FAKE_MEDIA
    endpoints: Endpoints = FAKE_ENDPOINTS
    page_size: int = 20
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    posts: list[Published] = field(default_factory=list)
    uploads: list[tuple[str, Path, str]] = field(default_factory=list)
    budget: RateBudget | None = None  # what each receipt reports, as a network's headers would
    _inbound: list[Mention] = field(default_factory=list)
    _failures: dict[str, deque[tuple[PlatformError, bool]]] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _by_key: dict[str, Published] = field(default_factory=dict)

    def deliver(self, mention: Mention) -> Mention:
        """Queue `mention` as the network's next; returns it as stored (network, id)."""
        stored = dataclasses.replace(
            mention,
            platform=self.name,
            post_id=mention.post_id or self._new_id("m"),
            reply_context=mention.reply_context or f"to:{mention.author_id}",
        )
        self._inbound.append(stored)
        return stored

    def fail_next(self, call: str, error: PlatformError, *, after: bool = False) -> None:
        self._failures.setdefault(call, deque()).append((error, after))

    def own_user_id(self) -> str:
        return self.user_id

    def fetch_mentions(self, user_id: str, cursor: str | None) -> list[MentionPage]:
        """The mentions after `cursor` (a token "pos:<n>", opaque to the caller), newest page
        first, `page_size` to a page."""
        self._maybe_fail("fetch_mentions")
        start = _position(cursor)
        fresh = self._inbound[start:]
        pages = [
            MentionPage(
                mentions=tuple(fresh[i : i + self.page_size]),
                cursor=f"pos:{start + min(i + self.page_size, len(fresh)):08d}",
            )
            for i in range(0, len(fresh), self.page_size)
        ]
        return list(reversed(pages))

    def publish(self, draft: Draft) -> Receipt:
        error = self._maybe_fail("publish", before=True)
        if draft.key in self._by_key:  # a network that keeps keys posts a draft once
            done = self._by_key[draft.key]
        else:
            if not self.text_rules.fits(draft.text):
                raise Rejected(f"{self.text_rules.network}: text over {self.text_rules.limit}")
            done = Published(PostRef(self._new_id("p"), f"own:{self.user_id}"), draft, self.clock())
            self.posts.append(done)
            self._by_key[draft.key] = done
        if error is not None:
            raise error
        return Receipt(done.ref, self.budget)

    def upload_media(self, path: Path, alt_text: str) -> str:
        self._maybe_fail("upload_media")
        with path.open("rb") as handle:
            handle.read(1)
        media_id = self._new_id("media")
        self.uploads.append((media_id, path, alt_text[: self.media_rules.max_alt_text]))
        return media_id

    def published(
        self, user_id: str, drafts: Sequence[Draft], since: datetime
    ) -> dict[str, list[PostRef]]:
        """By idempotency key, as a network that keeps them answers."""
        self._maybe_fail("published")
        return {
            d.key: [self._by_key[d.key].ref]
            for d in drafts
            if d.key in self._by_key and self._by_key[d.key].at >= since
        }

    @property
    def texts(self) -> list[str]:
        return [p.draft.text for p in self.posts]

    def _new_id(self, kind: str) -> str:
        return f"{kind}-{next(self._ids):06d}"

    def _maybe_fail(self, call: str, *, before: bool = False) -> PlatformError | None:
        """Raise the scripted failure of `call`; for a publish scripted to fail after posting,
        return it instead, for the caller to raise once the post is made."""
        queue = self._failures.get(call)
        if not queue:
            return None
        error, after = queue.popleft()
        if before and after:
            return error
        raise error


def _position(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.startswith("pos:") or not cursor[4:].isdigit():
        raise ValueError(f"not a cursor of the fake network: {cursor!r}")
    return int(cursor[4:])
