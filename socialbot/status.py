"""`socialbot status`: what an operator or comms lead needs to see at a glance, read from the
database alone (no network call, so it works while X is down). What X last said of each endpoint
(its failures, its rate limit) and the month's spend are what the adapter recorded as it called
(`socialbot.metering`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, case, func
from sqlmodel import Session, col, select

from socialbot import holds
from socialbot.broadcasts.storm import active
from socialbot.config import INTAKE_ACCOUNT
from socialbot.domain import InboxReason, InboxState
from socialbot.health import Failure, JobStatus, read_jobs
from socialbot.metering import BILLED_NETWORKS, EndpointStatus, read_endpoints
from socialbot.outbox import EXPIRED
from socialbot.pacing import Pace
from socialbot.store.db import transaction
from socialbot.store.models import (
    Account,
    Broadcast,
    BroadcastRun,
    BroadcastState,
    Case,
    CrmRequest,
    CrmState,
    InboxItem,
    OutboxMessage,
    OutboxState,
    RunState,
    TemplateFailure,
)
from socialbot.store.queries import OPEN_STATUSES
from socialbot.usage import NON_ESSENTIAL, BudgetState

UPCOMING_SHOWN = 5


@dataclass(frozen=True, slots=True)
class StormStatus:
    name: str
    hashtag: str
    since: datetime
    by: str


@dataclass(frozen=True, slots=True)
class QueueStatus:
    """One network account's outbox."""

    network: str
    account: str
    pending: int
    oldest_pending: datetime | None
    failed_last_hour: int
    last_sent: datetime | None


@dataclass(frozen=True, slots=True)
class PacedQueue:
    """A paced account's queue (SMS): what is due now, in its network's units (segments), how
    long that takes to send at its rate, and how many texts its rate made miss their deadline in
    the last day (failed, never sent late)."""

    network: str
    account: str
    due: int
    units: int
    pace: Pace
    expired_24h: int

    @property
    def drain(self) -> timedelta:
        return self.pace.duration(self.units)


@dataclass(frozen=True, slots=True)
class CrmStatus:
    """The requests sent to the city's Open311 CRM: how many wait to be sent (or for the CRM's
    id), how many it refused, the oldest still unsent, and when its word was last read."""

    queued: int
    awaiting_id: int  # accepted with a token; the request id comes later
    failed: int  # refused by the CRM: `cases list --crm-failed`
    oldest_unsent: datetime | None
    last_sync: datetime | None


@dataclass(frozen=True, slots=True)
class InboxStatus:
    """The messages waiting for staff (`socialbot inbox list`)."""

    by_reason: tuple[tuple[InboxReason, int], ...]  # the reasons with a message waiting
    oldest: datetime | None  # when the oldest waiting message came in
    priority: int  # storm posts: listed first

    @property
    def waiting(self) -> int:
        return sum(n for _, n in self.by_reason)


@dataclass(frozen=True, slots=True)
class UpcomingBroadcast:
    broadcast_id: int
    due_at: datetime
    what: str
    cron: str | None


@dataclass(frozen=True, slots=True)
class TemplateFailureStatus:
    at: datetime
    template: str
    lang: str
    problem: str


@dataclass(frozen=True, slots=True)
class Status:
    at: datetime
    database: str
    storm: StormStatus | None
    last_poll: datetime | None  # the most recent of every network's
    queues: tuple[QueueStatus, ...]
    upcoming: tuple[UpcomingBroadcast, ...]
    broadcasts_missed_24h: int
    broadcasts_failed_24h: int
    overdue_cases: int  # open cases past their SLA due time
    endpoints: tuple[EndpointStatus, ...] = ()
    budget: BudgetState | None = None  # this month's estimated X spend
    held_replies: int = 0  # non-essential replies waiting while the budget holds them
    # Replies sent as the built-in fallback text because their template failed, and the last one.
    template_fallbacks_24h: int = 0
    last_template_failure: TemplateFailureStatus | None = None
    jobs: tuple[JobStatus, ...] = ()  # the service's jobs that failed in the last day
    holds: tuple[holds.Hold, ...] = ()  # rate limits in force: no call before their end
    # Each network's intake account: when it was last polled (a network down shows here alone).
    polls: tuple[tuple[str, datetime | None], ...] = ()
    crm: CrmStatus | None = None  # None: no case was ever queued for an Open311 CRM
    inbox: InboxStatus = InboxStatus((), None, 0)
    paced: tuple[PacedQueue, ...] = ()  # the queues of the networks sent at a rate (SMS)

    @property
    def networks(self) -> tuple[str, ...]:
        """Every network the database has seen: its intake accounts, queues and endpoints."""
        seen = [n for n, _ in self.polls] + [q.network for q in self.queues]
        return tuple(dict.fromkeys(seen + [e.network for e in self.endpoints]))

    @property
    def job_failures_last_hour(self) -> int:
        return sum(j.failures_last_hour for j in self.jobs)

    @property
    def last_send(self) -> datetime | None:
        sent = [q.last_sent for q in self.queues if q.last_sent is not None]
        return max(sent, default=None)

    @property
    def failures_last_hour(self) -> int:
        return sum(e.failures_last_hour for e in self.endpoints)


def read_status(
    engine: Engine,
    now: datetime,
    *,
    budget: BudgetState | None = None,
    unsaved: Sequence[Failure] = (),
    paces: Mapping[str, Pace] | None = None,
) -> Status:
    """Everything `socialbot status` shows; `budget` is this month's (`metering.monthly_budget`),
    `unsaved` the failed job runs the service could not write to the database (`health`),
    `paces` the send rate of each paced network by its name (`app.paces`)."""
    hour_ago, day_ago = now - timedelta(hours=1), now - timedelta(days=1)
    with transaction(engine) as session:
        campaign = active(session)
        polls = tuple(
            (network, polled)
            for network, polled in session.exec(
                select(Account.platform, Account.polled_at)
                .where(Account.name == INTAKE_ACCOUNT)
                .order_by(col(Account.id))
            ).all()
        )
        last_poll = max((polled for _, polled in polls if polled is not None), default=None)
        channels = sorted(
            set(session.exec(select(OutboxMessage.platform, OutboxMessage.account)).all())
        )
        queues = []
        for network, account in channels:
            mine = and_(
                col(OutboxMessage.platform) == network, col(OutboxMessage.account) == account
            )
            pending, oldest = session.exec(
                select(func.count(), func.min(OutboxMessage.created_at)).where(
                    mine, col(OutboxMessage.state).in_([OutboxState.PENDING, OutboxState.SENDING])
                )
            ).one()
            failed = session.exec(
                select(func.count()).where(
                    mine,
                    OutboxMessage.state == OutboxState.FAILED,
                    col(OutboxMessage.created_at) >= hour_ago,
                )
            ).one()
            last_sent = session.exec(select(func.max(OutboxMessage.sent_at)).where(mine)).one()
            queues.append(QueueStatus(network, account, pending, oldest, failed, last_sent))
        upcoming = session.exec(
            select(Broadcast)
            .where(Broadcast.state == BroadcastState.SCHEDULED)
            .order_by(col(Broadcast.next_due_at))
            .limit(UPCOMING_SHOWN)
        ).all()
        problems = dict(
            session.exec(
                select(BroadcastRun.state, func.count())
                .where(col(BroadcastRun.fired_at) >= day_ago)
                .group_by(BroadcastRun.state)
            ).all()
        )
        overdue = session.exec(
            select(func.count()).where(
                col(Case.due_at) < now, col(Case.status).in_(list(OPEN_STATUSES))
            )
        ).one()
        failed_posts = session.exec(
            select(func.count(func.distinct(OutboxMessage.broadcast_run_id))).where(
                col(OutboxMessage.broadcast_run_id).is_not(None),
                OutboxMessage.state == OutboxState.FAILED,
                col(OutboxMessage.created_at) >= day_ago,
            )
        ).one()
        held = (
            session.exec(
                select(func.count()).where(
                    # What the budget holds: the billed networks' intake queues (`outbox_for`).
                    col(OutboxMessage.platform).in_(sorted(BILLED_NETWORKS)),
                    OutboxMessage.account == INTAKE_ACCOUNT,
                    OutboxMessage.state == OutboxState.PENDING,
                    col(OutboxMessage.template).in_(sorted(NON_ESSENTIAL)),
                )
            ).one()
            if budget is not None and budget.holding_non_essential
            else 0
        )
        fallbacks = session.exec(
            select(func.count()).where(col(TemplateFailure.at) >= day_ago)
        ).one()
        last_failure = session.exec(
            select(TemplateFailure).order_by(col(TemplateFailure.id).desc()).limit(1)
        ).first()
        last_template_failure = (
            TemplateFailureStatus(
                last_failure.at, last_failure.template, last_failure.lang, last_failure.problem
            )
            if last_failure is not None
            else None
        )
        crm = _crm_status(session)
        inbox = _inbox_status(session)
        paced = tuple(
            _paced_queue(session, network, account, pace, now)
            for network, account in channels
            if (pace := (paces or {}).get(network)) is not None
        )
    return Status(
        at=now,
        database=engine.url.render_as_string(hide_password=True),
        storm=StormStatus(campaign.name, campaign.hashtag, campaign.started_at, campaign.started_by)
        if campaign
        else None,
        last_poll=last_poll,
        queues=tuple(queues),
        upcoming=tuple(
            UpcomingBroadcast(b.id or 0, b.next_due_at or now, b.template or "text", b.cron)
            for b in upcoming
        ),
        broadcasts_missed_24h=problems.get(RunState.MISSED, 0),
        # Failed to render at their time, or with a post X refused or that missed its deadline.
        broadcasts_failed_24h=problems.get(RunState.FAILED, 0) + failed_posts,
        overdue_cases=overdue,
        endpoints=tuple(read_endpoints(engine, now)),
        budget=budget,
        held_replies=held,
        template_fallbacks_24h=fallbacks,
        last_template_failure=last_template_failure,
        jobs=tuple(read_jobs(engine, now, unsaved)),
        holds=tuple(holds.in_force(engine, now)),
        polls=polls,
        crm=crm,
        inbox=inbox,
        paced=paced,
    )


def _paced_queue(
    session: Session, network: str, account: str, pace: Pace, now: datetime
) -> PacedQueue:
    """The due rows by their text (an alert's ten thousand rows are a few texts: each measured
    once), and the rows dropped at their deadline in the last day."""
    mine = and_(col(OutboxMessage.platform) == network, col(OutboxMessage.account) == account)
    texts = session.exec(
        select(OutboxMessage.text, func.count())
        .where(
            mine,
            OutboxMessage.state == OutboxState.PENDING,
            col(OutboxMessage.next_attempt_at) <= now,
        )
        .group_by(col(OutboxMessage.text))
    ).all()
    expired = session.exec(
        select(func.count()).where(
            mine,
            OutboxMessage.state == OutboxState.FAILED,
            col(OutboxMessage.expires_at) >= now - timedelta(days=1),
            col(OutboxMessage.expires_at) <= now,
            col(OutboxMessage.last_error).startswith(EXPIRED),
        )
    ).one()
    return PacedQueue(
        network=network,
        account=account,
        due=sum(n for _, n in texts),
        units=sum(pace.units(text) * n for text, n in texts),
        pace=pace,
        expired_24h=expired,
    )


def _inbox_status(session: Session) -> InboxStatus:
    """One statement on `ix_inbox_queue (state, created_at)`: what waits, by reason."""
    rows = session.exec(
        select(
            InboxItem.reason,
            func.count(),
            func.min(InboxItem.created_at),
            func.sum(case((col(InboxItem.priority), 1), else_=0)),
        )
        .where(InboxItem.state == InboxState.OPEN)
        .group_by(col(InboxItem.reason))
    ).all()
    return InboxStatus(
        by_reason=tuple(
            sorted(
                ((InboxReason(reason), count) for reason, count, _, _ in rows),
                key=lambda pair: list(InboxReason).index(pair[0]),
            )
        ),
        oldest=min((oldest for _, _, oldest, _ in rows if oldest is not None), default=None),
        priority=sum(int(first or 0) for _, _, _, first in rows),
    )


def _crm_status(session: Session) -> CrmStatus | None:
    counts = dict(
        session.exec(select(CrmRequest.state, func.count()).group_by(col(CrmRequest.state))).all()
    )
    if not counts:
        return None
    unsent = [CrmState.PENDING, CrmState.SENDING]
    oldest = session.exec(
        select(func.min(CrmRequest.created_at)).where(col(CrmRequest.state).in_(unsent))
    ).one()
    last_sync = session.exec(select(func.max(CrmRequest.synced_at))).one()
    return CrmStatus(
        queued=sum(counts.get(state, 0) for state in unsent),
        awaiting_id=counts.get(CrmState.TOKEN, 0),
        failed=counts.get(CrmState.REJECTED, 0),
        oldest_unsent=oldest,
        last_sync=last_sync,
    )
