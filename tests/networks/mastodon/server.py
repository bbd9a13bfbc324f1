"""A Mastodon server in memory, served with `responses` in Mastodon's wire format: what the
adapter contract suite (`tests/networks/harness.py`) runs the real `MastodonNetwork` against.

Every payload is a recorded one (../shared/fixtures/mastodon/, read at run time) with the fields
that make it this server's changed: the notification and status of a mention, our status as
`POST /api/v1/statuses` answered it, our account as `verify_credentials` did, the instance
document. It keeps what residents posted and what we posted, and behaves as Mastodon does where
the adapter relies on it: notifications newest first, `min_id` and `max_id` as Mastodon reads
them and the `Link` header it sends (`rel="next"` only for a full page, none for an empty one);
`Idempotency-Key` (the same key again answers with the status it made, and makes none);
`X-RateLimit-*` headers on every answer; `{"error": "..."}` bodies.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
import responses
from requests import PreparedRequest

from tests.networks.mastodon import cassettes

BASE_URL = "https://social.example.gov"
DOMAIN = "social.example.gov"
CITY_ID = "117020565966271181"
CITY_ACCT = "city311"
RESIDENTS_DOMAIN = "town.example"  # residents are on another server: their acct names it
RATE_LIMIT = 300
NOTIFICATIONS_LIMIT = 40  # Mastodon's defaults when `limit` is not given
STATUSES_LIMIT = 20
EPOCH = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)  # residents post then, within the backfill

Answer = tuple[int, dict[str, str], str]
_RECORDED_BASE = cassettes.BASE_URL
_WORD = re.compile(r"(\s+)")
_URL = re.compile(r"https?://\S+")
_HASHTAG = re.compile(r"#\w*[^\W\d_]\w*")  # Mastodon's: at least one letter ("#1" is no tag)


def _here(value: Any) -> Any:
    """A recorded payload as this server would send it: its links under `BASE_URL`."""
    return json.loads(json.dumps(value).replace(_RECORDED_BASE, BASE_URL))


def _time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def status_html(text: str) -> str:
    """`text` as Mastodon renders a status it accepted: one paragraph, `@name` as an h-card
    mention, `#tag` as a hashtag link, a URL as a link whose scheme is an invisible span, the
    rest escaped."""
    parts: list[str] = []
    for word in _WORD.split(text):
        if word.isspace() or not word:
            parts.append(html.escape(word, quote=False))
        elif word.startswith("@") and len(word) > 1:
            user, _, server = word[1:].partition("@")
            href = f"https://{server}/@{user}" if server else f"{BASE_URL}/@{user}"
            parts.append(
                f'<span class="h-card" translate="no"><a href="{html.escape(href)}" '
                f'class="u-url mention">@<span>{html.escape(user)}</span></a></span>'
            )
        elif _HASHTAG.fullmatch(word):
            tag = word[1:]
            parts.append(
                f'<a href="{BASE_URL}/tags/{html.escape(tag.lower())}" class="mention hashtag" '
                f'rel="tag">#<span>{html.escape(tag)}</span></a>'
            )
        elif _URL.fullmatch(word):
            scheme, _, rest = word.partition("://")
            parts.append(
                f'<a href="{html.escape(word)}" target="_blank" rel="nofollow noopener" '
                f'translate="no"><span class="invisible">{scheme}://</span>'
                f'<span class="">{html.escape(rest)}</span><span class="invisible"></span></a>'
            )
        else:
            parts.append(html.escape(word, quote=False))
    return "<p>" + "".join(parts) + "</p>"


def _tags(text: str) -> list[dict[str, str]]:
    names = [w[1:].lower() for w in text.split() if _HASHTAG.fullmatch(w)]
    return [{"name": n, "url": f"{BASE_URL}/tags/{n}"} for n in dict.fromkeys(names)]


@dataclass
class MastodonServer:
    """One instance, one city account (`CITY_ID`), residents who mention it, and scripted
    failures of `POST /api/v1/statuses`: "lost" (the status is made, the answer never arrives:
    a read timeout), "down" (503, nothing made), "limited" (429 until `reset`)."""

    reset: datetime
    clock: Callable[[], datetime]  # when we post, as the statuses we make say
    notifications: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    statuses: list[dict[str, Any]] = field(default_factory=list)  # ours, oldest first
    failures: list[str] = field(default_factory=list)
    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)  # Idempotency-Key → status
    posted: list[tuple[str, str | None]] = field(default_factory=list)  # (text sent, replied to)
    calls: int = 0

    # --- what happens on the network ----------------------------------------------------

    def resident(self, n: int) -> dict[str, Any]:
        """The n-th resident's account, on another server."""
        recorded = cassettes.find(
            "test_notifications_mentions_only", "GET", "/api/v1/notifications"
        )
        account: dict[str, Any] = _here(recorded.json()[0]["account"])
        name = f"resident{n}"
        return account | {
            "id": f"1090000000000{n:05d}",
            "username": name,
            "acct": f"{name}@{RESIDENTS_DOMAIN}",
            "url": f"https://{RESIDENTS_DOMAIN}/@{name}",
            "uri": f"https://{RESIDENTS_DOMAIN}/users/{name}",
            "roles": [],
        }

    def mention(self, n: int, text: str) -> str:
        """Resident n posts `text` (public, English) mentioning the city: a status, and the
        city's mention notification of it. Returns the status id."""
        recorded = cassettes.find(
            "test_notifications_mentions_only", "GET", "/api/v1/notifications"
        )
        notification: dict[str, Any] = _here(recorded.json()[0])
        account = self.resident(n)
        at = EPOCH + timedelta(minutes=n % 60)
        status_id = f"11703000000{n:07d}"
        status = notification["status"] | {
            "id": status_id,
            "created_at": _time(at),
            "content": status_html(text),
            "tags": _tags(text),
            "mentions": [
                {"id": CITY_ID, "username": CITY_ACCT, "acct": CITY_ACCT, "url": self.city_url}
            ],
            "visibility": "public",
            "language": "en",
            "in_reply_to_id": None,
            "in_reply_to_account_id": None,
            "media_attachments": [],
            "account": account,
            "uri": f"{account['uri']}/statuses/{status_id}",
            "url": f"{account['url']}/{status_id}",
        }
        self.notifications.append(
            notification
            | {
                "id": str(1000 + len(self.notifications)),
                "created_at": _time(at + timedelta(seconds=1)),
                "group_key": f"ungrouped-{1000 + len(self.notifications)}",
                "account": account,
                "status": status,
            }
        )
        return status_id

    @property
    def city_url(self) -> str:
        return f"{BASE_URL}/@{CITY_ACCT}"

    def city(self) -> dict[str, Any]:
        recorded = cassettes.find("test_status_reply", "GET", "/api/v1/accounts/verify_credentials")
        account: dict[str, Any] = _here(recorded.json())
        return account | {
            "id": CITY_ID,
            "username": CITY_ACCT,
            "acct": CITY_ACCT,
            "display_name": "City 311",
            "url": self.city_url,
            "uri": f"{BASE_URL}/users/{CITY_ACCT}",
            "statuses_count": len(self.statuses),
        }

    # --- serving ------------------------------------------------------------------------

    def serve(self, mock: responses.RequestsMock) -> None:
        """Register every endpoint with `mock`."""
        api = re.escape(BASE_URL)
        mock.add_callback(
            "GET", f"{BASE_URL}/api/v1/accounts/verify_credentials", self._verify_credentials
        )
        mock.add_callback("GET", re.compile(rf"{api}/api/v2/instance/?"), self._instance)
        mock.add_callback("GET", f"{BASE_URL}/api/v1/notifications", self._notifications)
        mock.add_callback("POST", f"{BASE_URL}/api/v1/statuses", self._post)
        mock.add_callback(
            "GET", re.compile(rf"{api}/api/v1/accounts/[^/]+/statuses"), self._own_statuses
        )

    def _headers(self, *, remaining: int | None = None) -> dict[str, str]:
        """What Mastodon sends with every answer: JSON, and the rate budget."""
        self.calls += 1
        left = max(RATE_LIMIT - self.calls, 0) if remaining is None else remaining
        return {
            "Content-Type": "application/json; charset=utf-8",
            "X-RateLimit-Limit": str(RATE_LIMIT),
            "X-RateLimit-Remaining": str(left),
            "X-RateLimit-Reset": self.reset.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }

    def _verify_credentials(self, _request: PreparedRequest) -> Answer:
        return 200, self._headers(), json.dumps(self.city())

    def _instance(self, _request: PreparedRequest) -> Answer:
        document: dict[str, Any] = _here(
            cassettes.find("test_instance", "GET", "/api/v2/instance/").json()
        )
        return 200, self._headers(), json.dumps(document | {"domain": DOMAIN})

    def _notifications(self, request: PreparedRequest) -> Answer:
        query = parse_qs(urlsplit(request.url or "").query)
        types = query.get("types[]", [])
        items = [n for n in self.notifications if not types or n["type"] in types]
        page = _page(items, query, NOTIFICATIONS_LIMIT)
        headers = self._headers()
        link = _link(f"{BASE_URL}/api/v1/notifications", page, query, NOTIFICATIONS_LIMIT)
        if link:
            headers["Link"] = link
        return 200, headers, json.dumps(page)

    def _own_statuses(self, request: PreparedRequest) -> Answer:
        url = urlsplit(request.url or "")
        account_id = url.path.split("/")[-2]
        if account_id != CITY_ID:
            return 404, self._headers(), json.dumps({"error": "Record not found"})
        query = parse_qs(url.query)
        page = _page(self.statuses, query, STATUSES_LIMIT)
        headers = self._headers()
        link = _link(f"{BASE_URL}{url.path}", page, query, STATUSES_LIMIT)
        if link:
            headers["Link"] = link
        return 200, headers, json.dumps(page)

    def _post(self, request: PreparedRequest) -> Answer:
        key = _header(request, "Idempotency-Key")
        if key is not None and key in self.by_key:
            return 200, self._headers(), json.dumps(self.by_key[key])
        kind = self.failures.pop(0) if self.failures else None
        if kind == "down":
            return 503, self._headers(), json.dumps({"error": "Service Unavailable"})
        if kind == "limited":
            return 429, self._headers(remaining=0), json.dumps({"error": "Too many requests"})
        form = _form(request)
        text = form.get("status", [""])[0]
        if not text.strip():
            return (
                422,
                self._headers(),
                json.dumps({"error": "Validation failed: Text can't be blank"}),
            )
        status = self._create(text, form)
        if key is not None:
            self.by_key[key] = status
        if kind == "lost":
            raise requests.exceptions.ReadTimeout("the answer was lost")
        return 200, self._headers(), json.dumps(status)

    def _create(self, text: str, form: dict[str, list[str]]) -> dict[str, Any]:
        recorded = cassettes.find("test_status_post_public", "POST", "/api/v1/statuses").json()
        status_id = f"11704000000{len(self.statuses) + 1:07d}"
        in_reply_to = form.get("in_reply_to_id", [None])[0]
        replied = next(
            (n["status"] for n in self.notifications if n["status"]["id"] == in_reply_to), None
        )
        status: dict[str, Any] = _here(recorded) | {
            "id": status_id,
            "created_at": _time(self.clock()),
            "content": status_html(text),
            "tags": _tags(text),
            "in_reply_to_id": in_reply_to,
            "in_reply_to_account_id": replied["account"]["id"] if replied else None,
            "visibility": form.get("visibility", ["public"])[0],
            "spoiler_text": form.get("spoiler_text", [""])[0],
            "sensitive": bool(form.get("spoiler_text", [""])[0]),
            "language": form.get("language", ["en"])[0],
            "account": self.city(),
            "uri": f"{BASE_URL}/users/{CITY_ACCT}/statuses/{status_id}",
            "url": f"{self.city_url}/{status_id}",
        }
        self.statuses.append(status)
        self.posted.append((text, in_reply_to))
        return status


def _header(request: PreparedRequest, name: str) -> str | None:
    value = request.headers.get(name)
    return value.decode() if isinstance(value, bytes) else value


def _form(request: PreparedRequest) -> dict[str, list[str]]:
    """A status POST's parameters, sent as a form or as JSON."""
    body = request.body or b""
    text = body.decode() if isinstance(body, bytes) else str(body)
    if (_header(request, "Content-Type") or "").startswith("application/json"):
        return {k: [str(v)] for k, v in json.loads(text).items() if v is not None}
    return parse_qs(text, keep_blank_values=True)


def _order(item: dict[str, Any]) -> int:
    return int(item["id"])


def _page(items: list[dict[str, Any]], query: dict[str, list[str]], limit: int) -> list[Any]:
    """Mastodon's paging of `items` (oldest first), answered newest first: `max_id` older than,
    `since_id` newer than (the newest of them), `min_id` just newer than (the oldest of them)."""
    size = min(int(query.get("limit", [str(limit)])[0]), limit * 2)
    chosen = sorted(items, key=_order)
    if "max_id" in query:
        chosen = [i for i in chosen if _order(i) < int(query["max_id"][0])]
    if "since_id" in query:
        chosen = [i for i in chosen if _order(i) > int(query["since_id"][0])]
    if "min_id" in query:
        chosen = [i for i in chosen if _order(i) > int(query["min_id"][0])][:size]
    else:
        chosen = chosen[-size:] if size else []
    return list(reversed(chosen))


def _link(url: str, page: list[Any], query: dict[str, list[str]], limit: int) -> str | None:
    """The `Link` header Mastodon sends with `page`: `next` (older) when the page is full,
    `prev` (newer) unless it is empty, each keeping the request's own filters."""
    if not page:
        return None
    kept = [
        (k, v)
        for k, values in sorted(query.items())
        for v in values
        if k in ("types[]", "limit", "exclude_reblogs")
    ]
    links = []
    size = int(query.get("limit", [str(limit)])[0])
    if len(page) >= size:
        links.append(f'<{url}?{urlencode([("max_id", page[-1]["id"]), *kept])}>; rel="next"')
    links.append(f'<{url}?{urlencode([("min_id", page[0]["id"]), *kept])}>; rel="prev"')
    return ", ".join(links)
