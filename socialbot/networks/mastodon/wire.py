"""Mastodon API JSON → our dataclasses. No Mastodon.py here: the adapter hands over the JSON as
the server sent it, and it is parsed once, here.

A page of `GET /api/v1/notifications` is a JSON array of notifications, each
``{"id", "type", "created_at", "account", "status"}``. Everything in it is untrusted, type-wise
too: each notification is parsed on its own, so one malformed item is recorded and the rest of
the page goes on. A status's `content` is HTML; `html_text` turns it into the text a resident
typed, once.

What is left out and what is kept: a notification that is not a `mention` with a status (a
follow, a favourite, a mention whose status was deleted) holds no post and is left out; it still
moves the cursor. A boost, and a status of our own, are kept as `Mention`s the core ignores (a
`RETWEETED` reference; the author is the account we act as), as X's are: they are recorded, so a
re-fetch finds them seen, and staff can see why nothing was answered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
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
from socialbot.networks.base import MAX_PROBLEM, Malformed, MentionPage, OwnPost
from socialbot.networks.json_values import JSONObject
from socialbot.networks.json_values import kind as _kind
from socialbot.networks.json_values import mapping as _mapping
from socialbot.networks.json_values import short as _short
from socialbot.storable import clean_text, storable_json

PLATFORM = "mastodon"


# Ids are strings in Mastodon's API: digits on Mastodon itself, letters too on other servers
# (Pleroma's flake ids, GoToSocial's ULIDs); as long as the columns they are stored in.
_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
# `acct`: "user" for a local account, "user@domain" for a remote one; as long as its column.
_ACCT = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?(?:@[A-Za-z0-9.-]+(?::\d+)?)?")
MAX_ACCT = 64
_LANG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,4})?")
MAX_SHORT_TEXT = 256
MAX_SPOILER = 1000  # longer than any instance's whole post; a warning is never cut below it

# Who sees a status, widest first: a reply is never wider than the post it answers.
VISIBILITIES = ("public", "unlisted", "private", "direct")
# Who may read a status of these: anyone (an unlisted one is left out of the public timelines,
# not hidden). Followers-only and direct ones are private messages.
PUBLIC_VISIBILITIES = ("public", "unlisted")


# ---------------------------------------------------------------------------------------------
# HTML → text


class _TextParser(HTMLParser):
    """Mastodon's status HTML as its text: <p> and <br> as line breaks, every span's text kept
    (Mastodon cuts a long URL's display into `invisible` and `ellipsis` spans; together they are
    the whole URL as typed), and the links that are neither mentions nor hashtags."""

    _BLOCKS = frozenset({"p", "div", "blockquote", "pre", "ul", "ol", "li", "h1", "h2", "h3"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in self._BLOCKS:
            self._break()
        elif tag == "a":
            self._link(dict(attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BLOCKS:
            self._break()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def _break(self) -> None:
        """A paragraph's end: one blank line between paragraphs, never at the start."""
        text = "".join(self.parts)
        if text.strip():
            self.parts = [text.rstrip(" \t\n") + "\n\n"]

    def _link(self, attrs: Mapping[str, str | None]) -> None:
        classes = (attrs.get("class") or "").split()
        rels = (attrs.get("rel") or "").split()
        if "mention" in classes or "hashtag" in classes or "tag" in rels:
            return
        href = attrs.get("href") or ""
        if href.lower().startswith(("http://", "https://")) and href not in self.links:
            self.links.append(href)


@dataclass(frozen=True, slots=True)
class StatusText:
    """A status's HTML read: its text, and the links in it (not mentions, not hashtags)."""

    text: str
    links: tuple[str, ...]


def read_html(content: str) -> StatusText:
    """`content` (a status's HTML) as its text and links. Never raises: HTML that is not
    Mastodon's (a remote server's, a broken one) still gives the text it holds."""
    parser = _TextParser()
    try:
        parser.feed(content)
        parser.close()
    except Exception:  # html.parser is lenient; whatever it still refuses, keep what it read
        pass
    lines = "".join(parser.parts).split("\n")
    text = "\n".join(line.strip(" \t\r") for line in lines).strip()
    return StatusText(clean_text(text), tuple(clean_text(u) for u in parser.links))


def html_text(content: str) -> str:
    """The text of a status's HTML `content` (see `read_html`)."""
    return read_html(content).text


# ---------------------------------------------------------------------------------------------
# What a reply needs to know of the post it answers


@dataclass(frozen=True, slots=True)
class ReplyContext:
    """What a reply keeps of the post it answers (`Mention.reply_context`, `PostRef.context`):
    who may see it, its content warning, and its author's `acct`."""

    visibility: str
    spoiler_text: str = ""
    acct: str | None = None

    def encode(self) -> str:
        return json.dumps(
            {"visibility": self.visibility, "spoiler_text": self.spoiler_text, "acct": self.acct},
            ensure_ascii=False,
            separators=(",", ":"),
        )


def read_reply_context(context: str) -> ReplyContext:
    """`context` as `ReplyContext.encode` wrote it. Anything else (empty, another network's,
    damaged) is read as a `direct` post without a warning: not knowing who may see a post, a
    reply shows itself to nobody but the people it names."""
    try:
        value = json.loads(context) if context else None
    except ValueError:
        value = None
    if not isinstance(value, Mapping):
        return ReplyContext("direct")
    visibility = value.get("visibility")
    spoiler = value.get("spoiler_text")
    acct = value.get("acct")
    return ReplyContext(
        visibility=visibility if visibility in VISIBILITIES else "direct",
        spoiler_text=clean_text(spoiler)[:MAX_SPOILER] if isinstance(spoiler, str) else "",
        acct=acct if _is_acct(acct) else None,
    )


def narrowest(*visibilities: str) -> str:
    """The narrowest of `visibilities` ("direct" the narrowest); one that Mastodon does not name
    counts as "direct", and so does none at all."""
    ranks = [
        VISIBILITIES.index(v) if v in VISIBILITIES else len(VISIBILITIES) - 1 for v in visibilities
    ]
    return VISIBILITIES[max(ranks, default=len(VISIBILITIES) - 1)]


# ---------------------------------------------------------------------------------------------
# Notifications


def id_order(value: str) -> tuple[int, str]:
    """The order of Mastodon ids: a longer id is newer, then by text. Never `int()`: ids are
    strings, and not all servers' are digits."""
    return (len(value), value)


def parse_notifications(payload: Any, since: str | None = None) -> MentionPage:
    """A page of `GET /api/v1/notifications`. Raises DataError only if the page itself is not a
    JSON array: then none of its items can be told apart.

    Every mention ends up once, as a `Mention` or as a `Malformed`. The page's `cursor` is the
    newest notification id on it, and never older than `since`, the cursor the fetch started
    from; None for an empty page."""
    if not isinstance(payload, list):
        raise DataError(f"notifications page: expected a JSON array, got {_kind(payload)}")
    mentions: dict[str, Mention] = {}
    malformed: list[Malformed] = []
    ids: list[str] = []
    for item in payload:
        notification_id = item.get("id") if isinstance(item, Mapping) else None
        if is_id(notification_id):
            ids.append(notification_id)
        try:
            mention = _notification(item)
        except Exception as exc:  # whatever an item holds, it is that item's problem alone
            status = item.get("status") if isinstance(item, Mapping) else None
            post_id = status.get("id") if isinstance(status, Mapping) else None
            malformed.append(Malformed.of(post_id if is_id(post_id) else None, exc, item))
            continue
        if mention is not None:
            mentions.setdefault(mention.post_id, mention)
    if since is not None and is_id(since):
        ids.append(since)
    good = set(mentions)
    return MentionPage(
        mentions=tuple(mentions.values()),
        malformed=tuple(_first_per_id(m for m in malformed if m.post_id not in good)),
        cursor=max(ids, key=id_order) if payload and ids else None,
    )


def _first_per_id(items: Any) -> list[Malformed]:
    seen: set[str] = set()
    kept: list[Malformed] = []
    for item in items:
        if item.post_id is not None:
            if item.post_id in seen:
                continue
            seen.add(item.post_id)
        kept.append(item)
    return kept


def _notification(item: Any) -> Mention | None:
    """The mention a notification carries; None for one that carries none."""
    notification = _mapping(item, "notification")
    _id(notification, "id")
    kind = notification.get("type")
    if not isinstance(kind, str):
        raise DataError(f"notification `type` is {_kind(kind)}, not a string")
    status = notification.get("status")
    if kind != "mention" or status is None:
        return None
    return parse_status(status)


def parse_status(value: Any) -> Mention:
    """One status as a `Mention`. DataError (or another exception) when it cannot be one."""
    status = _mapping(value, "status")
    post_id = _id(status, "id")
    account = _mapping(status.get("account"), "status.account")
    author_id = _id(account, "id")
    acct = account.get("acct")
    if not _is_acct(acct):
        raise DataError(f"status.account.acct: not a Mastodon account name: {_short(acct)}")
    content = _str(status, "content")
    read = read_html(content)
    visibility = _str(status, "visibility")
    if visibility not in VISIBILITIES:
        visibility = "direct"  # a visibility Mastodon did not have ("limited"): the narrowest
    spoiler = status.get("spoiler_text") or ""
    if not isinstance(spoiler, str):
        raise DataError(f"status.spoiler_text is {_kind(spoiler)}, not a string")
    lang = status.get("language")
    if lang is not None and not isinstance(lang, str):
        raise DataError(f"status.language is {_kind(lang)}, not a string")
    references: list[Reference] = []
    in_reply_to = _optional_id(status, "in_reply_to_id")
    if in_reply_to is not None:
        references.append(Reference(ReferenceType.REPLIED_TO, in_reply_to))
    reblog = status.get("reblog")
    if reblog is not None:
        references.append(Reference(ReferenceType.RETWEETED, _id(_mapping(reblog, "reblog"), "id")))
    media, missing = _media(status.get("media_attachments", []))
    return Mention(
        platform=PLATFORM,
        post_id=post_id,
        author_id=author_id,
        author_username=acct,
        text=read.text,
        created_at=_time(_str(status, "created_at")),
        lang=lang if lang and _LANG.fullmatch(lang) else None,
        in_reply_to_user_id=_optional_id(status, "in_reply_to_account_id"),
        references=tuple(references),
        hashtags=_hashtags(status.get("tags", [])),
        expanded_urls=read.links,
        media=media,
        withheld="the author's account is suspended" if account.get("suspended") is True else None,
        missing=missing,
        reply_context=ReplyContext(visibility, clean_text(spoiler)[:MAX_SPOILER], acct).encode(),
        public=visibility in PUBLIC_VISIBILITIES,
        raw=storable_json(status),
    )


def _hashtags(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise DataError(f"status.tags is {_kind(value)}, not a list")
    names: list[str] = []
    for tag in value:
        name = _mapping(tag, "status.tags[]").get("name")
        if not isinstance(name, str):
            raise DataError(f"status.tags[].name is {_kind(name)}, not a string")
        name = clean_text(name).lstrip("#").lower()[:MAX_SHORT_TEXT]
        if name and name not in names:
            names.append(name)
    return tuple(names)


_MEDIA_TYPES = {"image": MediaType.PHOTO, "video": MediaType.VIDEO, "gifv": MediaType.ANIMATED_GIF}


def _media(value: Any) -> tuple[tuple[Media, ...], tuple[str, ...]]:
    """`media_attachments[]` as photos and videos; what cannot be shown, named as missing."""
    if not isinstance(value, list):
        raise DataError(f"status.media_attachments is {_kind(value)}, not a list")
    media: list[Media] = []
    missing: list[str] = []
    for item in value:
        attachment = _mapping(item, "status.media_attachments[]")
        key = _id(attachment, "id")
        kind = attachment.get("type")
        url, preview = _web_url(attachment.get("url")), _web_url(attachment.get("preview_url"))
        remote = _web_url(attachment.get("remote_url"))
        description = attachment.get("description")
        alt = clean_text(description)[:MAX_PROBLEM] if isinstance(description, str) else None
        media_type = _MEDIA_TYPES.get(kind) if isinstance(kind, str) else None
        if media_type is None:
            missing.append(f"medium {key} of a type socialbot does not know ({_short(kind)})")
            continue
        shown = (url or remote) if media_type is MediaType.PHOTO else preview
        if shown is None:
            missing.append(f"{media_type.value} {key} without a link to it")
            continue
        media.append(
            Media(
                key=key,
                type=media_type,
                url=url or remote if media_type is MediaType.PHOTO else None,
                preview_image_url=preview,
                alt_text=alt or None,
            )
        )
    return tuple(media), tuple(missing)


# ---------------------------------------------------------------------------------------------
# Our own statuses, and the answers to our calls


def parse_posted(payload: Any) -> PostRef:
    """The status we just posted (`POST /api/v1/statuses`), as a reference to thread under: its
    id, and its visibility and warning, which a reply under it keeps."""
    status = _mapping(payload, "status")
    return PostRef(_id(status, "id"), _own_context(status))


def _own_context(status: JSONObject) -> str:
    """What a reply under a status of ours keeps of it: its visibility and warning (an unknown
    visibility read as `direct`), and our `acct`."""
    visibility = status.get("visibility")
    spoiler = status.get("spoiler_text")
    account = status.get("account")
    acct = account.get("acct") if isinstance(account, Mapping) else None
    return ReplyContext(
        visibility if isinstance(visibility, str) and visibility in VISIBILITIES else "direct",
        clean_text(spoiler)[:MAX_SPOILER] if isinstance(spoiler, str) else "",
        acct if _is_acct(acct) else None,
    ).encode()


def parse_own_statuses(payload: Any) -> list[OwnPost]:
    """Our statuses in a page of `GET /api/v1/accounts/:id/statuses`: replies with the status
    they answer, others (broadcasts) with `in_reply_to` None, boosts passed over; each with the
    context `parse_posted` gives it (a thread goes on under a recovered status as public, or
    as warned, as it is). An item that is not a status as Mastodon describes one is passed
    over."""
    posts: list[OwnPost] = []
    for status in payload if isinstance(payload, list) else []:
        if not isinstance(status, Mapping) or status.get("reblog") is not None:
            continue
        post_id, content = status.get("id"), status.get("content")
        if not is_id(post_id):
            continue
        in_reply_to = status.get("in_reply_to_id")
        posts.append(
            OwnPost(
                post_id=post_id,
                in_reply_to=in_reply_to if is_id(in_reply_to) else None,
                text=html_text(content) if isinstance(content, str) else "",
                context=_own_context(status),
            )
        )
    return posts


def created_at(status: Any) -> datetime | None:
    """When a status was posted, if it says so readably."""
    value = status.get("created_at") if isinstance(status, Mapping) else None
    try:
        return _time(value) if isinstance(value, str) else None
    except DataError:
        return None


def parse_rate_budget(headers: Mapping[str, str], now: datetime) -> RateBudget | None:
    """What `X-RateLimit-Remaining`, `-Reset` (an ISO 8601 time) and `-Limit` say is left; None
    when they do not say it readably."""
    left = headers.get("X-RateLimit-Remaining", "")
    if not (left.isascii() and left.isdigit() and len(left) < 10):
        return None
    try:
        reset_at = _time(headers["X-RateLimit-Reset"])
    except (KeyError, DataError):
        return None
    remaining = int(left)
    limit = headers.get("X-RateLimit-Limit", "")
    return RateBudget(
        remaining,
        believable_reset(reset_at, now),
        int(limit) if limit.isascii() and limit.isdigit() and len(limit) < 10 else None,
    )


def parse_reset(headers: Mapping[str, str], now: datetime) -> datetime | None:
    """When a 429's limit lifts (`X-RateLimit-Reset`), if the answer says so readably."""
    try:
        return believable_reset(_time(headers["X-RateLimit-Reset"]), now)
    except (KeyError, DataError):
        return None


def error_text(body: bytes) -> str:
    """Mastodon's own words for a failure (`{"error": "..."}`), one short line; "" if none."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    message = value.get("error") if isinstance(value, Mapping) else None
    if not isinstance(message, str):
        return ""
    return " ".join(clean_text(message).split())[:300]


# ---------------------------------------------------------------------------------------------
# Checking values


def _time(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 64:
        raise DataError(f"not a time: {_short(value)}")
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise DataError(f"a time without its zone: {_short(value)}")
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # not a time, or one no calendar holds in UTC
        raise DataError(f"not a time: {_short(value)}") from None


def is_id(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and value.isascii() and _ID.fullmatch(value) is not None


def _is_acct(value: Any) -> TypeGuard[str]:
    return (
        isinstance(value, str)
        and len(value) <= MAX_ACCT
        and value.isascii()
        and _ACCT.fullmatch(value) is not None
    )


def _id(obj: JSONObject, key: str) -> str:
    value = obj.get(key)
    if not is_id(value):
        raise DataError(f"`{key}`: not a Mastodon id: {_short(value)}")
    return str(value)


def _optional_id(obj: JSONObject, key: str) -> str | None:
    return None if obj.get(key) is None else _id(obj, key)


def _str(obj: JSONObject, key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise DataError(f"`{key}` is {_kind(value)}, not a string")
    return value


def _web_url(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith(("https://", "http://")) and len(value) < 2048:
        return clean_text(value)
    return None
