"""Reporting a call to the meter, for the networks that bill nothing (Mastodon, Bluesky, and
SMS until Twilio's price is read): what was asked and answered, counted under the network and
account, at no charge."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from socialbot.domain import RateBudget
from socialbot.usage import ApiCall, Meter


def report_unbilled(
    meter: Meter | None,
    *,
    network: str,
    account: str,
    endpoint: str,
    at: datetime,
    status: int | None,
    units: int = 0,
    budget: RateBudget | None = None,
    error: str | None = None,
) -> None:
    """One call as made, to `meter` (None: nothing is counted)."""
    if meter is None:
        return
    meter.record(
        ApiCall(
            network=network,
            account=account,
            endpoint=endpoint,
            at=at,
            status=status,
            charge=None,
            units=units,
            budget=budget,
            error=error,
        )
    )


@dataclass(frozen=True, slots=True)
class UnbilledCalls:
    """Where one adapter of such a network reports its calls: its meter (None: nothing is
    counted), under its network and account, each at its clock's time."""

    meter: Meter | None
    network: str
    account: str
    clock: Callable[[], datetime]

    def report(
        self,
        endpoint: str,
        *,
        status: int | None,
        units: int = 0,
        budget: RateBudget | None = None,
        error: str | None = None,
    ) -> None:
        report_unbilled(
            self.meter,
            network=self.network,
            account=self.account,
            endpoint=endpoint,
            at=self.clock(),
            status=status,
            units=units,
            budget=budget,
            error=error,
        )
