"""The web service's ASGI app: FastAPI, one router a concern.

FastAPI rather than bare Starlette: its typed routes describe themselves as OpenAPI
(`/openapi.json`), which is what schemathesis fuzzes the service from and what an integrator reads;
the query parameters are validated from the same types. It is Starlette underneath, so the
benchmark's floor is a bare route of the same framework.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from socialbot import __version__
from socialbot.store.db import driver_reason
from socialbot.web import georeport, operators, sms_webhook, status_page
from socialbot.web.context import Web

log = logging.getLogger(__name__)

# Sent with every answer: no page of ours loads anything from elsewhere, runs an inline script,
# is framed, or tells another site where the reader came from.
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


_ENCODED_HEADERS = tuple((k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items())


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every answer that does not set its own. Pure ASGI: Starlette's
    `@app.middleware("http")` runs each request through a task and memory streams: measured by
    scripts/bench_web.py (/openapi.json), that halved the frame's throughput (2.0 times slower
    than its floor, p99 300 ms under 16 connections; this: 1.2 times, p99 25 ms)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in _ENCODED_HEADERS if h[0] not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


# What a 500 says (Open311's description; the status page says it in the reader's language).
SERVER_ERROR = "the service could not answer this request; try again in a few minutes"


def create_app(web: Web) -> FastAPI:
    """The app, serving from `web`."""
    app = FastAPI(
        title="socialbot",
        version=__version__,
        description="The city's 311 cases: Open311 GeoReport v2, status pages, health; "
        "Twilio's inbound texts, recorded.",
        docs_url=None,  # Swagger UI and ReDoc load their scripts from a CDN: no third parties
        redoc_url=None,
    )
    app.state.web = web
    georeport.install(app)
    status_page.install(app)
    operators.install(app)
    sms_webhook.install(app)

    app.add_middleware(SecurityHeaders)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        response = error_response(request, exc.status_code, str(exc.detail))
        response.headers.update(exc.headers or {})  # a 405's Allow, which RFC 9110 requires
        return response

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 400, validation_message(exc))

    @app.exception_handler(SQLAlchemyError)
    async def _database_error(request: Request, exc: SQLAlchemyError) -> Response:
        # The database is missing, down or busy: a 503 in each part's own form (an Open311
        # client retries a 503), never the bare text of an unhandled 500.
        log.warning("event=web_database_error path=%s error=%r", request.url.path,
                    driver_reason(exc, web.engine)[:300])  # fmt: skip
        return error_response(request, 503, "the database cannot be read now; try again later")

    # Anything else a route raises (a bug): Starlette answers it from its outermost middleware,
    # outside `SecurityHeaders`, so this answer carries its headers itself. The exception is
    # still raised on, and logged, after it.
    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception) -> Response:
        response = error_response(request, 500, SERVER_ERROR)
        response.headers.update(SECURITY_HEADERS)
        return response

    return app


def error_response(request: Request, status: int, description: str) -> Response:
    """An error in the form its part of the service speaks: Open311's `errors` under
    `/open311/`, JSON for the operators' endpoints, a line of text for Twilio under `/sms/`, a
    page for a person elsewhere."""
    path = request.url.path
    if path.startswith(georeport.PREFIX + "/"):
        return georeport.error_response(path, status, description)
    if path.startswith(operators.PATHS):
        return operators.error_response(status, description)
    if path.startswith(sms_webhook.PREFIX):
        return sms_webhook.error_response(status, description)
    return status_page.error_page(request, status, description)


def validation_message(exc: RequestValidationError) -> str:
    """FastAPI's validation errors as one line naming the parameter: "start_date: …"."""
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", ""))
    return "; ".join(parts) or "invalid request"
