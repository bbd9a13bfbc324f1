"""`/healthz` and `/metrics`, for operators' monitors. (Built out by the operators' work.)"""

from __future__ import annotations

from fastapi import FastAPI, Response
from fastapi.responses import JSONResponse

PATHS = ("/healthz", "/metrics")


def install(app: FastAPI) -> None:
    """Add the operators' routes to `app`."""


def error_response(status: int, description: str) -> Response:
    return JSONResponse({"error": description}, status_code=status)
