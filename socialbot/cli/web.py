"""`socialbot serve`: the web service (Open311, status pages, health and metrics)."""

from __future__ import annotations

from typing import Annotated

import typer

from socialbot.cli.common import friendly_errors, state


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)


@friendly_errors
def serve_command(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option("--host", help="Address to listen on (default: $SOCIALBOT_WEB_HOST)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port", min=1, max=65535, help="Port to listen on (default: $SOCIALBOT_WEB_PORT)."
        ),
    ] = None,
) -> None:
    """Serve the web face: Open311 GeoReport v2, residents' status pages, /healthz, /metrics.

    Read-only over the bot's database; run it beside `socialbot run`, behind a reverse proxy."""
    from socialbot.web.server import serve

    settings = state(ctx).settings()
    serve(settings, host or settings.web_host, port or settings.web_port)
