"""The database side of `socialbot.usage`: each call counted as it happens, and read back for
`socialbot usage`, `socialbot status` and the outbox's budget check.

A call is written when it is answered, in its own short transaction, so a crash loses at most the
count of the call in flight. The counts are per UTC day and endpoint (a year is a few thousand
rows); the failures behind `status`'s "failures in the last hour" are kept for 30 days.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, text
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from socialbot.config import Settings
from socialbot.health import JobHealth, one_line
from socialbot.store.db import conflict_insert, transaction
from socialbot.store.models import ApiEndpoint, ApiFailure, ApiUsage
from socialbot.usage import ApiCall, BudgetState, Charge, Prices, Usage, month_days, price_usage

log = logging.getLogger(__name__)

# The networks whose spend SOCIALBOT_MONTHLY_BUDGET caps: X's API is pay-per-use; Mastodon's
# costs nothing. Only their replies are ever held by the budget. SMS is billed too (its segments,
# `usage.Charge.SMS_SEGMENT`), but not under this budget: holding a text would save nothing on
# X's bill (see `usage`).
BILLED_NETWORKS: frozenset[str] = frozenset({"x"})

FAILURES_KEPT = timedelta(days=30)
# Calls kept in memory while the database refuses them: a day of polling at its busiest.
UNRECORDED_KEPT = 20_000


class DatabaseMeter:
    """A `usage.Meter` writing to the database. A write that fails never fails the call it
    counts: the call is kept in memory (the newest `UNRECORDED_KEPT`) and written with the next
    one the database takes, the failure logged and counted as a failed run of "meter" (`health`,
    shown by `status`), so spend is recorded late rather than lost, and never silently."""

    def __init__(self, engine: Engine, health: JobHealth | None = None) -> None:
        self.engine = engine
        self.health = health
        self.failures = 0  # writes that failed, since start
        self._unrecorded: deque[ApiCall] = deque(maxlen=UNRECORDED_KEPT)
        self._lock = threading.Lock()  # the poll and the send count from their own threads

    @property
    def unrecorded(self) -> int:
        """Calls made but not yet in the database."""
        with self._lock:
            return len(self._unrecorded)

    def record(self, call: ApiCall) -> None:
        with self._lock:
            self._unrecorded.append(call)
            batch = list(self._unrecorded)
            try:
                with transaction(self.engine) as session:
                    _without_waiting_for_the_disk(session)
                    for each in batch:
                        _record(session, each)
            except Exception as exc:  # counting must never fail the call it counts
                self.failures += 1
                error = one_line(exc)
                log.error(
                    "event=meter_failed endpoint=%r unrecorded=%d failures=%d error=%r",
                    call.endpoint,
                    len(self._unrecorded),
                    self.failures,
                    error,
                )
                failed = exc
            else:
                if len(batch) > 1:
                    log.info("event=meter_caught_up calls=%d", len(batch))
                self._unrecorded.clear()
                return
        if self.health is not None:  # outside the lock: it writes to the database too
            self.health.failed("meter", failed)


def _without_waiting_for_the_disk(session: Session) -> None:
    """On PostgreSQL, the meter's commit does not wait for its WAL to reach the disk
    (`synchronous_commit` off for this transaction alone): a count is written every call, five
    a Bluesky page, and the flush was most of each. Only a crash of the database server itself
    (not of socialbot) can lose the last fraction of a second of counts, never a mention, a
    reply or a case, whose transactions still wait for the disk."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_ASYNC_COMMIT)


_ASYNC_COMMIT = text("SET LOCAL synchronous_commit TO OFF")


def _record(session: Session, call: ApiCall) -> None:
    _count(session, call)
    _remember(session, call)
    if not call.ok:
        session.add(
            ApiFailure(
                at=call.at,
                platform=call.network,
                account=call.account,
                endpoint=call.endpoint,
                status=call.status,
                error=call.error or "",
            )
        )
        session.execute(delete(ApiFailure).where(col(ApiFailure.at) < call.at - FAILURES_KEPT))


_USAGE_KEY = ("day", "platform", "account", "endpoint", "charge")
_ENDPOINT_KEY = ("platform", "account", "endpoint")


@functools.cache
def _count_statement(dialect: str) -> Any:
    """The upsert of a call into `api_usage`, its values bound at execution: built and
    compiled once a process, not at every call (a Bluesky page is five calls)."""
    table = ApiUsage.__table__  # type: ignore[attr-defined]
    insert = conflict_insert(dialect, ApiUsage)
    statement = insert.values(
        {name: bindparam(name) for name in (*_USAGE_KEY, "calls", "errors", "units")}
    )
    return statement.on_conflict_do_update(
        index_elements=list(_USAGE_KEY),
        set_={
            "calls": table.c.calls + statement.excluded.calls,
            "errors": table.c.errors + statement.excluded.errors,
            "units": table.c.units + statement.excluded.units,
        },
    )


def _count(session: Session, call: ApiCall) -> None:
    session.execute(
        _count_statement(session.get_bind().dialect.name),
        {
            "day": call.at.astimezone(UTC).date(),
            "platform": call.network,
            "account": call.account,
            "endpoint": call.endpoint,
            "charge": call.charge.value if call.charge and call.ok else "",
            "calls": 1,
            "errors": 0 if call.ok else 1,
            "units": call.units if call.ok else 0,
        },
    )


@functools.cache
def _remember_statement(dialect: str, columns: tuple[str, ...]) -> Any:
    """The upsert of an endpoint's last answer setting `columns`, built once for each set."""
    insert = conflict_insert(dialect, ApiEndpoint)
    statement = insert.values({name: bindparam(name) for name in (*_ENDPOINT_KEY, *columns)})
    return statement.on_conflict_do_update(
        index_elements=list(_ENDPOINT_KEY),
        set_={name: getattr(statement.excluded, name) for name in columns},
    )


def _remember(session: Session, call: ApiCall) -> None:
    values: dict[str, Any] = {"last_status": call.status}
    if call.ok:
        values["last_ok_at"] = call.at
    else:
        values["last_error"], values["last_error_at"] = call.error, call.at
    if call.budget is not None:
        values["rate_limit"] = call.budget.limit
        values["rate_remaining"] = call.budget.remaining
        values["rate_reset_at"] = call.budget.reset_at
    statement = _remember_statement(session.get_bind().dialect.name, tuple(values))
    session.execute(
        statement,
        {"platform": call.network, "account": call.account, "endpoint": call.endpoint, **values},
    )


def read_usage(engine: Engine, month: str, prices: Prices) -> list[Usage]:
    """Every endpoint's calls in `month` (`YYYY-MM`, UTC), priced."""
    first, following = month_days(month)
    with transaction(engine) as session:
        # Six columns: more than sqlmodel's `select` types, so SQLAlchemy's own.
        rows = session.execute(
            sql_select(
                col(ApiUsage.platform),
                col(ApiUsage.account),
                col(ApiUsage.endpoint),
                col(ApiUsage.charge),
                func.sum(ApiUsage.calls),
                func.sum(ApiUsage.errors),
                func.sum(ApiUsage.units),
            )
            .where(col(ApiUsage.day) >= first, col(ApiUsage.day) < following)
            .group_by(
                col(ApiUsage.platform),
                col(ApiUsage.account),
                col(ApiUsage.endpoint),
                col(ApiUsage.charge),
            )
        ).all()
    return price_usage(
        (
            (network, account, endpoint, Charge(charge) if charge else None, calls, errors, units)
            for network, account, endpoint, charge, calls, errors, units in rows
        ),
        prices,
    )


def budget_state(
    engine: Engine, month: str, prices: Prices, budget: float | None, reserve_percent: float
) -> BudgetState:
    spent = sum(u.spend for u in read_usage(engine, month, prices) if u.network in BILLED_NETWORKS)
    return BudgetState(spent=spent, budget=budget, reserve_percent=reserve_percent)


def monthly_budget(engine: Engine, settings: Settings, month: str) -> BudgetState:
    """`month`'s spend, priced and weighed as the settings say."""
    return budget_state(
        engine, month, settings.prices, settings.monthly_budget, settings.budget_reserve_percent
    )


@dataclass(frozen=True, slots=True)
class EndpointStatus:
    """One endpoint of one account, as `status` shows it."""

    network: str
    account: str
    endpoint: str
    last_ok_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    failures_last_hour: int
    rate_limit: int | None
    rate_remaining: int | None  # None: not reported, or its window has reset since
    rate_reset_at: datetime | None


def read_endpoints(engine: Engine, now: datetime) -> list[EndpointStatus]:
    with transaction(engine) as session:
        endpoints = session.exec(
            select(ApiEndpoint).order_by(
                col(ApiEndpoint.platform), col(ApiEndpoint.account), col(ApiEndpoint.endpoint)
            )
        ).all()
        failures = {
            (network, account, endpoint): count
            for network, account, endpoint, count in session.exec(
                select(ApiFailure.platform, ApiFailure.account, ApiFailure.endpoint, func.count())
                .where(col(ApiFailure.at) >= now - timedelta(hours=1))
                .group_by(
                    col(ApiFailure.platform), col(ApiFailure.account), col(ApiFailure.endpoint)
                )
            ).all()
        }
    shown = []
    for row in endpoints:
        window_open = row.rate_reset_at is not None and row.rate_reset_at > now
        shown.append(
            EndpointStatus(
                network=row.platform,
                account=row.account,
                endpoint=row.endpoint,
                last_ok_at=row.last_ok_at,
                last_error=row.last_error,
                last_error_at=row.last_error_at,
                failures_last_hour=failures.get((row.platform, row.account, row.endpoint), 0),
                rate_limit=row.rate_limit,
                rate_remaining=row.rate_remaining if window_open else None,
                rate_reset_at=row.rate_reset_at if window_open else None,
            )
        )
    return shown
