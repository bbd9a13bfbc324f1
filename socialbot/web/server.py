"""`socialbot serve`: the app under uvicorn, from the settings."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from socialbot.app import utc_now
from socialbot.catalog import load_catalog
from socialbot.config import Settings
from socialbot.sdnotify import notify
from socialbot.store.db import make_engine
from socialbot.web.context import Web

if TYPE_CHECKING:
    from starlette.types import ASGIApp
    from uvicorn import Config

log = logging.getLogger(__name__)


def build_web(settings: Settings, clock: Callable[[], datetime] = utc_now) -> Web:
    """What the app serves from. The database need not exist yet (the bot, `socialbot run` or
    `socialbot db upgrade`, makes it) and its schema is checked by `/healthz`, not here: the web
    service started before the bot's first start answers "not ready" (503) instead of dying;
    its engine never creates the file. With `TWILIO_AUTH_TOKEN` set, the SMS webhook's needs too
    (`sms_webhook_of`: a ConfigError without `WEB_PUBLIC_URL`), its writing engine among them."""
    from socialbot.web.sms_webhook import sms_webhook_of

    return Web(
        settings=settings,
        engine=make_engine(settings.database_url, create=False, read_only=True),
        catalog=load_catalog(settings.hashtags),
        clock=clock,
        sms=sms_webhook_of(settings),
    )


def uvicorn_config(app: ASGIApp, settings: Settings, host: str, port: int) -> Config:
    """How `socialbot serve` runs an app under uvicorn (the benchmark's floor runs its bare app
    the same way, so the two differ by the app alone)."""
    from uvicorn import Config

    return Config(
        app,
        host=host,
        port=port,
        # X-Forwarded-For and -Proto believed from the configured proxies alone.
        proxy_headers=True,
        forwarded_allow_ips=[p for p in settings.web_trusted_proxies.split(",") if p],
        log_config=None,  # our logging (`logs.setup_logging`), masked and one line an event
        access_log=False,
        server_header=False,
        timeout_keep_alive=5,
    )


def serve(settings: Settings, host: str, port: int) -> None:
    """Serve until SIGINT or SIGTERM (uvicorn's own handlers: it finishes the requests in
    flight, then stops)."""
    import uvicorn

    from socialbot.web.app import create_app

    web = build_web(settings)
    try:
        config = uvicorn_config(create_app(web), settings, host, port)
        log.info("serving http://%s:%d", host, port)
        _notifying_server(uvicorn.Server)(config).run()
    finally:
        web.engine.dispose()
        if web.sms is not None:
            web.sms.dispose()


def _notifying_server(base: type[Any]) -> type[Any]:
    """uvicorn's Server, telling systemd (`Type=notify`, socialbot-web.service) READY=1 once it
    listens and STOPPING=1 when it begins to stop. After the bind, not in a lifespan hook: uvicorn
    runs the app's startup before it binds, and a port already taken must fail the start."""

    class NotifyingServer(base):  # type: ignore[misc]
        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started:
                notify("READY=1")

        async def shutdown(self, sockets: Any = None) -> None:
            notify("STOPPING=1")
            await super().shutdown(sockets)

    return NotifyingServer
