"""X (Twitter) through tweepy: the only module that imports it.

tweepy is asked for raw `requests.Response` objects so that we keep the exact JSON for audit and
parse it once, in `x_wire`. Its exceptions are translated here, at the boundary:

    tweepy.TooManyRequests            → RateLimited (with the x-rate-limit-reset time)
    tweepy.Unauthorized               → AuthFailed
    tweepy.Forbidden on a read        → AuthFailed (the app lacks access to that endpoint)
    tweepy.Forbidden / BadRequest /
      NotFound on a post              → Rejected (deleted post, duplicate text: never retry)
    TwitterServerError, timeouts,
      connection errors               → Unavailable (retry with backoff)
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from socialbot.errors import (
    AuthFailed,
    ConfigError,
    DataError,
    PlatformError,
    RateLimited,
    Rejected,
    Unavailable,
)
from socialbot.platforms import x_wire
from socialbot.platforms.base import MentionPage, PostedReply

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


class XPlatform:
    """The `Platform` for X, acting as one account."""

    name = x_wire.PLATFORM

    def __init__(self, credentials: XCredentials, timeouts: Timeouts | None = None) -> None:
        tweepy = _tweepy()
        self._tweepy = tweepy
        self._client = tweepy.Client(
            consumer_key=credentials.consumer_key,
            consumer_secret=credentials.consumer_secret,
            access_token=credentials.access_token,
            access_token_secret=credentials.access_token_secret,
            return_type=requests.Response,
            wait_on_rate_limit=False,  # we schedule around limits ourselves; never sleep in a job
        )
        adapter = _TimeoutAdapter(timeouts or Timeouts())
        self._client.session.mount("https://", adapter)
        self._client.session.mount("http://", adapter)

    def own_user_id(self) -> str:
        payload = self._call(lambda: self._client.get_me(user_auth=True), read=True)
        return x_wire.parse_user_id(payload)[0]

    def fetch_mentions(self, user_id: str, since_id: str | None) -> list[MentionPage]:
        pages: list[MentionPage] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {
                "max_results": x_wire.PAGE_SIZE,
                "expansions": x_wire.MENTION_EXPANSIONS,
                "media_fields": x_wire.MEDIA_FIELDS,
                "place_fields": x_wire.PLACE_FIELDS,
                "tweet_fields": x_wire.TWEET_FIELDS,
                "user_fields": x_wire.USER_FIELDS,
                "user_auth": True,
            }
            if since_id is not None:
                params["since_id"] = since_id
            if token is not None:
                params["pagination_token"] = token
            payload = self._call(
                functools.partial(self._client.get_users_mentions, user_id, **params), read=True
            )
            page = x_wire.parse_mentions_page(payload)
            pages.append(page)
            token = page.next_token
            if token is None:
                break
        else:
            log.warning("event=mentions_page_cap pages=%d", MAX_PAGES)
        return pages

    def post(self, text: str, in_reply_to: str | None) -> str:
        payload = self._call(
            lambda: self._client.create_tweet(
                text=text, in_reply_to_tweet_id=in_reply_to, user_auth=True
            ),
            read=False,
        )
        try:
            return x_wire.parse_posted_id(payload)
        except DataError as exc:  # a 2xx without an id: the post probably exists
            raise Unavailable(f"X answered without a post id: {exc}", maybe_done=True) from exc

    def recent_replies(self, user_id: str, since: datetime) -> list[PostedReply]:
        replies: list[PostedReply] = []
        token: str | None = None
        for _ in range(MAX_PAGES):
            params: dict[str, Any] = {
                "max_results": 100,
                "start_time": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "tweet_fields": "created_at,referenced_tweets",
                "exclude": "retweets",
                "user_auth": True,
            }
            if token is not None:
                params["pagination_token"] = token
            payload = self._call(
                functools.partial(self._client.get_users_tweets, user_id, **params), read=True
            )
            replies.extend(x_wire.parse_own_replies(payload))
            token = payload.get("meta", {}).get("next_token")
            if token is None:
                break
        return replies

    def _call(self, fn: Callable[[], requests.Response], *, read: bool) -> Any:
        """The JSON body of a successful call; every failure as one of our PlatformErrors."""
        with self._translated(read=read):
            return fn().json()

    @contextmanager
    def _translated(self, *, read: bool) -> Iterator[None]:
        tw = self._tweepy
        try:
            yield
        except tw.TooManyRequests as exc:
            reset = getattr(exc, "reset_time", None)
            reset_at = datetime.fromtimestamp(reset, UTC) if reset else None
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
            raise Rejected(f"X refused the request ({_status(exc)}): {_detail(exc)}") from exc
        except tw.TwitterServerError as exc:
            raise Unavailable(
                f"X server error ({_status(exc)}): {_detail(exc)}", maybe_done=not read
            ) from exc
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise Unavailable(
                f"X unreachable: {type(exc).__name__}",
                maybe_done=not read and _may_have_arrived(exc),
            ) from exc
        except tw.HTTPException as exc:
            raise Unavailable(
                f"X answered {_status(exc)}: {_detail(exc)}", maybe_done=not read
            ) from exc
        except tw.TweepyException as exc:
            raise PlatformError(f"X call failed: {exc}") from exc
        except ValueError as exc:  # a 2xx whose body is not JSON
            raise Unavailable(f"X sent an unreadable answer: {exc}", maybe_done=not read) from exc


# 403 problem types that mean the app or account lacks a permission, not that this post is bad.
_PERMISSION_PROBLEMS = ("oauth1-permissions", "client-forbidden", "unsupported-authentication")


def _is_permission_problem(exc: Any) -> bool:
    response = getattr(exc, "response", None)
    try:
        body = response.json() if response is not None else {}
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
