"""Log lines: one per event, `key=value` fields (or one JSON object with `--log-format json`), and
never a secret in them.

Our messages read `event=poll pages=1 fetched=3 …`; the JSON format turns those fields into keys,
so a log shipper needs no parsing rules. Whatever a line says, and whatever library wrote it (a
traceback that quotes a request, a DEBUG line of an HTTP client), every configured secret is
replaced by `****` before it is written: the credentials are not logged by our code, and this
makes sure no one else's code logs them either. Phone numbers are masked the same way, all but
their last two digits (`+•••••••••67`), wherever a line holds one in E.164 (or URL-encoded,
`%2B…`, as an HTTP client's line would quote a form): a number is personal data, not a secret,
so it is masked by its shape, not by a list.

A secret is masked before it can be spelled: in the message and in each argument of the log call
(strings, bytes, and the tuples, lists, dicts and exceptions holding them) before `%` formats them,
so `%r` of its bytes, `%a` or the repr of its repr never see it. The formatted message and the
finished line (the traceback, anything else the formatting added) are masked again against its
spellings: as it is, inside the quotes of `repr()`, `ascii()` or the repr of its bytes, each of
those quoted once more, and each inside a JSON string. In JSON every key and value is masked.
A secret too short to be a real credential (`MIN_SECRET_LENGTH`) is still masked, and
`socialbot doctor` fails on it.

Some secrets are no setting: a network that signs in (Bluesky) comes to hold tokens of its own,
and hands each to `add_secrets` as it gets it; they are masked from then on, beside the
configured ones, the newest `MAX_LEARNED` of them (older ones have long expired).
"""

from __future__ import annotations

import copy
import json
import logging
import numbers
import sys
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import regex

from socialbot.config import LogFormat, Settings
from socialbot.sms.phone import masked_in

MASK = "****"
# Shorter than this is no real credential (X's are 25 characters and more): `doctor` fails on it.
# It is masked all the same, even if that masks some innocent text along with it.
MIN_SECRET_LENGTH = 6
# `key=value`, `key='quoted value'` (as %r writes it) or `key="quoted"`.
_FIELD = regex.compile(r"""(?<![^\s])(\w+)=('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S*)""")
# Their DEBUG lines print request headers and bodies (httpx, under atproto, one INFO line a
# request too; geopy each request's URL, a resident's address in it, and at INFO an error's
# body); ours say what matters.
NOISY = (
    "tweepy",
    "urllib3",
    "requests_oauthlib",
    "oauthlib",
    "apscheduler",
    "alembic",
    "httpx",
    "httpcore",
    "geopy",
)

# A session is refreshed every couple of hours, each refresh bringing two tokens: the newest
# few dozen cover a day of two accounts (older ones have expired or been revoked), and a
# bounded list keeps the masking of each line quick for months.
MAX_LEARNED = 32

# Every spelling of every secret, the configured and the learned: what each line is masked with.
_secrets: tuple[str, ...] = ()
_configured: tuple[str, ...] = ()
_learned: tuple[str, ...] = ()
_held: dict[str, tuple[str, ...]] = {}  # holder → the secrets it holds now
_learning = threading.Lock()  # adapters of several accounts may refresh at once


_SECRET_FIELDS = (
    "x_consumer_key",
    "x_consumer_secret",
    "x_access_token",
    "x_access_token_secret",
    "mastodon_access_token",
    "bluesky_app_password",
    "open311_api_key",  # the city's alone, never an account's: only the top level holds one
    "twilio_auth_token",  # likewise; the web service holds it, to check Twilio's signatures
)


def named_secrets(settings: Settings) -> list[tuple[str, str]]:
    """(setting, value) of every secret in the settings: X, Mastodon and Bluesky credentials of
    each account, the Open311 API key, the Twilio auth token, the database password."""
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
    """Every secret value in the settings: each account's credentials, the database password."""
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
    """`secret` as a log line may spell it: as is; inside the quotes of `%r`, `ascii()` or the
    repr of its UTF-8 bytes (either quote kind: a backslash doubled, a quote, a control or a
    non-ASCII character escaped); each of those quoted once more (the repr of a repr); and each
    of all these inside a JSON string."""
    found = {secret} | _quoted(secret)
    for form in list(found):
        found |= _quoted(form)
    for form in list(found):
        found.add(json.dumps(form, ensure_ascii=False)[1:-1])
        found.add(json.dumps(form)[1:-1])
    return found


def _quoted(text: str) -> set[str]:
    """The inside of `repr(text)`, `ascii(text)` and `repr(text.encode())`, in both quote kinds."""
    found: set[str] = set()
    # repr() of a string holding both quotes uses '…' and escapes ': our two extra characters
    # force that spelling; without the ' escape it is the "…" one.
    forced = text + "'\""
    for single in (
        repr(forced)[1:-1][:-3],
        ascii(forced)[1:-1][:-3],
        repr(forced.encode("utf-8", "surrogatepass"))[2:-1][:-3],
    ):
        found |= {single, single.replace("\\'", "'")}
    return found


def mask(text: str, secrets: Iterable[str]) -> str:
    """`text` with each of `secrets` (as from `masking`) replaced by `MASK`."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def redact(text: str) -> str:
    """`text` with every secret `setup_logging` was given masked, and every phone number but
    its last two digits (`socialbot.sms.phone.masked_in`: a number is personal data)."""
    return masked_in(mask(text, _secrets))


def remember_secrets(values: Iterable[str]) -> None:
    """Mask `values` (the configured secrets) in every line from now on, in place of the ones
    given before; the secrets learned since start (`add_secrets`) stay masked."""
    global _secrets, _configured
    with _learning:
        _configured = tuple(values)
        _secrets = masking((*_configured, *learned_secrets()))


def add_secrets(values: Iterable[str], holder: str | None = None) -> None:
    """Mask `values` too, from now on: secrets that are no setting, such as the tokens of a
    session a network adapter signed in or refreshed. The ones a `holder` (an adapter) holds
    now are masked as long as it holds them (a refresh token lives for months, however quiet
    its account); the ones it held before, or told without a holder, are kept newest
    `MAX_LEARNED` first."""
    global _secrets, _learned
    new = list(dict.fromkeys(value for value in values if value))
    if not new:
        return
    with _learning:
        retired = new
        if holder is not None:
            retired = [value for value in _held.get(holder, ()) if value not in new]
            _held[holder] = tuple(new)
        kept = [value for value in _learned if value not in new and value not in retired]
        _learned = (*kept, *retired)[-MAX_LEARNED:]
        _secrets = masking((*_configured, *learned_secrets()))


def learned_secrets() -> tuple[str, ...]:
    """The secrets `add_secrets` was given and still masks, oldest first, those held now last."""
    held = (value for values in _held.values() for value in values)
    return tuple(dict.fromkeys((*_learned, *held)))


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
    formatting that follows (quoting, JSON) can no longer spell a secret some other way.

    The arguments are masked before `%` formats them, while each is still the value it is: once
    `%r` has written a bytes value or `%a` a string, the secret is in a spelling we would have to
    have foreseen. The formatted message is masked again for whatever they did not cover."""
    masked = copy.copy(record)
    masked.msg = _masked_value(record.msg)
    if isinstance(record.args, tuple):
        masked.args = tuple(_masked_value(arg) for arg in record.args)
    elif record.args is not None:
        masked.args = _masked_value(record.args)  # type: ignore[assignment]
    try:
        message = masked.getMessage()
    except (TypeError, ValueError):  # a stand-in where %d or %(key)s wants the value itself
        message = record.getMessage()
    masked.msg, masked.args = redact(message), None
    return masked


# Deeper than this a value is masked as the text it formats to (it may even contain itself).
_MAX_DEPTH = 8


def _masked_value(value: object, depth: int = 0) -> object:
    """`value` with every secret in it masked, as the same kind of value where `%s`, `%r` or `%a`
    may write it differently: strings, bytes, and the tuples, lists, dicts and exceptions that
    hold them; any other object as a stand-in that writes its masked str() and repr()."""
    if value is None or isinstance(value, numbers.Number):  # %d and %f want numbers, and no
        return value  # secret is one
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bytes | bytearray):
        text = bytes(value).decode("utf-8", "surrogateescape")
        return type(value)(redact(text).encode("utf-8", "surrogateescape"))
    if depth >= _MAX_DEPTH:
        return _Masked(value)
    if type(value) in (tuple, list):
        items = [_masked_value(item, depth + 1) for item in value]  # type: ignore[attr-defined]
        return tuple(items) if type(value) is tuple else items
    if isinstance(value, Mapping):  # any mapping, for %(key)s: an OrderedDict, a library's own
        return {
            _masked_value(key, depth + 1): _masked_value(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, BaseException):
        return _Masked(_masked_exception(value, depth))
    return _Masked(value)


def _masked_exception(error: BaseException, depth: int) -> BaseException:
    """A copy of `error` with its args masked (its str() is made of them), or `error` itself if
    it cannot be copied; either way `_Masked` masks what it writes."""
    try:
        clone = copy.copy(error)
        clone.args = tuple(_masked_value(arg, depth + 1) for arg in error.args)
    except Exception:
        return error
    return clone


class _Masked:
    """Stands in for an argument of a log call: writes its str() and repr() with secrets masked."""

    __slots__ = ("_value",)

    def __init__(self, value: object) -> None:
        self._value = value

    def __str__(self) -> str:
        return redact(str(self._value))

    def __repr__(self) -> str:
        return redact(repr(self._value))


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
        message = _masked_record(record).getMessage()
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        # A field's value is unquoted here: masked again (below), in the spelling it now has.
        for key, value in fields(message).items():
            entry.setdefault(key, value)
        entry["message"] = message
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        # Every key and value masked the same way, and before encoding: masking the encoded line
        # could match its syntax (a one-character secret such as `:`) and break the JSON.
        entry = {redact(key): redact(str(value)) for key, value in entry.items()}
        return json.dumps(entry, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a line is logged, not when the handler was made."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass

    def handleError(self, record: logging.LogRecord) -> None:
        """A log call that cannot be formatted (`%d` given a string) says so in one masked line:
        the library's own report prints the raw arguments, secrets and all."""
        if not logging.raiseExceptions:
            return
        error = sys.exc_info()[1]
        sys.stderr.write(
            redact(f"logging error: {record.name} {record.msg!r} could not be formatted: {error!r}")
            + "\n"
        )


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
