"""A Bluesky PDS in memory, served with `respx` in the XRPC wire format: what the adapter tests
and the contract suite (`tests/networks/harness.py`) run the real `BlueskyNetwork` against.

It behaves as bsky.social does where the adapter relies on it:

- sign-in: `com.atproto.server.createSession` at the entryway (`ENTRYWAY`, bsky.social), whose
  answer's `didDoc` names the account's PDS at another host (`PDS_URL`); every other call is
  served by the PDS alone, so an adapter that kept talking to the entryway fails. The tokens are
  JWTs whose payload carries `exp` (unsigned: the SDK only reads them): the access token lives
  two hours, the refresh token 90 days. `refreshSession` rotates the refresh token as the PDS
  does: the old one stays usable for a grace period of two hours (a second refresh with it gets
  the same next token id), then answers 400 ExpiredToken "Token has been revoked". An access
  token past its `exp` answers 400 ExpiredToken, an unknown one 400 InvalidToken, none 401.
- `app.bsky.notification.listNotifications`: newest first, `limit` (default 50, at most 100),
  `cursor` to the next older page (keyset `<ms>::<cid>`, as the AppView's; a page with items
  has one, an empty page none), `reasons` to filter.
- `app.bsky.feed.getPosts` (≤ 25 uris): post views with `viewer.replyDisabled` for the posts
  whose author closed their thread to us (`close_replies`).
- `com.atproto.repo.createRecord`: the record key we choose is kept (a post's must be a TID); a
  key already used answers 500 InternalServerError, as the reference PDS does (its MST refuses
  the duplicate leaf with a plain error: bluesky-social/atproto#3718, #4728). The record is
  checked as the PDS's lexicon validation does where it matters here (text ≤ 300 graphemes and
  3000 bytes, reply refs with uri and cid, image blobs that were uploaded).
- `com.atproto.repo.getRecord`: 400 RecordNotFound for a key never written.
- `com.atproto.repo.uploadBlob`: the bytes kept, a blob ref answered.
- `RateLimit-*` headers on every answer: writes spend 3 points of 5000 an hour
  (`repo-write-hour`), other calls one of 3000 per five minutes.
- scripted failures of `createRecord` (`failures`): "lost" (the record is made, the answer never
  arrives: a read timeout), "down" (503, nothing made), "limited" (429 until `reset`); and of
  `createSession` (`session_failures`): "limited" (429 until `reset`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx
import regex
import respx

ENTRYWAY = "https://bsky.social"
PDS_URL = "https://porcini.us-east.host.bsky.network"
PDS_HOST = "porcini.us-east.host.bsky.network"
CITY_DID = "did:plc:c1ty3112bostonmassachus"
CITY_HANDLE = "city311.bsky.social"
APP_PASSWORD = "abcd-efgh-ijkl-mnop"
RESIDENTS = "bsky.social"  # residents' handles: resident<n>.bsky.social
EPOCH = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # residents post then, within the backfill

POST = "app.bsky.feed.post"
ACCESS_LIFETIME = timedelta(hours=2)  # the PDS's '120mins'
REFRESH_LIFETIME = timedelta(days=90)
REFRESH_GRACE = timedelta(hours=2)
WRITE_LIMIT, WRITE_WINDOW, CREATE_POINTS = 5000, timedelta(hours=1), 3
GLOBAL_LIMIT, GLOBAL_WINDOW = 3000, timedelta(minutes=5)
NOTIFICATIONS_LIMIT, NOTIFICATIONS_MAX = 50, 100
GET_POSTS_MAX = 25
MAX_GRAPHEMES, MAX_BYTES = 300, 3000

Answer = httpx.Response
_B32 = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable, as TIDs spell it
_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")
_WORD = re.compile(r"\S+")
_TAG = re.compile(r"#([^\s#]*[^\W\d_][^\s#]*)")
_URL = re.compile(r"https?://[^\s]+[^\s.,;:!?)\]'\"]")


def b32(value: int, width: int) -> str:
    """`value` in base32-sortable digits, `width` of them."""
    digits = []
    for _ in range(width):
        digits.append(_B32[value & 31])
        value >>= 5
    return "".join(reversed(digits))


def tid(at: datetime, clock_id: int = 0) -> str:
    """A TID for `at`: 53 bits of microseconds since the epoch, 10 bits of clock id."""
    micros = int(at.timestamp() * 1_000_000)
    return b32((micros << 10) | (clock_id & 1023), 13)


def cid(*parts: object, blob: bool = False) -> str:
    """A stable CIDv1 of `parts`: dag-cbor ("bafyrei…") for a record, raw ("bafkrei…") for a
    blob, as the PDS spells them."""
    digest = hashlib.sha256(json.dumps(parts, default=str).encode()).digest()
    text = base64.b32encode(digest).decode().lower().rstrip("=")
    return ("bafkrei" if blob else "bafyrei") + text[:52]


def resident_did(n: int) -> str:
    return "did:plc:" + b32(n, 24)


def resident_handle(n: int) -> str:
    return f"resident{n}.{RESIDENTS}"


def at_uri(did: str, rkey: str, collection: str = POST) -> str:
    return f"at://{did}/{collection}/{rkey}"


def post_id(uri: str) -> str:
    """The compact id the adapter gives a post: `<did>/<rkey>`."""
    did, _, rkey = uri.removeprefix("at://").partition(f"/{POST}/")
    return f"{did}/{rkey}"


def iso(at: datetime) -> str:
    """An ISO 8601 time as the AppView writes it: milliseconds, Z."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _b64(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).decode().rstrip("=")


def jwt(payload: dict[str, Any], typ: str) -> str:
    """A JWT as the PDS issues one (ES256K), its signature a digest: nobody here verifies it."""
    head = _b64(json.dumps({"typ": typ, "alg": "ES256K"}).encode())
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{head}.{body}.{_b64(hashlib.sha256(f'{head}.{body}'.encode()).digest())}"


def jwt_payload(token: str) -> dict[str, Any]:
    """The payload of a JWT we issued; {} for anything else."""
    try:
        body = token.split(".")[1]
        value = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (IndexError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def facets(text: str, mentions: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The facets the Bluesky app attaches to `text`: #tags, links, and `@name` mentions of the
    handles in `mentions` (name → DID), in UTF-8 byte offsets."""
    found: list[dict[str, Any]] = []

    def add(start: int, end: int, feature: dict[str, Any]) -> None:
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

    for match in _URL.finditer(text):
        add(match.start(), match.end(), {"$type": "app.bsky.richtext.facet#link", "uri": match[0]})
    for match in _TAG.finditer(text):
        tag = match[1].rstrip(".,;:!?")
        add(
            match.start(),
            match.start() + 1 + len(tag),
            {"$type": "app.bsky.richtext.facet#tag", "tag": tag},
        )
    for match in _WORD.finditer(text):
        name = match[0].rstrip(".,;:!?").removeprefix("@")
        if match[0].startswith("@") and mentions and name in mentions:
            add(
                match.start(),
                match.start() + 1 + len(name),
                {"$type": "app.bsky.richtext.facet#mention", "did": mentions[name]},
            )
    return sorted(found, key=lambda f: int(f["index"]["byteStart"]))


@dataclass
class _Refresh:
    """A refresh token the PDS stored: whose, until when, and (once rotated) the id of the
    token it was rotated to, so that its reuse in the grace period gets the same one."""

    did: str
    expires_at: datetime
    next_id: str | None = None


@dataclass
class BlueskyServer:
    """bsky.social's entryway and one PDS hosting the city's account (`CITY_DID`), residents
    who mention it, and scripted failures (see the module docstring)."""

    reset: datetime
    clock: Callable[[], datetime]
    password: str = APP_PASSWORD
    page_size: int | None = None  # the most served to a page, whatever `limit` asks
    notifications: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    resident_posts: dict[str, dict[str, Any]] = field(default_factory=dict)  # uri → post view
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # ours: rkey → getRecord
    blobs: dict[str, bytes] = field(default_factory=dict)
    closed: set[str] = field(default_factory=set)  # uris whose author disabled our replies
    failures: list[str] = field(default_factory=list)
    session_failures: list[str] = field(default_factory=list)
    posted: list[tuple[str, str | None]] = field(default_factory=list)  # (text, replied to)
    calls: list[str] = field(default_factory=list)  # "<host> <nsid>", in order
    requests: list[httpx.Request] = field(default_factory=list)  # as they came, in order
    sessions_created: int = 0
    refreshes: int = 0
    access: dict[str, datetime] = field(default_factory=dict)  # access token → expiry
    refresh_tokens: dict[str, _Refresh] = field(default_factory=dict)  # jti → token
    write_points: int = 0
    write_window_end: datetime | None = None
    global_points: int = 0
    global_window_end: datetime | None = None

    # --- what happens on the network ----------------------------------------------------

    def resident(self, n: int) -> dict[str, Any]:
        """The n-th resident's profile, as a notification's `author` shows it."""
        did = resident_did(n)
        return {
            "did": did,
            "handle": resident_handle(n),
            "displayName": f"Resident {n}",
            "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/{cid('avatar', n)}@jpeg",
            "associated": {"chat": {"allowIncoming": "following"}},
            "viewer": {"muted": False, "blockedBy": False},
            "labels": [],
            "createdAt": "2024-03-02T17:20:11.000Z",
            "indexedAt": "2024-03-02T17:20:11.000Z",
        }

    def mention(
        self,
        n: int,
        text: str,
        *,
        reply_to: str | None = None,
        images: list[dict[str, Any]] | None = None,
        tags: list[str] | None = None,
        langs: list[str] | None = None,
        reason: str | None = None,
        author: int | None = None,
    ) -> str:
        """Resident n (or `author`) posts `text` mentioning the city, or replying to `reply_to`
        (a post uri, ours or a resident's): the post, and the city's notification of it (reason
        "reply" when it answers one of our posts, else "mention", unless `reason` says).
        Returns the post's compact id."""
        who = self.resident(author if author is not None else n)
        created = EPOCH + timedelta(minutes=n % 60, seconds=n // 60)
        rkey = tid(created, n % 1024)
        uri = at_uri(who["did"], rkey)
        record: dict[str, Any] = {
            "$type": POST,
            "text": text,
            "createdAt": iso(created),
            "langs": langs if langs is not None else ["en"],
            "facets": facets(text, {"City": CITY_DID, CITY_HANDLE: CITY_DID}),
        }
        if tags:
            record["tags"] = tags
        if images:
            record["embed"] = {"$type": "app.bsky.embed.images", "images": images}
        if reply_to is not None:
            parent = self._post_ref(reply_to)
            root = self._root_of(reply_to) or parent
            record["reply"] = {"root": root, "parent": parent}
        post_cid = cid(uri, record)
        last = self.notifications[-1]["indexedAt"] if self.notifications else None
        indexed = max(created + timedelta(seconds=1), _read_time(last) + timedelta(milliseconds=1))
        view = {
            "uri": uri,
            "cid": post_cid,
            "author": who,
            "record": record,
            "replyCount": 0,
            "repostCount": 0,
            "likeCount": 0,
            "quoteCount": 0,
            "indexedAt": iso(indexed),
            "viewer": {"threadMuted": False, "embeddingDisabled": False},
            "labels": [],
        }
        self.resident_posts[uri] = view
        if reason is None:
            reason = "reply" if reply_to is not None and CITY_DID in reply_to else "mention"
        notification: dict[str, Any] = {
            "uri": uri,
            "cid": post_cid,
            "author": who,
            "reason": reason,
            "record": record,
            "isRead": False,
            "indexedAt": iso(indexed),
            "labels": [],
        }
        if reason == "reply" and reply_to is not None:
            notification["reasonSubject"] = reply_to
        self.notifications.append(notification)
        return post_id(uri)

    def notify(self, reason: str, n: int) -> None:
        """A notification that holds no post for us (a like, a follow, a repost) from resident n."""
        who = self.resident(n)
        last = self.notifications[-1]["indexedAt"] if self.notifications else None
        at = max(EPOCH, _read_time(last) + timedelta(milliseconds=1))
        collection = {"like": "app.bsky.feed.like", "follow": "app.bsky.graph.follow"}.get(
            reason, "app.bsky.feed.repost"
        )
        record: dict[str, Any] = {"$type": collection, "createdAt": iso(at)}
        uri = at_uri(who["did"], tid(at, n % 1024), collection)
        self.notifications.append(
            {
                "uri": uri,
                "cid": cid(uri),
                "author": who,
                "reason": reason,
                "record": record,
                "isRead": False,
                "indexedAt": iso(at),
                "labels": [],
            }
        )

    def close_replies(self, post: str) -> None:
        """The author of `post` (a compact id) allows no reply from us (a threadgate)."""
        self.closed.add(self._uri(post))

    def asked(self, nsid: str) -> list[httpx.Request]:
        """The requests of `nsid` that came, in order."""
        return [r for r in self.requests if r.url.path == f"/xrpc/{nsid}"]

    def record(self, post: str) -> dict[str, Any]:
        """Our record named by its compact id, as getRecord answers it."""
        return self.records[post.rpartition("/")[2]]

    def did_doc(self) -> dict[str, Any]:
        return {
            "@context": [
                "https://www.w3.org/ns/did/v1",
                "https://w3id.org/security/multikey/v1",
                "https://w3id.org/security/suites/secp256k1-2019/v1",
            ],
            "id": CITY_DID,
            "alsoKnownAs": [f"at://{CITY_HANDLE}"],
            "verificationMethod": [
                {
                    "id": f"{CITY_DID}#atproto",
                    "type": "Multikey",
                    "controller": CITY_DID,
                    "publicKeyMultibase": "zQ3shXjHeiBuRCKmM36cuYnm7YEMzhGnCmCyW92sRJ9pribSF",
                }
            ],
            "service": [
                {
                    "id": "#atproto_pds",
                    "type": "AtprotoPersonalDataServer",
                    "serviceEndpoint": PDS_URL,
                }
            ],
        }

    # --- serving ------------------------------------------------------------------------

    def serve(self, router: respx.MockRouter) -> None:
        """Register every endpoint with `router`: createSession at the entryway, everything
        (createSession too) at the PDS."""
        for host in ("bsky.social", PDS_HOST):
            router.post(host=host, path="/xrpc/com.atproto.server.createSession").mock(
                side_effect=self._served(host, self._create_session)
            )
        routes: list[tuple[str, str, Callable[[httpx.Request], Answer]]] = [
            ("POST", "com.atproto.server.refreshSession", self._refresh_session),
            ("GET", "com.atproto.server.getSession", self._get_session),
            ("GET", "app.bsky.notification.listNotifications", self._notifications),
            ("GET", "app.bsky.feed.getPosts", self._get_posts),
            ("POST", "com.atproto.repo.createRecord", self._create_record),
            ("GET", "com.atproto.repo.getRecord", self._get_record),
            ("POST", "com.atproto.repo.uploadBlob", self._upload_blob),
        ]
        for method, nsid, handler in routes:
            router.route(method=method, host=PDS_HOST, path=f"/xrpc/{nsid}").mock(
                side_effect=self._served(PDS_HOST, handler)
            )

    def _served(
        self, host: str, handler: Callable[[httpx.Request], Answer]
    ) -> Callable[[httpx.Request], Answer]:
        def serve(request: httpx.Request) -> Answer:
            self.calls.append(f"{host} {request.url.path.removeprefix('/xrpc/')}")
            self.requests.append(request)
            return handler(request)

        return serve

    # sessions

    def _create_session(self, request: httpx.Request) -> Answer:
        if self.session_failures and self.session_failures.pop(0) == "limited":
            return self._limited(policy=f"30;w={5 * 60}")
        body = _json(request)
        if body.get("identifier") not in (CITY_HANDLE, CITY_DID) or body.get("password") != (
            self.password
        ):
            return self._error(401, "AuthenticationRequired", "Invalid identifier or password")
        self.sessions_created += 1
        return self._json(200, self._session(self._new_refresh_id()))

    def _refresh_session(self, request: httpx.Request) -> Answer:
        payload = jwt_payload(_bearer(request))
        if payload.get("scope") != "com.atproto.refresh":
            return self._error(400, "InvalidToken", "Token could not be verified")
        if int(payload.get("exp", 0)) <= self.clock().timestamp():
            return self._error(400, "ExpiredToken", "Token has expired")
        token = self.refresh_tokens.get(str(payload.get("jti")))
        now = self.clock()
        if token is None or token.expires_at <= now:
            return self._error(400, "ExpiredToken", "Token has been revoked")
        token.expires_at = min(token.expires_at, now + REFRESH_GRACE)
        token.next_id = token.next_id or self._new_refresh_id()
        self.refreshes += 1
        return self._json(200, self._session(token.next_id))

    def _get_session(self, request: httpx.Request) -> Answer:
        refused = self._unauthorized(request)
        if refused is not None:
            return refused
        return self._json(
            200,
            {
                "handle": CITY_HANDLE,
                "did": CITY_DID,
                "didDoc": self.did_doc(),
                "email": "311@city.example.gov",
                "emailConfirmed": True,
                "emailAuthFactor": False,
                "active": True,
            },
        )

    def _new_refresh_id(self) -> str:
        return base64.b64encode(hashlib.sha256(str(len(self.refresh_tokens)).encode()).digest())[
            :43
        ].decode()

    def _session(self, refresh_id: str) -> dict[str, Any]:
        now = self.clock()
        iat = int(now.timestamp())
        access = jwt(
            {
                "scope": "com.atproto.appPass",
                "sub": CITY_DID,
                "iat": iat,
                "exp": int((now + ACCESS_LIFETIME).timestamp()),
                "aud": f"did:web:{PDS_HOST}",
                "jti": f"{refresh_id[:8]}{len(self.access)}",  # a new access token each time
            },
            "at+jwt",
        )
        refresh = jwt(
            {
                "scope": "com.atproto.refresh",
                "sub": CITY_DID,
                "aud": "did:web:entryway.bsky.social",
                "jti": refresh_id,
                "iat": iat,
                "exp": int((now + REFRESH_LIFETIME).timestamp()),
            },
            "refresh+jwt",
        )
        self.access[access] = now + ACCESS_LIFETIME
        self.refresh_tokens.setdefault(refresh_id, _Refresh(CITY_DID, now + REFRESH_LIFETIME))
        return {
            "accessJwt": access,
            "refreshJwt": refresh,
            "handle": CITY_HANDLE,
            "did": CITY_DID,
            "didDoc": self.did_doc(),
            "email": "311@city.example.gov",
            "emailConfirmed": True,
            "emailAuthFactor": False,
            "active": True,
        }

    def _unauthorized(self, request: httpx.Request) -> Answer | None:
        """The PDS's answer to a call whose access token it does not take; None if it does."""
        token = _bearer(request)
        if not token:
            return self._error(401, "AuthMissing", "Authentication Required")
        expires = self.access.get(token)
        if expires is None:
            return self._error(400, "InvalidToken", "Token could not be verified")
        if expires <= self.clock():
            return self._error(400, "ExpiredToken", "Token has expired")
        return None

    # intake

    def _notifications(self, request: httpx.Request) -> Answer:
        refused = self._unauthorized(request)
        if refused is not None:
            return refused
        query = parse_qs(request.url.query.decode(), keep_blank_values=True)
        limit = int(query.get("limit", [str(NOTIFICATIONS_LIMIT)])[0])
        if not 1 <= limit <= NOTIFICATIONS_MAX:
            return self._error(400, "InvalidRequest", f"limit must be <= {NOTIFICATIONS_MAX}")
        reasons = set(query.get("reasons", []))
        items = sorted(
            (n for n in self.notifications if not reasons or n["reason"] in reasons),
            key=_keyset,
            reverse=True,
        )
        if "cursor" in query:
            before = _read_cursor(query["cursor"][0])
            if before is None:
                return self._error(400, "InvalidRequest", "Malformed cursor")
            items = [n for n in items if _keyset(n) < before]
        page = items[: min(limit, self.page_size or limit)]
        body: dict[str, Any] = {"notifications": page, "priority": False}
        if page:
            body["cursor"] = _cursor(page[-1])
        return self._json(200, body)

    def _get_posts(self, request: httpx.Request) -> Answer:
        refused = self._unauthorized(request)
        if refused is not None:
            return refused
        uris = parse_qs(request.url.query.decode()).get("uris", [])
        if len(uris) > GET_POSTS_MAX:
            return self._error(400, "InvalidRequest", "uris must not have more than 25 elements")
        posts = []
        for uri in uris:
            view = self.resident_posts.get(uri)
            if view is None:
                continue
            viewer = dict(view["viewer"])
            if uri in self.closed:
                viewer["replyDisabled"] = True
            posts.append(view | {"viewer": viewer})
        return self._json(200, {"posts": posts})

    # posting

    def _create_record(self, request: httpx.Request) -> Answer:
        refused = self._unauthorized(request)
        if refused is not None:
            return refused
        kind = self.failures.pop(0) if self.failures else None
        if kind == "down":
            return self._error(503, "InternalServerError", "Service Unavailable")
        if kind == "limited":
            return self._limited(policy=f"{WRITE_LIMIT};w={int(WRITE_WINDOW.total_seconds())}")
        body = _json(request)
        if body.get("repo") not in (CITY_DID, CITY_HANDLE):
            return self._error(401, "AuthRequired", "Authentication Required")
        if body.get("collection") != POST:
            return self._error(400, "InvalidRequest", "Unknown lexicon type")
        record = body.get("record")
        rkey = body.get("rkey") or tid(self.clock(), 7)
        if not isinstance(rkey, str) or not _TID.fullmatch(rkey):
            return self._error(
                400, "InvalidRequest", f"Invalid record key for {POST}: must be a valid TID"
            )
        problem = self._invalid(record)
        if problem:
            return self._error(400, "InvalidRequest", f"Invalid {POST} record: {problem}")
        assert isinstance(record, dict)
        if rkey in self.records:
            return self._error(500, "InternalServerError", "Internal Server Error")
        uri = at_uri(CITY_DID, rkey)
        made = {"uri": uri, "cid": cid(uri, record), "value": record}
        self.records[rkey] = made
        parent = record.get("reply", {}).get("parent", {}).get("uri")
        self.posted.append((record["text"], post_id(parent) if parent else None))
        if kind == "lost":
            raise httpx.ReadTimeout("the answer was lost", request=request)
        rev = tid(self.clock(), 1)
        return self._json(
            200,
            {
                "uri": uri,
                "cid": made["cid"],
                "commit": {"cid": cid("commit", rev), "rev": rev},
                "validationStatus": "valid",
            },
            points=CREATE_POINTS,
        )

    def _invalid(self, record: Any) -> str | None:
        """What the PDS's lexicon validation says of a post record; None if it takes it."""
        if not isinstance(record, dict) or record.get("$type") != POST:
            return "Record/$type must be app.bsky.feed.post"
        text = record.get("text")
        if not isinstance(text, str):
            return 'Record must have the property "text"'
        if len(regex.findall(r"\X", text)) > MAX_GRAPHEMES:
            return f"Record/text must not be longer than {MAX_GRAPHEMES} graphemes"
        if len(text.encode()) > MAX_BYTES:
            return f"Record/text must not be longer than {MAX_BYTES} characters"
        if not isinstance(record.get("createdAt"), str):
            return 'Record must have the property "createdAt"'
        reply = record.get("reply")
        if reply is not None:
            for part in ("root", "parent"):
                ref = reply.get(part) if isinstance(reply, dict) else None
                if not (
                    isinstance(ref, dict)
                    and isinstance(ref.get("uri"), str)
                    and isinstance(ref.get("cid"), str)
                ):
                    return f'Record/reply must have the property "{part}" with uri and cid'
        embed = record.get("embed")
        if isinstance(embed, dict) and embed.get("$type") == "app.bsky.embed.images":
            for image in embed.get("images", []):
                link = image.get("image", {}).get("ref", {}).get("$link")
                if link not in self.blobs:
                    return f"Could not find blob: {link}"
                if not isinstance(image.get("alt"), str):
                    return 'Record/embed/images/0 must have the property "alt"'
        return None

    def _get_record(self, request: httpx.Request) -> Answer:
        query = parse_qs(request.url.query.decode())
        repo = query.get("repo", [""])[0]
        rkey = query.get("rkey", [""])[0]
        uri = at_uri(repo, rkey, query.get("collection", [POST])[0])
        if repo in (CITY_DID, CITY_HANDLE) and rkey in self.records:
            return self._json(200, self.records[rkey])
        view = self.resident_posts.get(uri)
        if view is not None:
            return self._json(200, {"uri": uri, "cid": view["cid"], "value": view["record"]})
        return self._error(400, "RecordNotFound", f"Could not locate record: {uri}")

    def _upload_blob(self, request: httpx.Request) -> Answer:
        refused = self._unauthorized(request)
        if refused is not None:
            return refused
        content = request.read()
        link = cid(content.hex(), blob=True)
        self.blobs[link] = content
        mime = request.headers.get("Content-Type", "*/*")
        return self._json(
            200,
            {
                "blob": {
                    "$type": "blob",
                    "ref": {"$link": link},
                    "mimeType": mime,
                    "size": len(content),
                }
            },
        )

    # --- answers ------------------------------------------------------------------------

    def _post_ref(self, uri: str) -> dict[str, str]:
        if uri in self.resident_posts:
            return {"uri": uri, "cid": self.resident_posts[uri]["cid"]}
        rkey = uri.rpartition("/")[2]
        return {"uri": uri, "cid": self.records[rkey]["cid"]}

    def _root_of(self, uri: str) -> dict[str, str] | None:
        if uri in self.resident_posts:
            value = self.resident_posts[uri]["record"]
        else:
            value = self.records[uri.rpartition("/")[2]]["value"]
        root = value.get("reply", {}).get("root")
        return dict(root) if root else None

    def _uri(self, post: str) -> str:
        did, _, rkey = post.partition("/")
        return at_uri(did, rkey)

    def _rate_headers(self, points: int) -> dict[str, str]:
        """The limiter's headers: the write limit's for a write, the global one's else."""
        now = self.clock()
        if points == CREATE_POINTS:
            if self.write_window_end is None:
                self.write_window_end = self.reset
            while now >= self.write_window_end:
                self.write_window_end += WRITE_WINDOW
                self.write_points = 0
            self.write_points += points
            limit, used, end, window = (
                WRITE_LIMIT,
                self.write_points,
                self.write_window_end,
                WRITE_WINDOW,
            )
        else:
            if self.global_window_end is None or now >= self.global_window_end:
                self.global_window_end = now + GLOBAL_WINDOW
                self.global_points = 0
            self.global_points += 1
            limit, used, end, window = (
                GLOBAL_LIMIT,
                self.global_points,
                self.global_window_end,
                GLOBAL_WINDOW,
            )
        return {
            "RateLimit-Limit": str(limit),
            "RateLimit-Remaining": str(max(limit - used, 0)),
            "RateLimit-Reset": str(int(end.timestamp())),
            "RateLimit-Policy": f"{limit};w={int(window.total_seconds())}",
        }

    def _json(self, status: int, body: Any, *, points: int = 1) -> Answer:
        return httpx.Response(
            status,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                **self._rate_headers(points),
            },
            content=json.dumps(body).encode(),
        )

    def _error(self, status: int, error: str, message: str) -> Answer:
        return self._json(status, {"error": error, "message": message})

    def _limited(self, *, policy: str) -> Answer:
        limit = policy.partition(";")[0]
        return httpx.Response(
            429,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "RateLimit-Limit": limit,
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(int(self.reset.timestamp())),
                "RateLimit-Policy": policy,
            },
            content=json.dumps(
                {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
            ).encode(),
        )


def _bearer(request: httpx.Request) -> str:
    value = request.headers.get("Authorization", "")
    return value.removeprefix("Bearer ") if value.startswith("Bearer ") else ""


def _json(request: httpx.Request) -> dict[str, Any]:
    try:
        value = json.loads(request.read() or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _read_time(value: str | None) -> datetime:
    if value is None:
        return EPOCH
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _keyset(notification: dict[str, Any]) -> tuple[int, str]:
    """Where a notification sorts, as the AppView's keyset pages it: (sortAt in ms, cid)."""
    at = _read_time(notification["indexedAt"])
    return int(at.timestamp() * 1000), str(notification["cid"])


def _cursor(notification: dict[str, Any]) -> str:
    ms, last = _keyset(notification)
    return f"{ms}::{last}"


def _read_cursor(text: str) -> tuple[int, str] | None:
    ms, sep, last = text.partition("::")
    return (int(ms), last) if sep and ms.isdigit() else None
