"""The city's Open311 GeoReport v2 endpoint over HTTP: the calls, their errors, nothing else.

Every answer is read by `wire` (the format the city's endpoint speaks, `json` or `xml`); this
module only asks and sorts the failures: a 4xx is `CrmRejected` with the CRM's own words (its
`errors` body), a 5xx, a timeout or a lost connection is `Unavailable`, and on a POST
`maybe_done` says whether the request may have reached the CRM all the same (the forwarder then
looks it up before it ever sends it again). An answer is read up to `MAX_BODY` bytes: an endpoint
that streams without end does not fill the memory.

The API key travels as a form field of the POST only (the spec's GETs need none), so it is in no
URL; every error message is masked against it all the same, since a library's message may quote
anything it was given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import quote, quote_plus

import requests
from requests import Response, Session

from socialbot import logs
from socialbot.errors import CrmRejected, DataError, Unavailable
from socialbot.open311 import wire
from socialbot.open311.wire import Accepted, CrmError, Format, RequestsPage, UpdatesPage

log = logging.getLogger(__name__)
MAX_BODY = wire.MAX_BODY  # read no further: an endpoint sending more is not answering us
_CHUNK = 64 * 1024
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Timeouts:
    connect: float = 5.0
    read: float = 30.0


class Open311Client:
    """One city's endpoint (`endpoint`, its base URL: `…/open311/v2`), in format `fmt`."""

    def __init__(
        self,
        endpoint: str,
        *,
        api_key: str | None,
        jurisdiction_id: str | None,
        fmt: Format,
        timeouts: Timeouts,
        session: Session | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.fmt: Format = fmt
        self._api_key = api_key
        self._jurisdiction_id = jurisdiction_id
        self._timeouts = timeouts
        self._session = session or requests.Session()
        # The form carries the key URL-encoded ("a+b/c" as "a%2Bb%2Fc"): a CRM that quotes our
        # request back in its errors body quotes that spelling.
        self._secrets = logs.masking(
            [api_key, quote_plus(api_key), quote(api_key, safe="")] if api_key else []
        )

    def close(self) -> None:
        """Let the connections go (a command's client, once it is done)."""
        self._session.close()

    def __repr__(self) -> str:  # never the key, in a traceback or a log line
        return f"Open311Client({self.endpoint!r}, fmt={self.fmt!r})"

    def services(self) -> list[wire.Service]:
        """The CRM's service list (`GET services.{fmt}`)."""
        return self._read("services", wire.parse_services, self._get("services"))

    def definition(self, code: str) -> wire.ServiceDefinition:
        """The attributes of service `code` (`GET services/{code}.{fmt}`)."""
        path = f"services/{quote(code, safe='')}"
        return self._read(path, wire.parse_definition, self._get(path))

    def post_request(self, form: Sequence[tuple[str, str]]) -> Accepted:
        """`POST requests.{fmt}` with `form` (as `form.request_form` writes it, key included).

        A 2xx that cannot be read, a 5xx, a read timeout or a connection lost once the request
        was sent is `Unavailable(maybe_done=True)`: the CRM may have opened the request."""
        url = f"{self.endpoint}/requests.{self.fmt}"
        try:
            response = self._session.post(url, data=list(form), timeout=self._timeout, stream=True)
        except requests.RequestException as exc:
            raise Unavailable(
                self._say(f"POST requests.{self.fmt} failed: {_reason(exc)}"),
                maybe_done=not _never_sent(exc),
            ) from None
        body = self._body(response, "requests", maybe_done=True)
        try:
            return wire.parse_accepted(body, self.fmt)
        except DataError as exc:
            raise Unavailable(
                self._say(f"the CRM accepted a request with an answer that cannot be read: {exc}"),
                maybe_done=True,
            ) from None

    def token(self, token: str) -> Accepted:
        """What became of the request the CRM answered with `token` (`GET tokens/{token}.{fmt}`):
        its `service_request_id` once the CRM has one, None before."""
        path = f"tokens/{quote(token, safe='')}"
        return self._read(path, wire.parse_accepted, self._get(path))

    def requests(self, ids: Sequence[str]) -> RequestsPage:
        """The requests `ids` as the CRM has them now (`GET requests.{fmt}?service_request_id=`
        a comma list): one call, however many ids (the caller makes the batches). A request the
        CRM wrote so that it cannot be read is skipped and counted (`RequestsPage.skipped`)."""
        if not ids:
            return RequestsPage([])
        body = self._get("requests", {"service_request_id": ",".join(ids)})
        return self._read("requests", wire.parse_requests, body)

    def search(self, service_code: str, start: datetime, end: datetime) -> RequestsPage:
        """The requests of `service_code` made between `start` and `end`, whatever their status:
        how a POST whose answer was lost is found again (by the reference in its description)."""
        params = {
            "service_code": service_code,
            "start_date": _w3c(start),
            "end_date": _w3c(end),
            "status": "open,closed",
        }
        return self._read("requests", wire.parse_requests, self._get("requests", params))

    def updates(self, start: datetime, end: datetime) -> UpdatesPage:
        """What changed on any request between `start` and `end`, where the endpoint offers
        FixMyStreet's `servicerequestupdates` extension (a CRM without it answers 404:
        `CrmRejected`)."""
        params = {"start_date": _w3c(start), "end_date": _w3c(end)}
        body = self._get("servicerequestupdates", params)
        return self._read("servicerequestupdates", wire.parse_updates, body)

    # --- the calls -------------------------------------------------------------------------

    @property
    def _timeout(self) -> tuple[float, float]:
        return (self._timeouts.connect, self._timeouts.read)

    def _get(self, path: str, params: dict[str, str] | None = None) -> bytes:
        query = dict(params or {})
        if self._jurisdiction_id:
            query["jurisdiction_id"] = self._jurisdiction_id
        url = f"{self.endpoint}/{path}.{self.fmt}"
        try:
            response = self._session.get(url, params=query, timeout=self._timeout, stream=True)
        except requests.RequestException as exc:
            raise Unavailable(self._say(f"GET {path}.{self.fmt} failed: {_reason(exc)}")) from None
        return self._body(response, path, maybe_done=False)

    def _body(self, response: Response, path: str, *, maybe_done: bool) -> bytes:
        """The answer's body, or the error its status says; the response is closed either way."""
        try:
            body = self._capped(response, path, maybe_done=maybe_done)
        finally:
            response.close()
        status = response.status_code
        if 200 <= status < 300:
            return body
        if 400 <= status < 500:
            errors = wire.parse_errors(body, self.fmt) or [
                CrmError(str(status), response.reason or f"HTTP {status}")
            ]
            said = "; ".join(f"{e.description} ({e.code})" for e in errors)
            log.warning("event=crm_refused path=%s status=%d", path, status)
            raise CrmRejected(
                self._say(f"the CRM refused {path}.{self.fmt} ({status}): {said}"),
                [CrmError(e.code, self._say(e.description)) for e in errors],
                status=status,
            )
        raise Unavailable(
            self._say(f"the CRM answered {path}.{self.fmt} with HTTP {status}"),
            maybe_done=maybe_done,
        )

    def _capped(self, response: Response, path: str, *, maybe_done: bool) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(_CHUNK):
                size += len(chunk)
                if size > MAX_BODY:
                    raise Unavailable(
                        f"the CRM's answer to {path}.{self.fmt} is over "
                        f"{MAX_BODY // (1024 * 1024)} MiB; not read",
                        maybe_done=maybe_done,
                    )
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise Unavailable(
                self._say(f"the CRM's answer to {path}.{self.fmt} broke off: {_reason(exc)}"),
                maybe_done=maybe_done,
            ) from None
        return b"".join(chunks)

    def _read(self, path: str, parse: Callable[[bytes, Format], _T], body: bytes) -> _T:
        try:
            return parse(body, self.fmt)
        except DataError as exc:
            raise Unavailable(
                self._say(f"the CRM's answer to {path}.{self.fmt} cannot be read: {exc}")
            ) from None

    def _say(self, message: str) -> str:
        """One line an operator can read, without the key, however the CRM wrote its part."""
        return logs.mask(" ".join(message.split()), self._secrets)[:1000]


def _w3c(at: datetime) -> str:
    """A time as the spec's dates are written (W3C, UTC)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _never_sent(exc: requests.RequestException) -> bool:
    """Whether the request surely never left: no connection was made (a name that does not
    resolve, a refused or timed-out connect). Anything later may have reached the CRM."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        text = repr(exc)
        return any(
            sign in text
            for sign in ("NewConnectionError", "NameResolutionError", "Connection refused")
        )
    return False


def _reason(exc: requests.RequestException) -> str:
    """What went wrong, in a few words (a timeout, a refused connection), not a library's essay."""
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "cannot connect" if _never_sent(exc) else "the connection was lost"
    return type(exc).__name__
