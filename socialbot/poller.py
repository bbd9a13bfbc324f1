"""The poll job: fetch new mentions, decide, and record cases and replies, one page per transaction.

X serves the newest page first; we process the oldest page first, and the cursor (`since_id`)
moves in the same transaction as the mentions it covers. So a crash at any point either leaves a
page wholly committed (cursor past it) or wholly absent (it is fetched again next time), and the
unique (platform, post_id) index turns any re-fetch into a no-op.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, and_, func, or_
from sqlmodel import Session, col, select

from socialbot.domain import CaseStatus, Mention, MentionOutcome, ReferenceType
from socialbot.intake import Decision, IntakeRules, Standing, ThreadCase, decide
from socialbot.platforms.base import Malformed, MentionPage, Platform
from socialbot.replies import Replies, ReplyContext
from socialbot.store.db import transaction
from socialbot.store.models import (
    Account,
    BlockedAuthor,
    Case,
    CaseEvent,
    MentionRecord,
    OutboxMessage,
)

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
INTAKE_ACTOR = "socialbot"


@dataclass(frozen=True, slots=True)
class Handled:
    """One mention's fate, for the poll report and the demo table."""

    post_id: str
    author: str | None
    decision: Decision
    case_id: int | None
    reply_text: str | None


@dataclass(slots=True)
class PollReport:
    pages: int = 0
    fetched: int = 0
    already_seen: int = 0
    malformed: int = 0
    handled: list[Handled] = field(default_factory=list)

    @property
    def cases_opened(self) -> int:
        return sum(1 for h in self.handled if h.case_id is not None)

    @property
    def replies_queued(self) -> int:
        return sum(1 for h in self.handled if h.reply_text is not None)


@dataclass(frozen=True, slots=True)
class Intake:
    """What the poll job works with, composed once at start-up."""

    engine: Engine
    platform: Platform
    replies: Replies
    rules_for: Callable[[str], IntakeRules]  # own user id → rules
    account: str = "intake"
    case_url: str | None = None
    backfill: timedelta = timedelta(hours=24)


def ensure_account(
    engine: Engine, platform: Platform, account: str, user_id: str | None
) -> Account:
    """The account row, with its user id: from settings, from the database, else asked once."""
    with transaction(engine) as session:
        row = session.exec(
            select(Account).where(Account.platform == platform.name, Account.name == account)
        ).first()
        if row is None:
            row = Account(platform=platform.name, name=account)
            session.add(row)
        if user_id is not None:
            row.user_id = user_id
    if row.user_id is None:
        looked_up = platform.own_user_id()  # outside the transaction: no lock held on the network
        with transaction(engine) as session:
            row = session.exec(
                select(Account).where(Account.platform == platform.name, Account.name == account)
            ).one()
            row.user_id = looked_up
    return row


def poll_once(
    intake: Intake, now: Clock, *, user_id: str | None = None, dry_run: bool = False
) -> PollReport:
    """Fetch every new mention and handle it. `dry_run`: decide and report, write nothing."""
    account = ensure_account(intake.engine, intake.platform, intake.account, user_id)
    assert account.user_id is not None
    rules = intake.rules_for(account.user_id)
    if account.since_id is None:
        # The account's first poll: X returns up to 800 past mentions. Older than the backfill
        # window they are recorded, not filed or answered: no reply to a post from last month.
        rules = dataclasses.replace(rules, not_before=now() - intake.backfill)
    pages = intake.platform.fetch_mentions(account.user_id, account.since_id)
    report = PollReport(pages=len(pages))
    for page in reversed(pages):  # oldest page first
        report.fetched += len(page.mentions)
        with transaction(intake.engine, commit=not dry_run) as session:
            _handle_page(session, intake, rules, page, now(), report)
    log.info(
        "event=poll pages=%d fetched=%d new=%d seen=%d malformed=%d cases=%d replies=%d dry_run=%s",
        report.pages,
        report.fetched,
        len(report.handled),
        report.already_seen,
        report.malformed,
        report.cases_opened,
        report.replies_queued,
        dry_run,
    )
    return report


def _handle_page(
    session: Session,
    intake: Intake,
    rules: IntakeRules,
    page: MentionPage,
    now: datetime,
    report: PollReport,
) -> None:
    platform = intake.platform.name
    ids = [m.post_id for m in page.mentions] + [b.post_id for b in page.malformed if b.post_id]
    seen = set(
        session.exec(
            select(MentionRecord.post_id).where(
                MentionRecord.platform == platform,
                MentionRecord.post_id.in_(ids),  # type: ignore[attr-defined]
            )
        ).all()
    )
    for bad in page.malformed:
        if bad.post_id in seen:
            continue
        _record_malformed(session, intake, bad, now)
        report.malformed += 1
    for mention in sorted(page.mentions, key=lambda m: m.sort_key):
        if mention.post_id in seen:
            report.already_seen += 1
            continue
        seen.add(mention.post_id)
        try:
            with session.begin_nested():  # a savepoint: one bad mention never sinks its page
                handled = _handle(session, intake, rules, mention, now)
        except Exception as exc:
            log.exception("event=mention_failed post_id=%s", mention.post_id)
            problem = f"could not be handled: {type(exc).__name__}: {exc}"
            bad = Malformed(post_id=mention.post_id, problem=problem[:1000], raw=mention.raw)
            with session.begin_nested():
                _record_malformed(session, intake, bad, now)
            report.malformed += 1
            continue
        report.handled.append(handled)
    newest = page.newest_id
    if newest is not None:
        account = session.exec(
            select(Account).where(Account.platform == platform, Account.name == intake.account)
        ).one()
        if account.since_id is None or int(newest) > int(account.since_id):
            account.since_id = newest
        account.polled_at = now


def _handle(
    session: Session, intake: Intake, rules: IntakeRules, mention: Mention, now: datetime
) -> Handled:
    decision = decide(
        mention, rules, _thread_case(session, mention), _standing(session, mention, now)
    )
    record = MentionRecord(
        platform=mention.platform,
        account=intake.account,
        post_id=mention.post_id,
        author_id=mention.author_id,
        author_username=mention.author_username,
        text=mention.text,
        lang=mention.lang,
        conversation_id=mention.conversation_id,
        created_at=mention.created_at,
        received_at=now,
        outcome=decision.outcome,
        detail=decision.detail,
        raw=mention.raw,
    )
    case: Case | None
    if decision.follow_up_case is not None:
        case = _apply_follow_up(session, mention, decision, decision.follow_up_case, now)
    else:
        case = _open_case(session, mention, decision, now) if decision.opens_case else None
    record.case_id = case.id if case else None
    session.add(record)
    session.flush()
    reply_text = None
    if decision.reply is not None:
        context = ReplyContext(
            case=case.id if case else None,
            category=decision.category.name(decision.lang)
            if decision.category
            else (case.category if case else None),
            status=case.status.value if case else None,
            hashtags=tuple(rules.catalog.featured_hashtags(decision.lang)),
            case_url=intake.case_url.replace("{case}", str(case.id))
            if intake.case_url and case
            else None,
        )
        reply_text = intake.replies.render(decision.reply, decision.lang, context)
        if rules.storm is not None and case is not None:
            category = rules.catalog.find(case.category)
            priority = category.priority if category else None
            if intake.replies.gets_storm_line(decision.reply, priority):
                reply_text = intake.replies.with_storm_line(reply_text, decision.lang, rules.storm)
        session.add(
            OutboxMessage(
                platform=mention.platform,
                account=intake.account,
                dedupe_key=reply_key(mention.platform, mention.post_id),
                in_reply_to_post_id=mention.post_id,
                mention_id=record.id,
                case_id=case.id if case else None,
                template=decision.reply.value,
                lang=decision.lang,
                text=reply_text,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return Handled(
        mention.post_id, mention.author_username, decision, case.id if case else None, reply_text
    )


def _thread_case(session: Session, mention: Mention) -> ThreadCase | None:
    """The case whose thread `mention` replies in: a reply to one of our replies, to the post that
    opened the case, or anywhere in that post's conversation. None for a post starting a thread."""
    replied_to = [r.post_id for r in mention.references if r.type is ReferenceType.REPLIED_TO]
    if not replied_to:
        return None
    case_id = session.exec(
        select(OutboxMessage.case_id).where(
            col(OutboxMessage.posted_id).in_(replied_to), col(OutboxMessage.case_id).is_not(None)
        )
    ).first()
    if case_id is None:
        case_id = session.exec(
            select(Case.id).where(
                Case.platform == mention.platform, col(Case.mention_post_id).in_(replied_to)
            )
        ).first()
    if case_id is None and mention.conversation_id:
        case_id = session.exec(
            select(MentionRecord.case_id)
            .where(
                MentionRecord.platform == mention.platform,
                MentionRecord.conversation_id == mention.conversation_id,
                col(MentionRecord.outcome).in_(
                    [MentionOutcome.CASE_OPENED, MentionOutcome.NEEDS_LOCATION]
                ),
            )
            .order_by(col(MentionRecord.id).desc())
        ).first()
    # Locked now, not when the follow-up is applied: staff must not change the case in between.
    case = session.get(Case, case_id, with_for_update=True) if case_id is not None else None
    if case is None or case.id is None:
        return None
    return ThreadCase(
        case.id, case.status, case.author_id, case.category, case.lang, located=case.lat is not None
    )


def _standing(session: Session, mention: Mention, now: datetime) -> Standing:
    """Whether staff blocked the author, and how many cases they opened in the last 24 hours."""
    handle = (mention.author_username or "").lower()
    # A block follows the account id once known (handles change, and freed ones are taken by
    # others); until then the handle, and the first post seen fills the id in.
    block = session.exec(
        select(BlockedAuthor).where(
            BlockedAuthor.platform == mention.platform,
            or_(
                col(BlockedAuthor.user_id) == mention.author_id,
                and_(col(BlockedAuthor.user_id).is_(None), col(BlockedAuthor.username) == handle),
            ),
        )
    ).first()
    if block is not None and block.user_id is None:
        block.user_id = mention.author_id
        session.add(block)
    day_ago = now - timedelta(hours=24)
    cases_today = session.exec(
        select(func.count())
        .select_from(Case)
        .where(
            Case.platform == mention.platform,
            Case.author_id == mention.author_id,
            Case.created_at >= day_ago,
        )
    ).one()
    told = session.exec(
        select(MentionRecord.id).where(
            MentionRecord.platform == mention.platform,
            MentionRecord.author_id == mention.author_id,
            MentionRecord.received_at >= day_ago,
            MentionRecord.outcome == MentionOutcome.LIMITED,
        )
    ).first()
    return Standing(
        blocked=block is not None, cases_today=cases_today, told_limit_today=told is not None
    )


def _apply_follow_up(
    session: Session, mention: Mention, decision: Decision, case_id: int, now: datetime
) -> Case:
    case = session.get(Case, case_id, with_for_update=True)
    assert case is not None and case.id is not None
    before = case.status
    location = decision.location
    if location is not None and case.lat is None:
        case.lat, case.lon = location.point.lat, location.point.lon
        case.location_source = location.source.value
        if case.status is CaseStatus.NEEDS_LOCATION:
            case.status = CaseStatus.NEW  # else staff already moved it on; keep their status
    if decision.photo_urls:
        case.photo_urls = [*case.photo_urls, *decision.photo_urls]  # a new list: JSON columns
    case.updated_at = now
    who = f"@{mention.author_username}" if mention.author_username else mention.author_id
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor=who,
            from_status=before,
            to_status=case.status,
            note=f"{decision.detail.split(': ', 1)[-1]}: {mention.text}",
        )
    )
    return case


def reply_key(platform: str, post_id: str) -> str:
    """The outbox dedupe key of the one reply a post may ever get."""
    return f"reply:{platform}:{post_id}"


def _open_case(session: Session, mention: Mention, decision: Decision, now: datetime) -> Case:
    assert decision.category is not None
    location = decision.location
    status = CaseStatus.NEW if location is not None else CaseStatus.NEEDS_LOCATION
    case = Case(
        category=decision.category.key,
        department=decision.category.department,
        priority=decision.category.priority.value,
        status=status,
        lat=location.point.lat if location else None,
        lon=location.point.lon if location else None,
        location_source=location.source.value if location else "none",
        place_name=mention.place.full_name if mention.place else None,
        photo_urls=list(decision.photo_urls),
        lang=decision.lang,
        platform=mention.platform,
        mention_post_id=mention.post_id,
        author_id=mention.author_id,
        author_username=mention.author_username,
        description=mention.text,
        created_at=now,
        updated_at=now,
    )
    session.add(case)
    session.flush()  # the case number goes into the reply
    assert case.id is not None
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            actor=INTAKE_ACTOR,
            from_status=None,
            to_status=status,
            note=decision.detail,
        )
    )
    return case


def _record_malformed(session: Session, intake: Intake, bad: Malformed, now: datetime) -> None:
    log.warning("event=malformed_mention post_id=%s problem=%r", bad.post_id, bad.problem)
    if bad.post_id is None:
        return  # nothing to key it on; the warning is the record
    session.add(
        MentionRecord(
            platform=intake.platform.name,
            account=intake.account,
            post_id=bad.post_id,
            author_id="",
            text="",
            created_at=now,
            received_at=now,
            outcome=MentionOutcome.MALFORMED,
            detail=bad.problem,
            raw=bad.raw,
        )
    )
