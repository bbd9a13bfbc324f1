"""The facts `/healthz` decides on (`web.health`), read from the database alone.

A load balancer asks every few seconds, so this is a few small queries, never `socialbot
status`'s full read: the accounts, the rate holds (small tables), the month's usage when a budget
is set, and for each queue (network, account) two ranges of the outbox's queue index
(`ix_outbox_queue`: network, account, state, next attempt): its newest send, its due posts.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Select, bindparam, case, func, or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from socialbot.config import INTAKE_ACCOUNT, Settings
from socialbot.metering import BILLED_NETWORKS, monthly_budget
from socialbot.store.db import MIGRATIONS, driver_reason
from socialbot.store.models import Account, OutboxMessage, OutboxState, RateHold
from socialbot.usage import NON_ESSENTIAL, month_of
from socialbot.web.health import HealthFacts, NetworkFacts

log = logging.getLogger(__name__)


@functools.cache
def _revisions() -> tuple[frozenset[str], frozenset[str]]:
    """The schema heads this version knows, and every revision it knows (read once: the files
    do not change under a running process)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    return frozenset(script.get_heads()), frozenset(r.revision for r in script.walk_revisions())


def schema_problem(connection: Connection, shown: str) -> str | None:
    """Why the schema is not the one this version serves from, saying what to run; None if it is."""
    current = MigrationContext.configure(connection).get_current_revision()
    heads, known = _revisions()
    if current is None:
        return (
            f"database {shown} has no socialbot tables yet: start the bot (`socialbot run` "
            "creates them) or run `socialbot db upgrade`"
        )
    if current in heads:
        return None
    if current in known:
        return (
            f"database {shown}: schema is behind this version (at {current}); run "
            "`socialbot db upgrade` (`socialbot run` does it too)"
        )
    return (
        f"database {shown}: at schema revision {current}, which this version does not know; "
        "upgrade socialbot (the web service) to the bot's version"
    )


def read_health_facts(engine: Engine, settings: Settings, now: datetime) -> HealthFacts:
    """What the database says of the bot's networks at `now`, or why it says nothing. /healthz
    answers anyone, so its words name no file, host or user: the journal gets the full line
    (each time the problem changes, not at every probe)."""
    shown = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            problem = schema_problem(connection, shown)
            if problem is not None:
                _journal(problem)
                return HealthFacts(problem.replace(shown, "(SOCIALBOT_DATABASE_URL)"))
            holding = _budget_holds(engine, settings, now)
            _journal(None)
            return HealthFacts(None, _networks(connection, now, holding))
    except SQLAlchemyError as exc:
        _journal(f"database {shown}: cannot read it ({driver_reason(exc, engine)})")
        return HealthFacts(
            f"database: cannot read it ({type(exc).__name__}; the web service's journal says "
            "more); check SOCIALBOT_DATABASE_URL and that the database (server) is there"
        )


_last_problem: list[str | None] = [None]


def _journal(problem: str | None) -> None:
    if problem is not None and problem != _last_problem[0]:
        log.warning("event=web_database_problem problem=%r", problem)
    _last_problem[0] = problem


def _budget_holds(engine: Engine, settings: Settings, now: datetime) -> bool:
    """The month's budget holds back non-essential replies (as `socialbot run` decides it)."""
    if settings.monthly_budget is None:
        return False  # no budget: nothing is held for it (and no need to sum the month)
    return monthly_budget(engine, settings, month_of(now)).holding_non_essential


def queues(connection: Connection) -> list[tuple[str, str]]:
    """Every (network, account) the outbox has seen, by hops along the queue index: the next
    network after the last, then each of its accounts after the last, one indexed row each. A
    GROUP BY over the index reads every row the outbox ever held (25 ms at 100k cases, most of
    a `/healthz`; this, under a millisecond: scripts/bench_web.py)."""
    found: list[tuple[str, str]] = []
    network = connection.execute(_FIRST_NETWORK).scalar()
    while network is not None:
        account = connection.execute(_FIRST_ACCOUNT, {"network": network}).scalar()
        while account is not None:
            found.append((network, account))
            account = connection.execute(
                _NEXT_ACCOUNT, {"network": network, "account": account}
            ).scalar()
        network = connection.execute(_NEXT_NETWORK, {"network": network}).scalar()
    return found


_platform, _account = col(OutboxMessage.platform), col(OutboxMessage.account)
_FIRST_NETWORK = select(_platform).order_by(_platform).limit(1)
_NEXT_NETWORK = (
    select(_platform).where(_platform > bindparam("network")).order_by(_platform).limit(1)
)
_FIRST_ACCOUNT = (
    select(_account).where(_platform == bindparam("network")).order_by(_account).limit(1)
)
_NEXT_ACCOUNT = (
    select(_account)
    .where(_platform == bindparam("network"), _account > bindparam("account"))
    .order_by(_account)
    .limit(1)
)


def _networks(connection: Connection, now: datetime, holding: bool) -> tuple[NetworkFacts, ...]:
    polls = dict(
        connection.execute(
            select(col(Account.platform), col(Account.polled_at)).where(
                col(Account.name) == INTAKE_ACCOUNT
            )
        ).all()
    )
    held: dict[tuple[str, str], datetime] = {
        (network, account): until
        for network, account, until in connection.execute(
            select(col(RateHold.platform), col(RateHold.account), func.max(col(RateHold.until)))
            .where(col(RateHold.until) > now)
            .group_by(col(RateHold.platform), col(RateHold.account))
        ).all()
    }
    sent: dict[str, datetime] = {}
    due: dict[str, tuple[int, datetime | None]] = {}
    # Queue by queue, each query a range of the queue index (network, account, state, next
    # attempt): a GROUP BY over the whole outbox would read every row ever sent.
    for network, account in queues(connection):
        last = connection.execute(
            select(col(OutboxMessage.sent_at))
            .where(
                col(OutboxMessage.platform) == network,
                col(OutboxMessage.account) == account,
                col(OutboxMessage.state) == OutboxState.SENT,
            )
            # The sent row scheduled last: the newest send, read from one row.
            .order_by(col(OutboxMessage.next_attempt_at).desc())
            .limit(1)
        ).scalar()
        if last is not None and (network not in sent or sent[network] < last):
            sent[network] = last
        if (network, account) in held:
            continue  # waiting out the network's limit is what it should do
        count, oldest = connection.execute(
            _due_query(network, account, now, holding and network in BILLED_NETWORKS)
        ).one()
        if count:
            had, had_oldest = due.get(network, (0, None))
            due[network] = (had + count, min(t for t in (had_oldest, oldest) if t is not None))
    names = sorted(set(polls) | set(sent) | set(due) | {n for n, _ in held})
    return tuple(
        NetworkFacts(
            network=name,
            polled=name in polls,
            last_poll=polls.get(name),
            last_send=sent.get(name),
            due=due.get(name, (0, None))[0],
            oldest_due=due.get(name, (0, None))[1],
            held_until=max((u for (n, _), u in held.items() if n == name), default=None),
        )
        for name in names
    )


def _due_query(
    network: str, account: str, now: datetime, budget_holds: bool
) -> Select[int, datetime]:
    """How many of the queue's posts are due now, and since when the oldest: what the sender
    would claim (`outbox.send_once`), and what it tried and failed to post. A post that failed is
    waiting since it was queued, not since its next try: back-off keeps that ahead of now (up to
    an hour between tries), and a sender failing every try for hours must not look healthy."""
    tried = col(OutboxMessage.attempts) > 0
    since = case((tried, col(OutboxMessage.created_at)), else_=col(OutboxMessage.next_attempt_at))
    query = select(func.count(), func.min(since)).where(
        col(OutboxMessage.platform) == network,
        col(OutboxMessage.account) == account,
        col(OutboxMessage.state) == OutboxState.PENDING,
        or_(col(OutboxMessage.next_attempt_at) <= now, tried),
        # A thread's later post waits for the one before it, which is counted itself.
        col(OutboxMessage.after_id).is_(None),
    )
    if budget_holds and account == INTAKE_ACCOUNT:
        query = query.where(col(OutboxMessage.template).not_in(sorted(NON_ESSENTIAL)))
    return query
