"""The poll job: fetch new mentions, decide, and record cases and replies, one page per transaction.

X serves the newest page first; we process the oldest page first, and the cursor (`since_id`)
moves in the same transaction as the mentions it covers. So a crash at any point either leaves a
page wholly committed (cursor past it) or wholly absent (it is fetched again next time), and the
unique (platform, post_id) index turns any re-fetch into a no-op. On an account's first poll the
cursor moves with the newest page only: a first poll cut short is a first poll again, backfill
window included, rather than a poll that would answer the older pages it had not reached.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Result, Table, and_, func, insert, or_
from sqlalchemy import select as sa_select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session, col, select

from socialbot import failpoints, holds
from socialbot.domain import (
    REPORT_OUTCOMES,
    CaseStatus,
    GeoPoint,
    Mention,
    MentionOutcome,
    ReferenceType,
)
from socialbot.errors import RateLimited
from socialbot.geocell import cells_near
from socialbot.intake import (
    Decision,
    IntakeRules,
    NearbyCase,
    Standing,
    ThreadCase,
    decide,
    due_at,
    duplicate_search,
    link_duplicate,
    route,
)
from socialbot.location import haversine_m
from socialbot.networks.base import MAX_PROBLEM, Malformed, MentionPage, Platform
from socialbot.replies import Rendered, Replies, ReplyContext
from socialbot.storable import clean_text
from socialbot.store.db import transaction
from socialbot.store.models import (
    Account,
    BlockedAuthor,
    Case,
    CaseEvent,
    MentionRecord,
    OutboxMessage,
    OutboxState,
    TemplateFailure,
)
from socialbot.text_rules import TextRules
from socialbot.usage import MENTIONS

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
    partial_errors: int = 0  # what X said it could not include (`MentionPage.errors`)
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
    # How long a reply may be on the intake network, and whether it must name the resident.
    # Until the network adapter declares its own (`Network.text_rules`).
    text_rules: TextRules
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
    first_poll = account.since_id is None
    if first_poll:
        # The account's first poll: X returns up to 800 past mentions. Older than the backfill
        # window they are recorded, not filed or answered: no reply to a post from last month.
        rules = dataclasses.replace(rules, not_before=now() - intake.backfill)
    pages = _fetch(intake, account, now)
    failpoints.hit("poll.after_fetch")
    report = PollReport(pages=len(pages))
    for page in reversed(pages):  # oldest page first
        report.fetched += len(page.mentions)
        report.partial_errors += len(page.errors)
        for error in page.errors[:3]:
            log.warning("event=partial_error platform=%s error=%r", intake.platform.name, error)
        with transaction(intake.engine, commit=not dry_run) as session:
            move_cursor = not first_poll or page is pages[0]  # see the module's docstring
            _handle_page(session, intake, rules, page, now(), report, move_cursor=move_cursor)
        failpoints.hit("poll.after_commit")
    if not dry_run and all(page.newest_id is None for page in pages):
        # Nothing new: still a successful poll, as `status` shows it (a quiet night is not an
        # outage). A page with mentions records it with its cursor.
        with transaction(intake.engine) as session:
            quiet = session.get(Account, account.id)
            assert quiet is not None
            quiet.polled_at = now()
    log.info(
        "event=poll pages=%d fetched=%d new=%d seen=%d malformed=%d partial_errors=%d cases=%d "
        "replies=%d dry_run=%s",
        report.pages,
        report.fetched,
        len(report.handled),
        report.already_seen,
        report.malformed,
        report.partial_errors,
        report.cases_opened,
        report.replies_queued,
        dry_run,
    )
    return report


def _fetch(intake: Intake, account: Account, now: Clock) -> list[MentionPage]:
    """The new pages, unless X's rate limit holds the endpoint (`holds.Held`, no call made); a
    429 is written down, so that every process and command waits it out."""
    holds.check(intake.engine, intake.account, MENTIONS, now())
    assert account.user_id is not None
    try:
        return intake.platform.fetch_mentions(account.user_id, account.since_id)
    except RateLimited as exc:
        at = now()
        until = exc.reset_at if exc.reset_at and exc.reset_at > at else at + timedelta(minutes=1)
        holds.hold(intake.engine, intake.account, MENTIONS, until, at, "X answered 429")
        raise


def _handle_page(
    session: Session,
    intake: Intake,
    rules: IntakeRules,
    page: MentionPage,
    now: datetime,
    report: PollReport,
    *,
    move_cursor: bool = True,
) -> None:
    platform = intake.platform.name
    ids = [m.post_id for m in page.mentions] + [b.key for b in page.malformed]
    seen = set(
        session.exec(
            select(MentionRecord.post_id).where(
                MentionRecord.platform == platform,
                MentionRecord.post_id.in_(ids),  # type: ignore[attr-defined]
            )
        ).all()
    )
    for bad in page.malformed:
        if bad.key in seen:
            continue
        seen.add(bad.key)
        _record_malformed(session, intake, bad, now)
        report.malformed += 1
    fresh: list[Mention] = []
    for mention in sorted(page.mentions, key=lambda m: m.sort_key):
        if mention.post_id in seen:
            report.already_seen += 1
            continue
        seen.add(mention.post_id)
        fresh.append(mention)
    try:
        # The whole page in one savepoint: its look-ups, then its rows a statement per table.
        with session.begin_nested():
            writer = _PageWriter.load(session, intake, rules, fresh, now)
            for mention in fresh:
                writer.stage(mention)
            writer.write()
        report.handled.extend(writer.handled)
    except Exception as exc:
        if is_database_fault(exc):
            raise  # not the page's fault: nothing is saved, and the next poll fetches it again
        # Something in the page failed, and left no trace: again, one mention at a time.
        log.info("event=page_retry mentions=%d error=%s", len(fresh), type(exc).__name__)
        _handle_one_by_one(session, intake, rules, fresh, now, report)
    failpoints.hit("poll.mid_page")  # the page's rows written, its cursor not moved, no commit
    newest = page.newest_id
    if newest is not None:
        account = session.exec(
            select(Account).where(Account.platform == platform, Account.name == intake.account)
        ).one()
        if move_cursor and (account.since_id is None or int(newest) > int(account.since_id)):
            account.since_id = newest
        account.polled_at = now


def is_database_fault(exc: BaseException) -> bool:
    """Whether `exc` is the database failing (disk full, connection lost, locked) rather than
    something in the data: then no mention is to blame, and none is recorded as malformed."""
    return isinstance(exc, OperationalError | InterfaceError) or bool(
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def _handle_one_by_one(
    session: Session,
    intake: Intake,
    rules: IntakeRules,
    mentions: Sequence[Mention],
    now: datetime,
    report: PollReport,
) -> None:
    """Each mention in a savepoint of its own, its look-ups included: one that fails is recorded
    as malformed, and the rest of the page goes on."""
    for mention in mentions:
        try:
            with session.begin_nested():  # a savepoint: one bad mention never sinks its page
                writer = _PageWriter.load(session, intake, rules, [mention], now)
                writer.stage(mention)
                writer.write()
        except Exception as exc:
            if is_database_fault(exc):
                raise
            log.exception("event=mention_failed post_id=%s", mention.post_id)
            problem = f"could not be handled: {type(exc).__name__}: {exc}"
            bad = Malformed(post_id=mention.post_id, problem=problem, raw=mention.raw)
            _record_malformed(session, intake, bad, now)
            report.malformed += 1
            continue
        report.handled.extend(writer.handled)


@dataclass(slots=True)
class _CaseView:
    """A case as the reply about one mention tells it: as it stood right after that mention."""

    id: int | None  # None until a new case is written
    category: str
    status: CaseStatus


@dataclass(slots=True)
class _Staged:
    """A handled mention whose rows wait for `_PageWriter.write`."""

    mention: Mention
    decision: Decision
    record: dict[str, Any]  # its `mentions` row, less the case id
    case: _CaseView | None  # the case it opens or follows up
    new_case: dict[str, Any] | None  # the `cases` row of the case it opens
    event: dict[str, Any] | None  # the `case_events` row, less a new case's id


@dataclass(frozen=True, slots=True)
class _Authors:
    """What the store knew about a page's authors before the page: blocks, and the cases and
    limit replies of the last 24 hours. Read once a page, three queries instead of three a
    mention; `_PageWriter` adds what the page itself does."""

    blocks: list[BlockedAuthor]
    cases_today: Counter[tuple[str, str]]  # (platform, author id) → cases in the last 24 h
    told: set[tuple[str, str]]  # (platform, author id) sent the limit reply in the last 24 h

    @classmethod
    def load(cls, session: Session, mentions: Sequence[Mention], now: datetime) -> _Authors:
        if not mentions:
            return cls([], Counter(), set())
        day_ago = now - timedelta(hours=24)
        platforms = {m.platform for m in mentions}
        author_ids = {m.author_id for m in mentions}
        handles = {(m.author_username or "").lower() for m in mentions}
        blocks = session.exec(
            select(BlockedAuthor)
            .where(
                col(BlockedAuthor.platform).in_(platforms),
                or_(
                    col(BlockedAuthor.user_id).in_(author_ids),
                    and_(
                        col(BlockedAuthor.user_id).is_(None),
                        col(BlockedAuthor.username).in_(handles),
                    ),
                ),
            )
            .order_by(col(BlockedAuthor.id))
        ).all()
        counts = session.exec(
            select(Case.platform, Case.author_id, func.count())
            .where(
                col(Case.platform).in_(platforms),
                col(Case.author_id).in_(author_ids),
                Case.created_at >= day_ago,
            )
            .group_by(Case.platform, Case.author_id)
        ).all()
        told = session.exec(
            select(MentionRecord.platform, MentionRecord.author_id)
            .where(
                col(MentionRecord.platform).in_(platforms),
                col(MentionRecord.author_id).in_(author_ids),
                MentionRecord.received_at >= day_ago,
                MentionRecord.outcome == MentionOutcome.LIMITED,
            )
            .distinct()
        ).all()
        return cls(
            list(blocks),
            Counter({(platform, author): n for platform, author, n in counts}),
            {(platform, author) for platform, author in told},
        )

    def block(self, session: Session, mention: Mention) -> BlockedAuthor | None:
        """The block on `mention`'s author, if any. A block follows the account id once known
        (handles change, and freed ones are taken by others); until then the handle, and the
        first post seen fills the id in."""
        handle = (mention.author_username or "").lower()
        block = next(
            (
                b
                for b in self.blocks
                if b.platform == mention.platform
                and (b.user_id == mention.author_id or (b.user_id is None and b.username == handle))
            ),
            None,
        )
        if block is not None and block.user_id is None:
            block.user_id = mention.author_id
            session.add(block)
        return block


# The open, located statuses: a duplicate of a finished case is a new problem (it came back).
_TAKES_DUPLICATES = (CaseStatus.NEW, CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS)


def _replied_to(mention: Mention) -> list[str]:
    return [r.post_id for r in mention.references if r.type is ReferenceType.REPLIED_TO]


@dataclass(frozen=True, slots=True)
class _Threads:
    """The cases replies belong to, as the store has them: a reply to one of our replies, to the
    post that opened the case, or anywhere in that post's conversation (its newest report), with
    four queries a page, not a reply. The cases come locked (now, not when the follow-up is
    applied: staff must not change a case in between). A reply that could belong to a case the
    page itself opened is looked up by `_thread_case`, after the page's rows are written."""

    found: dict[str, int | None]  # a reply's post id → its case's id
    cases: dict[int, Case]

    @classmethod
    def load(cls, session: Session, mentions: Sequence[Mention]) -> _Threads:
        replies = [m for m in mentions if _replied_to(m)]
        if not replies:
            return cls({}, {})
        replied_to = {post for m in replies for post in _replied_to(m)}
        ours = {
            posted: case_id
            for posted, case_id in session.exec(
                select(OutboxMessage.posted_id, OutboxMessage.case_id).where(
                    col(OutboxMessage.posted_id).in_(replied_to),
                    col(OutboxMessage.case_id).is_not(None),
                )
            ).all()
        }
        reports = {
            (platform, post): case_id
            for platform, post, case_id in session.exec(
                select(Case.platform, Case.mention_post_id, Case.id).where(
                    col(Case.platform).in_({m.platform for m in replies}),
                    col(Case.mention_post_id).in_(replied_to),
                )
            ).all()
        }
        conversations = {(m.platform, m.conversation_id) for m in replies if m.conversation_id}
        newest: dict[tuple[str, str | None], int | None] = {}
        if conversations:
            for platform, conversation, case_id in session.exec(
                select(MentionRecord.platform, MentionRecord.conversation_id, MentionRecord.case_id)
                .where(
                    col(MentionRecord.platform).in_({p for p, _ in conversations}),
                    col(MentionRecord.conversation_id).in_({c for _, c in conversations}),
                    col(MentionRecord.outcome).in_(REPORT_OUTCOMES),
                )
                .order_by(col(MentionRecord.id))  # the newest report of each comes last, and wins
            ).all():
                newest[(platform, conversation)] = case_id
        found: dict[str, int | None] = {}
        for m in replies:
            posts = _replied_to(m)
            case_id = next((ours[p] for p in posts if p in ours), None)
            if case_id is None:
                case_id = next(
                    (reports[(m.platform, p)] for p in posts if (m.platform, p) in reports), None
                )
            if case_id is None and m.conversation_id:
                case_id = newest.get((m.platform, m.conversation_id))
            found[m.post_id] = case_id
        wanted = {case_id for case_id in found.values() if case_id is not None}
        cases = (
            session.exec(select(Case).where(col(Case.id).in_(wanted)).with_for_update()).all()
            if wanted
            else []
        )
        return cls(found, {case.id: case for case in cases if case.id is not None})

    def case_for(self, mention: Mention) -> Case | None:
        case_id = self.found.get(mention.post_id)
        return self.cases.get(case_id) if case_id is not None else None


@dataclass(frozen=True, slots=True)
class _Edits:
    """The earlier versions of the page's edited posts that the store has recorded: an edit of a
    post already handled belongs to it (X serves an edit as a new post). For each such edit, the
    case of its newest recorded version, if any, locked as `_Threads` locks its cases."""

    # An edit's post id → its post's case (None: no case), and whether its post was linked to
    # that case as a duplicate (the case is another resident's, the edit's author one of its
    # reporters).
    originals: dict[str, tuple[Case | None, bool]]

    @classmethod
    def load(cls, session: Session, mentions: Sequence[Mention]) -> _Edits:
        edits = [m for m in mentions if m.edit_of]
        if not edits:
            return cls({})
        recorded = {
            (platform, post): (case_id, outcome)
            for platform, post, case_id, outcome in session.exec(
                select(
                    MentionRecord.platform,
                    MentionRecord.post_id,
                    MentionRecord.case_id,
                    MentionRecord.outcome,
                ).where(
                    col(MentionRecord.platform).in_({m.platform for m in edits}),
                    col(MentionRecord.post_id).in_({p for m in edits for p in m.edit_of}),
                )
            ).all()
        }
        found: dict[str, tuple[int | None, bool]] = {}
        for m in edits:
            # A version recorded as malformed was never handled: the edit is then the post.
            versions = [
                recorded[(m.platform, p)]
                for p in sorted(m.edit_of, key=int)
                if (m.platform, p) in recorded
                and recorded[(m.platform, p)][1] is not MentionOutcome.MALFORMED
            ]
            if versions:
                found[m.post_id] = next(
                    (
                        (case_id, outcome is MentionOutcome.DUPLICATE)
                        for case_id, outcome in reversed(versions)
                        if case_id is not None
                    ),
                    (None, False),
                )
        wanted = {case_id for case_id, _ in found.values() if case_id is not None}
        cases = (
            {
                case.id: case
                for case in session.exec(
                    select(Case).where(col(Case.id).in_(wanted)).with_for_update()
                ).all()
            }
            if wanted
            else {}
        )
        return cls(
            {
                post: (cases.get(case_id) if case_id else None, linked)
                for post, (case_id, linked) in found.items()
            }
        )


_NearbyRow = tuple[int | None, float | None, float | None, datetime]  # id, lat, lon, opened


@dataclass(frozen=True, slots=True)
class _Nearby:
    """The open cases near the page's located reports, as the store had them before the page: one
    query a page instead of one a report. Which cells to read is known only once a report is
    decided, so each mention is first decided as if it started a thread of its own and its author
    had no history; the cells a real decision needs and this did not cover are looked up then."""

    since: datetime | None
    covered: set[tuple[str, str]]  # (category, cell) read
    rows: dict[tuple[str, str], list[_NearbyRow]]
    cells: dict[tuple[GeoPoint, float], tuple[str, ...]]  # `cells_near`, as worked out here

    def cells_near(self, point: GeoPoint, radius: float) -> tuple[str, ...]:
        known = self.cells.get((point, radius))
        return known if known is not None else cells_near(point, radius)

    @classmethod
    def load(
        cls, session: Session, rules: IntakeRules, mentions: Sequence[Mention], now: datetime
    ) -> _Nearby:
        covered: set[tuple[str, str]] = set()
        cells: dict[tuple[GeoPoint, float], tuple[str, ...]] = {}
        for mention in mentions:
            try:
                search = duplicate_search(decide(mention, rules), rules)
                if search is None:
                    continue
                near = cells_near(search.point, search.radius)
                cells[(search.point, search.radius)] = near
                covered.update((search.category.key, c) for c in near)
            except Exception:  # a guess only: this mention's real decision will tell
                continue
        if not covered:
            return cls(None, set(), {}, cells)
        since = now - rules.duplicate_window
        rows: dict[tuple[str, str], list[_NearbyRow]] = {}
        found = sa_select(
            col(Case.id),
            col(Case.lat),
            col(Case.lon),
            col(Case.created_at),
            col(Case.category),
            col(Case.cell),
        )
        for case_id, lat, lon, created_at, category, cell in session.execute(
            found.where(
                col(Case.category).in_({category for category, _ in covered}),
                col(Case.cell).in_({cell for _, cell in covered}),
                col(Case.created_at) >= since,
                col(Case.status).in_(_TAKES_DUPLICATES),
            )
        ).all():
            if cell is not None and (category, cell) in covered:
                rows.setdefault((category, cell), []).append((case_id, lat, lon, created_at))
        return cls(since, covered, rows, cells)


class _PageWriter:
    """A page's new rows, written a statement per table instead of one per row.

    `stage` decides a mention and keeps its rows; `write` inserts what is staged (cases first, for
    the case numbers the replies carry; then mentions, case events and replies) and adds each
    mention's `Handled` to `handled`, in order. Whatever a mention's decision reads (its author's
    standing, its thread) takes the mentions staged before it into account, as if each had been
    written at once: a thread look-up that could find a staged row writes first.
    """

    def __init__(
        self,
        session: Session,
        intake: Intake,
        rules: IntakeRules,
        authors: _Authors,
        threads: _Threads,
        edits: _Edits,
        nearby: _Nearby,
        now: datetime,
    ) -> None:
        self.session, self.intake, self.rules, self.now = session, intake, rules, now
        self.authors, self.threads, self.edits, self.nearby = authors, threads, edits, nearby
        # The cases this writer wrote that the duplicate look-up could find, by (category, cell);
        # and the (category, cell) a case followed up may have moved into.
        self._opened_nearby: dict[tuple[str, str], list[_NearbyRow]] = {}
        self._moved: set[tuple[str, str]] = set()
        # (platform, post id) of the mentions staged that open a case, and (platform,
        # conversation id) of those that are reports: what `_thread_case` could find of the page.
        self._opened: set[tuple[str, str]] = set()
        self._reported: set[tuple[str, str | None]] = set()
        self._staged: set[tuple[str, str]] = set()  # (platform, post id) of every mention staged
        self.pending: list[_Staged] = []
        self.handled: list[Handled] = []
        # What this writer wrote, on top of `authors`: (platform, author id) → new cases; and
        # the authors it sent the limit reply to.
        self._cases_today: Counter[tuple[str, str]] = Counter()
        self._told: set[tuple[str, str]] = set()

    @classmethod
    def load(
        cls,
        session: Session,
        intake: Intake,
        rules: IntakeRules,
        mentions: Sequence[Mention],
        now: datetime,
    ) -> _PageWriter:
        """A writer for `mentions`, with what the store knows of their authors, threads and
        nearby cases read first."""
        authors = _Authors.load(session, mentions, now)
        threads = _Threads.load(session, mentions)
        edits = _Edits.load(session, mentions)
        nearby = _Nearby.load(session, rules, mentions, now)
        return cls(session, intake, rules, authors, threads, edits, nearby, now)

    def stage(self, mention: Mention) -> None:
        edit, thread, linked = self._edited(mention)
        if not edit and self._page_may_hold_thread(mention):
            self.write()  # the look-up must see the rows of the mentions before it
            thread = _thread_case(self.session, mention)
        elif not edit:
            thread = self.threads.case_for(mention)
        # A duplicate's edit is its author's, in another resident's case: they are one of its
        # reporters, and what their edit adds counts as a reporter's.
        reporter = mention.author_id if linked else None
        decision = decide(
            mention,
            self.rules,
            _as_thread(thread, reporter) if thread else None,
            self._standing(mention),
            edit=edit,
        )
        decision = self._linked(decision)
        if edit and decision.reply is not None:  # linked as a duplicate: still never answered
            decision = dataclasses.replace(decision, reply=None)
        record = {
            "platform": mention.platform,
            "account": self.intake.account,
            "post_id": mention.post_id,
            "author_id": mention.author_id,
            "author_username": mention.author_username,
            "text": mention.text,
            "lang": mention.lang,
            "conversation_id": mention.conversation_id,
            "created_at": mention.created_at,
            "received_at": self.now,
            "outcome": decision.outcome,
            "detail": "; ".join(d for d in (decision.detail, *mention.missing) if d),
            "raw": mention.raw,
        }
        case: _CaseView | None = None
        new_case = event = None
        if decision.follow_up_case is not None:
            assert thread is not None and thread.id == decision.follow_up_case
            event = _apply_follow_up(mention, decision, thread, self.rules, self.now)
            case = _CaseView(thread.id, thread.category, thread.status)
            if thread.cell is not None:  # it may have just come to a cell: look there in the store
                self._moved.add((thread.category, thread.cell))
        elif decision.duplicate_of is not None:
            target = self.session.get(Case, decision.duplicate_of, with_for_update=True)
            assert target is not None and target.id is not None
            event = _link_to(mention, decision, target, self.now)
            case = _CaseView(target.id, target.category, target.status)
        elif decision.opens_case:
            new_case, event = _open_case(mention, decision, self.rules, self.now)
            case = _CaseView(None, new_case["category"], new_case["status"])
            self._opened.add((mention.platform, mention.post_id))
        if decision.outcome in REPORT_OUTCOMES:
            self._reported.add((mention.platform, mention.conversation_id))
        self._staged.add((mention.platform, mention.post_id))
        self.pending.append(_Staged(mention, decision, record, case, new_case, event))

    def write(self) -> None:
        """Insert the staged rows, a statement per table, and record their mentions' fate."""
        staged, self.pending = self.pending, []
        if not staged:
            return
        self.session.flush()  # the cases followed up and the blocks, changed in place
        opened = [s for s in staged if s.new_case is not None]
        if opened:
            numbers = _returned(
                self.session.execute(
                    insert(_CASES).returning(_CASES.c.mention_post_id, _CASES.c.id),
                    [s.new_case for s in opened if s.new_case is not None],
                )
            )
            for s in opened:
                assert s.case is not None and s.new_case is not None
                s.case.id = numbers[s.mention.post_id]
                row = s.new_case
                if row.get("cell") is not None and row["status"] in _TAKES_DUPLICATES:
                    self._opened_nearby.setdefault((row["category"], row["cell"]), []).append(
                        (s.case.id, row["lat"], row["lon"], row["created_at"])
                    )
        mention_ids = _returned(
            self.session.execute(
                insert(_MENTIONS).returning(_MENTIONS.c.post_id, _MENTIONS.c.id),
                [{**s.record, "case_id": s.case.id if s.case else None} for s in staged],
            )
        )
        events = [
            {**s.event, "case_id": s.case.id} for s in staged if s.event is not None and s.case
        ]
        if events:
            self.session.execute(insert(_CASE_EVENTS), events)
        replies: list[dict[str, Any]] = []
        handled: list[Handled] = []
        failures: list[dict[str, Any]] = []
        for s in staged:
            mention, decision, case = s.mention, s.decision, s.case
            rendered = _reply_text(self.intake, self.rules, decision, case, mention.author_username)
            reply_text = rendered.text if rendered is not None else None
            if rendered is not None and rendered.problem is not None and decision.reply:
                failures.append(
                    _failure(decision.reply.value, decision.lang, case, rendered, self.now)
                )
            if decision.reply is not None:
                replies.append(
                    {
                        "platform": mention.platform,
                        "account": self.intake.account,
                        "dedupe_key": reply_key(mention.platform, mention.post_id),
                        "in_reply_to_post_id": mention.post_id,
                        "mention_id": mention_ids[mention.post_id],
                        "case_id": case.id if case else None,
                        "template": decision.reply.value,
                        "lang": decision.lang,
                        "text": reply_text,
                        "state": OutboxState.PENDING,
                        "attempts": 0,
                        "next_attempt_at": self.now,
                        "created_at": self.now,
                    }
                )
            handled.append(
                Handled(
                    mention.post_id,
                    mention.author_username,
                    decision,
                    case.id if case else None,
                    reply_text,
                )
            )
        if replies:
            self.session.execute(insert(_OUTBOX), replies)
        if failures:
            self.session.execute(insert(_table(TemplateFailure)), failures)
        for s in staged:
            author = (s.mention.platform, s.mention.author_id)
            if s.new_case is not None:
                self._cases_today[author] += 1
            if s.decision.outcome is MentionOutcome.LIMITED:
                self._told.add(author)
        self.handled += handled

    def _standing(self, mention: Mention) -> Standing:
        """Whether staff blocked the author, and how many cases they opened in the last 24 hours."""
        author = (mention.platform, mention.author_id)
        staged = [s for s in self.pending if (s.mention.platform, s.mention.author_id) == author]
        return Standing(
            blocked=self.authors.block(self.session, mention) is not None,
            cases_today=self.authors.cases_today[author]
            + self._cases_today[author]
            + sum(1 for s in staged if s.new_case is not None),
            told_limit_today=author in self.authors.told
            or author in self._told
            or any(s.decision.outcome is MentionOutcome.LIMITED for s in staged),
        )

    def _linked(self, decision: Decision) -> Decision:
        """A located new report of the same problem as an open case nearby is linked to that case
        (see `intake.link_duplicate`); the cases looked at are found by grid cell, indexed."""
        search = duplicate_search(decision, self.rules)
        if search is None:
            return decision
        category, radius = search.category, search.radius
        cells = set(self.nearby.cells_near(search.point, radius))
        if any(
            s.new_case is not None
            and s.new_case["category"] == category.key
            and s.new_case["cell"] in cells
            # one farther than the radius could not be the one linked: no need to write it now
            and haversine_m(search.point, GeoPoint(s.new_case["lat"], s.new_case["lon"])) <= radius
            for s in self.pending
        ):
            self.write()  # a case this page opened nearby must be found too
        since = self.now - self.rules.duplicate_window
        nearby = [
            NearbyCase(case_id, GeoPoint(lat, lon), created_at)
            for case_id, lat, lon, created_at in self._nearby_rows(category.key, cells, since)
            if case_id is not None and lat is not None and lon is not None
        ]
        return link_duplicate(decision, nearby, self.rules)

    def _nearby_rows(self, category: str, cells: set[str], since: datetime) -> list[_NearbyRow]:
        """What `nearby_cases` would find now: from the page's `_Nearby` and the cases the page
        opened, when they cover these cells (and nothing the page did moved a case into one of
        them); else from the store."""
        wanted = {(category, cell) for cell in cells}
        known = self.nearby
        if since == known.since and wanted <= known.covered and not wanted & self._moved:
            return [
                row
                for key in wanted
                for row in (*known.rows.get(key, ()), *self._opened_nearby.get(key, ()))
            ]
        return list(self.session.exec(nearby_cases(category, cells, since)).all())

    def _edited(self, mention: Mention) -> tuple[bool, Case | None, bool]:
        """Whether `mention` edits a post already handled, that post's case (None: none), and
        whether the post was linked to that case as a duplicate. An earlier version staged on
        this page is looked up once the page's rows are written."""
        if any((mention.platform, p) in self._staged for p in mention.edit_of):
            self.write()
            self.edits = _Edits(
                {**self.edits.originals, **_Edits.load(self.session, [mention]).originals}
            )
        if mention.post_id not in self.edits.originals:
            return False, None, False
        case, linked = self.edits.originals[mention.post_id]
        return True, case, linked

    def _page_may_hold_thread(self, mention: Mention) -> bool:
        """Whether the case `mention` replies in could be one the page opened (or the thread a
        report of the page's): then `_thread_case` must look, after the page's rows are written."""
        return any((mention.platform, p) in self._opened for p in _replied_to(mention)) or (
            mention.conversation_id is not None
            and (mention.platform, mention.conversation_id) in self._reported
            and bool(_replied_to(mention))
        )


def nearby_cases(
    category: str, cells: Iterable[str], since: datetime
) -> Any:  # a Select of (id, lat, lon, created_at); SQLModel spells its type per column
    """Open cases of `category` in `cells` opened since `since`: the duplicate look-up, which the
    index on (category, cell, created_at) answers without reading other cases."""
    return select(Case.id, Case.lat, Case.lon, Case.created_at).where(
        Case.category == category,
        col(Case.cell).in_(sorted(cells)),
        col(Case.created_at) >= since,
        col(Case.status).in_(_TAKES_DUPLICATES),
    )


def _returned(result: Result[str, int]) -> dict[str, int]:
    """Post id → new row id, from an INSERT … RETURNING (post id, id) of many rows."""
    return {post_id: row_id for post_id, row_id in result.all()}


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


_CASES = _table(Case)
_MENTIONS = _table(MentionRecord)
_CASE_EVENTS = _table(CaseEvent)
_OUTBOX = _table(OutboxMessage)


def _reply_text(
    intake: Intake,
    rules: IntakeRules,
    decision: Decision,
    case: _CaseView | None,
    handle: str | None,
) -> Rendered | None:
    """The reply `decision` asks for, about `case` as it stood right after the mention, to
    `handle` (its author); the built-in fallback text when its template fails (the report goes
    on, `status` shows it)."""
    if decision.reply is None:
        return None
    category = decision.category or (rules.catalog.find(case.category) if case else None)
    context = ReplyContext(
        case=case.id if case else None,
        category=category.name(decision.lang) if category else (case.category if case else None),
        status=case.status.value if case else None,
        hashtags=tuple(rules.catalog.featured_hashtags(decision.lang)),
        case_url=intake.case_url.replace("{case}", str(case.id))
        if intake.case_url and case
        else None,
    )
    storm = None
    if rules.storm is not None and case is not None:
        known = rules.catalog.find(case.category)
        if intake.replies.gets_storm_line(decision.reply, known.priority if known else None):
            storm = rules.storm
    return intake.replies.render_or_fallback(
        decision.reply,
        decision.lang,
        context,
        intake.text_rules,
        handle=handle,
        category_key=category.key if category else None,
        case_status=case.status if case else None,
        storm=storm,
    )


def _failure(
    template: str, lang: str, case: _CaseView | None, rendered: Rendered, now: datetime
) -> dict[str, Any]:
    """The `template_failures` row of a reply sent as the fallback text (or without its storm
    line)."""
    return {
        "at": now,
        "template": template,
        "lang": lang,
        "case_id": case.id if case else None,
        "problem": (rendered.problem or "")[:1000],
    }


def _thread_case(session: Session, mention: Mention) -> Case | None:
    """The case whose thread `mention` replies in: a reply to one of our replies, to the post that
    opened the case, or anywhere in that post's conversation. None for a post starting a thread.
    The case comes locked: staff must not change it before the follow-up is applied."""
    return _Threads.load(session, [mention]).case_for(mention)


def _as_thread(case: Case, reporter: str | None = None) -> ThreadCase:
    """`case` as `intake.decide` reads a thread; `reporter`: whose follow-ups count as the
    reporter's (the case's author, unless said otherwise)."""
    assert case.id is not None
    return ThreadCase(
        case.id,
        case.status,
        reporter or case.author_id,
        case.category,
        case.lang,
        located=case.lat is not None,
    )


def _link_to(mention: Mention, decision: Decision, case: Case, now: datetime) -> dict[str, Any]:
    """Count one more reporter on the (locked) case `mention` duplicates, add its photos; returns
    the row of the event saying so."""
    case.reporter_count += 1
    if decision.photo_urls:
        case.photo_urls = _with_photos(case.photo_urls, decision.photo_urls)
    case.updated_at = now
    who = f"@{mention.author_username}" if mention.author_username else mention.author_id
    return {
        "at": now,
        "actor": INTAKE_ACTOR,
        "from_status": case.status,
        "to_status": case.status,
        # "also reported by @li, 17 m away (3 reporters): <their post>"
        "note": f"also reported by {who}, {decision.duplicate_distance_m or 0:.0f} m away "
        f"({case.reporter_count} reporters): {mention.text}",
    }


def _apply_follow_up(
    mention: Mention, decision: Decision, case: Case, rules: IntakeRules, now: datetime
) -> dict[str, Any]:
    """Update the (locked) case `mention` follows up; returns the row of the event saying so."""
    before = case.status
    location = decision.location
    if location is not None and case.lat is None:
        case.lat, case.lon = location.point.lat, location.point.lon
        case.location_source = location.source.value
        category = rules.catalog.find(case.category)
        if category is not None:
            routing = route(category, location.point, rules)
            if case.department == category.department:  # staff's own assignment stays
                case.department = routing.department
            case.district, case.cell = routing.district, routing.cell
        if case.status is CaseStatus.NEEDS_LOCATION:
            case.status = CaseStatus.NEW  # else staff already moved it on; keep their status
    if decision.photo_urls:
        case.photo_urls = _with_photos(case.photo_urls, decision.photo_urls)
    case.updated_at = now
    who = f"@{mention.author_username}" if mention.author_username else mention.author_id
    event = {
        "at": now,
        "actor": who,
        "from_status": before,
        "to_status": case.status,
        "note": f"{decision.detail.split(': ', 1)[-1]}: {mention.text}",
    }
    return event


def _with_photos(photos: Sequence[str], added: Sequence[str]) -> list[str]:
    """`photos` and the `added` ones it lacks (an edit brings its post's photos again), as a new
    list: JSON columns see a change only as a new value."""
    return [*photos, *(url for url in dict.fromkeys(added) if url not in photos)]


def reply_key(platform: str, post_id: str) -> str:
    """The outbox dedupe key of the one reply a post may ever get."""
    return f"reply:{platform}:{post_id}"


def _open_case(
    mention: Mention, decision: Decision, rules: IntakeRules, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The row of the case `mention` opens, and of its first event (less the case's number)."""
    assert decision.category is not None
    location = decision.location
    status = CaseStatus.NEW if location is not None else CaseStatus.NEEDS_LOCATION
    routing = route(decision.category, location.point if location else None, rules)
    case = {
        "category": decision.category.key,
        "department": routing.department,
        "district": routing.district,
        "cell": routing.cell,
        "due_at": due_at(decision.category, now, rules),
        "reporter_count": 1,
        "priority": decision.category.priority.value,
        "status": status,
        "lat": location.point.lat if location else None,
        "lon": location.point.lon if location else None,
        "location_source": location.source.value if location else "none",
        "place_name": mention.place.full_name if mention.place else None,
        "photo_urls": list(decision.photo_urls),
        "lang": decision.lang,
        "platform": mention.platform,
        "mention_post_id": mention.post_id,
        "author_id": mention.author_id,
        "author_username": mention.author_username,
        "description": mention.text,
        "created_at": now,
        "updated_at": now,
    }
    event = {
        "at": now,
        "actor": INTAKE_ACTOR,
        "from_status": None,
        "to_status": status,
        "note": decision.detail,
    }
    return case, event


def _record_malformed(session: Session, intake: Intake, bad: Malformed, now: datetime) -> None:
    """Record `bad` under its key, in a savepoint of its own. Everything in the row is ours or
    already made storable (`Malformed`), so only the database failing can make this fail."""
    log.warning("event=malformed_mention post_id=%s problem=%r", bad.key, bad.problem[:200])
    with session.begin_nested():
        session.add(
            MentionRecord(
                platform=intake.platform.name,
                account=intake.account,
                post_id=bad.key,
                author_id="",
                text="",
                created_at=now,
                received_at=now,
                outcome=MentionOutcome.MALFORMED,
                detail=clean_text(bad.problem)[:MAX_PROBLEM],
                raw=bad.raw,
            )
        )
