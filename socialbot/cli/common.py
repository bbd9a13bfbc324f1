"""What every command shares: settings loading, logging, and turning our errors into one line."""

from __future__ import annotations

import functools
import getpass
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer
from rich.console import Console

from socialbot.app import utc_now
from socialbot.config import LogFormat, Settings, load_settings
from socialbot.errors import SocialbotError
from socialbot.logs import redact, secrets_of, setup_logging
from socialbot.timespan import parse_since

P = ParamSpec("P")
R = TypeVar("R")

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


@dataclass(frozen=True, slots=True)
class State:
    config_file: Path | None
    log_format: LogFormat | None = None  # `--log-format`; else the setting

    def settings(self, **overrides: object) -> Settings:
        settings = load_settings(self.config_file, **overrides)
        setup_logging(
            settings.log_level, self.log_format or settings.log_format, secrets_of(settings)
        )
        return settings


def moment(text: str, option: str | None = None) -> datetime:
    """`--since 7d` (or a date) as a UTC moment; a bad one is a usage error naming `option`."""
    try:
        return parse_since(text, utc_now())
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def recorded_as(name: str | None) -> str:
    """Who a staff or comms action is recorded as: `--as`, else the login name."""
    return name or getpass.getuser()


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, State) else State(config_file=None)


def friendly_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a SocialbotError into `socialbot: <message>` on stderr and exit 1."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except SocialbotError as exc:
            err_console.print(f"socialbot: {redact(str(exc))}", markup=False)
            raise typer.Exit(1) from None

    return wrapper
