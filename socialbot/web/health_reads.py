"""The facts `/healthz` decides on (`web.health`), read from the database alone.

A load balancer asks every few seconds, so this is five small queries, each on an index or a
small table (accounts, rate_holds, api_usage for the month when a budget is set), never
`socialbot status`'s full read: the due posts come from the outbox's queue index
(`ix_outbox_queue`: network, account, state, next attempt), the last send per network from the
same index's sent rows.
"""

from __future__ import annotations

import functools
from datetime import datetime

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, and_, func, not_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from socialbot.config import INTAKE_ACCOUNT, Settings
from socialbot.metering import BILLED_NETWORKS, monthly_budget
from socialbot.store.db import MIGRATIONS, driver_reason
from socialbot.store.models import Account, OutboxMessage, OutboxState, RateHold
from socialbot.usage import NON_ESSENTIAL, month_of
from socialbot.web.health import HealthFacts, NetworkFacts


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
    """What the database says of the bot's networks at `now`, or why it says nothing."""
    shown = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            problem = schema_problem(connection, shown)
            if problem is not None:
                return HealthFacts(problem)
            holding = _budget_holds(engine, settings, now)
            return HealthFacts(None, _networks(connection, now, holding))
    except SQLAlchemyError as exc:
        return HealthFacts(
            f"database {shown}: cannot read it ({driver_reason(exc, engine)}); check "
            "SOCIALBOT_DATABASE_URL and that the database (server) is there"
        )


def _budget_holds(engine: Engine, settings: Settings, now: datetime) -> bool:
    """The month's budget holds back non-essential replies (as `socialbot run` decides it)."""
    if settings.monthly_budget is None:
        return False  # no budget: nothing is held for it (and no need to sum the month)
    return monthly_budget(engine, settings, month_of(now)).holding_non_essential


def _networks(connection: Connection, now: datetime, holding: bool) -> tuple[NetworkFacts, ...]:
    polls = dict(
        connection.execute(
            select(col(Account.platform), col(Account.polled_at)).where(
                col(Account.name) == INTAKE_ACCOUNT
            )
        ).all()
    )
    sent = dict(
        connection.execute(
            select(col(OutboxMessage.platform), func.max(col(OutboxMessage.sent_at)))
            .where(col(OutboxMessage.state) == OutboxState.SENT)
            .group_by(col(OutboxMessage.platform))
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
    due_query = select(
        col(OutboxMessage.platform),
        col(OutboxMessage.account),
        func.count(),
        func.min(col(OutboxMessage.next_attempt_at)),
    ).where(
        col(OutboxMessage.state) == OutboxState.PENDING,
        col(OutboxMessage.next_attempt_at) <= now,
        # A thread's later post waits for the one before it, which is counted itself.
        col(OutboxMessage.after_id).is_(None),
    )
    if holding:
        due_query = due_query.where(
            not_(
                and_(
                    col(OutboxMessage.platform).in_(sorted(BILLED_NETWORKS)),
                    col(OutboxMessage.account) == INTAKE_ACCOUNT,
                    col(OutboxMessage.template).in_(sorted(NON_ESSENTIAL)),
                )
            )
        )
    due: dict[str, tuple[int, datetime | None]] = {}
    for network, account, count, oldest in connection.execute(
        due_query.group_by(col(OutboxMessage.platform), col(OutboxMessage.account))
    ).all():
        if (network, account) in held:
            continue  # waiting out the network's limit is what it should do
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
