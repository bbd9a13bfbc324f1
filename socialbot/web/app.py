"""The web service's ASGI app: FastAPI, one router a concern.

FastAPI rather than bare Starlette: its typed routes describe themselves as OpenAPI
(`/openapi.json`), which is what schemathesis fuzzes the service from and what an integrator reads;
the query parameters are validated from the same types. It is Starlette underneath, so the
benchmark's floor is a bare route of the same framework.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from socialbot import __version__
from socialbot.web import georeport, operators, status_page
from socialbot.web.context import Web

# Sent with every answer: no page of ours loads anything from elsewhere, runs an inline script,
# is framed, or tells another site where the reader came from.
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


# What a 500 says (Open311's description; the status page says it in the reader's language).
SERVER_ERROR = "the service could not answer this request; try again in a few minutes"


def create_app(web: Web) -> FastAPI:
    """The app, serving from `web`."""
    app = FastAPI(
        title="socialbot",
        version=__version__,
        description="The city's 311 cases: Open311 GeoReport v2, status pages, health.",
        docs_url=None,  # Swagger UI and ReDoc load their scripts from a CDN: no third parties
        redoc_url=None,
    )
    app.state.web = web
    georeport.install(app)
    status_page.install(app)
    operators.install(app)

    @app.middleware("http")
    async def _headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        response = error_response(request, exc.status_code, str(exc.detail))
        response.headers.update(exc.headers or {})  # a 405's Allow, which RFC 9110 requires
        return response

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 400, validation_message(exc))

    # Anything else a route raises (the database unreadable): Starlette answers it from its
    # outermost middleware, outside `_headers`, so this answer carries its headers itself. The
    # exception is still raised on, and logged, after it.
    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception) -> Response:
        response = error_response(request, 500, SERVER_ERROR)
        response.headers.update(SECURITY_HEADERS)
        return response

    return app


def web_of(request: Request) -> Web:
    """The `Web` the app serves from (a route's dependency)."""
    web: Web = request.app.state.web
    return web


def error_response(request: Request, status: int, description: str) -> Response:
    """An error in the form its part of the service speaks: Open311's `errors` under
    `/open311/`, a page for a person elsewhere, JSON for the operators' endpoints."""
    path = request.url.path
    if path.startswith(georeport.PREFIX + "/"):
        return georeport.error_response(path, status, description)
    if path.startswith(operators.PATHS):
        return operators.error_response(status, description)
    return status_page.error_page(request, status, description)


def validation_message(exc: RequestValidationError) -> str:
    """FastAPI's validation errors as one line naming the parameter: "start_date: …"."""
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", ""))
    return "; ".join(parts) or "invalid request"
