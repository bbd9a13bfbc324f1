"""A case's statuses and the staff actions that move it. Pure: a table and a function.

    new ─┬─ ack ──▶ acknowledged ── start ──▶ in_progress ── resolve ──▶ resolved
    needs_location ┘          (start and resolve also work straight from new/needs_location)
    any open status ── close --reason ──▶ closed        resolved | closed ── reopen ──▶ in_progress
    `assign` (another department) and `note` (internal, never posted) leave the status as it is.

A refused action names the case's status and the statuses the action needs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from socialbot.domain import CaseStatus
from socialbot.errors import TransitionRefused

OPEN = frozenset(
    {CaseStatus.NEW, CaseStatus.NEEDS_LOCATION, CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS}
)
FINISHED = frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED})


class Action(enum.StrEnum):
    ACK = "ack"
    START = "start"
    ASSIGN = "assign"
    NOTE = "note"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"


class CloseReason(enum.StrEnum):
    DUPLICATE = "duplicate"  # of another case (--of M)
    INVALID = "invalid"
    REFERRED = "referred"  # to another agency
    NOT_CITY_PROPERTY = "not_city_property"


@dataclass(frozen=True, slots=True)
class Rule:
    allowed_from: frozenset[CaseStatus]
    to: CaseStatus | None  # None: the status stays


RULES: dict[Action, Rule] = {
    Action.ACK: Rule(
        frozenset({CaseStatus.NEW, CaseStatus.NEEDS_LOCATION}), CaseStatus.ACKNOWLEDGED
    ),
    Action.START: Rule(
        frozenset({CaseStatus.NEW, CaseStatus.NEEDS_LOCATION, CaseStatus.ACKNOWLEDGED}),
        CaseStatus.IN_PROGRESS,
    ),
    Action.ASSIGN: Rule(OPEN, None),
    Action.NOTE: Rule(OPEN | FINISHED, None),
    Action.RESOLVE: Rule(OPEN, CaseStatus.RESOLVED),
    Action.CLOSE: Rule(OPEN, CaseStatus.CLOSED),
    Action.REOPEN: Rule(FINISHED, CaseStatus.IN_PROGRESS),
}


def next_status(case_id: int, status: CaseStatus, action: Action) -> CaseStatus:
    """The status after `action`, or TransitionRefused saying why not."""
    rule = RULES[action]
    if status not in rule.allowed_from:
        needs = ", ".join(s.value for s in CaseStatus if s in rule.allowed_from)
        raise TransitionRefused(
            f"case #{case_id} is {status.value}; `{action.value}` needs a case that is {needs}"
        )
    return rule.to if rule.to is not None else status
