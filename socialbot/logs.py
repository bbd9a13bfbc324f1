"""Log lines: one per event, `key=value` fields (or one JSON object with `--log-format json`), and
never a secret in them.

Our messages read `event=poll pages=1 fetched=3 …`; the JSON format turns those fields into keys,
so a log shipper needs no parsing rules. Whatever a line says, and whatever library wrote it (a
traceback that quotes a request, a DEBUG line of an HTTP client), every configured secret is
replaced by `****` before it is written: the credentials are not logged by our code, and this
makes sure no one else's code logs them either.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import regex

from socialbot.config import LogFormat, Settings

MASK = "****"
# Too short to be a credential, and would mask half the log: "1", "ab".
MIN_SECRET_LENGTH = 6
# `key=value`, `key='quoted value'` (as %r writes it) or `key="quoted"`.
_FIELD = regex.compile(r"""(?<![^\s])(\w+)=('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S*)""")
# Their DEBUG lines print request headers and bodies; ours say what matters.
NOISY = ("tweepy", "urllib3", "requests_oauthlib", "oauthlib", "apscheduler", "alembic")

_secrets: tuple[str, ...] = ()


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value in the settings: X credentials of each account, the database password."""
    values = [
        settings.x_consumer_key,
        settings.x_consumer_secret,
        settings.x_access_token,
        settings.x_access_token_secret,
    ]
    for account in settings.accounts.values():
        values += [
            account.x_consumer_key,
            account.x_consumer_secret,
            account.x_access_token,
            account.x_access_token_secret,
        ]
    found = [v.get_secret_value() for v in values if v is not None]
    password = _database_password(settings.database_url)
    return found + ([password] if password else [])


def _database_password(url: str) -> str | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).password
    except ArgumentError:
        return None


def masking(values: Iterable[str]) -> tuple[str, ...]:
    """The values worth masking, longest first (one may contain another)."""
    return tuple(sorted({v for v in values if len(v) >= MIN_SECRET_LENGTH}, key=len, reverse=True))


def mask(text: str, secrets: Iterable[str]) -> str:
    """`text` with each of `secrets` (as from `masking`) replaced by `MASK`."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact(text: str) -> str:
    """`text` with every secret `setup_logging` was given masked."""
    return mask(text, _secrets)


def remember_secrets(values: Iterable[str]) -> None:
    global _secrets
    _secrets = masking(values)


def fields(message: str) -> dict[str, str]:
    """The `key=value` fields of one of our messages; quoted values unquoted."""
    found: dict[str, str] = {}
    for match in _FIELD.finditer(message):
        key, value = match.group(1), match.group(2)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = _unquote(value)
        found[key] = value
    return found


def _unquote(value: str) -> str:
    body = value[1:-1]
    try:
        decoded: str = body.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        return body
    return decoded


class TextFormatter(logging.Formatter):
    """`2026-11-23 07:00:01,123 INFO socialbot.poller event=poll …`, secrets masked."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, the message's fields as keys, and the whole
    message as `message` (a line that is not ours has no fields, only the message)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        for key, value in fields(message).items():
            entry.setdefault(key, value)
        entry["message"] = message
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a line is logged, not when the handler was made."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def setup_logging(
    level: str, log_format: str = LogFormat.TEXT, secrets: Iterable[str] = ()
) -> None:
    """Log to standard error (journald under systemd) in `log_format`, masking `secrets`."""
    remember_secrets(secrets)
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if log_format == LogFormat.JSON else TextFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.WARNING))
