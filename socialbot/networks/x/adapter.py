"""X (Twitter) through tweepy: the only module that imports it.

tweepy is asked for raw `requests.Response` objects so that we keep the exact JSON for audit and
parse it once, in `x_wire`. Its exceptions are translated here, at the boundary:

    tweepy.TooManyRequests            → RateLimited (with the x-rate-limit-reset time)
    tweepy.Unauthorized               → AuthFailed
    tweepy.Forbidden on a read        → AuthFailed (the app lacks access to that endpoint)
    tweepy.Forbidden / BadRequest /
      NotFound on a post or upload    → Rejected (deleted post, duplicate text, bad image: never
                                        retry), unless X names a missing permission: AuthFailed
    TwitterServerError, timeouts,
      connection errors               → Unavailable (retry with backoff)

A 400 that names the parameter it refused (X's `invalid-request` problem: `errors[].parameters`
in spec 2.159, `parameter` in 2.167) is a `Rejected` whose message and `parameter` name it: a field
name this account's API does not know is one (see `x_request`), never a silent empty page.

Photos go up through X API v2 (`POST api.x.com/2/media/upload`, then `POST /2/media/metadata` for
the alt text; X retired v1.1 media upload for self-serve apps in spring 2025). tweepy has no v2
upload, so these two requests are signed here with requests-oauthlib's OAuth 1.0a (tweepy's own
signer; no SDK for two calls), on the same session: the same credentials and timeouts, and each
answer raises the same tweepy exception a tweepy call would, so one translation covers every call.
An upload is not a post: whatever fails, nothing a resident could see exists, so an upload's
`Unavailable` is never `maybe_done`.

Every name and value sent is in `x_request`, one place, checked against X's specs by a test.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests_oauthlib import OAuth1
from urllib3.exceptions import NewConnectionError

from socialbot import usage
from socialbot._urls import find_urls
from socialbot.domain import PostRef, believable_reset, is_post_id
from socialbot.errors import (
    AuthFailed,
    ConfigError,
    DataError,
    PlatformError,
    RateLimited,
    Rejected,
    Unavailable,
)
from socialbot.networks.base import Draft, MentionPage, OwnPost, RateBudget, Receipt
from socialbot.networks.timeline import match_drafts
from socialbot.networks.x import request as x_request
from socialbot.networks.x import wire as x_wire
from socialbot.networks.x.rules import X_ENDPOINTS, X_MEDIA, X_TEXT
from socialbot.usage import ApiCall, Charge, Meter, Prices

log = logging.getLogger(__name__)

# X keeps at most the newest 800 mentions reachable; 8 pages of 100 cover them, the cap guards
# against a pagination loop.
MAX_PAGES = 20


@dataclass(frozen=True, slots=True)
class XCredentials:
    """OAuth 1.0a user context of the account we act as."""

    consumer_key: str
    consumer_secret: str
    access_token: str
    access_token_secret: str

    def __repr__(self) -> str:  # never let a secret reach a log line or a traceback
        return "XCredentials(****)"


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = 5.0
    read: float = 30.0


class _TimeoutAdapter(HTTPAdapter):
    """requests has no default timeout: a silent connection would freeze the poll job forever."""

    def __init__(self, timeouts: Timeouts) -> None:
        super().__init__(max_retries=0)
        self._timeout = (timeouts.connect, timeouts.read)

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float | None, float | None] | None = None,
        verify: bool | str = True,
        cert: str | tuple[str, str] | None = None,
        proxies: dict[str, str] | None = None,
    ) -> requests.Response:
        return super().send(
            request,
            stream=stream,
            timeout=self._timeout if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


def _tweepy() -> Any:
    try:
        import tweepy
    except ImportError:  # pragma: no cover - tweepy is a dependency; this guards broken installs
        raise ConfigError("the X adapter needs tweepy: pip install 'tweepy>=4.14,<5'") from None
    return tweepy


@dataclass(slots=True)
class _Answer:
    """What a call site knows of a successful answer, for the meter."""

    status: int | None = None
    charge: Charge | None = None
    units: int = 0
    budget: RateBudget | None = None

    def of(self, response: requests.Response, charge: Charge | None, units: int = 1) -> None:
        self.status, self.charge, self.units = response.status_code, charge, units
        self.budget = x_wire.parse_rate_budget(response.headers)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class XPlatform:
    """The `Network` for X, acting as one account. Every call is reported to `meter` (what was
    asked, answered and billed), under `account`'s name; a post's receipt carries its estimated
    cost at `prices`."""

    name = x_wire.PLATFORM
    text_rules = X_TEXT
    media_rules = X_MEDIA
    endpoints = X_ENDPOINTS

    def __init__(
        self,
        credentials: XCredentials,
        timeouts: Timeouts | None = None,
        *,
        account: str = "intake",
        meter: Meter | None = None,
        clock: Callable[[], datetime] = _utc_now,
        field_names: x_request.FieldNames = x_request.FieldNames.TWEET,
        prices: Prices | None = None,
    ) -> None:
        tweepy = _tweepy()
        self._prices = prices or Prices()
        self.words = x_request.vocabulary(field_names)
        self._tweepy = tweepy
        self._post_budget: RateBudget | None = None
        self._account, self._meter, self._clock = account, meter, clock
        self._client = tweepy.Client(
            consumer_key=credentials.consumer_key,
            consumer_secret=credentials.consumer_secret,
            access_token=credentials.access_token,
            access_token_secret=credentials.access_token_secret,
            return_type=requests.Response,
            wait_on_rate_limit=False,  # we schedule around limits ourselves; never sleep in a job
        )
        timeouts = timeouts or Timeouts()
        adapter = _TimeoutAdapter(timeouts)
        self._client.session.mount("https://", adapter)
        self._client.session.mount("http://", adapter)
        # The media requests: signed as tweepy signs (requests-oauthlib), sent on its session.
        self._oauth = OAuth1(
            credentials.consumer_key,
            client_secret=credentials.consumer_secret,
            resource_owner_key=credentials.access_token,
            resource_owner_secret=credentials.access_token_secret,
            decoding=None,  # as tweepy: headers stay text, not bytes
        )

    def own_user_id(self) -> str:
        return self.own_user()[0]

    def own_user(self) -> tuple[str, str | None]:
        """(id, username) of the account we act as: one GET /2/users/me."""
        payload = self._read(usage.USERS_ME, self._get("/2/users/me", {}))
        return x_wire.parse_user_id(payload)

    def fetch_mentions(self, user_id: str, cursor: str | None) -> list[MentionPage]:
        """Pages of posts newer than `cursor` (X's `since_id`), newest first; each page's cursor
        is the newest id it holds, never older than the one asked with."""
        since_id = cursor if is_post_id(cursor) else None
        pages: list[MentionPage] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            params = x_request.mentions_params(
                self.words, since_id=since_id, pagination_token=token
            )
            payload = self._read(usage.MENTIONS, self._get(f"/2/users/{user_id}/mentions", params))
            try:
                page = x_wire.parse_mentions_page(payload)
            except DataError as exc:  # not one item can be told apart: X failed, try later
                raise Unavailable(f"X served a mentions page that cannot be read: {exc}") from exc
            pages.append(x_wire.with_cursor(page, since_id))
            token = page.next_token
            if token is None:
                break
        else:
            log.warning("event=mentions_page_cap pages=%d", MAX_PAGES)
        return pages

    def probe_mentions(self, user_id: str) -> MentionPage:
        """One mentions page of the fewest posts X allows, asked for with every name intake asks
        for: proves this account's API accepts them, and that its answers can be read
        (`socialbot doctor`). A `Rejected` naming the parameter when X refuses one."""
        params = x_request.mentions_params(self.words, max_results=x_request.PROBE_PAGE_SIZE)
        payload = self._read(usage.MENTIONS, self._get(f"/2/users/{user_id}/mentions", params))
        try:
            return x_wire.parse_mentions_page(payload)
        except DataError as exc:
            raise Unavailable(f"X served a mentions page that cannot be read: {exc}") from exc

    def _get(self, route: str, params: dict[str, str]) -> Callable[[], requests.Response]:
        """A signed GET of `route` with exactly `params` (tweepy's low-level request: the names
        are ours, from `x_request`, not tweepy's keyword spelling)."""
        return lambda: self._client.request("GET", route, params=params, user_auth=True)

    def publish(self, draft: Draft) -> Receipt:
        """Post `draft`: X has no idempotency key, so `published` finds an interrupted one by our
        timeline instead."""
        in_reply_to = draft.reply_to.id if draft.reply_to is not None else None
        posted = self.post(draft.text, in_reply_to, draft.media_ids)
        charge = Charge.POST_CREATE_URL if find_urls(draft.text) else Charge.POST_CREATE
        return Receipt(PostRef(posted), self.post_budget(), self._prices.of(charge))

    def published(
        self, user_id: str, drafts: Sequence[Draft], since: datetime
    ) -> dict[str, list[PostRef]]:
        """Our posts since `since` (`GET /2/users/:id/tweets`), matched to `drafts`: a reply by
        the post it answers, a post of its own by its text (X rewrites links to t.co)."""
        return match_drafts(drafts, self.recent_posts(user_id, since))

    def post(self, text: str, in_reply_to: str | None, media_ids: Sequence[str] = ()) -> str:
        self._post_budget = None
        # X bills a post with a link in it at a higher rate (`usage.Charge`).
        charge = Charge.POST_CREATE_URL if find_urls(text) else Charge.POST_CREATE
        with self._metered(usage.CREATE_POST, read=False) as answer:
            response = self._client.request(
                "POST",
                "/2/tweets",
                json=x_request.post_body(text, in_reply_to, tuple(media_ids)),
                user_auth=True,
            )
            answer.of(response, charge)
            payload = _json_object(response)
        self._post_budget = answer.budget
        try:
            return x_wire.parse_posted_id(payload)
        except DataError as exc:  # a 2xx without an id: the post probably exists
            raise Unavailable(f"X answered without a post id: {exc}", maybe_done=True) from exc

    def post_budget(self) -> RateBudget | None:
        """The tightest of X's posting quotas after the last post (`x_wire.parse_rate_budget`)."""
        return self._post_budget

    def upload_media(self, path: Path, alt_text: str) -> str:
        """Upload a photo (`POST /2/media/upload`, `media_category=tweet_image`), then set its alt
        text (`POST /2/media/metadata`; at most `X_MEDIA.max_alt_text`, longer is cut). The id
        is X's `data.id`; X lets it be attached for `expires_after_secs` (a day). OSError
        when the file cannot be read."""
        # A missing file (OSError) is ours to report, not X's: it is read before translating.
        content = path.read_bytes()
        with self._metered(usage.MEDIA_UPLOAD, read=False, posting=False) as answer:
            response = self._send(
                x_request.MEDIA_UPLOAD_URL,
                data=x_request.upload_form(),
                # Only the file's name leaves the machine, never the directory it sits in.
                files={x_request.UPLOAD_FILE_FIELD: (path.name, content, _mime_type(path))},
            )
            uploaded = _uploaded(read_json(response.content))
            answer.of(response, Charge.MEDIA_UPLOAD)
        if len(alt_text) > X_MEDIA.max_alt_text:
            alt_text = alt_text[: X_MEDIA.max_alt_text - 1] + "…"
        with self._metered(usage.MEDIA_METADATA, read=False, posting=False) as answer:
            response = self._send(
                x_request.MEDIA_METADATA_URL, json=x_request.metadata_body(uploaded, alt_text)
            )
            answer.of(response, None, units=0)
        log.info("event=media_uploaded media_id=%s file=%s", uploaded, path.name)
        return uploaded

    def _send(self, url: str, **body: Any) -> requests.Response:
        """A signed POST on the client's session (its timeouts); a failure raises the tweepy
        exception tweepy would have raised, for `_translated`."""
        tw = self._tweepy
        response: requests.Response = self._client.session.post(
            url, auth=self._oauth, headers={"User-Agent": self._client.user_agent}, **body
        )
        status = response.status_code
        if status == 429:
            reset = response.headers.get("x-rate-limit-reset", "")
            known = reset.isascii() and reset.isdigit() and len(reset) <= 12
            raise tw.TooManyRequests(response, reset_time=int(reset) if known else None)
        failure = {400: tw.BadRequest, 401: tw.Unauthorized, 403: tw.Forbidden, 404: tw.NotFound}
        if status in failure:
            raise failure[status](response)
        if status >= 500:
            raise tw.TwitterServerError(response)
        if not 200 <= status < 300:
            raise tw.HTTPException(response)
        return response

    def recent_posts(self, user_id: str, since: datetime) -> list[OwnPost]:
        replies: list[OwnPost] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            params = x_request.own_posts_params(self.words, since, pagination_token=token)
            payload = self._read(usage.OWN_POSTS, self._get(f"/2/users/{user_id}/tweets", params))
            replies.extend(x_wire.parse_own_posts(payload))
            meta = payload.get("meta")
            token = meta.get("next_token") if isinstance(meta, dict) else None
            if not isinstance(token, str):
                token = None
            if token is None:
                break
        return replies

    def _read(self, endpoint: str, fn: Callable[[], requests.Response]) -> Any:
        """The JSON body of a successful read, billed per resource in its `data`; every failure
        as one of our PlatformErrors."""
        with self._metered(endpoint, read=True) as answer:
            response = fn()
            payload = _json_object(response)
            data = payload.get("data")
            units = len(data) if isinstance(data, list) else int(data is not None)
            charge = Charge.USER_READ if endpoint == usage.USERS_ME else Charge.POST_READ
            answer.of(response, charge, units)
        return payload

    @contextmanager
    def _metered(self, endpoint: str, *, read: bool, posting: bool = True) -> Iterator[_Answer]:
        """`_translated`, and the call reported to the meter, answered or not."""
        answer = _Answer()
        try:
            with self._translated(read=read, posting=posting):
                yield answer
        except PlatformError as exc:
            response = getattr(exc.__cause__, "response", None)
            status = getattr(response, "status_code", None)
            headers = getattr(response, "headers", None)
            self._report(
                endpoint,
                status=status if isinstance(status, int) else answer.status,
                budget=x_wire.parse_rate_budget(headers) if headers is not None else None,
                error=str(exc),
            )
            raise
        self._report(
            endpoint,
            status=answer.status,
            charge=answer.charge,
            units=answer.units,
            budget=answer.budget,
        )

    def _report(
        self,
        endpoint: str,
        *,
        status: int | None,
        charge: Charge | None = None,
        units: int = 0,
        budget: RateBudget | None = None,
        error: str | None = None,
    ) -> None:
        if self._meter is None:
            return
        self._meter.record(
            ApiCall(
                network=self.name,
                account=self._account,
                endpoint=endpoint,
                at=self._clock(),
                status=status,
                charge=charge,
                units=units,
                budget=budget,
                error=error,
            )
        )

    @contextmanager
    def _translated(self, *, read: bool, posting: bool = True) -> Iterator[None]:
        """Every failure as one of our PlatformErrors. `maybe_done` only for a write that publishes
        (`posting`): an upload that failed half-way has published nothing."""
        tw = self._tweepy
        may_publish = not read and posting
        try:
            yield
        except tw.TooManyRequests as exc:
            reset_at = _reset_time(getattr(exc, "reset_time", None))
            raise RateLimited(f"X rate limit reached; resets at {reset_at}", reset_at) from exc
        except tw.Unauthorized as exc:
            raise AuthFailed(
                f"X rejected the credentials (401): {_detail(exc)}; check SOCIALBOT_X_* settings"
            ) from exc
        except tw.Forbidden as exc:
            if read or _is_permission_problem(exc):
                raise AuthFailed(
                    f"X refused access (403): {_detail(exc)}; check the app's permissions"
                ) from exc
            raise Rejected(f"X refused the post (403): {_detail(exc)}") from exc
        except (tw.BadRequest, tw.NotFound) as exc:
            refused = _refused_parameters(exc)
            if refused:
                names = ", ".join(f"`{name}`" for name in refused)
                raise Rejected(
                    f"X refused the request parameter {names} ({_status(exc)}): {_detail(exc)}"
                    f"{_field_names_hint(refused, self.words)}",
                    parameter=refused[0],
                ) from exc
            raise Rejected(f"X refused the request ({_status(exc)}): {_detail(exc)}") from exc
        except tw.TwitterServerError as exc:
            raise Unavailable(
                f"X server error ({_status(exc)}): {_detail(exc)}", maybe_done=may_publish
            ) from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise Unavailable(
                f"X unreachable: {type(exc).__name__}",
                maybe_done=may_publish and _may_have_arrived(exc),
            ) from exc
        except tw.HTTPException as exc:
            status = getattr(getattr(exc, "response", None), "status_code", 0)
            # 409, 413, 415, 422, …: this request will never do (408 and 425 are moments)
            if 400 <= status < 500 and status not in _MOMENTARY:
                raise Rejected(f"X refused the request ({_status(exc)}): {_detail(exc)}") from exc
            raise Unavailable(
                f"X answered {_status(exc)}: {_detail(exc)}", maybe_done=may_publish
            ) from exc
        except tw.TweepyException as exc:
            raise PlatformError(f"X call failed: {exc}") from exc
        except DataError as exc:  # a 2xx without what it should carry
            raise Unavailable(
                f"X sent an incomplete answer: {exc}", maybe_done=may_publish
            ) from exc
        except ValueError as exc:  # a 2xx whose body is not JSON
            raise Unavailable(
                f"X sent an unreadable answer: {exc}", maybe_done=may_publish
            ) from exc


# 403 problem types that mean the app or account lacks a permission, not that this post is bad.
_PERMISSION_PROBLEMS = ("oauth1-permissions", "client-forbidden", "unsupported-authentication")
# The same as X's older error codes: 220 credentials do not allow access, 261 the app cannot
# write, 453 the app's access level lacks the endpoint.
_PERMISSION_CODES = (220, 261, 453)
_MIME_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
_MIME_TYPES |= {".gif": "image/gif", ".webp": "image/webp"}


# Client errors that say "not now" rather than "never": Request Timeout, Too Early.
_MOMENTARY = (408, 425)


def _reset_time(reset: object) -> datetime | None:
    """X's `x-rate-limit-reset` (epoch seconds) as a time, if it is one (a value no calendar
    holds is none: the caller then waits as if X had said nothing)."""
    if isinstance(reset, bool) or not isinstance(reset, int | float) or reset <= 0:
        return None
    try:
        return believable_reset(datetime.fromtimestamp(reset, UTC), datetime.now(UTC))
    except (OverflowError, OSError, ValueError):
        return None


def _json_object(response: requests.Response) -> dict[str, Any]:
    """The body of a 2xx, which X always sends as a JSON object. Anything else (an array, a bare
    string, HTML) is a failed call, inside `_metered`: counted as X's failure, not as a success
    that the parsing then chokes on. ValueError when it is not JSON at all."""
    payload = read_json(response.content)
    if not isinstance(payload, dict):
        raise DataError(f"the body is a JSON {type(payload).__name__}, not an object")
    return payload


def read_json(body: bytes) -> Any:
    """JSON as X sent it, however odd: a number too long for an int (Python refuses past 4,300
    digits, and no id or count of X's is that long) is kept as its text, for the wire parser to
    find malformed where it stands, rather than making the whole page unreadable. ValueError
    when it is not JSON at all (or nested too deep to read)."""
    try:
        return json.loads(body, parse_int=_bounded_int)
    except RecursionError:
        raise ValueError("nested too deep to read") from None


def _bounded_int(text: str) -> int | str:
    return int(text) if len(text) <= 40 else text


def _mime_type(path: Path) -> str:
    return _MIME_TYPES.get(path.suffix.lower(), "application/octet-stream")


def _uploaded(body: Any) -> str:
    """`data.id` of a v2 media/upload answer. A photo is ready at once; a `processing_info` that
    failed is X's refusal of this file, one still processing is a moment of X's (retry)."""
    data = body.get("data") if isinstance(body, dict) else None
    media_id = data.get("id") if isinstance(data, dict) else None
    if not isinstance(media_id, str) or not media_id.isdigit():
        raise DataError("media/upload answered without data.id")
    processing = data.get("processing_info") if isinstance(data, dict) else None
    state = processing.get("state") if isinstance(processing, dict) else None
    if state == "failed":
        raise Rejected(f"X could not process the photo (media id {media_id}): processing failed")
    if state in ("pending", "in_progress"):
        raise DataError(f"media {media_id} is still being processed ({state})")
    return media_id


def _refused_parameters(exc: Any) -> list[str]:
    """The request parameters an `invalid-request` 400 names: `errors[].parameters` (spec
    2.159 and every X answer recorded) or `parameter` (spec 2.167), at the top or per error."""
    response = getattr(exc, "response", None)
    try:
        body = read_json(response.content) if response is not None else None
    except ValueError:
        return []
    if not isinstance(body, dict):
        return []
    listed = body.get("errors")
    errors = [e for e in listed if isinstance(e, dict)] if isinstance(listed, list) else []
    names: list[str] = []
    for problem in (body, *errors):
        parameters = problem.get("parameters")
        if isinstance(parameters, dict):
            names += [name for name in parameters if isinstance(name, str)]
        if isinstance(problem.get("parameter"), str):
            names.append(problem["parameter"])
    return list(dict.fromkeys(names))


def _field_names_hint(refused: Sequence[str], words: x_request.Vocabulary) -> str:
    """What to do when X refuses a parameter whose names depend on the spelling in use."""
    spelt = {words.fields_parameter, words.other().fields_parameter, "expansions"}
    if not spelt.intersection(refused):
        return ""
    return (
        f"; this API does not take the {words.names.value!r} names: set "
        f"SOCIALBOT_X_FIELD_NAMES={words.other().names.value} (see `socialbot doctor`)"
    )


def _is_permission_problem(exc: Any) -> bool:
    if any(code in _PERMISSION_CODES for code in getattr(exc, "api_codes", None) or ()):
        return True
    response = getattr(exc, "response", None)
    try:
        body = read_json(response.content) if response is not None else {}
    except ValueError:
        return False
    problem = f"{body.get('type', '')} {body.get('reason', '')}" if isinstance(body, dict) else ""
    return any(p in problem for p in _PERMISSION_PROBLEMS)


def _may_have_arrived(exc: BaseException) -> bool:
    """False only when the connection was never made, so the request cannot have been sent."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return not isinstance(reason, NewConnectionError)


def _status(exc: Any) -> str:
    response = getattr(exc, "response", None)
    return str(getattr(response, "status_code", "?"))


def _detail(exc: Any) -> str:
    messages = getattr(exc, "api_messages", None) or getattr(exc, "api_errors", None)
    if messages:
        return "; ".join(str(m) for m in messages)[:300]
    return str(exc)[:300]
