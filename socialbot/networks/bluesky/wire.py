"""Bluesky (atproto XRPC) JSON → our dataclasses, and our posts → records. No atproto SDK here:
the adapter hands over the JSON as the server sent it, and it is parsed once, here.

A page of `app.bsky.notification.listNotifications` is ``{"cursor", "notifications": [...]}``,
each notification ``{"uri", "cid", "author": {"did", "handle"}, "reason", "record",
"indexedAt"}``, its `record` the `app.bsky.feed.post` itself (text, facets, tags, reply,
embed, langs, createdAt). Everything in it is untrusted, type-wise too: each notification is
parsed on its own, so one malformed item is recorded and the rest of the page goes on.

What is left out: a notification whose reason is not `mention` or `reply` (likes, reposts,
follows, quotes: they hold no resident's report to us), one of our own posts, and one the stored
cursor already covers. What is new is decided by OUR cursor (the newest notification handled,
its `indexedAt` and uri), never by `isRead`, which any other client of the account changes.
A `reply` is a post up to five levels under one of ours that does not mention us: it is read
as answering us (`in_reply_to_user_id` our DID), talk in our thread whoever's post it answers.

Ids: a post is `at://<did>/app.bsky.feed.post/<rkey>`; our columns hold 64 characters, so a post
id is the compact ``<did>/<rkey>`` (`post_id`, `uri_of`). What a reply needs beside it (the
post's cid, and its thread's root) is the `ReplyContext`, kept as `PostRef.context`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard

from socialbot.domain import (
    Media,
    MediaType,
    Mention,
    PostRef,
    RateBudget,
    Reference,
    ReferenceType,
    believable_reset,
)
from socialbot.errors import DataError
from socialbot.hashtags import extract_hashtags
from socialbot.intake import MAX_SCANNED_CHARS
from socialbot.networks.base import Malformed, OwnPost
from socialbot.networks.bluesky.rules import PLATFORM
from socialbot.networks.json_values import kind as _kind
from socialbot.networks.json_values import mapping as _mapping
from socialbot.networks.json_values import short as _short
from socialbot.storable import clean_text, storable_json

POST_COLLECTION = "app.bsky.feed.post"
MAX_ID = 64  # our post id and author id columns
MAX_HANDLE = 64  # our username columns; a longer handle is kept as None
MAX_URI = 8192  # atproto's limit on an at-uri
MAX_SHORT_TEXT = 256
MAX_ALT_TEXT = 10_000
MAX_TEXT = 100_000  # far beyond the record's 3000 bytes: what a broken server could still send
CDN_IMAGE = "https://cdn.bsky.app/img/feed_fullsize/plain/{did}/{cid}@jpeg"
RESET_DEFAULT = timedelta(minutes=1)  # a 429 that does not say when it lifts
# How far behind the newest notification handled a post may still be listed for the first time
# (see `Cursor.covers`): each poll reads this much again.
LOOKBACK = timedelta(minutes=15)

# atproto's DID syntax ("did:<method>:<id>"), as long as our columns.
_DID = re.compile(r"did:[a-z]+:[A-Za-z0-9._:%-]*[A-Za-z0-9._-]")
# A record key (`rkey`): 1-512 of these characters, never "." or "..".
_RKEY = re.compile(r"[A-Za-z0-9._:~-]{1,512}")
# A CID as text: multibase base32 (b…) or base58btc (Qm…, z…), alphanumeric, bounded.
_CID = re.compile(r"[A-Za-z0-9]{8,256}")
_HANDLE = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
)
_LANG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
# A language tag as a record's `langs` holds one (the lexicon's "language" format).
_RECORD_LANG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})*")
_TEXT_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f]+", re.IGNORECASE)
_TRAILING = ".,;:!?'\""
_REASONS = frozenset({"mention", "reply"})
# Labels Bluesky's moderation puts on a post or account it takes down or hides from everyone.
_WITHHELD_LABELS = frozenset({"!takedown", "!suspend", "!hide"})


# ---------------------------------------------------------------------------------------------
# Post ids


def post_id(uri: str) -> str:
    """The compact id ``<did>/<rkey>`` of a post's uri ``at://<did>/app.bsky.feed.post/<rkey>``.
    DataError for another record's uri, or one whose id would not fit our columns."""
    if not isinstance(uri, str) or len(uri) > MAX_URI or not uri.startswith("at://"):
        raise DataError(f"not an at:// uri: {_short(uri)}")
    parts = uri[len("at://") :].split("/")
    if len(parts) != 3 or parts[1] != POST_COLLECTION:
        raise DataError(f"not the uri of a post ({POST_COLLECTION}): {_short(uri)}")
    did, _, rkey = parts
    if not is_did(did):
        raise DataError(f"a post uri without its author's DID: {_short(uri)}")
    if not _RKEY.fullmatch(rkey) or rkey in (".", ".."):
        raise DataError(f"a post uri with an unreadable record key: {_short(uri)}")
    compact = f"{did}/{rkey}"
    if len(compact) > MAX_ID:
        raise DataError(f"a post id longer than {MAX_ID} characters: {_short(uri)}")
    return compact


def uri_of(post_id: str) -> str:
    """The at:// uri of a compact post id (the inverse of `post_id`). DataError if it is not one."""
    did, slash, rkey = post_id.rpartition("/") if isinstance(post_id, str) else ("", "", "")
    uri = f"at://{did}/{POST_COLLECTION}/{rkey}"
    if not slash or _compact(uri) != post_id:
        raise DataError(f"not a Bluesky post id: {_short(post_id)}")
    return uri


_compact = post_id  # `uri_of`'s argument is named as the plan names it


def _post_uri(value: Any, where: str) -> str:
    """`value` if it is the uri of a post, else DataError naming `where`."""
    if not isinstance(value, str):
        raise DataError(f"{where}: not a post uri: {_short(value)}")
    post_id(value)
    return value


def is_did(value: Any) -> TypeGuard[str]:
    """Whether `value` is a DID our columns can hold."""
    return (
        isinstance(value, str)
        and len(value) <= MAX_ID
        and value.isascii()
        and _DID.fullmatch(value) is not None
    )


def is_cid(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value.isascii() and _CID.fullmatch(value) is not None


def did_of(uri: str) -> str:
    """The DID of a post's uri (its author). DataError if it is not a post's uri."""
    return post_id(uri).rpartition("/")[0]


# ---------------------------------------------------------------------------------------------
# What a reply needs to know of the post it answers


@dataclass(frozen=True, slots=True)
class ReplyContext:
    """What a reply to a post needs beside its id (`Mention.reply_context`, `PostRef.context`):
    the post's uri and cid (the reply's `parent`) and its thread's root's (the reply's `root`).
    A post that answers nothing is its own root."""

    uri: str
    cid: str
    root_uri: str
    root_cid: str

    def encode(self) -> str:
        return json.dumps(
            {
                "uri": self.uri,
                "cid": self.cid,
                "root_uri": self.root_uri,
                "root_cid": self.root_cid,
            },
            separators=(",", ":"),
        )

    @property
    def is_root(self) -> bool:
        return self.uri == self.root_uri


def read_reply_context(text: str) -> ReplyContext:
    """`text` as `ReplyContext.encode` wrote it. DataError for anything else (empty, another
    network's, damaged): a Bluesky reply cannot be addressed without it."""
    try:
        value = json.loads(text) if isinstance(text, str) and len(text) <= 4 * MAX_URI else None
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, Mapping):
        raise DataError(f"not a Bluesky reply context: {_short(text)}")
    return ReplyContext(
        _post_uri(value.get("uri"), "reply context uri"),
        _cid(value.get("cid"), "reply context cid"),
        _post_uri(value.get("root_uri"), "reply context root_uri"),
        _cid(value.get("root_cid"), "reply context root_cid"),
    )


def _cid(value: Any, where: str) -> str:
    if not is_cid(value):
        raise DataError(f"{where}: not a cid: {_short(value)}")
    return value


def _strong_ref(value: Any, where: str) -> tuple[str, str]:
    """A `com.atproto.repo.strongRef` {uri, cid} of a post."""
    ref = _mapping(value, where)
    uri, cid = _post_uri(ref.get("uri"), f"{where}.uri"), ref.get("cid")
    if not is_cid(cid):
        raise DataError(f"{where}.cid: not a cid: {_short(cid)}")
    return uri, cid


# ---------------------------------------------------------------------------------------------
# Cursor


@dataclass(frozen=True, slots=True, order=True)
class Cursor:
    """The newest notification handled: its `indexedAt` and its uri. Ordered by both, as the
    notifications are; its text (`encode`) is the cursor the poller stores, opaque to the core."""

    indexed_at: datetime
    uri: str

    def encode(self) -> str:
        return f"{_iso(self.indexed_at)}|{self.uri}"

    def covers(self, indexed_at: datetime, uri: str) -> bool:
        """Whether a notification of `indexed_at` and `uri` is one this cursor already handled:
        the same uri, or one listed more than `LOOKBACK` before it. The AppView lists a post at
        the earlier of its `createdAt` and the time it indexed it, so a post that reached it
        late (its author's server slow, their phone's clock behind) is listed among what was
        already read: the look-back reads those again. What it reads twice is recorded once (by
        its post id); one passed over would be lost."""
        return uri == self.uri or indexed_at < self.indexed_at - LOOKBACK


def parse_cursor(text: str) -> Cursor:
    """The cursor `Cursor.encode` wrote. DataError for anything else."""
    if not isinstance(text, str) or len(text) > MAX_URI + 64:
        raise DataError(f"not a Bluesky cursor: {_short(text)}")
    when, bar, uri = text.partition("|")
    if not bar or not uri.startswith("at://"):
        raise DataError(f"not a Bluesky cursor: {_short(text)}")
    return Cursor(_time(when), uri)


# ---------------------------------------------------------------------------------------------
# Notifications


@dataclass(frozen=True, slots=True)
class NotificationsPage:
    """A page of notifications, read: the mentions and replies on it that are new to us, the
    items among them we could not read, the newest notification on the page (any reason), the
    server's cursor for the next, older page, and whether the page reached back to the stored
    cursor (then there is no need to page further)."""

    mentions: tuple[Mention, ...]
    malformed: tuple[Malformed, ...] = ()
    newest: Cursor | None = None
    next_cursor: str | None = None
    reached: bool = False


def parse_notifications(payload: Any, own_did: str, since: Cursor | None) -> NotificationsPage:
    """A page of `app.bsky.notification.listNotifications`. Raises DataError only if the page
    itself is unreadable (not an object, `notifications` not a list): then none of its items
    can be told apart. Every new mention or reply ends up once, as a `Mention` or a
    `Malformed`."""
    page = _mapping(payload, "notifications page")
    items = page.get("notifications")
    if not isinstance(items, list):
        raise DataError(f"notifications page: `notifications` is {_kind(items)}, not a list")
    cursor = page.get("cursor")
    next_cursor = cursor if isinstance(cursor, str) and 0 < len(cursor) <= 1024 else None
    mentions: dict[str, Mention] = {}
    malformed: list[Malformed] = []
    newest: Cursor | None = None
    reached = False
    for item in items:
        position = _position(item)
        if position is not None:
            newest = position if newest is None or position > newest else newest
            if since is not None and since.covers(position.indexed_at, position.uri):
                reached = True
                continue
        try:
            mention = _notification(item, own_did)
        except Exception as exc:  # whatever an item holds, it is that item's problem alone
            malformed.append(Malformed.of(_item_post_id(item), exc, item))
            continue
        if mention is not None:
            mentions.setdefault(mention.post_id, mention)
    good = set(mentions)
    return NotificationsPage(
        mentions=tuple(mentions.values()),
        malformed=tuple(_first_per_id(m for m in malformed if m.post_id not in good)),
        newest=newest,
        next_cursor=next_cursor,
        reached=reached,
    )


def _position(item: Any) -> Cursor | None:
    """Where a notification stands in the order of notifications, if it says so readably."""
    if not isinstance(item, Mapping):
        return None
    uri, indexed = item.get("uri"), item.get("indexedAt")
    if not isinstance(uri, str) or not uri.startswith("at://") or len(uri) > MAX_URI:
        return None
    try:
        return Cursor(_time(indexed), uri)
    except DataError:
        return None


def _item_post_id(item: Any) -> str | None:
    uri = item.get("uri") if isinstance(item, Mapping) else None
    try:
        return post_id(uri) if isinstance(uri, str) else None
    except DataError:
        return None


def _first_per_id(items: Iterable[Malformed]) -> list[Malformed]:
    seen: set[str] = set()
    kept: list[Malformed] = []
    for item in items:
        if item.post_id is not None:
            if item.post_id in seen:
                continue
            seen.add(item.post_id)
        kept.append(item)
    return kept


def _notification(item: Any, own_did: str) -> Mention | None:
    """The mention a notification carries; None for one that is not new to us or not ours to
    answer (see the module's docstring)."""
    notification = _mapping(item, "notification")
    reason = notification.get("reason")
    if not isinstance(reason, str):
        raise DataError(f"notification `reason` is {_kind(reason)}, not a string")
    if reason not in _REASONS:
        return None
    author = _mapping(notification.get("author"), "notification.author")
    did = author.get("did")
    if not is_did(did):
        raise DataError(f"notification.author.did: not a DID that fits: {_short(did)}")
    if did == own_did:
        return None
    uri = _post_uri(notification.get("uri"), "notification.uri")
    pid = post_id(uri)
    if did_of(uri) != did:
        raise DataError(f"notification.uri is not its author's post: {_short(uri)}")
    cid = notification.get("cid")
    if not is_cid(cid):
        raise DataError(f"notification.cid: not a cid: {_short(cid)}")
    indexed_at = _time(notification.get("indexedAt"))
    record = _mapping(notification.get("record"), "notification.record")
    kind = record.get("$type")
    if kind is not None and kind != POST_COLLECTION:
        raise DataError(f"notification.record is a {_short(kind)}, not a post")
    post = read_post(record, did)
    withheld = _withheld(notification.get("labels"), author.get("labels"))
    handle = author.get("handle")
    root_uri, root_cid = post.root if post.root is not None else (uri, cid)
    parent = post.parent
    references: list[Reference] = []
    answered: str | None = None
    if parent is not None:
        references.append(Reference(ReferenceType.REPLIED_TO, post_id(parent[0])))
        # Bluesky says "reply" of a post up to five levels under one of ours that names no one:
        # talk in our thread, whoever it answers, never a resident asking us how to report.
        answered = own_did if reason == "reply" else did_of(parent[0])
    if post.quoted is not None:
        references.append(Reference(ReferenceType.QUOTED, post.quoted))
    return Mention(
        platform=PLATFORM,
        post_id=pid,
        author_id=did,
        author_username=handle if _is_handle(handle) else None,
        text=post.text,
        # Bluesky's own order: the time the author's client claims, unless that is later
        # than when the network saw the post (a clock ahead, or a post dated in the future).
        created_at=min(post.created_at, indexed_at) if post.created_at else indexed_at,
        lang=post.langs[0] if post.langs else None,
        conversation_id=post_id(root_uri),
        in_reply_to_user_id=answered,
        references=tuple(references),
        hashtags=post.hashtags,
        expanded_urls=post.links,
        media=post.media,
        withheld=withheld,
        missing=post.missing,
        reply_context=ReplyContext(uri, cid, root_uri, root_cid).encode(),
        raw=storable_json(notification),
    )


def _withheld(*labels: Any) -> str | None:
    for value in labels:
        for label in value if isinstance(value, list) else []:
            name = label.get("val") if isinstance(label, Mapping) else None
            if isinstance(name, str) and name in _WITHHELD_LABELS and label.get("neg") is not True:
                return f"Bluesky's moderation labels it {name}"
    return None


# ---------------------------------------------------------------------------------------------
# A post record


@dataclass(frozen=True, slots=True)
class PostRecord:
    """What socialbot reads of an `app.bsky.feed.post` record."""

    text: str
    created_at: datetime | None
    langs: tuple[str, ...]
    parent: tuple[str, str] | None  # (uri, cid) of the post it answers
    root: tuple[str, str] | None  # (uri, cid) of its thread's first post
    hashtags: tuple[str, ...] | None
    links: tuple[str, ...]
    media: tuple[Media, ...]
    missing: tuple[str, ...]
    quoted: str | None  # the post id of a post it embeds (quotes)


def read_post(value: Any, did: str) -> PostRecord:
    """An `app.bsky.feed.post` record by the author `did` (whose blobs its images are). DataError
    (or another exception) when it cannot be read."""
    record = _mapping(value, "record")
    text = record.get("text")
    if not isinstance(text, str):
        raise DataError(f"record.text is {_kind(text)}, not a string")
    if len(text) > MAX_TEXT:
        raise DataError(f"record.text is {len(text):,} characters long")
    text = clean_text(text)
    parent = root = None
    reply = record.get("reply")
    if reply is not None:
        reply = _mapping(reply, "record.reply")
        parent = _strong_ref(reply.get("parent"), "record.reply.parent")
        root = _strong_ref(reply.get("root"), "record.reply.root")
    facet_tags, facet_links, covered = _facets(record.get("facets"), text)
    tags = _tags(record.get("tags"))
    hashtags: tuple[str, ...] | None
    if "facets" not in record and "tags" not in record:
        hashtags = None  # a client that marks up nothing: the core reads the text itself
    else:
        # The text's own tags too: Bluesky's app marks up a tag only after a space, so the
        # "(#bache)" of a record that marks up its mention (every mention's does) has no facet.
        # As much of the text as intake itself scans: the extractor is quadratic at worst.
        typed = extract_hashtags(text[:MAX_SCANNED_CHARS])
        hashtags = _unique(t.lower() for t in (*facet_tags, *tags, *typed))
    media, missing, quoted = _embed(record.get("embed"), did)
    return PostRecord(
        text=text,
        created_at=_created_at(record.get("createdAt")),
        langs=_langs(record.get("langs")),
        parent=parent,
        root=root,
        hashtags=hashtags,
        links=_unique((*facet_links, *_text_links(text, covered))),
        media=media,
        missing=missing,
        quoted=quoted,
    )


def _created_at(value: Any) -> datetime | None:
    """A record's `createdAt`: what the author's client claims, so unreadable is None (the
    notification's `indexedAt` stands in). Without a zone it is read as UTC, as atproto's
    own clients of old wrote it."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _langs(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise DataError(f"record.langs is {_kind(value)}, not a list")
    return tuple(v for v in value[:3] if isinstance(v, str) and len(v) < 35 and _LANG.fullmatch(v))


def _tags(value: Any) -> tuple[str, ...]:
    """A record's `tags` (hashtags not in its text), without '#'."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise DataError(f"record.tags is {_kind(value)}, not a list")
    tags = []
    for tag in value[:64]:
        if not isinstance(tag, str):
            raise DataError(f"record.tags[] is {_kind(tag)}, not a string")
        tag = clean_text(tag).strip().lstrip("#＃")[:MAX_SHORT_TEXT]  # noqa: RUF001
        if tag:
            tags.append(tag)
    return tuple(tags)


def _facets(value: Any, text: str) -> tuple[list[str], list[str], list[tuple[int, int]]]:
    """A record's facets: its #tag features' tags, its #link features' uris, and the spans of
    the text (str indices) its links cover. A facet whose byte range is not one of the text
    still gives its feature (Bluesky's app shows its text plain, but the author meant it)."""
    if value is None:
        return [], [], []
    if not isinstance(value, list):
        raise DataError(f"record.facets is {_kind(value)}, not a list")
    encoded = text.encode("utf-8", errors="surrogatepass")
    tags: list[str] = []
    links: list[str] = []
    covered: list[tuple[int, int]] = []
    for facet in value[:1000]:
        facet = _mapping(facet, "record.facets[]")
        features = facet.get("features")
        if not isinstance(features, list):
            raise DataError(f"record.facets[].features is {_kind(features)}, not a list")
        span = _span(facet.get("index"), encoded)
        for feature in features:
            feature = _mapping(feature, "record.facets[].features[]")
            kind = feature.get("$type")
            if kind == "app.bsky.richtext.facet#tag":
                tag = feature.get("tag")
                if not isinstance(tag, str):
                    raise DataError(f"a #tag facet's tag is {_kind(tag)}, not a string")
                tag = clean_text(tag).strip().lstrip("#＃")[:MAX_SHORT_TEXT]  # noqa: RUF001
                if tag:
                    tags.append(tag)
            elif kind == "app.bsky.richtext.facet#link":
                uri = feature.get("uri")
                if not isinstance(uri, str):
                    raise DataError(f"a #link facet's uri is {_kind(uri)}, not a string")
                if _is_web_url(uri):
                    links.append(clean_text(uri))
                if span is not None:
                    covered.append(span)
    return tags, links, covered


def _span(value: Any, encoded: bytes) -> tuple[int, int] | None:
    """A facet's `index` {byteStart, byteEnd} as str indices of the text; None when the bytes
    are not a slice of it that starts and ends between characters."""
    if not isinstance(value, Mapping):
        return None
    start, end = value.get("byteStart"), value.get("byteEnd")
    if not (_is_int(start) and _is_int(end) and 0 <= start < end <= len(encoded)):
        return None
    try:
        before = encoded[:start].decode("utf-8", errors="surrogatepass")
        inside = encoded[start:end].decode("utf-8", errors="surrogatepass")
    except UnicodeDecodeError:
        return None
    return len(before), len(before) + len(inside)


def _text_links(text: str, covered: Sequence[tuple[int, int]]) -> list[str]:
    """Links typed with their scheme that no #link facet covers (a client that marks up no
    links). One a facet covers is left to the facet: Bluesky's app shortens a long link's text
    ("city.gov/potholes/rep...") and keeps the whole in the facet."""
    links = []
    for match in _TEXT_URL.finditer(text):
        start, end = match.span()
        if any(a < end and start < b for a, b in covered):
            continue
        url = match.group().rstrip(_TRAILING)
        if url.endswith(")") and "(" not in url:
            url = url[:-1]
        if _is_web_url(url):
            links.append(url)
    return links


def _embed(value: Any, did: str) -> tuple[tuple[Media, ...], tuple[str, ...], str | None]:
    """A record's embed: its photos (images, a gallery, or either beside a quoted record), what
    it holds that socialbot cannot show (a video), and the post it quotes."""
    if value is None:
        return (), (), None
    embed = _mapping(value, "record.embed")
    kind = embed.get("$type")
    if kind == "app.bsky.embed.recordWithMedia":
        media, missing, _ = _embed(embed.get("media"), did)
        record = _mapping(embed.get("record"), "record.embed.record")
        return media, missing, _quoted(record.get("record"))
    if kind == "app.bsky.embed.record":
        return (), (), _quoted(embed.get("record"))
    if kind == "app.bsky.embed.images":
        return _images(embed.get("images"), "record.embed.images", did), (), None
    if kind == "app.bsky.embed.gallery":
        return _images(embed.get("media"), "record.embed.media", did), (), None
    if kind == "app.bsky.embed.video":
        return (), ("a video (socialbot takes photos)",), None
    return (), (), None  # a link card (external) or an embed of a kind socialbot does not know


def _quoted(value: Any) -> str | None:
    """The post id a quote embeds (its strongRef's uri); None when it embeds another kind of
    record (a feed, a list, a starter pack)."""
    ref = _mapping(value, "record.embed.record")
    uri = ref.get("uri")
    if not isinstance(uri, str):
        raise DataError(f"record.embed.record.uri is {_kind(uri)}, not a string")
    try:
        return post_id(uri)
    except DataError:
        return None


def _images(value: Any, where: str, did: str) -> tuple[Media, ...]:
    if not isinstance(value, list):
        raise DataError(f"{where} is {_kind(value)}, not a list")
    media = []
    for item in value[:32]:
        image = _mapping(item, f"{where}[]")
        cid = _blob_cid(image.get("image"), f"{where}[].image")
        alt = image.get("alt")
        alt_text = clean_text(alt)[:MAX_ALT_TEXT].strip() if isinstance(alt, str) else ""
        media.append(
            Media(
                key=cid,
                type=MediaType.PHOTO,
                url=CDN_IMAGE.format(did=did, cid=cid),
                preview_image_url=None,
                alt_text=alt_text or None,
            )
        )
    return tuple(media)


def _blob_cid(value: Any, where: str) -> str:
    """The cid of a blob: `{"$type": "blob", "ref": {"$link": cid}, ...}`, or the legacy
    `{"cid": cid, "mimeType": ...}`."""
    blob = _mapping(value, where)
    ref = blob.get("ref")
    cid = ref.get("$link") if isinstance(ref, Mapping) else blob.get("cid")
    if not is_cid(cid):
        raise DataError(f"{where}: a blob without a cid: {_short(cid)}")
    return cid


# ---------------------------------------------------------------------------------------------
# Post views (app.bsky.feed.getPosts)


def parse_post_views(payload: Any) -> frozenset[str]:
    """Of a `app.bsky.feed.getPosts` answer, the uris of the posts whose author does not allow
    our reply (`viewer.replyDisabled`). DataError if the answer is not a list of posts."""
    answer = _mapping(payload, "getPosts answer")
    posts = answer.get("posts")
    if not isinstance(posts, list):
        raise DataError(f"getPosts answer: `posts` is {_kind(posts)}, not a list")
    disabled = set()
    for view in posts:
        if not isinstance(view, Mapping):
            continue
        viewer, uri = view.get("viewer"), view.get("uri")
        replies_off = isinstance(viewer, Mapping) and viewer.get("replyDisabled") is True
        if replies_off and isinstance(uri, str) and len(uri) <= MAX_URI:
            disabled.add(uri)
    return frozenset(disabled)


# ---------------------------------------------------------------------------------------------
# Our posts


@dataclass(frozen=True, slots=True)
class ImageRef:
    """An uploaded image as a post embeds it: its blob (as uploadBlob answered) and its alt
    text, and its width and height when known. `encode` is the "media id" `upload_media` gives
    the outbox; `read_image_ref` reads it back."""

    blob: dict[str, Any]
    alt: str
    aspect_ratio: tuple[int, int] | None = None

    def encode(self) -> str:
        value: dict[str, Any] = {"blob": self.blob, "alt": self.alt}
        if self.aspect_ratio is not None:
            value["aspectRatio"] = list(self.aspect_ratio)
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))

    def embedded(self) -> dict[str, Any]:
        """The image as `app.bsky.embed.images#image`."""
        image: dict[str, Any] = {"image": self.blob, "alt": self.alt}
        if self.aspect_ratio is not None:
            width, height = self.aspect_ratio
            image["aspectRatio"] = {"width": width, "height": height}
        return image


def read_image_ref(text: str) -> ImageRef:
    """An image reference as `ImageRef.encode` wrote it. DataError for anything else."""
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, Mapping):
        raise DataError(f"not a Bluesky image reference: {_short(text)}")
    alt = value.get("alt")
    if not isinstance(alt, str):
        raise DataError(f"a Bluesky image reference without its alt text: {_short(text)}")
    ratio = value.get("aspectRatio")
    aspect: tuple[int, int] | None = None
    if ratio is not None:
        if not (
            isinstance(ratio, list)
            and len(ratio) == 2
            and all(_is_int(n) and 0 < n < 2**31 for n in ratio)
        ):
            raise DataError(f"a Bluesky image reference with a broken aspect ratio: {_short(text)}")
        aspect = (ratio[0], ratio[1])
    return ImageRef(parse_blob({"blob": value.get("blob")}), alt, aspect)


def langs_of(lang: str | None) -> tuple[str, ...]:
    """A post's `langs` from an outbox row's `lang`: "en", or "en+es" for a post in two
    languages (a broadcast that fits one post). A record's langs are BCP 47 tags, which the
    PDS checks: anything else is left out rather than have the post refused."""
    if not lang:
        return ()
    tags = []
    for part in lang.split("+"):
        primary, dash, rest = part.partition("-")
        tag = primary.lower() + dash + rest  # atproto takes the primary subtag in lower case
        if _RECORD_LANG.fullmatch(tag):
            tags.append(tag)
    return _unique(tags)


def post_record(
    text: str,
    created_at: datetime,
    langs: tuple[str, ...],
    reply: ReplyContext | None,
    images: Sequence[ImageRef],
    facets: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """The `app.bsky.feed.post` record of a post of ours: `reply` is the context of the post it
    answers (its parent; the root is that post's root), None for a post of its own."""
    record: dict[str, Any] = {
        "$type": POST_COLLECTION,
        "text": text,
        "createdAt": _iso(created_at),
    }
    if langs:
        record["langs"] = list(langs[:3])
    if facets:
        record["facets"] = list(facets)
    if reply is not None:
        record["reply"] = {
            "root": {"uri": reply.root_uri, "cid": reply.root_cid},
            "parent": {"uri": reply.uri, "cid": reply.cid},
        }
    if images:
        record["embed"] = {
            "$type": "app.bsky.embed.images",
            "images": [image.embedded() for image in images],
        }
    return record


def parse_created(payload: Any, root: ReplyContext | None) -> PostRef:
    """The post we just created (createRecord's answer {uri, cid}) as a reference to thread
    under: `root` is the context of the post it answered (None: it answered nothing, and is
    its own thread's root)."""
    uri, cid = _strong_ref(payload, "createRecord answer")
    root_uri, root_cid = (root.root_uri, root.root_cid) if root is not None else (uri, cid)
    return PostRef(post_id(uri), ReplyContext(uri, cid, root_uri, root_cid).encode())


def parse_record(payload: Any) -> OwnPost:
    """A post of ours as getRecord answers it ({uri, cid, value}), with the context a reply
    under it needs. DataError if it is not a post record."""
    answer = _mapping(payload, "getRecord answer")
    uri, cid = _strong_ref(answer, "getRecord answer")
    value = _mapping(answer.get("value"), "getRecord answer.value")
    kind = value.get("$type")
    if kind is not None and kind != POST_COLLECTION:
        raise DataError(f"getRecord answer: a {_short(kind)}, not a post")
    text = value.get("text")
    if not isinstance(text, str):
        raise DataError(f"getRecord answer.value.text is {_kind(text)}, not a string")
    parent = root = None
    reply = value.get("reply")
    if reply is not None:
        reply = _mapping(reply, "getRecord answer.value.reply")
        parent = _strong_ref(reply.get("parent"), "getRecord answer.value.reply.parent")
        root = _strong_ref(reply.get("root"), "getRecord answer.value.reply.root")
    root_uri, root_cid = root if root is not None else (uri, cid)
    return OwnPost(
        post_id=post_id(uri),
        in_reply_to=post_id(parent[0]) if parent is not None else None,
        text=clean_text(text[:MAX_TEXT]),
        context=ReplyContext(uri, cid, root_uri, root_cid).encode(),
    )


def parse_blob(payload: Any) -> dict[str, Any]:
    """The blob uploadBlob answered ({"blob": {...}}), as a record embeds it: `$type` "blob",
    `ref` {"$link": cid}, `mimeType`, `size`. DataError if it is not one."""
    answer = _mapping(payload, "uploadBlob answer")
    blob = _mapping(answer.get("blob"), "uploadBlob answer.blob")
    cid = _blob_cid(blob, "uploadBlob answer.blob")
    mime, size = blob.get("mimeType"), blob.get("size")
    if not (isinstance(mime, str) and 0 < len(mime) <= 128 and mime.isascii()):
        raise DataError(f"uploadBlob answer.blob.mimeType: {_short(mime)}")
    if not (_is_int(size) and 0 <= size < 2**53):
        raise DataError(f"uploadBlob answer.blob.size: {_short(size)}")
    return {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": size}


# ---------------------------------------------------------------------------------------------
# Rate limits and errors


def parse_rate_budget(headers: Mapping[str, str], now: datetime, points: int) -> RateBudget | None:
    """What `RateLimit-Remaining` and `RateLimit-Reset` (epoch seconds) say is left, counted in
    calls that cost `points` each; None when they do not say it readably."""
    left = _header_int(headers, "RateLimit-Remaining")
    reset_at = _reset(headers)
    if left is None or reset_at is None or points <= 0:
        return None
    limit = _header_int(headers, "RateLimit-Limit")
    return RateBudget(
        left // points,
        believable_reset(reset_at, now),
        limit // points if limit is not None else None,
    )


def parse_reset(headers: Mapping[str, str], now: datetime) -> datetime:
    """When a 429's limit lifts: `RateLimit-Reset`, else `RESET_DEFAULT` from `now`."""
    reset_at = _reset(headers)
    if reset_at is None:
        return now + RESET_DEFAULT
    return believable_reset(max(reset_at, now), now)


def _reset(headers: Mapping[str, str]) -> datetime | None:
    seconds = _header_int(headers, "RateLimit-Reset")
    if seconds is None:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    """A header's whole number, whatever the case of its name (a plain dict keeps the case the
    server sent; httpx's headers ignore it)."""
    value = headers.get(name)
    if value is None:
        wanted = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == wanted), None)
    if not isinstance(value, str):
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit() and len(value) < 16):
        return None
    return int(value)


def error_text(content: Any) -> str:
    """An XRPC error body ({"error": "InvalidToken", "message": "..."}), bytes, text or parsed
    JSON, as one short line; "" if it says nothing readable."""
    value = content
    if isinstance(content, bytes | bytearray | str):
        try:
            value = json.loads(content)
        except (ValueError, RecursionError):
            return ""
    if not isinstance(value, Mapping):
        return ""
    error, message = value.get("error"), value.get("message")
    parts = [p for p in (error, message) if isinstance(p, str) and p.strip()]
    return " ".join(clean_text(": ".join(parts)).split())[:300]


# ---------------------------------------------------------------------------------------------
# Checking values


def _iso(value: datetime) -> str:
    """A time as atproto writes one: UTC, milliseconds, "Z" (a naive time is UTC)."""
    when = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _time(value: Any) -> datetime:
    """A time the server wrote (`indexedAt`): with its zone, else DataError."""
    if not isinstance(value, str) or len(value) > 64:
        raise DataError(f"not a time: {_short(value)}")
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise DataError(f"a time without its zone: {_short(value)}")
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise DataError(f"not a time: {_short(value)}") from None


def _is_handle(value: Any) -> TypeGuard[str]:
    return (
        isinstance(value, str)
        and len(value) <= MAX_HANDLE
        and value.isascii()
        and value != "handle.invalid"
        and _HANDLE.fullmatch(value) is not None
    )


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_web_url(value: str) -> bool:
    return value.lower().startswith(("https://", "http://")) and 8 < len(value) < 2048


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))
