"""Mastodon through Mastodon.py: the only module that imports it.

Mastodon.py builds the requests (the bearer token, the parameters, the `Link`-header pagination)
and raises on a failed answer; the answers themselves are taken from the HTTP response as the
server sent it (a response hook on Mastodon.py's session) and parsed once, in `wire`, never
through Mastodon.py's own types. Its exceptions are translated here, at the boundary:

    429, MastodonRatelimitError      → RateLimited (X-RateLimit-Reset)
    401, 403                         → AuthFailed (names SOCIALBOT_MASTODON_ACCESS_TOKEN)
    404, 422 and other 4xx           → Rejected (Mastodon's own `error` text)
    5xx, timeouts, connection errors → Unavailable; `maybe_done` for a status POST that may
                                       have arrived (never for an upload: it publishes nothing)

Mastodon.py is built so that it never sleeps (`ratelimit_method="throw"`: the outbox paces by
the budget each answer reports) and never makes a call of its own: its version checks are told
the oldest server this adapter supports (4.3, the first with notification policies) instead of
asking the instance.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from socialbot.domain import PostRef, RateBudget
from socialbot.errors import (
    AuthFailed,
    ConfigError,
    DataError,
    PlatformError,
    RateLimited,
    Rejected,
    Unavailable,
)
from socialbot.networks import timeline
from socialbot.networks.base import Draft, Endpoints, MediaRules, MentionPage, OwnPost, Receipt
from socialbot.networks.mastodon import text as mastodon_text
from socialbot.networks.mastodon import wire
from socialbot.networks.metering import UnbilledCalls
from socialbot.text_rules import TextRules
from socialbot.usage import Meter

log = logging.getLogger(__name__)

# The endpoints, as metered, held and shown.
NOTIFICATIONS = "GET /api/v1/notifications"
POST_STATUS = "POST /api/v1/statuses"
OWN_STATUSES = "GET /api/v1/accounts/:id/statuses"
MEDIA_UPLOAD = "POST /api/v2/media"
MEDIA_STATUS = "GET /api/v1/media/:id"
VERIFY_CREDENTIALS = "GET /api/v1/accounts/verify_credentials"
INSTANCE = "GET /api/v2/instance"
NOTIFICATION_POLICY = "GET /api/v2/notifications/policy"

ENDPOINTS = Endpoints(mentions=NOTIFICATIONS, post=POST_STATUS, own_posts=OWN_STATUSES)

# Notifications are asked 80 a page, the most Mastodon serves (40 by default): half the
# requests of the rate limit, and half the transactions and statements of intake a mention.
# Our own statuses come at the server's default (20). The page cap guards against a pagination
# loop (a backlog deeper than 1,600 mentions is caught up on the next poll).
NOTIFICATIONS_PAGE = 80
MAX_PAGES = 20
# A photo is usually processed by the time the first look is made; a large one takes seconds.
MEDIA_POLLS = 5
MEDIA_POLL_SECONDS = 1.0
# What Mastodon.py's version checks are told: the oldest server supported (see the docstring).
OLDEST_SERVER = "4.3.0"
TOKEN_SETTING = "SOCIALBOT_MASTODON_ACCESS_TOKEN"
_MOMENTARY = (408, 425)  # client errors that mean "not now": Request Timeout, Too Early
_MIME_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".avif": "image/avif",
}


@dataclass(frozen=True, slots=True)
class MastodonCredentials:
    """The instance and the access token of the account we act as."""

    api_base_url: str
    access_token: str

    def __repr__(self) -> str:  # never let a secret reach a log line or a traceback
        return f"MastodonCredentials({self.api_base_url!r}, ****)"


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = 5.0
    read: float = 30.0


@dataclass(frozen=True, slots=True)
class AccountCheck:
    """Who the token acts as (`doctor`)."""

    user_id: str
    acct: str


@dataclass(frozen=True, slots=True)
class InstanceLimits:
    """What the instance says a post may be (`doctor`)."""

    domain: str | None
    version: str | None
    text: TextRules
    media: MediaRules


# The notification policy's rules that would keep a resident's mention from ever arriving, and
# how Mastodon's settings name them ("Filter notifications from…" in the web app).
_POLICY_RULES = {
    "for_not_following": "people the account does not follow",
    "for_not_followers": "people who do not follow the account",
    "for_new_accounts": "new accounts",
    "for_private_mentions": "unsolicited private mentions",
}


@dataclass(frozen=True, slots=True)
class PolicyCheck:
    """The account's notification policy (`doctor`): which rules filter or drop mentions, and
    what to do about it; `warning` None when residents' mentions all arrive."""

    filtered: tuple[str, ...]  # the policy's names: "for_not_following", …
    warning: str | None


def _mastodon() -> Any:
    try:
        from mastodon import Mastodon
    except (
        ImportError
    ):  # pragma: no cover - Mastodon.py is a dependency; this guards broken installs
        raise ConfigError(
            "the Mastodon adapter needs Mastodon.py: pip install 'Mastodon.py>=2.1'"
        ) from None
    return _uncast(Mastodon)


# The method through which Mastodon.py casts every answer into its typed objects.
CAST_METHOD = "_Mastodon__try_cast_to_type"


@functools.cache
def _uncast(mastodon: type) -> type:
    """Mastodon.py that leaves a page (a JSON array) as it was parsed: its typed objects are
    never read here (`wire` reads the answer as the server sent it), and casting a page of 40
    notifications (every date through dateutil, every account and status into its type) took
    about 4.5 ms a mention, three quarters of Mastodon intake. Single objects (and an empty
    answer, which Mastodon.py tells apart by its cast) are still cast as Mastodon.py casts them.
    The method is Mastodon.py's own, private one: `tests/networks/mastodon` holds it to exist."""

    def cast(self: Any, value: Any, override_type: Any = None) -> Any:
        if isinstance(value, list):
            return value, None
        return getattr(mastodon, CAST_METHOD)(self, value, override_type=override_type)

    return type("UncastMastodon", (mastodon,), {CAST_METHOD: cast})


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MastodonNetwork:
    """The `Network` for one Mastodon account. Every call is reported to `meter` (what was asked
    and answered), under `account`'s name; Mastodon bills nothing."""

    name = wire.PLATFORM
    endpoints = ENDPOINTS

    def __init__(
        self,
        credentials: MastodonCredentials,
        timeouts: Timeouts | None = None,
        *,
        account: str = "intake",
        meter: Meter | None = None,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] = time.sleep,
        max_characters: int | None = None,
    ) -> None:
        mastodon = _mastodon()
        timeouts = timeouts or Timeouts()
        self._base_url = credentials.api_base_url.rstrip("/")
        self._account, self._clock, self._sleep = account, clock, sleep
        self._calls = UnbilledCalls(meter, self.name, account, clock)
        self._token_setting = (
            TOKEN_SETTING
            if account == "intake"
            else f"SOCIALBOT_ACCOUNTS__{account.upper()}__MASTODON_ACCESS_TOKEN"
        )
        self._last: requests.Response | None = None
        self._limits: InstanceLimits | None = None
        self._limits_asked = False
        # SOCIALBOT_MASTODON_MAX_CHARACTERS: the post length of an instance that does not say.
        self._max_characters = max_characters or mastodon_text.MAX_CHARACTERS
        session = requests.Session()
        session.hooks["response"].append(self._keep)
        self._api = mastodon(
            access_token=credentials.access_token,
            api_base_url=self._base_url,
            ratelimit_method="throw",  # we schedule around limits ourselves; never sleep in a job
            request_timeout=(timeouts.connect, timeouts.read),
            mastodon_version=OLDEST_SERVER,
            version_check_mode="created",
            session=session,
            user_agent="socialbot",
        )

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """The response hook: the answer as the server sent it, for `wire` and the meter."""
        self._last = response

    # --- the Network protocol --------------------------------------------------------------

    @property
    def text_rules(self) -> TextRules:
        return self._instance_rules().text

    @property
    def media_rules(self) -> MediaRules:
        return self._instance_rules().media

    def own_user_id(self) -> str:
        return self.check_credentials().user_id

    def fetch_mentions(self, user_id: str, cursor: str | None) -> list[MentionPage]:
        """Mentions after `cursor`, oldest page first from the server (`min_id` walks forward
        through `Link: rel="prev"`), returned newest page first, each page's cursor its newest
        notification. The first poll (no cursor) reads the newest page only: the poller's
        backfill window decides what of it is answered."""
        # The instance's limits are asked here, before the poller opens the page's transaction:
        # asked inside it (a reply measured during intake), the call's meter row would wait on
        # SQLite's write lock the transaction holds, and then be lost.
        self._instance_rules(ask=True)
        if cursor is None:
            _, first = self._notifications_page(
                lambda: self._api.notifications(types=["mention"], limit=NOTIFICATIONS_PAGE),
                None,
            )
            return [first]
        pages: list[MentionPage] = []
        since = cursor
        fetch: Callable[[], Any] = functools.partial(
            self._api.notifications, types=["mention"], min_id=cursor, limit=NOTIFICATIONS_PAGE
        )
        while len(pages) < MAX_PAGES:
            answer, page = self._notifications_page(fetch, since)
            if page.cursor is None:  # an empty page: nothing newer
                break
            pages.append(page)
            since = page.cursor
            if getattr(answer, "_pagination_prev", None) is None:
                break
            fetch = functools.partial(self._api.fetch_previous, answer)
        else:
            log.warning("event=mentions_page_cap network=mastodon pages=%d", MAX_PAGES)
        return list(reversed(pages)) or [MentionPage(mentions=())]

    def _notifications_page(
        self, call: Callable[[], Any], since: str | None
    ) -> tuple[Any, MentionPage]:
        """One page: Mastodon.py's answer (for its pagination) and the page read from the JSON."""
        with self._metered(NOTIFICATIONS) as answer:
            result = call()
            payload = answer.json(self._last)
            answer.units = len(payload) if isinstance(payload, list) else 0
        try:
            return result, wire.parse_notifications(payload, since)
        except DataError as exc:  # not one item can be told apart: Mastodon failed, try later
            raise Unavailable(
                f"Mastodon served a notifications page that cannot be read: {exc}"
            ) from exc

    def publish(self, draft: Draft) -> Receipt:
        """Post `draft`: a reply as narrow as the post it answers (a `direct` mention gets a
        `direct` reply) with its content warning kept; a post of our own is public. The text
        arrives addressed to the resident already (`TextRules.mention_author`). The draft's key
        is sent as `Idempotency-Key`: Mastodon posts a retried draft once (for an hour)."""
        if draft.reply_to is not None:
            context = wire.read_reply_context(draft.reply_to.context)
        else:
            context = wire.ReplyContext("public")
        visibility = wire.narrowest(context.visibility, "public")
        spoiler = (
            self._fitting_spoiler(context.spoiler_text, draft.text) if context.spoiler_text else ""
        )
        with self._metered(POST_STATUS, posting=True) as answer:
            self._api.status_post(
                draft.text,
                in_reply_to_id=draft.reply_to.id if draft.reply_to is not None else None,
                media_ids=list(draft.media_ids) or None,
                visibility=visibility,
                spoiler_text=spoiler or None,
                sensitive=None,  # Mastodon marks a status with a warning sensitive itself
                language=draft.lang,
                idempotency_key=draft.key,
            )
            payload = answer.json(self._last)
            answer.units = 1
        try:
            ref = wire.parse_posted(payload)
        except DataError as exc:  # a 2xx without an id: the status probably exists
            raise Unavailable(
                f"Mastodon answered without a status id: {exc}", maybe_done=True
            ) from exc
        log.info("event=published network=mastodon post_id=%s visibility=%s", ref.id, visibility)
        return Receipt(ref=ref, budget=answer.budget, cost=None)

    def _fitting_spoiler(self, spoiler: str, text: str) -> str:
        """The resident's content warning, cut so that warning and text fit together (Mastodon
        counts them as one); the text is ours and was already made to fit alone."""
        rules = self.text_rules
        room = rules.limit - rules.length(text)
        if not spoiler or rules.length(spoiler) <= room:
            return spoiler
        if room <= 1:
            return ""
        cut = spoiler
        while cut and rules.length(cut + "…") > room:
            cut = cut[:-1]
        return cut + "…" if cut else ""

    def upload_media(self, path: Path, alt_text: str) -> str:
        """Upload a photo (`POST /api/v2/media`, the alt text as its description, cut to the
        instance's limit). Mastodon may answer before it has processed the file (202, `url`
        null); the media is then looked at (`GET /api/v1/media/:id`, 206 while processing) a few
        times, so that a status never names media Mastodon would refuse (422 "not finished
        processing"). OSError when the file cannot be read."""
        content = path.read_bytes()  # a missing file is ours to report, read before the call
        limit = self.media_rules.max_alt_text
        if len(alt_text) > limit:
            alt_text = alt_text[: limit - 1] + "…"
        with self._metered(MEDIA_UPLOAD) as answer:
            self._api.media_post(
                content,
                mime_type=_MIME_TYPES.get(path.suffix.lower(), "application/octet-stream"),
                description=alt_text or None,
                file_name=path.name,  # only the file's name leaves the machine
            )
            uploaded = _media_answer(answer.json(self._last))
            answer.units = 1
        media_id, ready = uploaded
        for _ in range(MEDIA_POLLS):
            if ready:
                break
            self._sleep(MEDIA_POLL_SECONDS)
            with self._metered(MEDIA_STATUS) as answer:
                self._api.media(media_id)
                status = self._last.status_code if self._last is not None else None
                media_id, ready = _media_answer(answer.json(self._last))
                ready = ready and status != 206
        if not ready:
            raise Unavailable(f"Mastodon is still processing the photo (media id {media_id})")
        log.info("event=media_uploaded network=mastodon media_id=%s file=%s", media_id, path.name)
        return media_id

    def published(
        self, user_id: str, drafts: Sequence[Draft], since: datetime
    ) -> Mapping[str, Sequence[PostRef]]:
        """Of interrupted `drafts`, the ones among our statuses since `since` (newest first,
        back to `since`): a reply by the status it answers, a post of its own by its text. The
        account asking for its own statuses gets every one, direct replies included (Mastodon's
        `AccountStatusesFilter`: the author's scope is all its statuses). The `Idempotency-Key`
        each post carries is not looked up here (Mastodon offers no such query); it makes a
        retry of a post whose answer was lost, within the server's hour, the same status."""
        if not drafts:
            return {}
        posts: list[OwnPost] = []
        call: Callable[[], Any] = functools.partial(
            self._api.account_statuses, user_id, exclude_reblogs=True
        )
        for _ in range(MAX_PAGES):
            with self._metered(OWN_STATUSES) as answer:
                result = call()
                payload = answer.json(self._last)
                answer.units = len(payload) if isinstance(payload, list) else 0
            posts.extend(wire.parse_own_statuses(payload))
            times = [wire.created_at(s) for s in payload] if isinstance(payload, list) else []
            oldest = min((t for t in times if t is not None), default=None)
            if (
                oldest is None
                or oldest < since
                or getattr(result, "_pagination_next", None) is None
            ):
                break
            call = functools.partial(self._api.fetch_next, result)
        return timeline.match_drafts(drafts, posts)

    # --- doctor ----------------------------------------------------------------------------

    def check_credentials(self) -> AccountCheck:
        """Who the token acts as (`GET /api/v1/accounts/verify_credentials`)."""
        with self._metered(VERIFY_CREDENTIALS) as answer:
            self._api.account_verify_credentials()
            payload = answer.json(self._last)
            answer.units = 1
        account = payload if isinstance(payload, Mapping) else {}
        user_id, acct = account.get("id"), account.get("acct")
        if not wire.is_id(user_id):
            raise Unavailable("Mastodon answered verify_credentials without an account id")
        return AccountCheck(user_id, acct if isinstance(acct, str) else user_id)

    def instance_limits(self) -> InstanceLimits:
        """What the instance announces (`GET /api/v2/instance`): asked again at each call."""
        with self._metered(INSTANCE) as answer:
            self._api.instance_v2()
            payload = answer.json(self._last)
            answer.units = 1
        document = payload if isinstance(payload, Mapping) else {}
        text, media = mastodon_text.rules_from_configuration(
            document.get("configuration"), self._max_characters
        )
        domain, version = document.get("domain"), document.get("version")
        self._limits = InstanceLimits(
            domain=domain[:256] if isinstance(domain, str) else None,
            version=version[:64] if isinstance(version, str) else None,
            text=text,
            media=media,
        )
        return self._limits

    def notification_policy(self) -> PolicyCheck:
        """Whether the account's notification policy (`GET /api/v2/notifications/policy`) lets
        residents' mentions through: one that filters or drops mentions from people the
        account does not follow (`for_not_following`, or Mastodon 4.3's
        `filter_not_following`) means most residents' reports never arrive."""
        with self._metered(NOTIFICATION_POLICY) as answer:
            self._api.notifications_policy()
            payload = answer.json(self._last)
            answer.units = 1
        policy = payload if isinstance(payload, Mapping) else {}
        filtered = [rule for rule in _POLICY_RULES if policy.get(rule) in ("filter", "drop")]
        if policy.get("filter_not_following") is True and "for_not_following" not in filtered:
            filtered.insert(0, "for_not_following")
        if not filtered:
            return PolicyCheck((), None)
        who = ", ".join(_POLICY_RULES[rule] for rule in filtered)
        return PolicyCheck(
            tuple(filtered),
            f"the account's notification policy filters mentions from {who}: those residents' "
            f"reports never arrive. In Mastodon's web app ({self._base_url}/notifications), open "
            "the notification filter settings and set these to Accept",
        )

    # --- the boundary ----------------------------------------------------------------------

    def _instance_rules(self, *, ask: bool = False) -> InstanceLimits:
        """The instance's limits, asked once; a stock server's until the instance answers. After
        a failed ask, only `ask` (the start of a poll) asks again, so that a reply measured
        inside a transaction never makes a call."""
        if self._limits is not None:
            return self._limits
        if ask or not self._limits_asked:
            self._limits_asked = True
            try:
                return self.instance_limits()
            except PlatformError as exc:
                log.warning("event=instance_limits_unavailable network=mastodon error=%r", str(exc))
        return InstanceLimits(
            None,
            None,
            mastodon_text.mastodon_text_rules(self._max_characters),
            mastodon_text.MASTODON_MEDIA,
        )

    @contextmanager
    def _metered(self, endpoint: str, *, posting: bool = False) -> Iterator[_Answer]:
        """`_translated`, and the call reported to the meter, answered or not."""
        self._last = None
        answer = _Answer(self._clock)
        try:
            with self._translated(posting=posting):
                yield answer
        except PlatformError as exc:
            last = self._last
            self._calls.report(
                endpoint,
                status=last.status_code if last is not None else None,
                budget=(
                    wire.parse_rate_budget(last.headers, self._clock())
                    if last is not None
                    else None
                ),
                error=str(exc),
            )
            raise
        self._calls.report(endpoint, status=answer.status, units=answer.units, budget=answer.budget)

    @contextmanager
    def _translated(self, *, posting: bool) -> Iterator[None]:
        """Every failure as one of our PlatformErrors. `maybe_done` only for a status POST."""
        from mastodon import errors as m

        try:
            yield
        except m.MastodonRatelimitError as exc:
            if self._last is None or self._last.status_code != 429:
                # Mastodon.py raises this too when it cannot read a rate-limit header of an
                # answer that is no 429 (a 200: the status may well have been posted).
                raise Unavailable(
                    f"Mastodon's answer had rate-limit headers that cannot be read: {exc}",
                    maybe_done=posting,
                ) from exc
            reset_at = wire.parse_reset(self._last.headers, self._clock())
            raise RateLimited(
                f"Mastodon rate limit reached; resets at {reset_at}", reset_at
            ) from exc
        except m.MastodonNetworkError as exc:
            cause = exc.__context__
            what = type(cause).__name__ if cause is not None else "network error"
            raise Unavailable(
                f"Mastodon unreachable: {what}",
                maybe_done=posting and _may_have_arrived(cause),
            ) from exc
        except m.MastodonAPIError as exc:
            status = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
            said = _said(exc, self._last)
            if status is None:  # a 2xx whose body Mastodon.py could not read
                raise Unavailable(
                    f"Mastodon sent an unreadable answer{said}", maybe_done=posting
                ) from exc
            if status == 429:
                headers = self._last.headers if self._last is not None else {}
                reset_at = wire.parse_reset(headers, self._clock())
                raise RateLimited(
                    f"Mastodon rate limit reached; resets at {reset_at}", reset_at
                ) from exc
            if status in (401, 403):
                raise AuthFailed(
                    f"Mastodon refused the access token ({status}){said}; check "
                    f"{self._token_setting} and the token's scopes (read, write)"
                ) from exc
            if 400 <= status < 500 and status not in _MOMENTARY:
                raise Rejected(f"Mastodon refused the request ({status}){said}") from exc
            raise Unavailable(f"Mastodon answered {status}{said}", maybe_done=posting) from exc
        except DataError as exc:  # a 2xx without what it should carry
            raise Unavailable(
                f"Mastodon sent an incomplete answer: {exc}", maybe_done=posting
            ) from exc
        except m.MastodonError as exc:
            raise PlatformError(f"Mastodon call failed: {exc}") from exc


@dataclass(slots=True)
class _Answer:
    """What a call site knows of a successful answer, for the meter and `wire`."""

    clock: Callable[[], datetime]
    status: int | None = None
    units: int = 0
    budget: RateBudget | None = None

    def json(self, response: requests.Response | None) -> Any:
        """The answer's JSON as the server sent it; DataError when there is none to read."""
        if response is None:
            raise DataError("no answer was recorded")
        self.status = response.status_code
        self.budget = wire.parse_rate_budget(response.headers, self.clock())
        try:
            return json.loads(response.content)
        except (ValueError, RecursionError):
            raise DataError(f"the {response.status_code} answer is not JSON") from None


def _media_answer(payload: Any) -> tuple[str, bool]:
    """(id, whether it is processed) of a media attachment Mastodon answered with."""
    media = payload if isinstance(payload, Mapping) else {}
    media_id = media.get("id")
    if not wire.is_id(media_id):
        raise DataError("the media answer has no id")
    return media_id, isinstance(media.get("url"), str)


def _said(exc: Exception, response: requests.Response | None) -> str:
    """Mastodon's `error` text, as ": text"; "" if it said none."""
    text = wire.error_text(response.content) if response is not None else ""
    if not text and len(exc.args) > 3 and isinstance(exc.args[3], str):
        text = " ".join(exc.args[3].split())[:300]
    return f": {text}" if text else ""


def _may_have_arrived(exc: BaseException | None) -> bool:
    """False only when the connection was never made, so the request cannot have been sent."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    reason = getattr(exc.args[0], "reason", None) if exc is not None and exc.args else None
    return not isinstance(reason, NewConnectionError)
