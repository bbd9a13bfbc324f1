"""X's "wait until then", kept in the database so every process and command honours it.

A 429 (or a post that used the last of the posting quota) means no call to that endpoint, for that
account, before the reset. `socialbot run` used to remember it in memory only: `poll --once`,
`send --once` and `broadcast send`, separate processes, called X again at once and got another
429. Now whoever hears it writes it here (`hold`), and every caller asks first (`current`); one
held raises `Held`, a `RateLimited` that made no call.

The hold is per account and endpoint (`usage.MENTIONS`, `usage.CREATE_POST`, …): a limit on
posting does not stop the poll. A hold that cannot be written is logged and the caller goes on:
the in-memory wait of `run` still applies, and X would say 429 again.

A hold is never longer than `MAX_HOLD`, X's longest window (its 24-hour posting quota): the end
comes from a header of X's answer, and a wrong one (a reset in the year 5138) would otherwise stop
intake for good, across restarts. A longer one is cut to 24 hours and logged; one already stored
longer (before this bound) ends 24 hours after it was set.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from socialbot.domain import MAX_RATE_WAIT
from socialbot.errors import RateLimited
from socialbot.store.db import driver_reason, transaction
from socialbot.store.models import RateHold

log = logging.getLogger(__name__)

# X's longest rate-limit window is its 24-hour quota: no true "wait until" is further away.
MAX_HOLD = MAX_RATE_WAIT


@dataclass(frozen=True, slots=True)
class Hold:
    network: str
    account: str
    endpoint: str
    until: datetime
    set_at: datetime
    reason: str

    def describe(self, zone: tzinfo = UTC) -> str:
        """One line: what is held, until when (in `zone`: the city's, for staff), and why."""
        until, since = self.until.astimezone(zone), self.set_at.astimezone(zone)
        return (
            f"{self.network.capitalize()} {self.endpoint} for account {self.account} is held until "
            f"{until:%Y-%m-%d %H:%M:%S} {until.tzname()} ({self.reason or 'rate limit'}, at "
            f"{since:%H:%M:%S} {since.tzname()}); no call is made before then"
        )


class Held(RateLimited):
    """A call not made: X asked us to wait, and the wait is not over."""

    def __init__(self, hold: Hold) -> None:
        super().__init__(hold.describe(), hold.until)
        self.hold = hold


def hold(
    engine: Engine,
    network: str,
    account: str,
    endpoint: str,
    until: datetime,
    now: datetime,
    reason: str,
) -> None:
    """No call to `endpoint` for `account` before `until` (a later hold replaces an earlier),
    nor for longer than `MAX_HOLD`."""
    if until > now + MAX_HOLD:
        log.warning(
            "event=hold_clamped account=%s endpoint=%s asked_until=%s until=%s reason=%r",
            account,
            endpoint,
            until.isoformat(),
            (now + MAX_HOLD).isoformat(),
            f"{reason}; X's longest window is 24 hours",
        )
        until = now + MAX_HOLD
    try:
        with transaction(engine) as session:
            row = session.get(RateHold, (network, account, endpoint), with_for_update=True)
            if row is None:
                row = RateHold(
                    platform=network, account=account, endpoint=endpoint, until=until, set_at=now
                )
            elif (standing := _hold(row).until) > until and standing > now:
                return  # a longer wait already stands
            row.until, row.set_at, row.reason = until, now, reason[:500]
            session.add(row)
    except SQLAlchemyError as exc:
        log.warning(
            "event=hold_not_saved account=%s endpoint=%s until=%s error=%r",
            account,
            endpoint,
            until.isoformat(),
            driver_reason(exc)[:300],
        )
        return
    log.info(
        "event=hold account=%s endpoint=%s until=%s reason=%r",
        account,
        endpoint,
        until.isoformat(),
        reason,
    )


def current(
    engine: Engine, network: str, account: str, endpoint: str, now: datetime
) -> Hold | None:
    """The hold on `network`'s `endpoint` for `account` still in force at `now`, if any."""
    with transaction(engine, commit=False) as session:
        row = session.get(RateHold, (network, account, endpoint))
        found = _hold(row) if row is not None else None
    return found if found is not None and found.until > now else None


def check(engine: Engine, network: str, account: str, endpoint: str, now: datetime) -> None:
    """Raise `Held` when `network`'s `endpoint` is held for `account` at `now`."""
    found = current(engine, network, account, endpoint, now)
    if found is not None:
        raise Held(found)


def in_force(engine: Engine, now: datetime) -> list[Hold]:
    """Every hold still in force, for `status`."""
    with transaction(engine, commit=False) as session:
        rows = session.exec(
            select(RateHold)
            .where(col(RateHold.until) > now)
            .order_by(col(RateHold.platform), col(RateHold.account), col(RateHold.endpoint))
        ).all()
        found = [_hold(row) for row in rows]
    return [one for one in found if one.until > now]


def _hold(row: RateHold) -> Hold:
    """The hold `row` stores, ending no later than `MAX_HOLD` after it was set."""
    until = min(row.until, row.set_at + MAX_HOLD)
    return Hold(row.platform, row.account, row.endpoint, until, row.set_at, row.reason)
