"""Read-side queries shared by the CLI, the demo and the tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import col, select

from socialbot.domain import CaseStatus
from socialbot.store.db import transaction
from socialbot.store.models import Case, CaseEvent, MentionRecord, OutboxMessage


@dataclass(frozen=True, slots=True)
class CaseDetail:
    case: Case
    mentions: list[MentionRecord]
    events: list[CaseEvent]
    replies: list[OutboxMessage]


def list_cases(
    engine: Engine,
    *,
    status: CaseStatus | None = None,
    category: str | None = None,
    limit: int | None = None,
) -> list[Case]:
    query = select(Case).order_by(col(Case.id))
    if status is not None:
        query = query.where(Case.status == status)
    if category is not None:
        query = query.where(Case.category == category)
    if limit is not None:
        query = query.limit(limit)
    with transaction(engine) as session:
        return list(session.exec(query).all())


def get_case(engine: Engine, case_id: int) -> CaseDetail | None:
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        if case is None:
            return None
        mentions = session.exec(
            select(MentionRecord)
            .where(MentionRecord.case_id == case_id)
            .order_by(col(MentionRecord.id))
        ).all()
        events = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(col(CaseEvent.id))
        ).all()
        replies = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.case_id == case_id)
            .order_by(col(OutboxMessage.id))
        ).all()
        return CaseDetail(case, list(mentions), list(events), list(replies))


def outbox_rows(engine: Engine) -> list[OutboxMessage]:
    with transaction(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())
