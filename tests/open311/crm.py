"""A city's Open311 GeoReport v2 endpoint, faked with `responses`, for the forwarder and the sync.

It keeps the requests made to it and answers as the spec writes (JSON arrays, or the XML roots
`services/service`, `service_requests/request`, `errors/error`): a POST answers the new
request's id, or a token (`tokens=True`) that `tokens/{token}` turns into an id once the CRM has
given one (`issue_ids`). What the next POSTs do may be scripted (`script`): a 5xx, a timeout, the
CRM's refusal, or a request made whose answer is lost on the way back ("lost"). A crew closes a
request with `close`.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import requests
import responses

ENDPOINT = "https://crm.example.gov/open311/v2"
API_KEY = "k3y-0f-the-c1ty-crm-2026"
POTHOLE = "4fd3b167e750846744000005"  # Chicago's code for a pothole
STREETLIGHT = "4ffa9cad6018277d4000007b"
SERVICES = {POTHOLE: "Pothole in Street", STREETLIGHT: "Street Light Out"}
# What the next POST does: answer (the default), 500, time out, refuse the connection, refuse
# the case (400 with an errors body), or make the request and lose the answer on the way back.
Step = Literal["ok", "500", "timeout", "refused", "reject", "lost"]
Format = Literal["json", "xml"]


@dataclass
class CrmRequest:
    """One request as the CRM holds it."""

    number: int
    service_code: str
    form: list[tuple[str, str]]
    requested_at: datetime
    token: str | None = None
    service_request_id: str | None = None
    status: str = "open"
    extended_status: str | None = None
    status_notes: str | None = None
    updated_at: datetime | None = None

    @property
    def description(self) -> str:
        return dict(self.form).get("description", "")


@dataclass
class FakeCrm:
    mock: responses.RequestsMock
    clock: Callable[[], datetime]
    fmt: Format = "json"
    tokens: bool = False  # POST answers a token; the id comes later (`issue_ids`)
    api_key: str = API_KEY
    script: list[Step] = field(default_factory=list)
    down: bool = False  # every GET answers 503
    made: list[CrmRequest] = field(default_factory=list)
    posts: list[list[tuple[str, str]]] = field(default_factory=list)  # every POST's form, as sent
    asked: list[list[str]] = field(default_factory=list)  # each GET requests' ids
    searches: list[dict[str, str]] = field(default_factory=list)
    token_calls: list[str] = field(default_factory=list)
    offers_updates: bool = False  # FixMyStreet's servicerequestupdates; else it answers 404
    updates: list[dict[str, str | None]] = field(default_factory=list)  # each change, in order
    updates_asked: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        base = re.escape(ENDPOINT)
        ext = re.escape(self.fmt)
        self.mock.add_callback(responses.POST, re.compile(rf"{base}/requests\.{ext}$"), self._post)
        self.mock.add_callback(
            responses.GET, re.compile(rf"{base}/requests\.{ext}(\?.*)?$"), self._get_requests
        )
        self.mock.add_callback(
            responses.GET, re.compile(rf"{base}/tokens/[^/]+\.{ext}(\?.*)?$"), self._get_token
        )
        self.mock.add_callback(
            responses.GET, re.compile(rf"{base}/services\.{ext}(\?.*)?$"), self._get_services
        )
        self.mock.add_callback(
            responses.GET,
            re.compile(rf"{base}/servicerequestupdates\.{ext}(\?.*)?$"),
            self._get_updates,
        )

    # --- what a test does to the CRM ---------------------------------------------------------

    def issue_ids(self) -> None:
        """The CRM's back office gives every tokened request its id."""
        for request in self.made:
            if request.service_request_id is None:
                request.service_request_id = f"REQ-{request.number:05d}"

    def close(
        self, service_request_id: str, *, extended: str | None = None, notes: str | None = None
    ) -> None:
        """A crew closes the request (FixMyStreet's extended status `extended`, if given)."""
        request = self.by_id(service_request_id)
        request.status, request.extended_status, request.status_notes = "closed", extended, notes
        request.updated_at = self.clock()
        self.updates.append(
            {
                "update_id": str(len(self.updates) + 1),
                "service_request_id": service_request_id,
                "status": extended or "closed",
                "description": notes,
                "updated_datetime": request.updated_at.astimezone(UTC).isoformat(),
            }
        )

    def by_id(self, service_request_id: str) -> CrmRequest:
        (request,) = [r for r in self.made if r.service_request_id == service_request_id]
        return request

    # --- the endpoint --------------------------------------------------------------------------

    def _post(self, prepared: requests.PreparedRequest) -> Any:
        body = prepared.body or ""
        form = parse_qsl(body if isinstance(body, str) else body.decode(), keep_blank_values=True)
        self.posts.append(form)
        step = self.script.pop(0) if self.script else "ok"
        if step == "500":
            return (500, {}, "Internal Server Error")
        if step == "timeout":
            return requests.ReadTimeout("read timed out")
        if step == "refused":  # the CRM's host is down: the request never left
            return requests.ConnectionError("NewConnectionError: [Errno 111] Connection refused")
        fields = dict(form)
        if fields.get("api_key") != self.api_key:
            return self._errors(403, [("403", "Invalid api_key")])
        if step == "reject":
            return self._errors(400, [("400", "lat/long outside the city's service area")])
        code = fields.get("service_code", "")
        if code not in SERVICES:
            return self._errors(404, [("404", f"service_code {code} not found")])
        # GeoReport v2: "lat & long [are] required if no address_string or address_id".
        located = ("lat" in fields and "long" in fields) or any(
            fields.get(name, "").strip() for name in ("address_string", "address_id")
        )
        if not located:
            return self._errors(
                400, [("400", "lat and long, address_string or address_id required")]
            )
        number = len(self.made) + 1
        request = CrmRequest(number, code, form, self.clock(), updated_at=self.clock())
        if self.tokens:
            request.token = f"tok-{number:05d}"
        else:
            request.service_request_id = f"REQ-{number:05d}"
        self.made.append(request)
        if step == "lost":
            return requests.ConnectionError("Connection aborted: RemoteDisconnected")
        item: dict[str, str | None] = (
            {"token": request.token}
            if self.tokens
            else {"service_request_id": request.service_request_id}
        )
        item["service_notice"] = "Crews are sent within 3 days."
        return self._answer(201, "service_requests", "request", [item])

    def _get_token(self, prepared: requests.PreparedRequest) -> Any:
        if self.down:
            return (503, {}, "Service Unavailable")
        path = urlsplit(prepared.url or "").path
        token = path.rsplit("/", 1)[1].removesuffix(f".{self.fmt}")
        self.token_calls.append(token)
        found = [r for r in self.made if r.token == token]
        if not found:
            return self._errors(404, [("404", f"token {token} not found")])
        item = {"token": token, "service_request_id": found[0].service_request_id}
        return self._answer(200, "service_requests", "request", [item])

    def _get_requests(self, prepared: requests.PreparedRequest) -> Any:
        if self.down:
            return (503, {}, "Service Unavailable")
        query = dict(parse_qsl(urlsplit(prepared.url or "").query))
        if "service_request_id" in query:
            ids = query["service_request_id"].split(",")
            self.asked.append(ids)
            found = [r for r in self.made if r.service_request_id in ids]
        else:
            self.searches.append(query)
            start = _date(query.get("start_date"))
            end = _date(query.get("end_date"))
            found = [
                r
                for r in self.made
                if r.service_code == query.get("service_code", r.service_code)
                and (start is None or r.requested_at >= start)
                and (end is None or r.requested_at <= end)
            ]
        return self._answer(200, "service_requests", "request", [_state(r) for r in found])

    def _get_updates(self, prepared: requests.PreparedRequest) -> Any:
        if self.down:
            return (503, {}, "Service Unavailable")
        if not self.offers_updates:
            return self._errors(404, [("404", "servicerequestupdates is not offered")])
        query = dict(parse_qsl(urlsplit(prepared.url or "").query))
        self.updates_asked.append(query)
        start, end = _date(query.get("start_date")), _date(query.get("end_date"))
        found = [
            u
            for u in self.updates
            if (start is None or _date(u["updated_datetime"]) >= start)  # type: ignore[operator]
            and (end is None or _date(u["updated_datetime"]) <= end)  # type: ignore[operator]
        ]
        return self._answer(200, "service_requests_updates", "request_update", found)

    def _get_services(self, prepared: requests.PreparedRequest) -> Any:
        if self.down:
            return (503, {}, "Service Unavailable")
        items = [
            {
                "service_code": code,
                "service_name": name,
                "description": "",
                "metadata": "false",
                "type": "realtime",
                "keywords": "",
                "group": "street",
            }
            for code, name in SERVICES.items()
        ]
        return self._answer(200, "services", "service", items)

    # --- the two formats ---------------------------------------------------------------------

    def _errors(self, status: int, errors: list[tuple[str, str]]) -> Any:
        items = [{"code": code, "description": text} for code, text in errors]
        return self._answer(status, "errors", "error", items)

    def _answer(
        self, status: int, root: str, element: str, items: list[dict[str, str | None]]
    ) -> tuple[int, dict[str, str], str]:
        if self.fmt == "json":
            return (status, {"Content-Type": "application/json"}, json.dumps(items))
        top = ET.Element(root)
        for item in items:
            node = ET.SubElement(top, element)
            for key, value in item.items():
                ET.SubElement(node, key).text = value
        text = ET.tostring(top, encoding="unicode", xml_declaration=False)
        return (status, {"Content-Type": "text/xml"}, f'<?xml version="1.0"?>{text}')


def _date(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _state(request: CrmRequest) -> dict[str, str | None]:
    return {
        "service_request_id": request.service_request_id,
        "status": request.status,
        "extended_status": request.extended_status,
        "status_notes": request.status_notes,
        "service_code": request.service_code,
        "description": request.description,
        "requested_datetime": request.requested_at.astimezone(UTC).isoformat(),
        "updated_datetime": request.updated_at.astimezone(UTC).isoformat()
        if request.updated_at
        else None,
    }
