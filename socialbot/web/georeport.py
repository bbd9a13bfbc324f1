"""Open311 GeoReport v2, read side, under `/open311/v2/`: what the city's apps and any Open311
client read. The answers themselves are written by `socialbot.open311.answers` (pure); the
filters are read by `socialbot.open311.queries` (pure); here are the routes.

Each resource has one route a format (`services.json`, `services.xml`, …) rather than a
`{format}` parameter: the OpenAPI description then names each answer's media type exactly
(schemathesis checks it), and a format we do not speak (`services.csv`) is a path that does not
exist, a 404, as a static Open311 server answers it; a 400 would tell the client its filters
were wrong. Errors are the spec's errors body in the format the path asked for (`error_response`,
through the app's handlers). `jurisdiction_id` is accepted and ignored: one city per install.

Routes are plain `def`s (FastAPI runs them in its thread pool): the reads are synchronous
SQLAlchemy, a few queries a page whatever the number of cases.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from socialbot.errors import QueryError
from socialbot.open311 import answers
from socialbot.open311.answers import Discovery
from socialbot.open311.queries import MAX_ROWS, parse_case_number, parse_requests_query
from socialbot.open311.wire import FORMATS, Format
from socialbot.web.context import Web, web_of
from socialbot.web.reads import CaseFilter, change_mark, read_case, read_cases

PREFIX = "/open311/v2"

CONTACT = (
    "Report a problem by posting to the city's 311 account with the service's hashtag; "
    "this endpoint only reads."
)
KEY_SERVICE = "No key is needed: this endpoint answers GET requests only and takes no reports."

_TAG = "Open311 GeoReport v2"
# What the filters look like, for /openapi.json (the parsers in `queries` enforce them, with a
# message naming the parameter, and also take spaces around the commas).
_IDS = r"^[1-9][0-9]{0,17}(,[1-9][0-9]{0,17})*$"
_STATUSES = r"^(open|closed)(,(open|closed))?$"
_MEDIA = {"json": "application/json", "xml": "text/xml"}

JurisdictionId = Annotated[
    str | None,
    Query(max_length=200, description="Accepted and ignored: one city per install."),
]


def install(app: FastAPI) -> None:
    """Add the Open311 routes to `app`."""
    router = APIRouter(prefix=PREFIX, tags=[_TAG])
    for fmt in FORMATS:
        _route(router, f"/discovery.{fmt}", _discovery(fmt), fmt, _DISCOVERY, "Service discovery")
        _route(router, f"/services.{fmt}", _services(fmt), fmt, _SERVICES, "The services")
        _route(
            router,
            "/services/{service_code}." + fmt,
            _definition(fmt),
            fmt,
            _DEFINITION,
            "A service's definition",
            missing=True,
        )
        _route(router, f"/requests.{fmt}", _requests(fmt), fmt, _REQUESTS, "Service requests")
        _route(
            router,
            "/requests/{service_request_id}." + fmt,
            _request(fmt),
            fmt,
            _REQUESTS,
            "One service request",
            missing=True,
        )
    app.include_router(router)


def error_response(path: str, status: int, description: str) -> Response:
    """Open311's error body for `path` (XML when it ends in .xml, else JSON)."""
    if status == 404 and description == "Not Found":  # no route: say which paths there are
        description = f"no such resource; {PREFIX}/ answers services, requests and discovery, "
        description += "each as .json or .xml"
    if path.endswith(".xml"):
        body = answers.errors_xml(status, description)
        return Response(body, status_code=status, media_type=_MEDIA["xml"])
    body = answers.errors_json(status, description)
    return Response(body, status_code=status, media_type=_MEDIA["json"])


# ---------------------------------------------------------------------------------------------
# The routes, one a format


def _discovery(fmt: Format) -> Callable[..., Response]:
    def discovery(request: Request, jurisdiction_id: JurisdictionId = None) -> Response:
        web = web_of(request)
        base = web.settings.web_public_url or str(request.base_url).rstrip("/")
        document = Discovery(
            url=base + PREFIX,
            changeset=_catalog_time(web),
            contact=CONTACT,
            key_service=KEY_SERVICE,
        )
        zone = web.settings.zone
        if fmt == "xml":
            return _answer(answers.discovery_xml(document, zone), fmt)
        return _answer(answers.discovery_json(document, zone), fmt)

    return discovery


def _services(fmt: Format) -> Callable[..., Response]:
    def services(request: Request, jurisdiction_id: JurisdictionId = None) -> Response:
        categories = web_of(request).catalog.categories
        if fmt == "xml":
            return _answer(answers.services_xml(categories), fmt)
        return _answer(answers.services_json(categories), fmt)

    return services


def _definition(fmt: Format) -> Callable[..., Response]:
    def definition(
        request: Request, service_code: str, jurisdiction_id: JurisdictionId = None
    ) -> Response:
        category = web_of(request).catalog.find(service_code)
        if category is None:
            raise HTTPException(404, f"service_code {service_code[:100]!r} is not one of ours")
        if fmt == "xml":
            return _answer(answers.definition_xml(category), fmt)
        return _answer(answers.definition_json(category), fmt)

    return definition


def _requests(fmt: Format) -> Callable[..., Awaitable[Response]]:
    # On the event loop: an answer kept in Web.answers costs one primary-key look-up (the change
    # mark); only a list to read and encode goes to the thread pool (scripts/bench_web.py:
    # 1.9 times its floor, 4.0 times as a sync route).
    async def requests(
        request: Request,
        service_request_id: Annotated[
            str | None,
            Query(
                max_length=20_000,
                description="Comma-separated request ids (our case numbers); overrides every "
                "other filter.",
                json_schema_extra={"pattern": _IDS},
            ),
        ] = None,
        service_code: Annotated[
            str | None,
            Query(max_length=10_000, description="Comma-separated service codes."),
        ] = None,
        status: Annotated[
            str | None,
            Query(
                max_length=100,
                description="open, closed, or both comma-separated.",
                json_schema_extra={"pattern": _STATUSES},
            ),
        ] = None,
        start_date: Annotated[
            str | None,
            Query(
                max_length=100,
                description="Requested at or after this W3C date-time with its time zone "
                "(e.g. 2026-11-24T12:49:18-05:00). At most 90 days before end_date.",
                json_schema_extra={"format": "date-time"},
            ),
        ] = None,
        end_date: Annotated[
            str | None,
            Query(
                max_length=100,
                description="Requested at or before this W3C date-time with its time zone. "
                "Without either date: the last 90 days.",
                json_schema_extra={"format": "date-time"},
            ),
        ] = None,
        jurisdiction_id: JurisdictionId = None,
    ) -> Response:
        web = web_of(request)
        try:
            query = parse_requests_query(
                now=web.clock(),
                service_request_id=service_request_id,
                service_code=service_code,
                status=status,
                start_date=start_date,
                end_date=end_date,
            )
        except QueryError as error:
            raise HTTPException(400, str(error)) from None
        where = CaseFilter(
            numbers=query.numbers,
            categories=query.codes,
            open=query.open,
            start=query.start,
            end=query.end,
            limit=MAX_ROWS,
        )

        def encoded() -> bytes:
            show_words = web.settings.web_public_descriptions
            cases = read_cases(web.engine, where, show_words=show_words, history=False)
            if fmt == "xml":
                return answers.requests_xml(cases, web.catalog, web.settings.zone)
            return answers.requests_json(cases, web.catalog, web.settings.zone)

        # A list of up to 1,000 cases, read and encoded once while no case changes (the same
        # request, parameters in order): scripts/bench_web.py, requests.json.
        key = (request.url.path, tuple(sorted(request.query_params.multi_items())))
        mark = change_mark(web.engine)
        body = web.answers.kept(key, mark)
        if body is None:
            body = await run_in_threadpool(encoded)
            web.answers.keep(key, mark, body)
        return _answer(body, fmt)

    return requests


def _request(fmt: Format) -> Callable[..., Awaitable[Response]]:
    # On the event loop, not in the thread pool: one primary-key read (about a millisecond) costs
    # less than the hand-off to a thread and back (scripts/bench_web.py: 2x its floor, p99 48 ms,
    # against 3.9x and 514 ms as a sync route).
    async def one_request(
        request: Request, service_request_id: str, jurisdiction_id: JurisdictionId = None
    ) -> Response:
        web = web_of(request)
        number = parse_case_number(service_request_id)
        case = None
        if number is not None:
            # Kept while no case changes, as a list is: one look-up of the change mark.
            mark = change_mark(web.engine)
            body = web.requests.kept((number, fmt), mark)
            if body is not None:
                return _answer(body, fmt)
            show_words = web.settings.web_public_descriptions
            case = read_case(web.engine, number, show_words=show_words, history=False)
        if case is None:
            raise HTTPException(404, f"no request {service_request_id[:40]!r}")
        if fmt == "xml":
            body = answers.requests_xml([case], web.catalog, web.settings.zone)
        else:
            body = answers.requests_json([case], web.catalog, web.settings.zone)
        web.requests.keep((number, fmt), mark, body)
        return _answer(body, fmt)

    return one_request


# ---------------------------------------------------------------------------------------------
# Helpers


def _answer(body: bytes, fmt: Format) -> Response:
    return Response(body, media_type=_MEDIA[fmt])


def _catalog_time(web: Web) -> datetime:
    """When the services last changed: the catalog file's modification time (the service list
    and definitions are the catalog); now, if the file is gone."""
    try:
        return datetime.fromtimestamp(os.stat(web.settings.hashtags).st_mtime, web.settings.zone)
    except OSError:
        return web.clock()


def _route(
    router: APIRouter,
    path: str,
    endpoint: Callable[..., Response] | Callable[..., Awaitable[Response]],
    fmt: Format,
    schema: dict[str, Any],
    summary: str,
    *,
    missing: bool = False,
) -> None:
    """`endpoint` at `path`, its answers described for OpenAPI: the body in `fmt`'s media type
    (with its JSON schema for JSON), a 400 for bad filters, a 404 where a code or id can be
    unknown, each an errors body."""
    media = _MEDIA[fmt]
    body = schema if fmt == "json" else {"type": "string"}
    error = _ERRORS if fmt == "json" else {"type": "string"}
    responses: dict[int | str, dict[str, Any]] = {
        200: {"description": summary, "content": {media: {"schema": body}}},
        400: {"description": "A parameter we cannot answer", "content": {media: {"schema": error}}},
    }
    if missing:
        responses[404] = {"description": "No such one", "content": {media: {"schema": error}}}
    router.add_api_route(
        path,
        endpoint,
        methods=["GET"],
        summary=f"{summary} ({fmt.upper()})",
        response_class=Response,
        responses=responses,
        name=f"{endpoint.__name__}_{fmt}",
    )


# JSON schemas of the answers (what /openapi.json tells an integrator, what schemathesis checks).
_TEXT: dict[str, Any] = {"type": "string"}
_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
_ERRORS: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": _TEXT},
    },
}
_SERVICES: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["service_code", "service_name", "metadata", "type"],
        "properties": {
            "service_code": _TEXT,
            "service_name": _TEXT,
            "description": _TEXT,
            "metadata": {"type": "boolean"},
            "type": {"type": "string", "enum": ["realtime", "batch", "blackbox"]},
            "keywords": _TEXT,
            "group": _TEXT,
        },
    },
}
_DEFINITION: dict[str, Any] = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "properties": {"service_code": _TEXT, "attributes": {"type": "array", "maxItems": 0}},
}
_REQUESTS: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["service_request_id", "status", "service_code", "requested_datetime"],
        "properties": {
            "service_request_id": _TEXT,
            "status": {"type": "string", "enum": ["open", "closed"]},
            "status_notes": _TEXT,
            "service_name": _TEXT,
            "service_code": _TEXT,
            "description": _TEXT,
            "agency_responsible": _TEXT,
            "requested_datetime": _TIME,
            "updated_datetime": _TIME,
            "expected_datetime": _TIME,
            "lat": {"type": "number"},
            "long": {"type": "number"},
            "media_url": _TEXT,
        },
        "additionalProperties": False,
    },
}
_DISCOVERY: dict[str, Any] = {
    "type": "object",
    "required": ["changeset", "contact", "key_service", "endpoints"],
    "properties": {
        "changeset": _TIME,
        "contact": _TEXT,
        "key_service": _TEXT,
        "endpoints": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["specification", "url", "formats"],
                "properties": {
                    "specification": _TEXT,
                    "url": _TEXT,
                    "changeset": _TIME,
                    "type": _TEXT,
                    "formats": {"type": "array", "items": _TEXT},
                },
            },
        },
    },
}
