"""Bluesky JSON built in the lexicons' shape, for the wire tests and the adapter's mock server:
notifications (`app.bsky.notification.listNotifications#notification`) carrying their
`app.bsky.feed.post` records, pages of them, post views, and the answers of createRecord,
getRecord and uploadBlob. Every value is derived from a number `n`, so that two calls with the
same `n` describe the same post.

The shapes follow bluesky-social/atproto's lexicons: `app/bsky/notification/listNotifications`,
`app/bsky/feed/post`, `app/bsky/richtext/facet`, `app/bsky/embed/{images,recordWithMedia,gallery}`,
`app/bsky/feed/defs#postView`, `com/atproto/repo/{createRecord,getRecord,uploadBlob}`.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from socialbot.networks.bluesky.facets import facets_of
from socialbot.networks.bluesky.tid import record_key

CITY_DID = "did:plc:cityofexample311bskyapp"
CITY_HANDLE = "city311.bsky.social"
BASE_TIME = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POST = "app.bsky.feed.post"

JSONObject = dict[str, Any]


def _base32(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest() * 3
    return base64.b32encode(digest).decode().lower().rstrip("=")[:length]


def did(n: int) -> str:
    """The DID of resident `n` (a did:plc, 32 characters like Bluesky's)."""
    return "did:plc:" + _base32(f"did-{n}", 24)


def handle(n: int) -> str:
    return f"resident{n}.bsky.social"


_handle = handle  # `notification`'s argument is named as the wire tests name it


def cid(seed: str | int) -> str:
    """A CIDv1 as text (base32, "bafyrei…", 59 characters)."""
    return "bafyrei" + _base32(f"cid-{seed}", 52)


def blob_cid(seed: str | int) -> str:
    """A blob's CID (raw codec, "bafkrei…")."""
    return "bafkrei" + _base32(f"blob-{seed}", 52)


def time(n: int) -> str:
    """The `indexedAt` of notification `n`: a second after `n - 1`'s."""
    return iso(BASE_TIME + timedelta(seconds=n))


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rkey(n: int) -> str:
    return record_key(f"post-{n}", BASE_TIME + timedelta(seconds=n))


def uri(n: int, author_did: str | None = None) -> str:
    """The at:// uri of post `n` by `author_did` (resident `n` by default)."""
    return f"at://{author_did or did(n)}/{POST}/{rkey(n)}"


def ref(item: Mapping[str, Any]) -> JSONObject:
    """The strongRef {uri, cid} of a notification, post view or record answer built here."""
    return {"uri": item["uri"], "cid": item["cid"]}


def blob(seed: str | int, mime: str = "image/jpeg", size: int = 123_456) -> JSONObject:
    return {"$type": "blob", "ref": {"$link": blob_cid(seed)}, "mimeType": mime, "size": size}


def images_embed(seed: str | int, alts: Sequence[str]) -> JSONObject:
    """`app.bsky.embed.images` with one image per alt text."""
    return {
        "$type": "app.bsky.embed.images",
        "images": [
            {"image": blob(f"{seed}-{i}"), "alt": alt, "aspectRatio": {"width": 4, "height": 3}}
            for i, alt in enumerate(alts)
        ],
    }


def post(
    n: int,
    text: str,
    *,
    reply_to: Mapping[str, Any] | None = None,
    root: Mapping[str, Any] | None = None,
    images: Sequence[str] = (),
    tags: Sequence[str] = (),
    facets: list[JSONObject] | None = None,
    langs: Sequence[str] = ("en",),
    created_at: str | None = None,
    embed: JSONObject | None = None,
) -> JSONObject:
    """The `app.bsky.feed.post` record of post `n`. `reply_to`: the notification (or anything
    with `uri`, `cid` and maybe `record`) it answers; its root is `root`, else `reply_to`'s own
    root, else `reply_to` itself, as Bluesky's app writes it. `facets` None: the links and tags
    Bluesky's app would mark up in `text`."""
    record: JSONObject = {
        "$type": POST,
        "text": text,
        "createdAt": created_at or time(n),
        "facets": facets_of(text) if facets is None else facets,
    }
    if langs:
        record["langs"] = list(langs)
    if tags:
        record["tags"] = list(tags)
    if reply_to is not None:
        parent_reply = (reply_to.get("record") or {}).get("reply")
        thread_root = ref(root) if root is not None else None
        if thread_root is None:
            thread_root = dict(parent_reply["root"]) if parent_reply else ref(reply_to)
        record["reply"] = {"root": thread_root, "parent": ref(reply_to)}
    if embed is not None:
        record["embed"] = embed
    elif images:
        record["embed"] = images_embed(n, images)
    return record


def notification(
    n: int,
    text: str,
    *,
    reason: str = "mention",
    reply_to: Mapping[str, Any] | None = None,
    root: Mapping[str, Any] | None = None,
    images: Sequence[str] = (),
    tags: Sequence[str] = (),
    facets: list[JSONObject] | None = None,
    langs: Sequence[str] = ("en",),
    author_did: str | None = None,
    handle: str | None = None,
    indexed_at: str | None = None,
    embed: JSONObject | None = None,
) -> JSONObject:
    """Notification `n`: resident `n` (or `author_did`) posted `text` mentioning the city
    (`reason` "mention") or answering one of its posts ("reply"). See `post` for the rest."""
    author = author_did or did(n)
    return {
        "uri": uri(n, author),
        "cid": cid(n),
        "author": {
            "did": author,
            "handle": handle or _handle(n),
            "displayName": f"Resident {n}",
            "labels": [],
            "viewer": {"muted": False, "blockedBy": False},
        },
        "reason": reason,
        "record": post(
            n,
            text,
            reply_to=reply_to,
            root=root,
            images=images,
            tags=tags,
            facets=facets,
            langs=langs,
            embed=embed,
        ),
        "isRead": False,
        "indexedAt": indexed_at or time(n),
        "labels": [],
    }


def like(n: int, subject: Mapping[str, Any]) -> JSONObject:
    """Notification `n`: resident `n` liked `subject` (a post of ours)."""
    return {
        "uri": f"at://{did(n)}/app.bsky.feed.like/{rkey(n)}",
        "cid": cid(f"like-{n}"),
        "author": {"did": did(n), "handle": handle(n)},
        "reason": "like",
        "reasonSubject": subject["uri"],
        "record": {
            "$type": "app.bsky.feed.like",
            "subject": ref(subject),
            "createdAt": time(n),
        },
        "isRead": False,
        "indexedAt": time(n),
    }


def page(*notifications: JSONObject, cursor: str | None = None) -> JSONObject:
    """A listNotifications answer, newest first as the server serves it."""
    answer: JSONObject = {"notifications": list(notifications)}
    if cursor is not None:
        answer["cursor"] = cursor
    return answer


def post_view(item: Mapping[str, Any], *, reply_disabled: bool = False) -> JSONObject:
    """An `app.bsky.feed.defs#postView` of a notification's post, as getPosts answers."""
    viewer: JSONObject = {"threadMuted": False, "embeddingDisabled": False}
    if reply_disabled:
        viewer["replyDisabled"] = True
    return {
        "uri": item["uri"],
        "cid": item["cid"],
        "author": item["author"],
        "record": item["record"],
        "replyCount": 0,
        "repostCount": 0,
        "likeCount": 0,
        "indexedAt": item["indexedAt"],
        "viewer": viewer,
        "labels": [],
    }


def created(key: str, created_at: datetime, author_did: str = CITY_DID) -> JSONObject:
    """createRecord's answer for the post of ours named by `key` and `created_at`."""
    rk = record_key(key, created_at)
    return {
        "uri": f"at://{author_did}/{POST}/{rk}",
        "cid": cid(f"own-{rk}"),
        "commit": {"cid": cid(f"commit-{rk}"), "rev": rk},
        "validationStatus": "valid",
    }


def got_record(answer: Mapping[str, Any], value: Mapping[str, Any]) -> JSONObject:
    """getRecord's answer for a record createRecord answered with `answer`."""
    return {"uri": answer["uri"], "cid": answer["cid"], "value": dict(value)}


def uploaded(seed: str | int, mime: str = "image/jpeg", size: int = 123_456) -> JSONObject:
    """uploadBlob's answer."""
    return {"blob": blob(seed, mime, size)}
