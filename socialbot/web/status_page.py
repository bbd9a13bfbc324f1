"""The resident's status page, `/cases/{number}`. (Built out by the status page work.)"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse


def install(app: FastAPI) -> None:
    """Add the status page's routes to `app`."""


def error_page(request: Request, status: int, description: str) -> Response:
    """A page for a person: what went wrong, in their language."""
    return PlainTextResponse(description, status_code=status)
