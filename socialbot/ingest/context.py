"""What ingest works with and what it reports: the intake of one network account, and each
mention's fate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from socialbot.geocoding.base import Geocoder
from socialbot.intake import (
    Decision,
    IntakeRules,
)
from socialbot.networks.base import Network
from socialbot.replies import Replies

Clock = Callable[[], datetime]


INTAKE_ACTOR = "socialbot"


@dataclass(frozen=True, slots=True)
class Handled:
    """One mention's fate, for the poll report and the demo table."""

    post_id: str
    author: str | None
    decision: Decision
    case_id: int | None
    reply_text: str | None


@dataclass(slots=True)
class PollReport:
    pages: int = 0
    fetched: int = 0
    already_seen: int = 0
    malformed: int = 0
    partial_errors: int = 0  # what X said it could not include (`MentionPage.errors`)
    handled: list[Handled] = field(default_factory=list)

    @property
    def cases_opened(self) -> int:
        return sum(1 for h in self.handled if h.case_id is not None)

    @property
    def replies_queued(self) -> int:
        return sum(1 for h in self.handled if h.reply_text is not None)


@dataclass(frozen=True, slots=True)
class Intake:
    """What the poll job works with, composed once at start-up."""

    engine: Engine
    platform: Network
    replies: Replies
    rules_for: Callable[[str], IntakeRules]  # own user id → rules
    account: str = "intake"
    case_url: str | None = None
    backfill: timedelta = timedelta(hours=24)
    user_id: str | None = None  # the account's id on the network, when the settings give it
    # Whether an answer of answers.yaml carries its link here: not where a link is billed.
    answer_links: bool = True
    city_name: str = ""  # SOCIALBOT_CITY_NAME, as a conversing network's HELP answer names it
    # The city's geocoder (`SOCIALBOT_GEOCODER`), asked before each page's transaction for the
    # addresses in words of mentions with no better location, at most `geocode_limit` a poll.
    geocoder: Geocoder | None = None
    geocode_limit: int = 10
