"""`/healthz` and `/metrics`, for operators' monitors: read from the database alone, so they tell
a stuck or stopped bot from a live one whatever state the bot's process is in.

`/healthz` answers anyone (a load balancer's probe), JSON, 200 when healthy, 503 when not
(`web.health`); it holds no secret and nothing of a resident. `/metrics` answers only the
addresses in `WEB_METRICS_ALLOW` (`web.access`), everyone else 403.
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from socialbot.web import access, metrics
from socialbot.web.context import Web
from socialbot.web.health import Health, decide
from socialbot.web.health_reads import read_health_facts

PATHS = ("/healthz", "/metrics")
# Never cached by a proxy: a stale "ok" is worse than none.
NO_STORE = {"cache-control": "no-store"}


def install(app: FastAPI) -> None:
    """Add the operators' routes to `app`."""
    web: Web = app.state.web
    allow = access.allowed_networks(web.settings.web_metrics_allow)

    @app.get(
        "/healthz",
        tags=["operators"],
        summary="Is the bot alive: database, polls, the outbox (200 or 503)",
        responses={503: {"description": "Unhealthy: the body's checks say which and why"}},
    )
    async def healthz() -> JSONResponse:
        health = await run_in_threadpool(check_health, web)
        return JSONResponse(
            health.to_json(), status_code=200 if health.healthy else 503, headers=NO_STORE
        )

    @app.get(
        "/metrics",
        tags=["operators"],
        summary="Prometheus metrics (WEB_METRICS_ALLOW only)",
        response_class=Response,
        responses={403: {"description": "Not an address in WEB_METRICS_ALLOW"}},
    )
    async def metrics_route(request: Request) -> Response:
        client = request.client.host if request.client else None
        if not access.may_read_metrics(client, allow):
            return error_response(403, "metrics are served only to WEB_METRICS_ALLOW")
        body = await run_in_threadpool(metrics.render, web.engine, web.settings, web.clock)
        return Response(body, media_type=CONTENT_TYPE_LATEST, headers=NO_STORE)


def check_health(web: Web) -> Health:
    """`/healthz`'s verdict now."""
    now = web.clock()
    facts = read_health_facts(web.engine, web.settings, now)
    return decide(facts, now, timedelta(minutes=web.settings.web_stale_minutes), web.settings.zone)


def error_response(status: int, description: str) -> Response:
    """The operators' error body: JSON, `{"error": "..."}`."""
    return JSONResponse({"error": description}, status_code=status, headers=NO_STORE)
