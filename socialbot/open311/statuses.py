"""What a CRM's status means for our case. Pure: a table and two functions.

GeoReport v2 knows two statuses, open and closed. FixMyStreet's endpoints say more, with the
extended statuses below (written upper case with underscores, as its updates carry them); a
CRM that gives one is read by it, a CRM that gives none by its open/closed.

    FIXED, CLOSED, plain closed            ─▶ resolve
    NOT_COUNCILS_RESPONSIBILITY            ─▶ close --reason not_city_property
    DUPLICATE                              ─▶ close --reason duplicate
    INTERNAL_REFERRAL                      ─▶ close --reason referred
    NO_FURTHER_ACTION, UNABLE_TO_FIX       ─▶ close --reason invalid
    IN_PROGRESS, ACTION_SCHEDULED, PLANNED ─▶ start
    INVESTIGATING                          ─▶ ack
    REOPEN                                 ─▶ reopen
    OPEN, plain open, a word we do not know ─▶ nothing

A CRM duplicate names no case of ours: `close --reason duplicate` needs the case it duplicates
(`--of`), which only the caller can look for (another forwarded case with the same request).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from socialbot.domain import CaseStatus
from socialbot.lifecycle import RULES, Action, CloseReason

if TYPE_CHECKING:
    from socialbot.open311.wire import RequestState


@dataclass(frozen=True, slots=True)
class Closure:
    """The staff action a CRM's status asks of its case, and the close reason for `close`."""

    action: Action
    reason: CloseReason | None = None


# FixMyStreet's extended statuses: (open or closed, what it asks of our case or None).
EXTENDED: dict[str, tuple[str, Closure | None]] = {
    "OPEN": ("open", None),
    "INVESTIGATING": ("open", Closure(Action.ACK)),
    "IN_PROGRESS": ("open", Closure(Action.START)),
    "ACTION_SCHEDULED": ("open", Closure(Action.START)),
    "PLANNED": ("open", Closure(Action.START)),
    "REOPEN": ("open", Closure(Action.REOPEN)),
    "FIXED": ("closed", Closure(Action.RESOLVE)),
    "CLOSED": ("closed", Closure(Action.RESOLVE)),
    "DUPLICATE": ("closed", Closure(Action.CLOSE, CloseReason.DUPLICATE)),
    "NOT_COUNCILS_RESPONSIBILITY": (
        "closed",
        Closure(Action.CLOSE, CloseReason.NOT_CITY_PROPERTY),
    ),
    "INTERNAL_REFERRAL": ("closed", Closure(Action.CLOSE, CloseReason.REFERRED)),
    "NO_FURTHER_ACTION": ("closed", Closure(Action.CLOSE, CloseReason.INVALID)),
    "UNABLE_TO_FIX": ("closed", Closure(Action.CLOSE, CloseReason.INVALID)),
}
# Other spellings FixMyStreet's endpoints use for the same statuses.
ALIASES = {
    "NOT_RESPONSIBLE": "NOT_COUNCILS_RESPONSIBILITY",
    "FIXED_COUNCIL": "FIXED",
    "FIXED_USER": "FIXED",
    "CONFIRMED": "OPEN",
}
PLAIN: dict[str, Closure | None] = {"open": None, "closed": Closure(Action.RESOLVE)}


def _known(extended: str) -> str | None:
    word = ALIASES.get(extended, extended)
    return word if word in EXTENDED else None


def plain_status(extended: str) -> str | None:
    """ "open" or "closed" for an extended status (upper case, underscores), None if unknown."""
    word = _known(extended)
    return EXTENDED[word][0] if word is not None else None


def closure_of(state: RequestState) -> Closure | None:
    """What the CRM's state asks of its case, or None when there is nothing for us to do. A
    known extended status decides; else the plain open/closed (an unknown extended word on a
    closed request still resolves it: the crew is done, whatever the CRM calls it)."""
    if state.extended_status is not None:
        word = _known(state.extended_status)
        if word is not None:
            return EXTENDED[word][1]
    return PLAIN.get(state.status)


def applies(closure: Closure, status: CaseStatus) -> bool:
    """Whether `closure` would move a case that is `status`: its action is allowed there
    (`lifecycle.RULES`) and changes the status (a CRM saying "in progress" again, each sync,
    to a case already in progress asks nothing)."""
    rule = RULES[closure.action]
    return status in rule.allowed_from and rule.to is not None and rule.to != status
