"""The few exception types socialbot raises, each with a message an operator can act on.

    SocialbotError
     ├── ConfigError        a setting is missing or malformed (names the setting or file)
     ├── CatalogError       hashtags.yaml is invalid (names file, line and problem)
     ├── AnswersError       answers.yaml is invalid or an answer too long (names file, line)
     ├── TemplateError      a reply template is missing, broken or renders too long
     ├── DataError          a platform payload could not be understood (names the field)
     ├── TransitionRefused  a staff action that the case's status does not allow
     ├── UnknownDepartment  `cases assign --to` names no department of the catalog (suggests some)
     ├── BroadcastError     a broadcast cannot be sent as asked (a missing --var, a bad --cron)
     ├── HandleError        not an account's handle as its network writes them (names the rule)
     ├── QueryError         a web request's parameter we cannot answer (names the parameter)
     ├── CalendarError      a day the city's calendar cannot close or open as asked (names it)
     ├── InboxError         an inbox item staff cannot act on as asked (unknown, closed, too long)
     ├── GeocoderError      the city's geocoder gave no usable answer (outage, 429, refusal)
     └── PlatformError      the network said no
          ├── RateLimited   wait until `reset_at` before the next call
          ├── AuthFailed    credentials rejected: stop and alert, do not retry
          ├── Unavailable   5xx, timeout, connection error: retry with backoff
          ├── Rejected      this request was refused (deleted post, duplicate text): never retry
          └── CrmRejected   the city's Open311 CRM refused a request (a 4xx): its own words

The CLI turns any of these into one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socialbot.open311.wire import CrmError


class SocialbotError(Exception):
    """Base of every error socialbot raises on purpose."""


class ConfigError(SocialbotError):
    """A setting is missing or malformed."""


class UnknownDepartment(SocialbotError):
    """`cases assign --to` names no department the catalog or the districts know."""

    def __init__(self, message: str, suggestions: tuple[str, ...]) -> None:
        super().__init__(message)
        self.suggestions = suggestions


class CatalogError(SocialbotError):
    """The hashtag catalog is invalid; the message reads `file:line: problem`."""

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {problem}")


class AnswersError(SocialbotError):
    """The answers file is invalid; the message reads `file:line: problem (hint)`, one line."""

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {problem}")


class TemplateError(SocialbotError):
    """A reply or broadcast template is missing, broken, or renders longer than a post allows."""


class DataError(SocialbotError):
    """A platform payload is malformed; the message names the field."""


class TransitionRefused(SocialbotError):
    """A staff action the case's current status does not allow (e.g. resolving a closed case)."""


class BroadcastError(SocialbotError):
    """A broadcast request is incomplete or contradictory; nothing was posted or scheduled."""


class HandleError(SocialbotError, ValueError):
    """A handle its network's rule refuses (`NetworkKind.handle`); the message names the rule."""


class QueryError(SocialbotError):
    """A parameter of a request to the web service that cannot be answered (a 400); the
    message reads `parameter: problem`."""

    def __init__(self, parameter: str, problem: str) -> None:
        super().__init__(f"{parameter}: {problem}")
        self.parameter = parameter
        self.problem = problem


class CalendarError(SocialbotError):
    """`socialbot calendar close`/`open` refused: not a date, too far away, a day not closed."""


class InboxError(SocialbotError):
    """`socialbot inbox`: no such item, one already closed (by whom, when), a reply too long."""


class GeocoderError(SocialbotError):
    """The city's geocoder gave no usable answer: down, slow, rate limiting us, refusing us, or
    answering what we cannot read. Intake goes on without the point (the address stays)."""


class PlatformError(SocialbotError):
    """A call to a social network failed."""


class RateLimited(PlatformError):
    """The network asked us to wait; no request to that endpoint before `reset_at`."""

    def __init__(self, message: str, reset_at: datetime | None) -> None:
        super().__init__(message)
        self.reset_at = reset_at


class AuthFailed(PlatformError):
    """Credentials were rejected (401) or lack a permission: retrying will not help."""


class Unavailable(PlatformError):
    """A transient failure (5xx, timeout, connection error): retry with backoff.

    `maybe_done` is true when the request may have reached the network before it failed (a read
    timeout, a 5xx, an unreadable answer): a post may exist even though we got no id for it.
    """

    def __init__(self, message: str, *, maybe_done: bool = False) -> None:
        super().__init__(message)
        self.maybe_done = maybe_done


class Rejected(PlatformError):
    """The network refused this particular request (e.g. the post replied to was deleted).

    `parameter` names the request parameter the network said it refused, when it said one (a
    field name this API does not know, a media id that expired)."""

    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class OptedOut(Rejected):
    """The resident's number said STOP to our number (Twilio's error 21610): nothing more may be
    texted to it until it texts START. The message never names the number."""


class CrmRejected(PlatformError):
    """The city's Open311 CRM answered a request with a 4xx: `errors` as its `errors` body says
    them (one made of the HTTP status when it sent none), `status` the HTTP status. A 401, 403 or
    429 says nothing about the case itself (`about_the_case` is false): the key or the pace is
    wrong, and the request may go again once that is fixed."""

    def __init__(self, message: str, errors: list[CrmError], *, status: int) -> None:
        super().__init__(message)
        self.errors = errors
        self.status = status

    @property
    def about_the_case(self) -> bool:
        return self.status not in (401, 403, 429)
