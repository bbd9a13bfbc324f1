"""Log lines: one per event, `key=value` fields (or one JSON object with `--log-format json`), and
never a secret in them.

Our messages read `event=poll pages=1 fetched=3 …`; the JSON format turns those fields into keys,
so a log shipper needs no parsing rules. Whatever a line says, and whatever library wrote it (a
traceback that quotes a request, a DEBUG line of an HTTP client), every configured secret is
replaced by `****` before it is written: the credentials are not logged by our code, and this
makes sure no one else's code logs them either.

A secret is masked in every spelling a line can give it, whatever its length: as it is, as `%r`
writes it (a `\\` or a quote comes out escaped), and as JSON escapes either. The message is
masked once it is a string, before it is put into the line or the JSON object; the finished line
is masked again, for the traceback and anything else the formatting added. A secret too short to
be a real credential (`MIN_SECRET_LENGTH`) is still masked, and `socialbot doctor` fails on it.
"""

from __future__ import annotations

import copy
import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import regex

from socialbot.config import LogFormat, Settings

MASK = "****"
# Shorter than this is no real credential (X's are 25 characters and more): `doctor` fails on it.
# It is masked all the same, even if that masks some innocent text along with it.
MIN_SECRET_LENGTH = 6
# `key=value`, `key='quoted value'` (as %r writes it) or `key="quoted"`.
_FIELD = regex.compile(r"""(?<![^\s])(\w+)=('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S*)""")
# Their DEBUG lines print request headers and bodies; ours say what matters.
NOISY = ("tweepy", "urllib3", "requests_oauthlib", "oauthlib", "apscheduler", "alembic")

_secrets: tuple[str, ...] = ()


_SECRET_FIELDS = ("x_consumer_key", "x_consumer_secret", "x_access_token", "x_access_token_secret")


def named_secrets(settings: Settings) -> list[tuple[str, str]]:
    """(setting, value) of every secret in the settings: X credentials of each account, the
    database password."""
    from socialbot.config import INTAKE_ACCOUNT, account_env_name

    found: list[tuple[str, str]] = []
    owners: list[tuple[str, object]] = [(INTAKE_ACCOUNT, settings)]
    owners += sorted(settings.accounts.items())
    for account, owner in owners:
        for name in _SECRET_FIELDS:
            value = getattr(owner, name, None)
            if value is not None:
                found.append((account_env_name(account, name), value.get_secret_value()))
    password = _database_password(settings.database_url)
    if password:
        found.append(("the password in SOCIALBOT_DATABASE_URL", password))
    return found


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value in the settings: X credentials of each account, the database password."""
    return [value for _name, value in named_secrets(settings)]


def _database_password(url: str) -> str | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).password
    except ArgumentError:
        return None


def masking(values: Iterable[str]) -> tuple[str, ...]:
    """Every spelling of every secret (see `spellings`), longest first (one may contain another).
    Every length: an empty value is the only one not masked (it is nowhere and everywhere)."""
    forms = {form for value in values if value for form in spellings(value)}
    return tuple(sorted(forms, key=len, reverse=True))


def spellings(secret: str) -> set[str]:
    """`secret` as a log line may spell it: as is; inside `%r` quotes of either kind (a backslash
    doubled, a quote or a control character escaped); and each of those inside a JSON string."""
    # repr() of a string holding both quotes uses '…' and escapes ': our two extra characters
    # force that spelling; without the ' escape it is the "…" one.
    single = repr(secret + "'\"")[1:-1][:-3]
    double = single.replace("\\'", "'")
    found = {secret, single, double, repr(secret)[1:-1]}
    for form in list(found):
        found.add(json.dumps(form, ensure_ascii=False)[1:-1])
        found.add(json.dumps(form)[1:-1])
    return found


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


def _masked_record(record: logging.LogRecord) -> logging.LogRecord:
    """A copy of `record` whose message is already a string with every secret masked: the
    formatting that follows (quoting, JSON) can no longer spell a secret some other way."""
    masked = copy.copy(record)
    masked.msg, masked.args = redact(record.getMessage()), None
    return masked


class TextFormatter(logging.Formatter):
    """`2026-11-23 07:00:01,123 INFO socialbot.poller event=poll …`, secrets masked."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(_masked_record(record)))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, the message's fields as keys, and the whole
    message as `message` (a line that is not ours has no fields, only the message)."""

    def format(self, record: logging.LogRecord) -> str:
        message = redact(record.getMessage())
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        for key, value in fields(message).items():
            # A field's value is unquoted here: masked again, in the spelling it now has.
            entry.setdefault(key, redact(value))
        entry["message"] = message
        if record.exc_info:
            entry["traceback"] = redact(self.formatException(record.exc_info))
        # Each value masked before encoding: masking the encoded line could match its syntax
        # (a one-character secret such as `:`) and break the JSON.
        return json.dumps(entry, ensure_ascii=False, default=lambda v: redact(str(v)))


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
