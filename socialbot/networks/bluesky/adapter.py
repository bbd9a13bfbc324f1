"""Bluesky through the atproto SDK: the only module (with `facets`) that imports it.

The SDK's `Client` signs in, keeps the session and builds the XRPC requests; every call goes
through `invoke_query` / `invoke_procedure`, so the answers are the JSON the server sent, parsed
once, in `wire`, never through the SDK's pydantic models (one item they would refuse would fail
a whole page).

The session: a sign-in (`createSession`) is rationed by Bluesky (30 per 5 minutes, about 100 a
day per account; a lockout stops intake for a day), so the session lives in the `SessionStore`
(the database) and is restored from there (`login(session_string=...)`, no profile fetch), and
refreshed before its access token expires; every new or refreshed session is saved at once
(`on_session_change`). A password is spent only when there is no saved session or the saved one
can no longer be refreshed, and at most once per adapter in `SIGN_IN_SPACING`. After a sign-in
the SDK talks to the account's PDS, which the session's DID document names (bsky.social is only
the entryway). The SDK's own refresh is turned off: the adapter refreshes itself, so that the
refresh is metered under its own name and its failure handled as one.

Errors, at the boundary:

    429                                   → RateLimited (RateLimit-Reset)
    401, 400 ExpiredToken / InvalidToken  → refreshed (or signed in again) once and the call
                                            retried; AuthFailed (names the app password's
                                            variable) when that does not heal it; 403 → AuthFailed
    400 RecordNotFound                    → not posted (`published`)
    other 4xx                             → Rejected (Bluesky's own `error: message`)
    5xx, timeouts, connection errors      → Unavailable; `maybe_done` for createRecord only,
                                            and not when the connection was never made
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, overload

import httpx
from atproto_client import Client, models
from atproto_client import exceptions as sdk
from atproto_client.client.session import Session, SessionEvent
from atproto_client.request import Request

from socialbot.domain import PostRef, RateBudget
from socialbot.errors import (
    AuthFailed,
    DataError,
    PlatformError,
    RateLimited,
    Rejected,
    Unavailable,
)
from socialbot.networks.base import Draft, MediaRules, MentionPage, OwnPost, Receipt
from socialbot.networks.bluesky import facets, tid, wire
from socialbot.networks.bluesky.rules import (
    BLUESKY_MEDIA,
    BLUESKY_TEXT,
    CREATE_RECORD,
    CREATE_SESSION,
    ENDPOINTS,
    GET_POSTS,
    GET_RECORD,
    GET_SESSION,
    INVALID_HANDLE,
    NOTIFICATIONS,
    PLATFORM,
    POINTS_PER_CREATE,
    REFRESH_SESSION,
    UPLOAD_BLOB,
)
from socialbot.networks.metering import UnbilledCalls
from socialbot.networks.sessions import MemorySessions, SavedSession, SessionStore
from socialbot.networks.timeline import same_text
from socialbot.text_rules import TextRules
from socialbot.usage import Meter

log = logging.getLogger(__name__)

POST = "app.bsky.feed.post"
REASONS = ["mention", "reply"]
# The most listNotifications serves in a page; the page cap guards against a pagination loop
# (a backlog deeper than 2,000 mentions and replies since the last poll is cut, with a warning).
PAGE_SIZE = 100
MAX_PAGES = 20
GET_POSTS_BATCH = 25  # app.bsky.feed.getPosts takes at most 25 uris
# The access token is refreshed this long before it expires (it lives two hours).
REFRESH_MARGIN = timedelta(minutes=15)
# At most one sign-in per adapter in this time: createSession is limited to 30 per 5 minutes
# and about 100 a day per account, and a sign-in that does not last will not last the next time.
SIGN_IN_SPACING = timedelta(minutes=10)
# Each refused sign-in doubles that spacing, up to this: a refused attempt counts against the
# account's limit too, and one every 10 minutes (144 a day) would use up the day's before the
# operator sets the new app password (the service then could not sign in until the next day).
MAX_SIGN_IN_SPACING = timedelta(hours=4)
NAMED_KEPT = 1000  # record keys of drafts without created_at, kept in memory
PASSWORD_SETTING = "SOCIALBOT_BLUESKY_APP_PASSWORD"
_TOKEN_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})
_NOT_FOUND = "RecordNotFound"
_MOMENTARY = (408, 425)  # client errors that mean "not now": Request Timeout, Too Early
_MIME_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


@dataclass(frozen=True, slots=True)
class BlueskyCredentials:
    """The account we act as: its handle and an app password, and the service it signs in at."""

    handle: str
    app_password: str
    service: str = "https://bsky.social"

    def __repr__(self) -> str:  # never let a secret reach a log line or a traceback
        return f"BlueskyCredentials({self.handle!r}, ****, {self.service!r})"


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = 5.0
    read: float = 30.0


@dataclass(frozen=True, slots=True)
class SessionCheck:
    """Who the session acts as (`doctor`), and how it was had: "saved" (the saved session
    works), "refreshed" (it had to be refreshed), or "created" (a sign-in was spent)."""

    user_id: str
    handle: str
    how: str


class _TokenRefused(AuthFailed):
    """The PDS did not take the access token: a refresh, or a new sign-in, may heal it."""


class _NotFound(Rejected):
    """getRecord: there is no record under that key."""


class _PostFailed(Unavailable):
    """createRecord answered 5xx: a failure, or the reference PDS's answer to a record key
    already taken (its repository refuses the duplicate with a plain error, a 500)."""


class _KeyTaken(Rejected):
    """createRecord answered 409: another PDS's answer to a record key already taken."""


class _Client(Client):  # type: ignore[misc]  # the SDK ships no type information
    """The SDK's client on our clock, its own refresh turned off (`BlueskyNetwork._refresh`
    refreshes, metered, before the call that needs it)."""

    def __init__(self, base_url: str, request: Any, clock: Callable[[], datetime]) -> None:
        super().__init__(base_url, request=request)
        self._socialbot_clock = clock

    def get_current_time(self) -> datetime:
        return self._socialbot_clock()

    def _should_refresh_session(self) -> bool:
        return False


def _utc_now() -> datetime:
    return datetime.now(UTC)


class BlueskyNetwork:
    """The `Network` for one Bluesky account. Every call is reported to `meter` (what was asked
    and answered), under `account`'s name; Bluesky bills nothing. `secrets` is told every token
    the adapter comes to hold, so that the logs mask them."""

    name = PLATFORM
    endpoints = ENDPOINTS

    def __init__(
        self,
        credentials: BlueskyCredentials,
        timeouts: Timeouts | None = None,
        *,
        account: str = "intake",
        meter: Meter | None = None,
        clock: Callable[[], datetime] = _utc_now,
        sessions: SessionStore | None = None,
        secrets: Callable[[Iterable[str]], None] | None = None,
    ) -> None:
        self._credentials = credentials
        self._timeouts = timeouts or Timeouts()
        self._account, self._clock = account, clock
        self._calls = UnbilledCalls(meter, self.name, account, clock)
        self._sessions: SessionStore = sessions if sessions is not None else MemorySessions()
        self._secrets = secrets
        self._password_setting = (
            PASSWORD_SETTING
            if account == "intake"
            else f"SOCIALBOT_ACCOUNTS__{account.upper()}__BLUESKY_APP_PASSWORD"
        )
        self._client: _Client | None = None
        self._session: Session | None = None  # the SDK's, as last set
        self._saved: SavedSession | None = None
        self._signed_in_at: datetime | None = None  # this adapter's last createSession
        self._refused = 0  # sign-ins refused in a row (the spacing doubles with each)
        self._how = "saved"
        self._named: dict[str, str] = {}  # key → record key, of drafts without created_at
        self._lock = threading.RLock()  # the poll and the send share the session

    # --- the Network protocol --------------------------------------------------------------

    @property
    def text_rules(self) -> TextRules:
        return BLUESKY_TEXT

    @property
    def media_rules(self) -> MediaRules:
        return BLUESKY_MEDIA

    def own_user_id(self) -> str:
        """The DID of the account the session acts as (a sign-in only if none is saved)."""
        with self._lock:
            self._signed_in()
            assert self._session is not None
            return str(self._session.did)

    def fetch_mentions(self, user_id: str, cursor: str | None) -> list[MentionPage]:
        """Mentions and replies after `cursor` (the newest notification handled), newest page
        first, each page's cursor its newest notification. The server pages from the newest
        back, so pages are read until one reaches `cursor`, less the look-back in which a post
        indexed late may still appear (`wire.LOOKBACK`), or the server has no older one;
        the first poll (no cursor) reads the newest page only: the poller's backfill window
        decides what of it is answered. Mentions whose author closed the thread to our reply
        are left out (they still move the cursor)."""
        since = self._since(cursor)
        pages: list[MentionPage] = []
        server_cursor: str | None = None
        for _ in range(MAX_PAGES):
            params = models.AppBskyNotificationListNotifications.Params(
                limit=PAGE_SIZE, reasons=REASONS, cursor=server_cursor
            )
            payload, _ = self._query(
                NOTIFICATIONS,
                "app.bsky.notification.listNotifications",
                params,
                units=_count("notifications"),
            )
            try:
                page = wire.parse_notifications(payload, user_id, since)
            except DataError as exc:  # not one item can be told apart: Bluesky failed, try later
                raise Unavailable(
                    f"Bluesky served a notifications page that cannot be read: {exc}"
                ) from exc
            if not pages or page.mentions or page.malformed:  # an empty older page adds nothing
                pages.append(
                    MentionPage(
                        mentions=self._answerable(page.mentions),
                        malformed=page.malformed,
                        cursor=_page_cursor(page.newest, since),
                    )
                )
            if since is None or page.reached or page.next_cursor is None:
                break
            server_cursor = page.next_cursor
        else:
            log.warning(
                "event=mentions_page_cap network=bluesky pages=%d: older mentions are skipped",
                MAX_PAGES,
            )
        return pages

    def publish(self, draft: Draft) -> Receipt:
        """Post `draft` as an `app.bsky.feed.post` record under the record key named by the
        draft (`tid.record_key` of its key and `created_at`): a retry names the same record.
        A reply's root is the root of the thread it answers. If the PDS says the key is taken
        (it answers 500, a PDS of another make 409), the record is read back: this draft's
        text means it was posted already, and that post is the answer."""
        now = self._clock()
        rkey = self._record_key(draft, now)
        try:
            reply = (
                wire.read_reply_context(draft.reply_to.context)
                if draft.reply_to is not None
                else None
            )
            images = [wire.read_image_ref(media) for media in draft.media_ids]
        except DataError as exc:
            raise Rejected(f"Bluesky post cannot be made: {exc}") from exc
        record = wire.post_record(
            draft.text,
            now,
            wire.langs_of(draft.lang),
            reply,
            images,
            facets.facets_of(draft.text),
        )
        with self._lock:
            did = self.own_user_id()
        body = json.dumps(
            {"repo": did, "collection": POST, "rkey": rkey, "record": record},
            ensure_ascii=False,
        ).encode("utf-8")
        try:
            payload, budget = self._call(
                CREATE_RECORD,
                lambda c: c.invoke_procedure(
                    "com.atproto.repo.createRecord",
                    content=body,
                    headers={"Content-Type": "application/json"},
                ),
                posting=True,
                points=POINTS_PER_CREATE,
            )
        except (_PostFailed, _KeyTaken) as exc:
            return self._read_back(draft, did, rkey, exc)
        try:
            ref = wire.parse_created(payload, reply)
        except DataError as exc:  # a 2xx without the record's uri: it probably exists
            raise Unavailable(
                f"Bluesky answered createRecord without the post: {exc}", maybe_done=True
            ) from exc
        log.info("event=published network=bluesky post_id=%s rkey=%s", ref.id, rkey)
        return Receipt(ref=ref, budget=budget, cost=None)

    def _read_back(self, draft: Draft, did: str, rkey: str, failure: PlatformError) -> Receipt:
        """The post under `rkey` after the PDS refused to make it again: this draft's, or
        Rejected; `failure` again if it cannot be read (it may still be in the making)."""
        try:
            own = self._own_post(did, rkey)
        except PlatformError:
            raise failure from None
        if own is None:
            raise failure
        if same_text(own.text) != same_text(draft.text):
            raise Rejected(
                f"Bluesky already holds another post under record key {rkey} "
                f"(draft {draft.key}): not posted"
            ) from failure
        log.info("event=published_before network=bluesky post_id=%s rkey=%s", own.post_id, rkey)
        return Receipt(ref=PostRef(own.post_id, own.context), budget=None, cost=None)

    def upload_media(self, path: Path, alt_text: str) -> str:
        """Upload a photo (`com.atproto.repo.uploadBlob`); the "media id" is the blob and its
        alt text (`wire.ImageRef`), which the post embeds. A photo over Bluesky's 1,000,000
        bytes is refused before the call. OSError when the file cannot be read."""
        content = path.read_bytes()  # a missing file is ours to report, read before the call
        limit = self.media_rules.max_bytes
        if len(content) > limit:
            raise Rejected(
                f"the photo {path.name} has {len(content):,} bytes; Bluesky takes at most "
                f"{limit:,} bytes per image"
            )
        alt_limit = self.media_rules.max_alt_text
        if len(alt_text) > alt_limit:
            alt_text = alt_text[: alt_limit - 1] + "…"
        mime = _MIME_TYPES.get(path.suffix.lower(), "application/octet-stream")
        payload, _ = self._call(
            UPLOAD_BLOB,
            lambda c: c.invoke_procedure(
                "com.atproto.repo.uploadBlob", content=content, headers={"Content-Type": mime}
            ),
        )
        try:
            blob = wire.parse_blob(payload)
        except DataError as exc:
            raise Unavailable(f"Bluesky answered uploadBlob without the blob: {exc}") from exc
        log.info("event=media_uploaded network=bluesky file=%s bytes=%d", path.name, len(content))
        return wire.ImageRef(blob, alt_text).encode()

    def published(
        self, user_id: str, drafts: Sequence[Draft], since: datetime
    ) -> Mapping[str, Sequence[PostRef]]:
        """Of interrupted `drafts`, the ones whose record exists: each is looked up by the
        record key it was (or would have been) posted under (`getRecord`), and is this draft's
        when its text is. A draft without `created_at` has no key to look up."""
        found: dict[str, list[PostRef]] = {}
        for draft in drafts:
            rkey = self._record_key(draft, None)
            if rkey is None:
                log.warning("event=unverifiable network=bluesky key=%s: no created_at", draft.key)
                continue
            own = self._own_post(user_id, rkey)
            if own is None:
                continue
            if same_text(own.text) != same_text(draft.text):
                log.warning(
                    "event=record_key_taken network=bluesky key=%s rkey=%s", draft.key, rkey
                )
                continue
            found[draft.key] = [PostRef(own.post_id, own.context)]
        return found

    @overload
    def _record_key(self, draft: Draft, now: datetime) -> str: ...
    @overload
    def _record_key(self, draft: Draft, now: None) -> str | None: ...

    def _record_key(self, draft: Draft, now: datetime | None) -> str | None:
        """The record key `draft` is posted under: named by its key and `created_at`. A draft
        without `created_at` (the outbox always gives one) is named by the time it is first
        posted, and keeps that name in this process; None if it was never named."""
        if draft.created_at is not None:
            return tid.record_key(draft.key, draft.created_at)
        named = self._named.get(draft.key)
        if named is None and now is not None:
            named = self._named[draft.key] = tid.record_key(draft.key, now)
            while len(self._named) > NAMED_KEPT:
                self._named.pop(next(iter(self._named)))
        return named

    def _own_post(self, did: str, rkey: str) -> OwnPost | None:
        """Our post under `rkey`, None if there is none."""
        params = models.ComAtprotoRepoGetRecord.Params(repo=did, collection=POST, rkey=rkey)
        try:
            payload, _ = self._query(GET_RECORD, "com.atproto.repo.getRecord", params)
        except _NotFound:
            return None
        try:
            return wire.parse_record(payload)
        except DataError as exc:
            raise Unavailable(f"Bluesky answered getRecord with no post: {exc}") from exc

    # --- doctor ----------------------------------------------------------------------------

    def check_session(self) -> SessionCheck:
        """Whether we can act as the account (`com.atproto.server.getSession`), and how the
        session was had: a saved one that works spends no sign-in."""
        with self._lock:
            self._how = "saved"
            payload, _ = self._query(GET_SESSION, "com.atproto.server.getSession")
            answer = payload if isinstance(payload, Mapping) else {}
            did, handle = answer.get("did"), answer.get("handle")
            if not wire.is_did(did):
                raise Unavailable("Bluesky answered getSession without the account's DID")
            return SessionCheck(did, handle if isinstance(handle, str) else did, self._how)

    # --- intake helpers --------------------------------------------------------------------

    def _since(self, cursor: str | None) -> wire.Cursor | None:
        if cursor is None:
            return None
        try:
            return wire.parse_cursor(cursor)
        except DataError as exc:  # ours, so never: read as a first poll rather than never again
            log.error("event=cursor_unreadable network=bluesky error=%r", str(exc))
            return None

    def _answerable(self, mentions: Sequence[Any]) -> tuple[Any, ...]:
        """`mentions` less those whose author closed the thread to our reply (getPosts'
        `viewer.replyDisabled`, asked for 25 posts a call)."""
        uris = [wire.uri_of(m.post_id) for m in mentions]
        closed: set[str] = set()
        for start in range(0, len(uris), GET_POSTS_BATCH):
            params = models.AppBskyFeedGetPosts.Params(uris=uris[start : start + GET_POSTS_BATCH])
            payload, _ = self._query(
                GET_POSTS, "app.bsky.feed.getPosts", params, units=_count("posts")
            )
            try:
                closed |= wire.parse_post_views(payload)
            except DataError as exc:
                raise Unavailable(f"Bluesky answered getPosts with no posts: {exc}") from exc
        kept = tuple(m for m, uri in zip(mentions, uris, strict=True) if uri not in closed)
        if len(kept) < len(mentions):
            log.info(
                "event=replies_disabled network=bluesky left_out=%d", len(mentions) - len(kept)
            )
        return kept

    # --- the session -----------------------------------------------------------------------

    def _signed_in(self) -> _Client:
        """The client with a session that should still be good: the one held, else the saved
        one, else a new sign-in; refreshed first when its access token is about to expire."""
        with self._lock:
            if self._client is None and not self._restore():
                self._sign_in()
            if self._expiring():
                self._refresh()
            assert self._client is not None
            return self._client

    def _new_client(self) -> _Client:
        request = Request(
            timeout=httpx.Timeout(self._timeouts.read, connect=self._timeouts.connect)
        )
        client = _Client(self._credentials.service, request, self._clock)
        client.on_session_change(self._changed)
        return client

    def _restore(self, saved: SavedSession | None = None) -> bool:
        """Take up the saved session (or `saved`); False if there is none that can be read."""
        saved = saved if saved is not None else self._sessions.load()
        if saved is None:
            return False
        wanted = self._credentials.handle.removeprefix("@").lower()
        if wanted not in (saved.handle.lower(), saved.user_id):
            # the handle was changed in the settings: the saved session acts as another account
            log.warning(
                "event=session_of_another_account network=bluesky saved=%s configured=%s",
                saved.handle,
                wanted,
            )
            return False
        client = self._new_client()
        try:
            client.login(session_string=saved.secret, fetch_bsky_profile=False)
            session = Session.decode(saved.secret)
            session.access_jwt_payload  # noqa: B018 - readable, or it is no session to restore
        except (ValueError, sdk.AtProtocolError) as exc:
            log.error("event=session_unreadable network=bluesky error=%s", type(exc).__name__)
            return False
        self._tell_secrets(session)
        self._client, self._session, self._saved = client, session, saved
        return True

    def _changed(self, event: SessionEvent, session: Session) -> None:
        """The SDK's `on_session_change`: a created or refreshed session is saved at once."""
        self._session = session
        if event not in (SessionEvent.CREATE, SessionEvent.REFRESH):
            return
        self._tell_secrets(session)
        now = self._clock()
        created = (
            now if event is SessionEvent.CREATE or self._saved is None else self._saved.created_at
        )
        handle = session.handle
        if handle == INVALID_HANDLE:
            # Not the account's name: the handle it was signed in as is (the sign-in resolved
            # it to this DID), so that the next process takes this session up.
            handle = (
                self._credentials.handle.removeprefix("@").lower()
                if event is SessionEvent.CREATE or self._saved is None
                else self._saved.handle
            )
        saved = SavedSession(
            user_id=session.did,
            handle=handle,
            secret=session.encode(),
            created_at=created,
            refreshed_at=now,
        )
        self._saved = saved
        try:
            self._sessions.save(saved)
        except Exception as exc:  # the session works in memory; the next refresh saves again
            log.error("event=session_not_saved network=bluesky error=%s", type(exc).__name__)

    def _tell_secrets(self, session: Session) -> None:
        if self._secrets is not None:
            self._secrets([session.access_jwt, session.refresh_jwt])

    def _expiring(self) -> bool:
        if self._session is None:
            return True
        try:
            expires = self._session.access_jwt_payload.exp
        except (ValueError, sdk.AtProtocolError):
            return True
        if not isinstance(expires, int):
            return True
        return datetime.fromtimestamp(expires, UTC) - REFRESH_MARGIN <= self._clock()

    def _refresh(self) -> None:
        """A new access token for the session (`refreshSession`, which also rotates the refresh
        token). When the refresh token is no longer taken, a session another process saved
        since is taken up, else the account is signed in again."""
        assert self._client is not None
        held = self._saved.secret if self._saved is not None else None
        try:
            self._metered_call(REFRESH_SESSION, self._client._refresh_and_set_session)
        except _TokenRefused as exc:
            log.warning("event=refresh_refused network=bluesky error=%r", str(exc))
            saved = self._sessions.load()
            if saved is not None and saved.secret != held and self._restore(saved):
                if not self._expiring():
                    return
                try:
                    self._metered_call(REFRESH_SESSION, self._client._refresh_and_set_session)
                    self._how = "refreshed"
                    return
                except _TokenRefused:
                    pass
            self._sign_in()
            return
        self._how = "refreshed"

    def _sign_in(self) -> None:
        """Sign in with the app password (`createSession`): at most once per `SIGN_IN_SPACING`,
        doubled after each refused sign-in (up to `MAX_SIGN_IN_SPACING`)."""
        now = self._clock()
        spacing = min(SIGN_IN_SPACING * 2**self._refused, MAX_SIGN_IN_SPACING)
        if self._signed_in_at is not None and now - self._signed_in_at < spacing:
            again = self._signed_in_at + spacing
            raise RateLimited(
                f"Bluesky refused the session signed in at {self._signed_in_at:%H:%M} UTC; not "
                f"signing in again before {again:%H:%M} UTC (once per "
                f"{int(spacing.total_seconds()) // 60} minutes: Bluesky allows 30 sign-ins per 5 "
                f"minutes and about 100 a day, refused ones too); check {self._password_setting}",
                again,
            )
        self._signed_in_at = now
        client = self._new_client()
        try:
            self._metered_call(
                CREATE_SESSION,
                lambda: client.login(
                    self._credentials.handle,
                    self._credentials.app_password,
                    fetch_bsky_profile=False,
                ),
                signing_in=True,
            )
        except (_TokenRefused, Rejected) as exc:
            self._refused += 1
            raise AuthFailed(
                f"Bluesky refused to sign in as {self._credentials.handle}: {exc}; check the "
                f"handle and {self._password_setting} (an app password, Settings → Privacy and "
                "security → App passwords)"
            ) from exc
        self._client, self._refused = client, 0
        self._how = "created"
        log.info("event=signed_in network=bluesky handle=%s", self._credentials.handle)

    # --- the boundary ----------------------------------------------------------------------

    def _query(
        self,
        endpoint: str,
        nsid: str,
        params: Any = None,
        *,
        units: Callable[[Any], int] = lambda _payload: 1,
    ) -> tuple[Any, RateBudget | None]:
        """A query (`GET /xrpc/<nsid>`) through `_call`."""
        return self._call(endpoint, lambda c: c.invoke_query(nsid, params=params), units=units)

    def _call(
        self,
        endpoint: str,
        call: Callable[[_Client], Any],
        *,
        posting: bool = False,
        points: int = 1,
        units: Callable[[Any], int] = lambda _payload: 1,
    ) -> tuple[Any, RateBudget | None]:
        """One XRPC call with a good session: the answer's JSON and the rate budget its headers
        state. A token the PDS no longer takes is refreshed (or signed in again) once and the
        call made again: the refused call did nothing."""
        for attempt in (1, 2):
            with self._lock:
                client = self._signed_in()
            try:
                response = self._metered_call(
                    endpoint,
                    functools.partial(call, client),
                    posting=posting,
                    points=points,
                    units=units,
                )
            except _TokenRefused:
                if attempt == 2:
                    raise
                with self._lock:
                    if self._client is client:
                        self._refresh()
                continue
            budget = wire.parse_rate_budget(response.headers, self._clock(), points)
            return response.content, budget
        raise AssertionError("unreachable")  # pragma: no cover

    def _metered_call(
        self,
        endpoint: str,
        call: Callable[[], Any],
        *,
        posting: bool = False,
        signing_in: bool = False,
        points: int = 1,
        units: Callable[[Any], int] = lambda _payload: 1,
    ) -> Any:
        """`call` with its failures as our errors, reported to the meter answered or not."""
        try:
            with self._translated(posting=posting, signing_in=signing_in):
                result = call()
        except PlatformError as exc:
            response = getattr(exc.__cause__, "response", None)
            self._calls.report(
                endpoint,
                status=response.status_code if response is not None else None,
                budget=(
                    wire.parse_rate_budget(response.headers, self._clock(), points)
                    if response is not None
                    else None
                ),
                error=str(exc),
            )
            raise
        response = result if hasattr(result, "status_code") else None
        self._calls.report(
            endpoint,
            status=response.status_code if response is not None else 200,
            units=units(response.content) if response is not None else 1,
            budget=(
                wire.parse_rate_budget(response.headers, self._clock(), points)
                if response is not None
                else None
            ),
        )
        return result

    @contextmanager
    def _translated(self, *, posting: bool, signing_in: bool = False) -> Iterator[None]:
        """Every failure of the SDK as one of our PlatformErrors (see the module docstring)."""
        try:
            yield
        except sdk.RequestErrorBase as exc:
            response = exc.response
            if response is None:  # no answer: a timeout or a connection that failed
                cause = exc.__cause__
                what = type(cause).__name__ if cause is not None else type(exc).__name__
                raise Unavailable(
                    f"Bluesky unreachable: {what}",
                    maybe_done=posting
                    and not isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout),
                ) from exc
            raise self._refusal(response, posting=posting, signing_in=signing_in) from exc
        except DataError as exc:  # a 2xx without what it should carry
            raise Unavailable(
                f"Bluesky sent an incomplete answer: {exc}", maybe_done=posting
            ) from exc
        except (sdk.AtProtocolError, ValueError) as exc:  # an answer the SDK's models refused
            raise Unavailable(
                f"Bluesky sent an answer that cannot be read: {type(exc).__name__}",
                maybe_done=posting,
            ) from exc

    def _refusal(self, response: Any, *, posting: bool, signing_in: bool) -> PlatformError:
        """The error of an XRPC answer that is no success."""
        status = int(response.status_code)
        content = response.content
        # The SDK reads any JSON object as its XrpcError: `error` may be a list, a number, None.
        error = getattr(content, "error", None)
        error = error if isinstance(error, str) else None
        message = getattr(content, "message", None)
        message = message if isinstance(message, str) else None
        said = wire.error_text(
            {"error": error, "message": message} if error is not None else content
        )
        said = f": {said}" if said else ""
        if status == 429:
            reset_at = wire.parse_reset(response.headers, self._clock())
            return RateLimited(f"Bluesky rate limit reached; resets at {reset_at}", reset_at)
        if error == _NOT_FOUND and status in (400, 404):
            return _NotFound(f"Bluesky has no such record ({status}){said}")
        if status == 401 or (status == 400 and error in _TOKEN_ERRORS):
            if signing_in:
                return _TokenRefused(f"({status}){said}")
            return _TokenRefused(
                f"Bluesky refused the session ({status}){said}; check {self._password_setting}"
            )
        if status == 403:
            return AuthFailed(
                f"Bluesky refused the account ({status}){said}; check {self._password_setting}"
            )
        if status >= 500 or status in _MOMENTARY:
            if posting and status >= 500:
                return _PostFailed(f"Bluesky answered {status}{said}", maybe_done=True)
            return Unavailable(f"Bluesky answered {status}{said}", maybe_done=posting)
        if posting and status == 409:
            return _KeyTaken(f"Bluesky refused the post ({status}){said}")
        return Rejected(f"Bluesky refused the request ({status}){said}")


def _page_cursor(newest: wire.Cursor | None, since: wire.Cursor | None) -> str | None:
    """A page's cursor: its newest notification, never older than the stored cursor (whose
    own notification may have been deleted since, leaving the page only older ones)."""
    if newest is None:
        return None
    return (max(newest, since) if since is not None else newest).encode()


def _count(key: str) -> Callable[[Any], int]:
    """The meter's units of a list answer: how many items it holds under `key`."""

    def count(payload: Any) -> int:
        items = payload.get(key) if isinstance(payload, Mapping) else None
        return len(items) if isinstance(items, list) else 0

    return count
