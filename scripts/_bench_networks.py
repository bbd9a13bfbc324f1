"""The intake benchmark's storm on each network, served to the real adapter in its wire shape.

`_bench_common.Storm` says what mention i is (its kind, author, words, place, photo, the post it
answers); each `StormNetwork` here serves it as that network does:

- X: API v2's mentions timeline (`_bench_common.MentionsServer`), pages of 100, via `responses`
  (tweepy speaks `requests`).
- Mastodon: `GET /api/v1/notifications` pages as Mastodon 4.x builds them (the fields of the
  recorded cassettes, the status as HTML, `Link` pagination, `X-RateLimit-*` headers), 80 a
  page (the adapter's `limit`, the most Mastodon serves), via `responses` (Mastodon.py speaks
  `requests`). The instance document is asked once per adapter.
- Bluesky: `app.bsky.notification.listNotifications` pages of 100 (the adapter's `limit`, the
  AppView's most) with keyset cursors, and the `app.bsky.feed.getPosts` calls (25 uris each) the
  adapter makes per page to leave out threads closed to our reply; `RateLimit-*` headers; one
  sign-in (`createSession`, in the untimed warm-up), via `respx` (atproto speaks httpx).

Mastodon and Bluesky carry no geo: X's exact point or small place is typed into the post as
coordinates (as a resident there would), a city-wide place is only words. X's t.co links are the
links themselves. A post X serves twice comes again in a new notification of the same post.
Nothing here reaches the network.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

import responses
from _bench_common import (
    CITY,
    CITY_ID,
    MENTIONS_URL,
    REPLY_OFFSET,
    STORM_BASE,
    JSONObject,
    MentionsServer,
    Storm,
    forget_calls,
)

if TYPE_CHECKING:  # imported where Bluesky's storm runs: an X run's memory is measured without
    import httpx

NETWORKS = ("x", "mastodon", "bluesky")
_LINK = re.compile(r"https?://\S+")
_TAG = re.compile(r"#\w*[^\W\d_]\w*")  # Mastodon's and the Bluesky app's: at least one letter


class StormNetwork(Protocol):
    """One network's side of the benchmark: its settings, its mocked endpoints, its pages."""

    name: str
    user_id: str  # the city's account id on the network, as the poller is given it
    per_poll: int  # mentions arriving between two polls, by default
    warm_up: int  # mentions of the untimed first poll: what the first poll reads (its newest page)
    pages_note: str

    def settings(self) -> dict[str, Any]:
        """`load_settings` keywords that make `build_service` build this network's adapter."""
        ...

    def serving(self) -> AbstractContextManager[None]:
        """The network's endpoints mocked while the context lasts."""
        ...

    def arrive(self, start: int, stop: int) -> None:
        """Mentions start..stop-1 are now on the network (the storm's work: untimed)."""
        ...

    def polled(self) -> list[str]:
        """The mention pages served since the last call, as sent; forgets the mock's calls."""
        ...

    def floor_rows(self, body: str) -> list[tuple[str, str, str, str | None, str, str]]:
        """json.loads of a page and its rows for the floor: (id, author, text, lang, time, raw)."""
        ...

    def reply_id(self, post_id: str) -> str:
        """The id our reply to `post_id` gets when the send job posts it."""
        ...


def for_name(name: str, storm: Storm) -> StormNetwork:
    if name == "x":
        return XStorm(storm)
    if name == "mastodon":
        return MastodonStorm(storm)
    if name == "bluesky":
        return BlueskyStorm(storm)
    raise ValueError(f"no storm for network {name!r}: choose one of {', '.join(NETWORKS)}")


def index_of(x_id: str) -> tuple[int, bool]:
    """The storm's index of an X post id, and whether it is the id of our reply to it."""
    value = int(x_id) - STORM_BASE - 1
    return (value - REPLY_OFFSET, True) if value >= REPLY_OFFSET else (value, False)


def _located_text(storm: Storm, i: int, handle: str) -> tuple[JSONObject, str]:
    """Mention i's X post, and its words on a network without geo or t.co: the city's handle,
    the links themselves, an exact point or a small place typed in as coordinates."""
    tweet, _media, places = storm.tweet(i)
    text = tweet["text"].replace(f"@{CITY}", handle)
    for url in tweet["entities"].get("urls", []):
        text = text.replace(url["url"], url["expanded_url"])
    point = (tweet.get("geo") or {}).get("coordinates")
    if point is not None:
        lon, lat = point["coordinates"]
        text += f" {lat:.5f}, {lon:.5f}"
    for place in places:
        if place["place_type"] == "poi":
            west, south, east, north = place["geo"]["bbox"]
            text += f" {(south + north) / 2:.5f}, {(west + east) / 2:.5f}"
    return tweet, text


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------------------------------------
# X


@dataclass
class XStorm:
    storm: Storm
    name: str = "x"
    user_id: str = CITY_ID
    per_poll: int = 800  # the mentions timeline keeps the newest 800 reachable
    warm_up: int = 100
    pages_note: str = "X: pages of 100 (max_results), newest first"
    server: MentionsServer = field(init=False)
    _mock: responses.RequestsMock | None = None
    _bodies: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server = MentionsServer(self.storm)

    def settings(self) -> dict[str, Any]:
        return {
            "x_consumer_key": "ck",
            "x_consumer_secret": "cs",
            "x_access_token": "at",
            "x_access_token_secret": "ats",
        }

    @contextmanager
    def serving(self) -> Iterator[None]:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add_callback(responses.GET, MENTIONS_URL, callback=self.server)
            self._mock = mock
            yield
        self._mock = None

    def arrive(self, start: int, stop: int) -> None:
        self._bodies = self.server.arrive(start, stop)

    def polled(self) -> list[str]:
        bodies, self._bodies = self._bodies, []
        if bodies:
            self.server.moved_past(json.loads(bodies[0])["meta"]["newest_id"])
        if self._mock is not None:
            forget_calls(self._mock)
        return bodies

    def floor_rows(self, body: str) -> list[tuple[str, str, str, str | None, str, str]]:
        page = json.loads(body)
        return [
            (t["id"], t["author_id"], t["text"], t.get("lang"), t["created_at"], json.dumps(t))
            for t in page.get("data", [])
        ]

    def reply_id(self, post_id: str) -> str:
        return str(int(post_id) + REPLY_OFFSET)


# ---------------------------------------------------------------------------------------------
# Mastodon

MASTODON_URL = "https://social.example.gov"
MASTODON_CITY_ID = "109311000000000001"
MASTODON_CITY = "city311"
RESIDENTS_SERVER = "town.example"
MASTODON_PAGE = 80  # the adapter's limit of GET /api/v1/notifications (its most; 40 by default)
MASTODON_RATE_LIMIT = 300  # a token's calls per 5 minutes
NOTIFICATION_BASE = 1_000_000  # notification ids: their own sequence, as on a server


def mastodon_account(author: str) -> JSONObject:
    """A resident's account on another server, with every field Mastodon 4.x sends."""
    name = f"resident{author}"
    return {
        "id": author,
        "username": name,
        "acct": f"{name}@{RESIDENTS_SERVER}",
        "display_name": f"Resident {author}",
        "locked": False,
        "bot": False,
        "discoverable": True,
        "indexable": False,
        "group": False,
        "created_at": "2024-03-02T00:00:00.000Z",
        "note": "",
        "url": f"https://{RESIDENTS_SERVER}/@{name}",
        "uri": f"https://{RESIDENTS_SERVER}/users/{name}",
        "avatar": f"https://{RESIDENTS_SERVER}/avatars/original/missing.png",
        "avatar_static": f"https://{RESIDENTS_SERVER}/avatars/original/missing.png",
        "avatar_description": "",
        "header": f"https://{RESIDENTS_SERVER}/headers/original/missing.png",
        "header_static": f"https://{RESIDENTS_SERVER}/headers/original/missing.png",
        "header_description": "",
        "followers_count": 12,
        "following_count": 40,
        "statuses_count": 311,
        "last_status_at": "2026-11-30",
        "hide_collections": None,
        "show_media": True,
        "show_media_replies": True,
        "show_featured": True,
        "noindex": False,
        "emojis": [],
        "roles": [],
        "fields": [],
    }


def status_html(text: str) -> str:
    """`text` as Mastodon renders a status: mentions as h-cards, hashtags and links as links."""
    import html

    parts: list[str] = []
    for word in re.split(r"(\s+)", text):
        if word.startswith("@") and len(word) > 1:
            user = word[1:]
            parts.append(
                f'<span class="h-card" translate="no"><a href="{MASTODON_URL}/@{user}" '
                f'class="u-url mention">@<span>{html.escape(user)}</span></a></span>'
            )
        elif _TAG.fullmatch(word.rstrip("!,.")):
            tag = word.rstrip("!,.")[1:]
            rest = word[len(tag) + 1 :]
            parts.append(
                f'<a href="{MASTODON_URL}/tags/{html.escape(tag.lower())}" class="mention '
                f'hashtag" rel="tag">#<span>{html.escape(tag)}</span></a>{html.escape(rest)}'
            )
        elif _LINK.fullmatch(word):
            scheme, _, rest = word.partition("://")
            parts.append(
                f'<a href="{html.escape(word)}" target="_blank" rel="nofollow noopener" '
                f'translate="no"><span class="invisible">{scheme}://</span><span class="">'
                f'{html.escape(rest)}</span><span class="invisible"></span></a>'
            )
        else:
            parts.append(html.escape(word, quote=False))
    return "<p>" + "".join(parts) + "</p>"


@dataclass
class MastodonStorm:
    storm: Storm
    name: str = "mastodon"
    user_id: str = MASTODON_CITY_ID
    per_poll: int = 800  # 10 pages of 80 and the empty one that ends the walk (20 at most)
    warm_up: int = MASTODON_PAGE  # the first poll reads the newest page only
    pages_note: str = "Mastodon: pages of 80 (the adapter's limit), oldest page first via min_id"
    _ids: list[int] = field(default_factory=list)  # notification ids, ascending
    _bodies: list[str] = field(default_factory=list)  # their JSON, in the same order
    _served: list[str] = field(default_factory=list)
    _mock: responses.RequestsMock | None = None
    _calls: int = 0

    def settings(self) -> dict[str, Any]:
        return {
            "mastodon_api_base_url": MASTODON_URL,
            "mastodon_access_token": "bench-token",
            "mastodon_user_id": MASTODON_CITY_ID,
        }

    @contextmanager
    def serving(self) -> Iterator[None]:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add_callback(
                "GET", f"{MASTODON_URL}/api/v1/notifications", callback=self._notifications
            )
            mock.add_callback(
                "GET", re.compile(rf"{re.escape(MASTODON_URL)}/api/v2/instance/?"), self._instance
            )
            self._mock = mock
            yield
        self._mock = None

    def notification(self, i: int) -> JSONObject:
        """Mention i as Mastodon notifies the city of it."""
        tweet, text = _located_text(self.storm, i, f"@{MASTODON_CITY}")
        _, media, _ = self.storm.tweet(i)
        status_id = tweet["id"]
        account = mastodon_account(tweet["author_id"])
        replied = next(
            (r["id"] for r in tweet.get("referenced_tweets", []) if r["type"] == "replied_to"),
            None,
        )
        to_user = tweet.get("in_reply_to_user_id")
        status: JSONObject = {
            "id": status_id,
            "created_at": tweet["created_at"],
            "in_reply_to_id": replied,
            "in_reply_to_account_id": (
                None if to_user is None else MASTODON_CITY_ID if to_user == CITY_ID else to_user
            ),
            "sensitive": False,
            "spoiler_text": "",
            "visibility": "public",
            "language": tweet["lang"],
            "uri": f"{account['uri']}/statuses/{status_id}",
            "url": f"{account['url']}/{status_id}",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "quotes_count": 0,
            "edited_at": None,
            "favourited": False,
            "reblogged": False,
            "muted": False,
            "bookmarked": False,
            "content": status_html(text),
            "filtered": [],
            "reblog": None,
            "application": None,
            "account": account,
            "media_attachments": [
                {
                    "id": str(110_000_000_000_000_000 + i),
                    "type": "image",
                    "url": f"https://files.{RESIDENTS_SERVER}/media_attachments/{i}/original.jpg",
                    "preview_url": f"https://files.{RESIDENTS_SERVER}/media_attachments/{i}/small.jpg",
                    "remote_url": m["url"],
                    "preview_remote_url": None,
                    "text_url": None,
                    "meta": {"original": {"width": 1600, "height": 1200, "aspect": 1.333}},
                    "description": None,
                    "blurhash": "UFHx]h~q-;xu_3M{WBof",
                }
                for m in media
            ],
            "mentions": [
                {
                    "id": MASTODON_CITY_ID,
                    "username": MASTODON_CITY,
                    "url": f"{MASTODON_URL}/@{MASTODON_CITY}",
                    "acct": MASTODON_CITY,
                }
            ],
            "tags": [
                {"name": tag.lower(), "url": f"{MASTODON_URL}/tags/{tag.lower()}"}
                for tag in dict.fromkeys(
                    w.rstrip("!,.")[1:] for w in text.split() if _TAG.fullmatch(w.rstrip("!,."))
                )
            ],
            "emojis": [],
            "quote": None,
            "card": None,
            "poll": None,
        }
        number = NOTIFICATION_BASE + i
        return {
            "id": str(number),
            "type": "mention",
            "created_at": tweet["created_at"],
            "group_key": f"ungrouped-{number}",
            "account": account,
            "status": status,
        }

    def arrive(self, start: int, stop: int) -> None:
        for i in range(start, stop):
            self._ids.append(NOTIFICATION_BASE + i)
            self._bodies.append(json.dumps(self.notification(i), ensure_ascii=False))

    def polled(self) -> list[str]:
        served, self._served = self._served, []
        if self._mock is not None:
            forget_calls(self._mock)
        # What a later poll can still ask (min_id at the cursor, or later): the rest is dropped,
        # so that the storm, not the bot, holds no more memory as it grows.
        keep = max(0, len(self._ids) - 2 * self.per_poll)
        del self._ids[:keep], self._bodies[:keep]
        return served

    def _headers(self) -> dict[str, str]:
        self._calls += 1
        return {
            "Content-Type": "application/json; charset=utf-8",
            "X-RateLimit-Limit": str(MASTODON_RATE_LIMIT),
            "X-RateLimit-Remaining": str(
                MASTODON_RATE_LIMIT - 1 - self._calls % MASTODON_RATE_LIMIT
            ),
            "X-RateLimit-Reset": (datetime.now(UTC) + timedelta(minutes=5)).strftime(
                "%Y-%m-%dT%H:%M:%S.%fZ"
            ),
        }

    def _notifications(self, request: Any) -> tuple[int, dict[str, str], str]:
        query = parse_qs(urlsplit(request.url).query)
        if query.get("types[]") != ["mention"]:
            return 400, self._headers(), json.dumps({"error": "expected types[]=mention"})
        size = min(int(query.get("limit", ["40"])[0]), MASTODON_PAGE)
        if "min_id" in query:  # the oldest `size` newer than min_id
            start = bisect.bisect_right(self._ids, int(query["min_id"][0]))
            chosen = range(start, min(start + size, len(self._ids)))
        else:  # the newest `size`
            chosen = range(max(0, len(self._ids) - size), len(self._ids))
        body = "[" + ",".join(self._bodies[k] for k in reversed(chosen)) + "]"
        headers = self._headers()
        if chosen:
            url = f"{MASTODON_URL}/api/v1/notifications"
            kept = [("types[]", "mention")]
            newest, oldest = self._ids[chosen[-1]], self._ids[chosen[0]]
            links = [f'<{url}?{urlencode([("min_id", newest), *kept])}>; rel="prev"']
            if len(chosen) >= size:
                links.insert(0, f'<{url}?{urlencode([("max_id", oldest), *kept])}>; rel="next"')
            headers["Link"] = ", ".join(links)
        self._served.append(body)
        return 200, headers, body

    def _instance(self, _request: Any) -> tuple[int, dict[str, str], str]:
        document = {
            "domain": "social.example.gov",
            "title": "City of Boston",
            "version": "4.4.3",
            "source_url": "https://github.com/mastodon/mastodon",
            "languages": ["en"],
            "configuration": {
                "urls": {"streaming": "wss://social.example.gov", "status": None},
                "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
                "statuses": {
                    "max_characters": 500,
                    "max_media_attachments": 4,
                    "characters_reserved_per_url": 23,
                },
                "media_attachments": {
                    "description_limit": 1500,
                    "image_matrix_limit": 33177600,
                    "image_size_limit": 16777216,
                    "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
                    "video_frame_rate_limit": 120,
                    "video_matrix_limit": 8294400,
                    "video_size_limit": 103809024,
                },
                "polls": {"max_options": 4, "max_characters_per_option": 50},
                "translation": {"enabled": False},
            },
            "registrations": {"enabled": False, "approval_required": False},
            "api_versions": {"mastodon": 6},
            "rules": [],
        }
        return 200, self._headers(), json.dumps(document)

    def floor_rows(self, body: str) -> list[tuple[str, str, str, str | None, str, str]]:
        rows = []
        for item in json.loads(body):
            status = item["status"]
            rows.append(
                (
                    status["id"],
                    status["account"]["id"],
                    status["content"],
                    status.get("language"),
                    status["created_at"],
                    json.dumps(item),
                )
            )
        return rows

    def reply_id(self, post_id: str) -> str:
        return str(int(post_id) + REPLY_OFFSET)


# ---------------------------------------------------------------------------------------------
# Bluesky

BLUESKY_PDS = "porcini.us-east.host.bsky.network"
BLUESKY_CITY_DID = "did:plc:c1ty3112bostonmassachus"
BLUESKY_CITY = "city311.bsky.social"
BLUESKY_PASSWORD = "abcd-efgh-ijkl-mnop"
BLUESKY_PAGE = 100  # the adapter's `limit`, listNotifications' most
GET_POSTS_MAX = 25
BLUESKY_RATE_LIMIT = 3000  # calls per 5 minutes, per IP
POST = "app.bsky.feed.post"
_B32 = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable, as TIDs spell it


def _b32(value: int, width: int) -> str:
    digits = []
    for _ in range(width):
        digits.append(_B32[value & 31])
        value >>= 5
    return "".join(reversed(digits))


def _cid(*parts: object) -> str:
    digest = hashlib.sha256(json.dumps(parts).encode()).digest()
    return "bafyrei" + base64.b32encode(digest).decode().lower().rstrip("=")[:52]


def _jwt(payload: JSONObject, typ: str) -> str:
    """A JWT as a PDS issues one; unsigned in effect: the SDK only reads its payload."""

    def b64(value: bytes) -> str:
        return base64.urlsafe_b64encode(value).decode().rstrip("=")

    head = b64(json.dumps({"typ": typ, "alg": "ES256K"}).encode())
    body = b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{head}.{body}.{b64(hashlib.sha256(f'{head}.{body}'.encode()).digest())}"


def resident_did(author: str) -> str:
    return "did:plc:" + _b32(int(author), 24)


@dataclass
class BlueskyStorm:
    storm: Storm
    name: str = "bluesky"
    user_id: str = BLUESKY_CITY_DID
    per_poll: int = 800
    warm_up: int = BLUESKY_PAGE  # the first poll reads the newest page only
    pages_note: str = "Bluesky: pages of 100 (its most), newest first, plus getPosts per 25"
    _keys: list[tuple[int, str]] = field(default_factory=list)  # (indexedAt ms, cid), ascending
    _bodies: list[str] = field(default_factory=list)  # the notifications' JSON, in that order
    _views: dict[str, str] = field(default_factory=dict)  # uri → post view JSON (getPosts)
    _served: list[str] = field(default_factory=list)
    _calls: int = 0
    sessions_created: int = 0

    def settings(self) -> dict[str, Any]:
        return {"bluesky_handle": BLUESKY_CITY, "bluesky_app_password": BLUESKY_PASSWORD}

    @contextmanager
    def serving(self) -> Iterator[None]:
        import respx

        with respx.mock(assert_all_called=False) as router:
            router.post(path="/xrpc/com.atproto.server.createSession").mock(
                side_effect=self._create_session
            )
            router.get(path="/xrpc/app.bsky.notification.listNotifications").mock(
                side_effect=self._notifications
            )
            router.get(path="/xrpc/app.bsky.feed.getPosts").mock(side_effect=self._get_posts)
            self._router = router
            yield

    def rkey(self, i: int) -> str:
        """The record key of post i: the TID of its creation time."""
        micros = int((self.storm.started + timedelta(milliseconds=10 * i)).timestamp() * 1e6)
        return _b32((micros << 10) | (i % 1024), 13)

    def uri(self, i: int, did: str) -> str:
        return f"at://{did}/{POST}/{self.rkey(i)}"

    def _ref(self, x_id: str, author: str) -> JSONObject:
        """A strong ref to the post an X id names: a resident's (by `author`), or our reply."""
        k, ours = index_of(x_id)
        uri = self.uri(k, BLUESKY_CITY_DID if ours else resident_did(author))
        return {"uri": uri, "cid": _cid(uri)}

    def resident(self, author: str) -> JSONObject:
        did = resident_did(author)
        return {
            "did": did,
            "handle": f"resident{author}.bsky.social",
            "displayName": f"Resident {author}",
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/{_cid('avatar', did)}@jpeg",
            "associated": {"chat": {"allowIncoming": "following"}},
            "viewer": {"muted": False, "blockedBy": False},
            "labels": [],
            "createdAt": "2024-03-02T17:20:11.000Z",
            "indexedAt": "2024-03-02T17:20:11.000Z",
        }

    def notification(self, i: int) -> tuple[JSONObject, JSONObject]:
        """Mention i as Bluesky notifies the city of it, and its post view (getPosts)."""
        tweet, text = _located_text(self.storm, i, f"@{BLUESKY_CITY}")
        _, media, _ = self.storm.tweet(i)
        k, _ = index_of(tweet["id"])  # the post (an earlier one, when served again)
        author = tweet["author_id"]
        who = self.resident(author)
        uri = self.uri(k, who["did"])
        record: JSONObject = {
            "$type": POST,
            "text": text,
            "createdAt": tweet["created_at"],
            "langs": [tweet["lang"]],
            "facets": _facets(text),
        }
        if media:
            record["embed"] = {
                "$type": "app.bsky.embed.images",
                "images": [
                    {
                        "alt": "",
                        "image": {
                            "$type": "blob",
                            "ref": {"$link": _cid("blob", m["media_key"])},
                            "mimeType": "image/jpeg",
                            "size": 412_311,
                        },
                        "aspectRatio": {"width": 1600, "height": 1200},
                    }
                    for m in media
                ],
            }
        replied = next(
            (r["id"] for r in tweet.get("referenced_tweets", []) if r["type"] == "replied_to"),
            None,
        )
        reason = "mention"
        if replied is not None:
            record["reply"] = {
                "root": self._ref(tweet["conversation_id"], author),
                "parent": self._ref(replied, tweet["in_reply_to_user_id"]),
            }
            if index_of(replied)[1]:
                reason = "reply"
        post_cid = _cid(uri)
        indexed = _iso(self.storm.started + timedelta(milliseconds=10 * i + 500))
        notification: JSONObject = {
            "uri": uri,
            "cid": post_cid,
            "author": who,
            "reason": reason,
            "record": record,
            "isRead": False,
            "indexedAt": indexed,
            "labels": [],
        }
        if reason == "reply":
            notification["reasonSubject"] = record["reply"]["parent"]["uri"]
        view: JSONObject = {
            "uri": uri,
            "cid": post_cid,
            "author": who,
            "record": record,
            "replyCount": 0,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": indexed,
            "viewer": {"threadMuted": False, "embeddingDisabled": False},
            "labels": [],
        }
        return notification, view

    def arrive(self, start: int, stop: int) -> None:
        for i in range(start, stop):
            notification, view = self.notification(i)
            at = datetime.fromisoformat(notification["indexedAt"].replace("Z", "+00:00"))
            self._keys.append((int(at.timestamp() * 1000), notification["cid"]))
            self._bodies.append(json.dumps(notification, ensure_ascii=False))
            self._views[notification["uri"]] = json.dumps(view, ensure_ascii=False)
        # The adapter never reads more than 20 pages back: older ones are dropped, so that the
        # storm, not the bot, holds no more memory as it grows.
        keep = max(0, len(self._keys) - 20 * BLUESKY_PAGE - 2 * self.per_poll)
        if keep:
            del self._keys[:keep], self._bodies[:keep]
            if len(self._views) > 4 * len(self._keys):
                live = set(list(self._views)[-2 * len(self._keys) :])
                self._views = {u: v for u, v in self._views.items() if u in live}

    def polled(self) -> list[str]:
        served, self._served = self._served, []
        self._router.reset()  # respx keeps every call on each route
        return served

    def _headers(self) -> dict[str, str]:
        self._calls += 1
        reset = int((datetime.now(UTC) + timedelta(minutes=5)).timestamp())
        return {
            "Content-Type": "application/json; charset=utf-8",
            "RateLimit-Limit": str(BLUESKY_RATE_LIMIT),
            "RateLimit-Remaining": str(BLUESKY_RATE_LIMIT - 1 - self._calls % BLUESKY_RATE_LIMIT),
            "RateLimit-Reset": str(reset),
            "RateLimit-Policy": f"{BLUESKY_RATE_LIMIT};w=300",
        }

    def _create_session(self, _request: httpx.Request) -> httpx.Response:
        import httpx

        self.sessions_created += 1
        now = datetime.now(UTC)
        claims = {"sub": BLUESKY_CITY_DID, "iat": int(now.timestamp())}
        access = _jwt(
            claims
            | {
                "scope": "com.atproto.appPass",
                "exp": int((now + timedelta(hours=2)).timestamp()),
                "aud": f"did:web:{BLUESKY_PDS}",
            },
            "at+jwt",
        )
        refresh = _jwt(
            claims
            | {
                "scope": "com.atproto.refresh",
                "exp": int((now + timedelta(days=90)).timestamp()),
                "aud": "did:web:entryway.bsky.social",
                "jti": "bench-refresh",
            },
            "refresh+jwt",
        )
        did_doc = {
            "@context": ["https://www.w3.org/ns/did/v1"],
            "id": BLUESKY_CITY_DID,
            "alsoKnownAs": [f"at://{BLUESKY_CITY}"],
            "verificationMethod": [],
            "service": [
                {
                    "id": "#atproto_pds",
                    "type": "AtprotoPersonalDataServer",
                    "serviceEndpoint": f"https://{BLUESKY_PDS}",
                }
            ],
        }
        body = {
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": BLUESKY_CITY,
            "did": BLUESKY_CITY_DID,
            "didDoc": did_doc,
            "active": True,
        }
        return httpx.Response(200, headers=self._headers(), content=json.dumps(body).encode())

    def _notifications(self, request: httpx.Request) -> httpx.Response:
        import httpx

        query = parse_qs(request.url.query.decode())
        limit = int(query.get("limit", ["50"])[0])
        if not 1 <= limit <= BLUESKY_PAGE or sorted(query.get("reasons", [])) != [
            "mention",
            "reply",
        ]:
            body = {"error": "InvalidRequest", "message": "limit 1-100, reasons mention,reply"}
            return httpx.Response(400, headers=self._headers(), content=json.dumps(body).encode())
        stop = len(self._keys)
        if "cursor" in query:
            ms, _, last = query["cursor"][0].partition("::")
            stop = bisect.bisect_left(self._keys, (int(ms), last))
        chosen = range(max(0, stop - limit), stop)
        items = ",".join(self._bodies[k] for k in reversed(chosen))
        cursor = ""
        if chosen:
            oldest_ms, oldest_cid = self._keys[chosen[0]]
            cursor = f', "cursor": "{oldest_ms}::{oldest_cid}"'
        body_text = '{"notifications": [' + items + '], "priority": false' + cursor + "}"
        self._served.append(body_text)
        return httpx.Response(200, headers=self._headers(), content=body_text.encode())

    def _get_posts(self, request: httpx.Request) -> httpx.Response:
        import httpx

        uris = parse_qs(request.url.query.decode()).get("uris", [])
        if len(uris) > GET_POSTS_MAX:
            body = {"error": "InvalidRequest", "message": "uris must not have more than 25"}
            return httpx.Response(400, headers=self._headers(), content=json.dumps(body).encode())
        posts = ",".join(self._views[u] for u in uris if u in self._views)
        content = ('{"posts": [' + posts + "]}").encode()
        return httpx.Response(200, headers=self._headers(), content=content)

    def floor_rows(self, body: str) -> list[tuple[str, str, str, str | None, str, str]]:
        return [
            (
                n["uri"],
                n["author"]["did"],
                n["record"]["text"],
                (n["record"].get("langs") or [None])[0],
                n["indexedAt"],
                json.dumps(n),
            )
            for n in json.loads(body)["notifications"]
        ]

    def reply_id(self, post_id: str) -> str:
        return f"{BLUESKY_CITY_DID}/{post_id.rpartition('/')[2]}"


def _facets(text: str) -> list[JSONObject]:
    """The facets the Bluesky app attaches: the city's mention, #tags and links, in UTF-8 bytes."""
    found: list[JSONObject] = []

    def add(start: int, end: int, feature: JSONObject) -> None:
        found.append(
            {
                "$type": "app.bsky.richtext.facet",
                "index": {
                    "byteStart": len(text[:start].encode()),
                    "byteEnd": len(text[:end].encode()),
                },
                "features": [feature],
            }
        )

    handle = f"@{BLUESKY_CITY}"
    if handle in text:
        start = text.index(handle)
        add(
            start,
            start + len(handle),
            {"$type": "app.bsky.richtext.facet#mention", "did": BLUESKY_CITY_DID},
        )
    for match in _LINK.finditer(text):
        add(match.start(), match.end(), {"$type": "app.bsky.richtext.facet#link", "uri": match[0]})
    for match in _TAG.finditer(text):
        add(
            match.start(),
            match.end(),
            {"$type": "app.bsky.richtext.facet#tag", "tag": match[0][1:]},
        )
    return sorted(found, key=lambda f: int(f["index"]["byteStart"]))
