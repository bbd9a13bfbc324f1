"""`/metrics`: the bot's numbers in Prometheus' text format, read from the database at scrape time.

The bot is another process, so nothing is counted here: a `prometheus_client` Collector runs a
few GROUP BY queries over indexed columns when Prometheus scrapes (the totals are counters, since
the tables only grow: mentions and cases are never deleted, an outbox row's state only moves
forward). A scrape's statements do not grow with the number of cases (`tests/web/
test_metrics.py` counts them), only with the queues that hold waiting posts.

    socialbot_database_up                                     1, or 0 (and nothing else)
    socialbot_mentions_total{network,outcome}                 mentions handled, by outcome
    socialbot_cases_opened_total{network}                     cases opened
    socialbot_cases{status}                                   cases now in each status
    socialbot_replies_total{network,account,outcome}          posts sent / failed (replies and
                                                              broadcasts)
    socialbot_queue_posts{network,account,state}              posts pending / sending
    socialbot_oldest_waiting_reply_age_seconds{network,account}
    socialbot_poll_lag_seconds{network}                       since the last successful poll
    socialbot_rate_limit_remaining{network,account,endpoint}  calls left in the open window
    socialbot_spend_this_month_dollars{network}               the month's estimated spend (UTC)
    socialbot_monthly_budget_dollars                          SOCIALBOT_MONTHLY_BUDGET, if set
    socialbot_inbox_waiting{reason}                           messages waiting for staff
    socialbot_inbox_oldest_seconds                            the oldest's wait; 0 when none
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from socialbot.config import INTAKE_ACCOUNT, Settings
from socialbot.domain import CaseStatus, InboxReason, InboxState
from socialbot.metering import read_endpoints, read_usage
from socialbot.store.db import driver_reason
from socialbot.store.models import (
    Account,
    Case,
    InboxItem,
    MentionRecord,
    OutboxMessage,
    OutboxState,
)
from socialbot.usage import month_of

log = logging.getLogger(__name__)

WAITING = (OutboxState.PENDING, OutboxState.SENDING)
DONE = (OutboxState.SENT, OutboxState.FAILED)


class DatabaseCollector(Collector):
    """Every metric, read from the database when collected."""

    def __init__(self, engine: Engine, settings: Settings, clock: Callable[[], datetime]) -> None:
        self.engine, self.settings, self.clock = engine, settings, clock

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "socialbot_database_up", "1 when the database answered this scrape, else 0."
        )
        now = self.clock()
        try:
            with self.engine.connect() as connection:
                metrics = list(_from_tables(connection, now))
            metrics += _from_metering(self.engine, self.settings, now)
        except SQLAlchemyError as exc:
            log.warning("event=metrics_unread error=%r", driver_reason(exc, self.engine)[:300])
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from metrics


def render(engine: Engine, settings: Settings, clock: Callable[[], datetime]) -> bytes:
    """One scrape's body (`prometheus_client.CONTENT_TYPE_LATEST`)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(engine, settings, clock))
    return generate_latest(registry)


def _from_tables(connection: Connection, now: datetime) -> Iterator[Metric]:
    mentions = CounterMetricFamily(
        "socialbot_mentions",
        "Mentions handled, by network and outcome.",
        labels=["network", "outcome"],
    )
    for network, outcome, count in connection.execute(
        select(col(MentionRecord.platform), col(MentionRecord.outcome), func.count())
        .group_by(col(MentionRecord.platform), col(MentionRecord.outcome))
        .order_by(col(MentionRecord.platform), col(MentionRecord.outcome))
    ).all():
        mentions.add_metric([network, str(outcome)], count)
    yield mentions

    opened = CounterMetricFamily(
        "socialbot_cases_opened", "Cases opened, by the network they came from.", labels=["network"]
    )
    for network, count in connection.execute(
        select(col(Case.platform), func.count())
        .group_by(col(Case.platform))
        .order_by(col(Case.platform))
    ).all():
        opened.add_metric([network], count)
    yield opened

    by_status = dict(
        connection.execute(select(col(Case.status), func.count()).group_by(col(Case.status))).all()
    )
    cases = GaugeMetricFamily("socialbot_cases", "Cases now in each status.", labels=["status"])
    for status in CaseStatus:
        cases.add_metric([status.value], by_status.get(status, 0))
    yield cases

    replies = CounterMetricFamily(
        "socialbot_replies",
        "Posts (replies and broadcasts) sent or failed for good, by network and account.",
        labels=["network", "account", "outcome"],
    )
    queue = GaugeMetricFamily(
        "socialbot_queue_posts",
        "Posts waiting in the outbox (pending) or being sent (sending).",
        labels=["network", "account", "state"],
    )
    counts: dict[tuple[str, str], dict[OutboxState, int]] = {}
    # One pass over the queue index (network, account, state, next attempt): no table read.
    for network, account, state, count in connection.execute(
        select(
            col(OutboxMessage.platform),
            col(OutboxMessage.account),
            col(OutboxMessage.state),
            func.count(),
        ).group_by(
            col(OutboxMessage.platform), col(OutboxMessage.account), col(OutboxMessage.state)
        )
    ).all():
        counts.setdefault((network, account), {})[OutboxState(state)] = count
    for (network, account), states in sorted(counts.items()):
        for state in DONE:
            replies.add_metric([network, account, state.value], states.get(state, 0))
        for state in WAITING:
            queue.add_metric([network, account, state.value], states.get(state, 0))
    yield replies
    yield queue

    oldest = GaugeMetricFamily(
        "socialbot_oldest_waiting_reply_age_seconds",
        "How long the oldest post still waiting (pending or sending) has waited; 0 when none.",
        labels=["network", "account"],
    )
    waiting: dict[tuple[str, str], datetime | None] = {}
    for key, states in counts.items():
        if any(states.get(state) for state in WAITING):
            # The queue's own range of its index, not a GROUP BY over every row ever sent.
            waiting[key] = connection.execute(
                select(func.min(col(OutboxMessage.created_at))).where(
                    col(OutboxMessage.platform) == key[0],
                    col(OutboxMessage.account) == key[1],
                    col(OutboxMessage.state).in_(WAITING),
                )
            ).scalar()
    for key in sorted(counts):
        at = waiting.get(key)
        oldest.add_metric(list(key), max((now - at).total_seconds(), 0.0) if at else 0.0)
    yield oldest

    lag = GaugeMetricFamily(
        "socialbot_poll_lag_seconds",
        "Seconds since the network's last successful poll (intake account); absent before "
        "the first.",
        labels=["network"],
    )
    for network, polled in connection.execute(
        select(col(Account.platform), col(Account.polled_at))
        .where(col(Account.name) == INTAKE_ACCOUNT)
        .order_by(col(Account.platform))
    ).all():
        if polled is not None:
            lag.add_metric([network], max((now - polled).total_seconds(), 0.0))
    yield lag

    # One statement on `ix_inbox_queue (state, created_at)`: the open range of the index only,
    # however many messages staff have closed.
    open_items = {
        InboxReason(reason): (count, first)
        for reason, count, first in connection.execute(
            select(col(InboxItem.reason), func.count(), func.min(col(InboxItem.created_at)))
            .where(col(InboxItem.state) == InboxState.OPEN)
            .group_by(col(InboxItem.reason))
        ).all()
    }
    inbox = GaugeMetricFamily(
        "socialbot_inbox_waiting",
        "Messages waiting for staff in the inbox, by why they are there.",
        labels=["reason"],
    )
    for reason in InboxReason:
        inbox.add_metric([reason.value], open_items.get(reason, (0, None))[0])
    yield inbox
    firsts = [first for _, first in open_items.values() if first is not None]
    inbox_oldest = GaugeMetricFamily(
        "socialbot_inbox_oldest_seconds",
        "How long the oldest message still waiting for staff has waited; 0 when none.",
    )
    inbox_oldest.add_metric([], max((now - min(firsts)).total_seconds(), 0.0) if firsts else 0.0)
    yield inbox_oldest


def _from_metering(engine: Engine, settings: Settings, now: datetime) -> list[Metric]:
    remaining = GaugeMetricFamily(
        "socialbot_rate_limit_remaining",
        "Calls the network's last answer said are left in the current window (while it is open).",
        labels=["network", "account", "endpoint"],
    )
    for endpoint in read_endpoints(engine, now):
        if endpoint.rate_remaining is not None:
            remaining.add_metric(
                [endpoint.network, endpoint.account, endpoint.endpoint], endpoint.rate_remaining
            )
    spend = GaugeMetricFamily(
        "socialbot_spend_this_month_dollars",
        "This month's estimated API spend (UTC month), by network.",
        labels=["network"],
    )
    by_network: dict[str, float] = {}
    for usage in read_usage(engine, month_of(now), settings.prices):
        by_network[usage.network] = by_network.get(usage.network, 0.0) + usage.spend
    for network, dollars in sorted(by_network.items()):
        spend.add_metric([network], dollars)
    metrics: list[Metric] = [remaining, spend]
    if settings.monthly_budget is not None:
        budget = GaugeMetricFamily(
            "socialbot_monthly_budget_dollars", "SOCIALBOT_MONTHLY_BUDGET: the month's API budget."
        )
        budget.add_metric([], settings.monthly_budget)
        metrics.append(budget)
    return metrics
