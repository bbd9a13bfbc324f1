"""Open311 GeoReport v2, read side, under `/open311/v2/`. (Built out by the Open311 work.)"""

from __future__ import annotations

from fastapi import FastAPI, Response

PREFIX = "/open311/v2"


def install(app: FastAPI) -> None:
    """Add the Open311 routes to `app`."""


def error_response(path: str, status: int, description: str) -> Response:
    """Open311's error body for `path` (XML when it ends in .xml, else JSON)."""
    import json

    body = [{"code": status, "description": description}]
    return Response(json.dumps(body), status_code=status, media_type="application/json")
