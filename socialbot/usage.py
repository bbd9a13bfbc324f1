"""What the networks bill: every call counted by endpoint, priced, and X's weighed against the
monthly budget.

X's pay-per-use pricing bills a read per resource it returns (each post of a mentions page) and a
write per request (each post created; more for a post with a link in it). The prices are settings
(`SOCIALBOT_PRICE_*`), since X changes them and a city may have a contract of its own; the figures
here are estimates to plan and cap spending by, not X's invoice. A failed call bills nothing.

Twilio bills each SMS sent by its segments (`SMS_SEGMENT`, priced at
`SOCIALBOT_TWILIO_PRICE_PER_SEGMENT`): counted and priced here beside X's calls, but not against
X's budget, which holds X's replies to keep X's bill: an SMS reply held would save nothing on X's,
and an alert to subscribers is the city's to send whatever it costs (its preview says how much).

When the month's estimated spend reaches the budget less its reserve, the outbox holds the
non-essential replies (help, status answers, "outside the city", the daily-limit notice): what
residents most need, the replies about their cases, and the city's broadcasts, go on.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from socialbot.domain import RateBudget, Reply


class Charge(enum.StrEnum):
    """What a successful call is billed as, and per what unit."""

    POST_READ = "post_read"  # per post returned (mentions, our own timeline)
    USER_READ = "user_read"  # per user returned (users/me)
    POST_CREATE = "post_create"  # per post created
    POST_CREATE_URL = "post_create_url"  # per post created with a link in its text
    MEDIA_UPLOAD = "media_upload"  # per photo uploaded
    SMS_SEGMENT = "sms_segment"  # per SMS segment sent (Twilio bills a text by its segments)


@dataclass(frozen=True, slots=True)
class Prices:
    """US dollars per unit of each charge."""

    post_read: float = 0.005
    user_read: float = 0.010
    post_create: float = 0.015
    post_create_url: float = 0.200
    media_upload: float = 0.0
    sms_segment: float = 0.0083  # Twilio's US list price, carrier fees aside

    def of(self, charge: Charge) -> float:
        price: float = getattr(self, charge.value)
        return price


# The endpoints socialbot calls, as counted and shown.
USERS_ME = "GET /2/users/me"
MENTIONS = "GET /2/users/:id/mentions"
OWN_POSTS = "GET /2/users/:id/tweets"
CREATE_POST = "POST /2/tweets"
MEDIA_UPLOAD = "POST /2/media/upload"
MEDIA_METADATA = "POST /2/media/metadata"


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One request to a network, as the adapter saw it answered (or not)."""

    network: str  # the network's name, as stored
    account: str
    endpoint: str
    at: datetime
    status: int | None  # the HTTP status; None when no answer came (timeout, connection error)
    charge: Charge | None = None  # None: billed nothing (a failure, or a free call)
    units: int = 0  # how many of `charge` it is billed
    budget: RateBudget | None = None  # what the answer's x-rate-limit headers said is left
    error: str | None = None  # the failure, as our error message says it (no secrets in it)

    @property
    def ok(self) -> bool:
        return self.error is None


class Meter(Protocol):
    """Where an adapter reports each call. Must not raise: counting never stops a post."""

    def record(self, call: ApiCall) -> None: ...


# Replies held when the budget runs low: none of them is about a case a resident filed.
NON_ESSENTIAL: frozenset[str] = frozenset(
    {Reply.HELP, Reply.STATUS, Reply.OUTSIDE_CITY, Reply.LIMIT_REACHED}
)


@dataclass(frozen=True, slots=True)
class Usage:
    """One endpoint's calls in a period, and what they cost."""

    network: str
    account: str
    endpoint: str
    calls: int
    errors: int
    units: Mapping[Charge, int]  # billed units by charge
    spend: float


def price_usage(
    rows: Iterable[tuple[str, str, str, Charge | None, int, int, int]], prices: Prices
) -> list[Usage]:
    """`(network, account, endpoint, charge, calls, errors, units)` rows → one `Usage` per
    endpoint. X bills its calls and Twilio its texts' segments; a call of another network
    carries no charge, and costs nothing."""
    merged: dict[tuple[str, str, str], tuple[int, int, dict[Charge, int]]] = {}
    for network, account, endpoint, charge, calls, errors, units in rows:
        key = (network, account, endpoint)
        total_calls, total_errors, by_charge = merged.get(key, (0, 0, {}))
        if charge is not None:
            by_charge[charge] = by_charge.get(charge, 0) + units
        merged[key] = (total_calls + calls, total_errors + errors, by_charge)
    return [
        Usage(
            network=network,
            account=account,
            endpoint=endpoint,
            calls=calls,
            errors=errors,
            units=by_charge,
            spend=sum(prices.of(c) * n for c, n in by_charge.items()),
        )
        for (network, account, endpoint), (calls, errors, by_charge) in sorted(merged.items())
    ]


@dataclass(frozen=True, slots=True)
class BudgetState:
    """The month's estimated spend against `SOCIALBOT_MONTHLY_BUDGET`."""

    spent: float
    budget: float | None  # None: no cap
    reserve_percent: float

    @property
    def hold_at(self) -> float | None:
        """Spend at which non-essential replies are held: the budget less its reserve."""
        if self.budget is None:
            return None
        return self.budget * (1 - self.reserve_percent / 100)

    @property
    def holding_non_essential(self) -> bool:
        return self.hold_at is not None and self.spent >= self.hold_at


def month_of(moment: datetime) -> str:
    """`2026-11`: the calendar month, in UTC, that a moment is billed in."""
    return f"{moment.astimezone(UTC):%Y-%m}"


def month_days(month: str) -> tuple[date, date]:
    """First day of `month` (`YYYY-MM`) and first day of the next; ValueError when malformed."""
    try:
        first = datetime.strptime(month, "%Y-%m").date()
    except ValueError:
        raise ValueError(f"month {month!r}: expected YYYY-MM, e.g. 2026-11") from None
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following
