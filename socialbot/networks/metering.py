"""Reporting a call to the meter, for the networks that bill nothing (Mastodon, Bluesky): what
was asked and answered, counted under the network and account, at no charge."""

from __future__ import annotations

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
