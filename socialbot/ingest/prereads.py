"""What the store knew before a batch, read once per batch rather than once per mention: the
authors' standing, the threads replies belong to, the posts edits fold into, the open cases
nearby. Every look-up is indexed (migration 0006)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Executable, FunctionElement, and_, bindparam, func, or_, text
from sqlalchemy import select as sa_select
from sqlalchemy.ext.compiler import compiles
from sqlmodel import Session, SQLModel, col, select

from socialbot import consent
from socialbot.domain import (
    REPORT_OUTCOMES,
    CaseStatus,
    GeoPoint,
    InboxReason,
    InboxState,
    Location,
    LocationSource,
    Mention,
    MentionOutcome,
    ReferenceType,
    Reply,
)
from socialbot.geocell import cells_near
from socialbot.ingest.cases import _as_thread
from socialbot.intake import (
    CONVERSATION_WINDOW,
    Conversation,
    IntakeRules,
    PendingMenu,
    Reading,
    likely_duplicate_search,
)
from socialbot.store.models import (
    BlockedAuthor,
    Case,
    InboxItem,
    MentionRecord,
    OutboxMessage,
)
from socialbot.store.types import UTCDateTime


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
        handles = {_handle_of(m) for m in mentions}
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
        counts = _cases_since(session, {(m.platform, m.author_id) for m in mentions}, day_ago)
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
        handle = _handle_of(mention)
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


def _handle_of(mention: Mention) -> str:
    """The handle a block names `mention`'s author by: their username, lower case; a network
    that gives its people none (SMS: the number is the person) names them by their id."""
    return (mention.author_username or mention.author_id).lower()


# The open, located statuses: a duplicate of a finished case is a new problem (it came back).
_TAKES_DUPLICATES = (CaseStatus.NEW, CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS)


def _replied_to(mention: Mention) -> list[str]:
    return [r.post_id for r in mention.references if r.type is ReferenceType.REPLIED_TO]


class _Unindexed(FunctionElement[Any]):
    """A text column the planner must not search an index by: `+column` on SQLite (its
    documented way), `(column || '')` on PostgreSQL, which has no statistics either until
    autovacuum's first ANALYZE of a new database."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column: Any) -> None:  # a column (sqlmodel types it as Mapped)
        super().__init__(column)
        self.type = column.type


@compiles(_Unindexed, "sqlite")
def _unindexed_on_sqlite(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(element.clauses, **kw))


@compiles(_Unindexed)
def _unindexed(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    # PostgreSQL: an expression no index is on (the column is text).
    return "(" + str(compiler.process(element.clauses, **kw)) + " || '')"


def conversation_reports(conversations: Collection[tuple[str, str | None]]) -> Any:
    """The reports of `conversations` ((platform, conversation id)), oldest first: (platform,
    conversation id, case id). Searched by ix_mentions_conversation whatever the statistics:
    SQLite without them would read every report of the platform through ix_mentions_outcome
    (389 ms a page on 1,000,000 past cases, against 0.1 ms)."""
    return (
        sa_select(
            col(MentionRecord.platform),
            col(MentionRecord.conversation_id),
            col(MentionRecord.case_id),
        )
        .where(
            col(MentionRecord.platform).in_({p for p, _ in conversations}),
            col(MentionRecord.conversation_id).in_({c for _, c in conversations}),
            _Unindexed(col(MentionRecord.outcome)).in_(REPORT_OUTCOMES),
        )
        .order_by(col(MentionRecord.id))  # the newest report of each comes last, and wins
    )


_PostKey = tuple[str, str]  # (platform, post id)
_ConversationKey = tuple[str, str | None]  # (platform, conversation id)


@dataclass(frozen=True, slots=True)
class _Threads:
    """The cases replies belong to, as the store has them: a reply to one of our replies, to the
    post that opened the case, or anywhere in that post's conversation (its newest report), with
    four queries a page, not a reply. The cases come locked (now, not when the follow-up is
    applied: staff must not change a case in between). A reply that could belong to a case the
    page itself opened asks `case_id_for` with what the page has written and staged on top."""

    ours: dict[str, int]  # a post of ours → the case it is about
    reports: dict[_PostKey, int]  # a post that opened a case → that case
    newest: dict[_ConversationKey, int | None]  # a conversation → the case of its newest report
    cases: dict[int, Case]

    @classmethod
    def load(cls, session: Session, mentions: Sequence[Mention]) -> _Threads:
        replies = [m for m in mentions if _replied_to(m)]
        if not replies:
            return cls({}, {}, {}, {})
        replied_to = {post for m in replies for post in _replied_to(m)}
        ours = {
            posted: case_id
            for posted, case_id in session.exec(
                select(OutboxMessage.posted_id, OutboxMessage.case_id).where(
                    col(OutboxMessage.posted_id).in_(replied_to),
                    col(OutboxMessage.case_id).is_not(None),
                )
            ).all()
            if posted is not None and case_id is not None
        }
        reports = {
            (platform, post): case_id
            for platform, post, case_id in session.exec(
                select(Case.platform, Case.mention_post_id, Case.id).where(
                    col(Case.platform).in_({m.platform for m in replies}),
                    col(Case.mention_post_id).in_(replied_to),
                )
            ).all()
            if case_id is not None
        }
        conversations = {(m.platform, m.conversation_id) for m in replies if m.conversation_id}
        newest: dict[_ConversationKey, int | None] = {}
        if conversations:
            for platform, conversation, case_id in session.execute(
                conversation_reports(conversations)
            ).all():
                newest[(platform, conversation)] = case_id
        threads = cls(ours, reports, newest, {})
        wanted = {c for m in replies if (c := threads.case_id_for(m)) is not None}
        if wanted:
            for case in session.exec(
                select(Case).where(col(Case.id).in_(wanted)).with_for_update()
            ).all():
                if case.id is not None:
                    threads.cases[case.id] = case
        return threads

    def case_id_for(
        self,
        mention: Mention,
        opened: Mapping[_PostKey, int] | None = None,
        reported: Mapping[_ConversationKey, int | None] | None = None,
    ) -> int | None:
        """The id of the case `mention` replies in: by our reply it answers, else by the report
        it answers, else by its conversation's newest report; `opened` (the posts that opened a
        case since the store was read) and `reported` (each conversation's newest report since)
        on top of what the store had."""
        posts = _replied_to(mention)
        case_id = next((self.ours[p] for p in posts if p in self.ours), None)
        if case_id is None:
            for post in posts:
                key = (mention.platform, post)
                if opened is not None and key in opened:
                    case_id = opened[key]
                    break
                if key in self.reports:
                    case_id = self.reports[key]
                    break
        if case_id is None and mention.conversation_id:
            key_c = (mention.platform, mention.conversation_id)
            if reported is not None and key_c in reported:
                return reported[key_c]
            case_id = self.newest.get(key_c)
        return case_id

    def case_for(self, mention: Mention) -> Case | None:
        case_id = self.case_id_for(mention)
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


def _cases_since(
    session: Session, authors: Collection[tuple[str, str]], since: datetime
) -> list[tuple[str, str, int]]:
    """(platform, author id, cases opened since `since`) of each of `authors` who opened any.
    On PostgreSQL a lateral count an author, a search of ix_cases_author each, whatever the
    statistics (before autovacuum's first ANALYZE of a new database the planner searched the
    index by platform and time alone and read every case of the day)."""
    if session.get_bind().dialect.name == "postgresql":
        wanted = sorted(authors)
        return [
            (platform, author, count)
            for platform, author, count in session.execute(
                _CASES_SINCE_POSTGRES,
                {
                    "platforms": [platform for platform, _ in wanted],
                    "authors": [author for _, author in wanted],
                    "since": since,
                },
            ).all()
        ]
    rows = session.execute(
        sa_select(col(Case.platform), col(Case.author_id), func.count())
        .where(
            col(Case.platform).in_({platform for platform, _ in authors}),
            col(Case.author_id).in_({author for _, author in authors}),
            col(Case.created_at) >= since,
        )
        .group_by(col(Case.platform), col(Case.author_id))
    ).all()
    return [(platform, author, count) for platform, author, count in rows]


_CASES_SINCE_POSTGRES = text(
    """SELECT wanted.platform, wanted.author_id, opened.n
FROM unnest(CAST(:platforms AS VARCHAR[]), CAST(:authors AS VARCHAR[]))
  AS wanted (platform, author_id)
  CROSS JOIN LATERAL (
    SELECT count(*) AS n FROM cases
    WHERE cases.platform = wanted.platform AND cases.author_id = wanted.author_id
      AND cases.created_at >= :since
  ) AS opened
WHERE opened.n > 0"""
).bindparams(bindparam("since", type_=UTCDateTime))


def recorded_posts(session: Session, platform: str, post_ids: Collection[str]) -> set[str]:
    """Which of `post_ids` of `platform` are recorded already. On PostgreSQL a lateral search
    of the (platform, post id) index an id, whatever the statistics (before autovacuum's first
    ANALYZE the planner read every mention of the platform through ix_mentions_outcome)."""
    if not post_ids:
        return set()
    if session.get_bind().dialect.name == "postgresql":
        found = session.execute(
            _RECORDED_POSTGRES, {"platform": platform, "ids": sorted(set(post_ids))}
        )
        return {post_id for (post_id,) in found.all()}
    return set(
        session.exec(
            select(MentionRecord.post_id).where(
                MentionRecord.platform == platform,
                col(MentionRecord.post_id).in_(post_ids),
            )
        ).all()
    )


_RECORDED_POSTGRES = text(
    """SELECT recorded.post_id
FROM unnest(CAST(:ids AS VARCHAR[])) AS wanted (post_id)
  CROSS JOIN LATERAL (
    SELECT mentions.post_id FROM mentions
    WHERE mentions.platform = :platform AND mentions.post_id = wanted.post_id
    OFFSET 0
  ) AS recorded"""
)


_NearbyRow = tuple[int | None, float | None, float | None, datetime]  # id, lat, lon, opened


@dataclass(frozen=True, slots=True)
class _Nearby:
    """The open cases near the page's located reports, as the store had them before the page: one
    query a page instead of one a report. Which cells to read is known only once a report is
    decided, so each mention's reading is first taken as a report of its own
    (`intake.likely_duplicate_search`); the cells a real decision needs and this did not cover
    are looked up then."""

    since: datetime | None
    covered: set[tuple[str, str]]  # (category, cell) read
    rows: dict[tuple[str, str], list[_NearbyRow]]
    cells: dict[tuple[GeoPoint, float], tuple[str, ...]]  # `cells_near`, as worked out here

    def cells_near(self, point: GeoPoint, radius: float) -> tuple[str, ...]:
        known = self.cells.get((point, radius))
        return known if known is not None else cells_near(point, radius)

    @classmethod
    def load(
        cls, session: Session, rules: IntakeRules, readings: Iterable[Reading], now: datetime
    ) -> _Nearby:
        covered: set[tuple[str, str]] = set()
        cells: dict[tuple[GeoPoint, float], tuple[str, ...]] = {}
        for reading in readings:
            try:
                search = likely_duplicate_search(reading)
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
        rows = nearby_cases(session, covered, since)
        return cls(since, covered, rows, cells)


# The duplicate look-up joins the exact (category, cell) pairs wanted to the cases, an index
# search on ix_cases_nearby (category, cell, created_at) a pair, whatever the statistics say.
# Asked as `category IN (…) AND cell IN (…) AND status IN (…)`, SQLite without statistics (or
# with stale ones) chose ix_cases_status and read every open case: 500 ms a page on 1,000,000
# past cases. On SQLite the pairs come as one JSON array (json_each) and CROSS JOIN keeps them the
# outer loop; the unary + keeps ix_cases_status out of the plan. On PostgreSQL two arrays, unnest
# side by side. Either way the statement's text is the same for any number of pairs, so each
# database prepares it once.
_NEARBY_COLUMNS = "cases.id, cases.lat, cases.lon, cases.created_at, cases.category, cases.cell"
_OPEN = ", ".join(f"'{status.value}'" for status in _TAKES_DUPLICATES)
_NEARBY_SQL = {
    "sqlite": f"""SELECT {_NEARBY_COLUMNS}
FROM json_each(:pairs) AS wanted CROSS JOIN cases
  ON cases.category = json_extract(wanted.value, '$[0]')
  AND cases.cell = json_extract(wanted.value, '$[1]')
WHERE cases.created_at >= :since AND +cases.status IN ({_OPEN})""",
    # A lateral search a pair (OFFSET 0 keeps the planner from folding it into one join), so
    # that the plan is a search of ix_cases_nearby for each pair whatever the statistics say:
    # a new database has none until autovacuum's first ANALYZE, and joined whole the planner
    # then read every open case, through ix_cases_status or the table.
    "postgresql": f"""SELECT {_NEARBY_COLUMNS}
FROM unnest(CAST(:categories AS VARCHAR[]), CAST(:cells AS VARCHAR[])) AS wanted (category, cell)
  CROSS JOIN LATERAL (
    SELECT * FROM cases
    WHERE cases.category = wanted.category AND cases.cell = wanted.cell
      AND cases.created_at >= :since AND (cases.status || '') IN ({_OPEN})
    OFFSET 0
  ) AS cases""",
}
_CASES = SQLModel.metadata.tables["cases"]
_NEARBY = {
    dialect: text(sql)
    .bindparams(bindparam("since", type_=UTCDateTime))
    .columns(*(_CASES.c[name] for name in ("id", "lat", "lon", "created_at", "category", "cell")))
    for dialect, sql in _NEARBY_SQL.items()
}


def nearby_query(dialect: str, pairs: Collection[tuple[str, str]], since: datetime) -> Executable:
    """The statement of `nearby_cases` on `dialect` ("sqlite", "postgresql"), its values bound:
    rows of (id, lat, lon, created_at, category, cell)."""
    wanted = sorted(set(pairs))
    if dialect == "sqlite":
        return _NEARBY[dialect].bindparams(pairs=json.dumps(wanted), since=since)
    return _NEARBY[dialect].bindparams(
        categories=[category for category, _ in wanted],
        cells=[cell for _, cell in wanted],
        since=since,
    )


def nearby_cases(
    session: Session, pairs: Collection[tuple[str, str]], since: datetime
) -> dict[tuple[str, str], list[_NearbyRow]]:
    """Open cases in each (category, cell) of `pairs` opened since `since`: the duplicate look-up,
    which the index on (category, cell, created_at) answers without reading other cases."""
    if not pairs:
        return {}
    found: dict[tuple[str, str], list[_NearbyRow]] = {}
    dialect = session.get_bind().dialect.name
    for case_id, lat, lon, created_at, category, cell in session.execute(
        nearby_query(dialect, pairs, since)
    ):
        found.setdefault((category, cell), []).append((case_id, lat, lon, created_at))
    return found


@dataclass(frozen=True, slots=True)
class _Conversations:
    """On a conversing network (`IntakeRules.converses`), what the store knew of each sender of
    the page, by their address (`Mention.author_id`, the number): whether they said STOP last,
    their newest case (locked, as `_Threads` locks its cases: it may be followed up), and the
    menu they were sent within `intake.CONVERSATION_WINDOW` if it still waits in the inbox.
    Three queries a page, each a search of an index by the page's numbers (ix_cases_author,
    consent's by address, the inbox's by state and time)."""

    stopped: set[str]
    newest: dict[str, Case]  # address → their newest case
    menus: dict[str, PendingMenu]  # address → the menu waiting for their choice

    @classmethod
    def load(
        cls, session: Session, platform: str, addresses: Collection[str], now: datetime
    ) -> _Conversations:
        wanted = sorted(set(addresses))
        if not wanted:
            return cls(set(), {}, {})
        stopped = consent.stopped(session, platform, wanted)
        newest_ids = (
            sa_select(func.max(col(Case.id)))
            .where(col(Case.platform) == platform, col(Case.author_id).in_(wanted))
            .group_by(col(Case.author_id))
        )
        newest = {
            case.author_id: case
            for case in session.exec(
                select(Case).where(col(Case.id).in_(newest_ids)).with_for_update()
            ).all()
        }
        since = now - CONVERSATION_WINDOW
        menus: dict[str, PendingMenu] = {}
        rows = session.exec(
            select(InboxItem, MentionRecord.author_id, MentionRecord.text, OutboxMessage.lang)
            .join(MentionRecord, col(MentionRecord.id) == col(InboxItem.mention_id))
            .outerjoin(
                OutboxMessage,
                and_(
                    col(OutboxMessage.mention_id) == col(InboxItem.mention_id),
                    col(OutboxMessage.template) == Reply.MENU.value,
                ),
            )
            .where(
                col(InboxItem.state) == InboxState.OPEN,
                col(InboxItem.created_at) >= since,
                col(InboxItem.platform) == platform,
                col(InboxItem.reason) == InboxReason.MENU,
                col(MentionRecord.author_id).in_(wanted),
            )
            .order_by(col(InboxItem.id))  # the newest menu of each number comes last, and wins
        ).all()
        for item, author, words, lang in rows:
            assert item.id is not None
            where = None
            if item.lat is not None and item.lon is not None:
                where = Location(GeoPoint(item.lat, item.lon), _source(item.location_source))
            menus[author] = PendingMenu(
                item.id, words, lang or "en", where, tuple(item.photo_urls or ())
            )
        return cls(stopped, newest, menus)

    def conversation(self, address: str) -> Conversation:
        case = self.newest.get(address)
        return Conversation(
            newest_case=_as_thread(case) if case is not None else None,
            menu=self.menus.get(address),
        )

    def waiting(self, address: str, now: datetime) -> Case | None:
        """The number's case that waits for its location, opened within the window: the
        conversation's thread, which their next text may complete."""
        case = self.newest.get(address)
        if case is None or case.status is not CaseStatus.NEEDS_LOCATION:
            return None
        return case if case.created_at >= now - CONVERSATION_WINDOW else None


def _source(value: str | None) -> LocationSource:
    try:
        return LocationSource(value or LocationSource.NONE.value)
    except ValueError:
        return LocationSource.NONE
