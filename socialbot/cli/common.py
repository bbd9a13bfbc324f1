"""What every command shares: settings loading, logging, and turning our errors into one line."""

from __future__ import annotations

import functools
import getpass
import logging
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

import typer
from sqlalchemy.exc import DBAPIError

from socialbot import storable
from socialbot.app import utc_now
from socialbot.cli.render import PlainConsole, json_text, visible
from socialbot.config import LogFormat, Settings, load_settings
from socialbot.errors import SocialbotError
from socialbot.logs import redact, secrets_of, setup_logging
from socialbot.sms.phone import masked_in
from socialbot.store.db import driver_reason
from socialbot.store.models import CaseEvent
from socialbot.timespan import parse_since

P = ParamSpec("P")
R = TypeVar("R")

# Every string printed through these is plain text with its control characters visible (render).
console = PlainConsole(highlight=False, soft_wrap=True)
err_console = PlainConsole(stderr=True, highlight=False, soft_wrap=True)
# Who acted, as every table of staff actions records it (case events, broadcasts, storm, blocks).
ACTOR_LENGTH = storable.column_length(CaseEvent.actor)


@dataclass(frozen=True, slots=True)
class State:
    config_file: Path | None
    log_format: LogFormat | None = None  # `--log-format`; else the setting

    def settings(self, **overrides: object) -> Settings:
        """The settings, with logging set up from them (`SOCIALBOT_LOG_LEVEL`)."""
        return self._load(overrides, quiet=False)

    def quiet_settings(self) -> Settings:
        """The settings, logging warnings and errors only (on stderr): for a command a person
        runs and reads (`poll --once`, `send --once`), whose own output must not be buried
        under INFO lines. A level set higher (ERROR) is kept; the service keeps its own."""
        return self._load({}, quiet=True)

    def _load(self, overrides: dict[str, object], *, quiet: bool) -> Settings:
        settings = load_settings(self.config_file, **overrides)
        level = settings.log_level
        if quiet and logging.getLevelName(level) < logging.WARNING:
            level = "WARNING"
        setup_logging(level, self.log_format or settings.log_format, secrets_of(settings))
        return settings


def print_json(data: object, *, default: Callable[[Any], Any] | None = None) -> None:
    """`--json` output: the data exactly (see `render.json_text`), nothing a terminal would run."""
    console.print(json_text(data, default=default), markup=False)


def print_data(text: str, file: typing.TextIO | None = None) -> None:
    """`--csv`, an export, to standard output (or `file`). To a file or a pipe: the text exactly
    as written, for a program. (Without `color=True` click strips what looks like terminal
    styling, i.e. part of the data.) To a terminal: a person reads it, and a cell from outside (a
    place name from X, a post) could hold ESC or OSC 8 sequences the terminal would run, so
    every control character is written visible, as everywhere else on a terminal; the rows keep
    their CSV line ends."""
    stream = file if file is not None else sys.stdout
    text = masked_in(text)  # to a program too: no number in full leaves a command (render)
    if _is_terminal(stream):
        text = "\r\n".join(visible(line) for line in text.split("\r\n"))
    typer.echo(text, file=stream, nl=False, color=True)


def _is_terminal(stream: typing.TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no such method; a closed stream
        return False


def moment(text: str, option: str | None = None, zone: ZoneInfo | None = None) -> datetime:
    """`--since 7d` (or a date, from its midnight in `zone`: the city's) as a UTC moment; a bad
    one is a usage error naming `option`."""
    try:
        return parse_since(text, utc_now(), zone)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def since_form(text: str) -> str:
    """`--since` as typed, once it is known to be one of the forms (a usage error before anything
    is opened); `moment` reads it with the city's zone, from the settings."""
    moment(text)
    return text


def recorded_as(name: str | None) -> str:
    """Who a staff or comms action is recorded as: `--as`, else the login name."""
    if name is None:
        return storable.check(getpass.getuser(), "your login name (give --as NAME)", ACTOR_LENGTH)
    return storable.check(name, "--as", ACTOR_LENGTH)


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, State) else State(config_file=None)


def friendly_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn a SocialbotError into `socialbot: <message>` on stderr and exit 1.

    Before the command runs, every text argument is checked to be storable (`storable`): a lone
    surrogate from a non-UTF-8 byte would otherwise fail on insert, differently on each database.
    A database the command cannot reach or use is one line too, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            _check_texts(kwargs)
            return fn(*args, **kwargs)
        except SocialbotError as exc:
            _fail(str(exc))
        except DBAPIError as exc:
            _fail(database_problem(exc))

    return wrapper


def _fail(message: str) -> typing.NoReturn:
    err_console.print(f"socialbot: {redact(message)}", markup=False)
    raise typer.Exit(1) from None


def database_problem(exc: DBAPIError) -> str:
    """The driver's reason on one line, and what to check. The URL is not repeated: the driver's
    message names host and port, and never the password."""
    reason = driver_reason(exc)
    # No statement: the connection itself failed (wrong password, no server, no such database).
    kind = "cannot connect" if exc.statement is None else "failed"
    return (
        f"database {kind}: {reason}; check SOCIALBOT_DATABASE_URL and that the database is up "
        "(`socialbot doctor` checks both)"
    )


def _check_texts(kwargs: dict[str, object]) -> None:
    # The command's parameters, to name the option as typed (typer passes click's own Context).
    command = getattr(kwargs.get("ctx"), "command", None)
    params = {p.name: p for p in getattr(command, "params", [])}
    for name, value in kwargs.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, str):
                param = params.get(name)
                shown = name.upper() if param is None else param.opts[0]
                if param is not None and param.param_type_name == "argument":
                    shown = (param.metavar or name).upper()
                storable.check(item, shown)
