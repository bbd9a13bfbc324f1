"""A batch's rows, written a statement per table (`PageWriter`), each mention decided in order as
if the ones before it were already written."""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, text, update
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, col, select

from socialbot import consent
from socialbot.domain import (
    REPORT_OUTCOMES,
    GeoPoint,
    InboxReason,
    InboxState,
    Mention,
    MentionOutcome,
    Reply,
)
from socialbot.ingest.cases import (
    _apply_follow_up,
    _as_thread,
    _CaseView,
    _link_event,
    _link_to,
    _photos_added,
    open_case,
)
from socialbot.ingest.context import Handled, Intake
from socialbot.ingest.prereads import (
    _TAKES_DUPLICATES,
    _Authors,
    _Conversations,
    _Edits,
    _Nearby,
    _NearbyRow,
    _replied_to,
    _Threads,
    nearby_cases,
)
from socialbot.ingest.reply import _failure, _reply_text, reply_key
from socialbot.intake import (
    Decision,
    IntakeRules,
    NearbyCase,
    Reading,
    Standing,
    decide,
    duplicate_search,
    link_duplicate,
)
from socialbot.location import haversine_m
from socialbot.sms.keywords import KeywordKind
from socialbot.store.models import (
    Case,
    CaseEvent,
    ConsentAction,
    ConsentSource,
    InboxItem,
    MentionRecord,
    OutboxMessage,
    OutboxState,
    TemplateFailure,
)

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Staged:
    """A handled mention whose rows wait for `_PageWriter.write`."""

    mention: Mention
    decision: Decision
    record: dict[str, Any]  # its `mentions` row, less the case id
    case: _CaseView | None  # the case it opens or follows up
    new_case: dict[str, Any] | None  # the `cases` row of the case it opens
    event: dict[str, Any] | None  # the `case_events` row, less a new case's id
    edit: bool = False  # an edit of a post already handled
    about: _CaseView | None = None  # the case a reply is about that it does not change (STATUS)


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
        readings: dict[str, Reading] | None = None,
        conversations: _Conversations | None = None,
    ) -> None:
        self.session, self.intake, self.rules, self.now = session, intake, rules, now
        # On a conversing network: what the store knew of each sender's number.
        self.conversations = conversations or _Conversations(set(), {}, {})
        self.authors, self.threads, self.edits, self.nearby = authors, threads, edits, nearby
        self.readings = readings or {}  # post id → its mention read once, for its decision
        # The cases this writer wrote that the duplicate look-up could find, by (category, cell);
        # and the (category, cell) a case followed up may have moved into.
        self._opened_nearby: dict[tuple[str, str], list[_NearbyRow]] = {}
        self._moved: set[tuple[str, str]] = set()
        # (platform, post id) of the mentions staged that open a case: what `_page_thread` could
        # find of the page, with the page's reports by conversation (`_page_reports`).
        self._opened: set[tuple[str, str]] = set()
        self._staged: set[tuple[str, str]] = set()  # (platform, post id) of every mention staged
        # The cases the page opened that are written, by (platform, post id) of their report;
        # and each conversation's newest report of the page, by (platform, conversation id).
        self._page_cases: dict[tuple[str, str], int] = {}
        self._page_reports: dict[tuple[str, str | None], _CaseView] = {}
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
        readings = _readings(mentions, rules)
        nearby = _Nearby.load(session, rules, readings.values(), now)
        conversations = (
            _Conversations.load(session, intake.platform.name, [m.author_id for m in mentions], now)
            if rules.converses
            else None
        )
        return cls(
            session, intake, rules, authors, threads, edits, nearby, now, readings, conversations
        )

    def stage(self, mention: Mention) -> None:
        edit, thread, linked = self._edited(mention)
        conversation = None
        if self.rules.converses and not edit:
            self._converse_after_staged(mention)
            conversation = self.conversations.conversation(mention.author_id)
            thread = self.conversations.waiting(mention.author_id, self.now)
        elif not edit and self._page_may_hold_thread(mention):
            thread = self._page_thread(mention)
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
            reading=self.readings.get(mention.post_id),
            conversation=conversation,
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
            "reply_context": mention.reply_context,
        }
        case: _CaseView | None = None
        about: _CaseView | None = None
        new_case = event = None
        if decision.about_case is not None:
            newest = self.conversations.newest.get(mention.author_id)
            if newest is not None and newest.id == decision.about_case:
                about = _CaseView(newest.id, newest.category, newest.status)
        if decision.follow_up_case is not None:
            assert thread is not None and thread.id == decision.follow_up_case
            located = thread.lat is not None
            event = _apply_follow_up(mention, decision, thread, self.rules, self.now)
            case = _CaseView(thread.id, thread.category, thread.status)
            if not located and thread.cell is not None:  # it just came to a cell: look there in
                self._moved.add((thread.category, thread.cell))  # the store, which has it now
        elif decision.duplicate_of is not None:
            event, case = self._link(mention, decision, decision.duplicate_of)
        elif decision.opens_case:
            new_case, event = open_case(mention, decision, self.rules, self.now)
            case = _CaseView(None, new_case["category"], new_case["status"])
            self._opened.add((mention.platform, mention.post_id))
        if decision.outcome in REPORT_OUTCOMES and mention.conversation_id and case is not None:
            self._page_reports[(mention.platform, mention.conversation_id)] = case
        self._staged.add((mention.platform, mention.post_id))
        self.pending.append(_Staged(mention, decision, record, case, new_case, event, edit, about))

    def write(self) -> None:
        """Insert the staged rows, a statement per table, and record their mentions' fate."""
        staged, self.pending = self.pending, []
        if not staged:
            return
        self.session.flush()  # the cases followed up and the blocks, changed in place
        self._write_cases(staged)
        mention_ids = _inserted(
            self.session,
            _MENTIONS,
            "post_id",
            [{**s.record, "case_id": s.case.id if s.case else None} for s in staged],
        )
        events = [
            {**s.event, "case_id": s.case.id} for s in staged if s.event is not None and s.case
        ]
        if events:
            self.session.execute(insert(_CASE_EVENTS), events)
        replies: list[dict[str, Any]] = []
        handled: list[Handled] = []
        failures: list[dict[str, Any]] = []
        inbox: list[dict[str, Any]] = []
        for s in staged:
            mention, decision = s.mention, s.decision
            case = s.case or s.about  # the case its reply tells of
            rendered = _reply_text(self.intake, self.rules, decision, case, mention.author_username)
            reply_text = rendered.text if rendered is not None else None
            if rendered is not None and rendered.problem is not None and decision.reply:
                failures.append(
                    _failure(decision.reply.value, decision.lang, case, rendered, self.now)
                )
            reason = decision.inbox
            if decision.reply is Reply.ANSWER and rendered is not None and rendered.problem:
                reason = InboxReason.QUESTION  # it got the built-in text: staff owe the answer
            if reason is not None:
                inbox.append(
                    {
                        "mention_id": mention_ids[mention.post_id],
                        "platform": mention.platform,
                        "account": self.intake.account,
                        "reason": reason,
                        "priority": decision.inbox_priority,
                        "case_id": s.case.id if s.case else None,
                        "state": InboxState.OPEN,
                        "created_at": self.now,
                        "note": "",
                        **_carried(mention, decision),
                    }
                )
            if decision.reply is not None:
                replies.append(
                    {
                        "platform": mention.platform,
                        "account": self.intake.account,
                        "dedupe_key": reply_key(mention.platform, mention.post_id),
                        "in_reply_to_post_id": mention.post_id,
                        "reply_context": mention.reply_context,
                        "recipient": mention.author_id,
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
                    s.case.id if s.case else None,
                    reply_text,
                )
            )
        if replies:
            self.session.execute(insert(_OUTBOX), replies)
        if failures:
            self.session.execute(insert(_table(TemplateFailure)), failures)
        if inbox:
            self.session.execute(insert(_INBOX), inbox)
        for s in staged:
            if s.edit and s.decision.outcome in REPORT_OUTCOMES and s.case and s.case.id:
                _close_edited(self.session, s.mention, s.case.id, self.now)
        if self.rules.converses:
            for s in staged:
                self._converse(s, mention_ids[s.mention.post_id])
        for s in staged:
            author = (s.mention.platform, s.mention.author_id)
            if s.new_case is not None:
                self._cases_today[author] += 1
            if s.decision.outcome is MentionOutcome.LIMITED:
                self._told.add(author)
        self.handled += handled

    def _converse_after_staged(self, mention: Mention) -> None:
        """Before a text whose number sent another earlier in the page: that one's rows written
        and the number's conversation read again (its STOP, its case, its menu), so that each
        text is decided as if the ones before it were already written."""
        if not any(s.mention.author_id == mention.author_id for s in self.pending):
            return
        self.write()
        fresh = _Conversations.load(
            self.session, self.intake.platform.name, [mention.author_id], self.now
        )
        known = self.conversations
        known.stopped.discard(mention.author_id)
        known.stopped.update(fresh.stopped)
        known.newest.pop(mention.author_id, None)
        known.newest.update(fresh.newest)
        known.menus.pop(mention.author_id, None)
        known.menus.update(fresh.menus)

    def _converse(self, s: _Staged, mention_id: int) -> None:
        """What a text on a conversing network writes besides its mention, case and reply, in
        its transaction and once (its mention is written once): its consent (STOP, START), its
        subscription (ALERTS), and the menu its choice answered, which leaves the inbox."""
        mention, decision = s.mention, s.decision
        platform, address = mention.platform, mention.author_id
        keyword = decision.keyword
        if keyword is not None and keyword.kind in _CONSENTS:
            consent.record_consent(
                self.session,
                platform,
                address,
                _CONSENTS[keyword.kind],
                ConsentSource.KEYWORD,
                at=self.now,
                word=keyword.word,
                mention_id=mention_id,
            )
        if decision.alerts is not None and decision.reply is not None:
            consent.subscribe(
                self.session,
                platform,
                address,
                district=decision.alerts.district,
                lang=decision.lang,
                at=self.now,
                mention_id=mention_id,
            )
        if decision.menu_inbox is not None:
            filed = s.case.id if s.case is not None else None
            said = f"case #{filed}" if filed is not None else decision.outcome.value
            self.session.execute(
                update(InboxItem)
                .where(
                    col(InboxItem.id) == decision.menu_inbox,
                    col(InboxItem.state) == InboxState.OPEN,
                )
                .values(
                    state=InboxState.DONE,
                    closed_at=self.now,
                    closed_by=EDIT_CLOSER,
                    filed_case_id=filed,
                    note=f"the resident chose {keyword.word if keyword else '?'} from the menu: "
                    f"{said}",
                )
            )

    def _write_cases(self, staged: Sequence[_Staged]) -> None:
        """Insert the cases of `staged` not written yet (one statement), for their numbers."""
        opened = [s for s in staged if s.new_case is not None and s.case and s.case.id is None]
        if not opened:
            return
        numbers = _inserted(
            self.session,
            _CASES,
            "mention_post_id",
            [s.new_case for s in opened if s.new_case is not None],
        )
        for s in opened:
            assert s.case is not None and s.new_case is not None
            s.case.id = numbers[s.mention.post_id]
            self._page_cases[(s.mention.platform, s.mention.post_id)] = s.case.id
            row = s.new_case
            if row.get("cell") is not None and row["status"] in _TAKES_DUPLICATES:
                self._opened_nearby.setdefault((row["category"], row["cell"]), []).append(
                    (s.case.id, row["lat"], row["lon"], row["created_at"])
                )

    def _link(
        self, mention: Mention, decision: Decision, case_id: int
    ) -> tuple[dict[str, Any], _CaseView]:
        """Link `mention` to the case it duplicates: one more reporter, its photos; the event
        saying so, and the case as it stands. A case the session holds (a thread's, a case
        linked before) changes in place, as the session will write it; any other is changed by
        one UPDATE … RETURNING, which locks its row as a `SELECT … FOR UPDATE` would, instead
        of a select, an object and an update."""
        held = self.session.identity_map.get(identity_key(Case, case_id))
        if isinstance(held, Case):
            held = self.session.get(Case, case_id, with_for_update=True)  # locked, and current
            assert held is not None and held.id is not None
            return _link_to(mention, decision, held, self.now), _CaseView(
                held.id, held.category, held.status
            )
        row = self.session.execute(
            update(_CASES)
            .where(_CASES.c.id == case_id)
            .values(reporter_count=_CASES.c.reporter_count + 1, updated_at=self.now)
            .returning(
                _CASES.c.category,
                _CASES.c.status,
                _CASES.c.reporter_count,
                _CASES.c.photo_urls,
                _CASES.c.public_photo_urls,
            )
        ).one()
        photos, public = _photos_added(row.photo_urls, row.public_photo_urls, mention, decision)
        if photos is not None:
            self.session.execute(
                update(_CASES)
                .where(_CASES.c.id == case_id)
                .values(photo_urls=photos, public_photo_urls=public)
            )
        event = _link_event(mention, decision, row.status, row.reporter_count, self.now)
        return event, _CaseView(case_id, row.category, row.status)

    def _page_thread(self, mention: Mention) -> Case | None:
        """The case `mention` replies in when it may be one the page opened (or a conversation
        the page reported in): the store's threads with the page's on top, as the store will
        have them once the page is written. Only the page's cases are written for it, not its
        other rows; the case comes locked, as `_Threads` locks its cases."""
        self._write_cases(self.pending)
        reported = {key: view.id for key, view in self._page_reports.items()}
        case_id = self.threads.case_id_for(mention, self._page_cases, reported)
        if case_id is None:
            return None
        case = self.threads.cases.get(case_id)
        if case is None:
            case = self.session.get(Case, case_id, with_for_update=True)
            if case is not None:
                self.threads.cases[case_id] = case
        return case

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
            stopped=self.rules.converses and mention.author_id in self.conversations.stopped,
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
            and s.case is not None
            and s.case.id is None
            for s in self.pending
        ):
            self._write_cases(self.pending)  # a case this page opened nearby must be found too
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
        return [row for rows in nearby_cases(self.session, wanted, since).values() for row in rows]

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
        report of the page's): then `_page_thread` looks, with the page's own reports."""
        return any((mention.platform, p) in self._opened for p in _replied_to(mention)) or (
            bool(mention.conversation_id)
            and (mention.platform, mention.conversation_id) in self._page_reports
            and bool(_replied_to(mention))
        )


def _readings(mentions: Sequence[Mention], rules: IntakeRules) -> dict[str, Reading]:
    """Each mention read once (`intake.Reading`), by post id. One that cannot be read is left
    out: its own decision reads it again, and fails where a failure is handled."""
    readings = {}
    for mention in mentions:
        try:
            readings[mention.post_id] = Reading(mention, rules)
        except Exception:  # see the docstring
            continue
    return readings


def _close_edited(session: Session, edit: Mention, case_id: int, now: datetime) -> None:
    """The inbox item of the post `edit` edits, if it still waits: the resident's edit made the
    post a report (case `case_id`), so staff have nothing left to do with it (and filing it
    would open the case twice). DONE, not FILED: no staff answered it."""
    originals = select(MentionRecord.id).where(
        col(MentionRecord.platform) == edit.platform,
        col(MentionRecord.post_id).in_(edit.edit_of),
    )
    session.execute(
        update(InboxItem)
        .where(col(InboxItem.state) == InboxState.OPEN, col(InboxItem.mention_id).in_(originals))
        .values(
            state=InboxState.DONE,
            closed_at=now,
            closed_by=EDIT_CLOSER,
            note=f"the resident's edit made it a report: case #{case_id}",
        )
    )


# Who `closed_by` names when no staff member closed an inbox item.
EDIT_CLOSER = "socialbot"

# The consent a keyword records.
_CONSENTS = {KeywordKind.STOP: ConsentAction.STOP, KeywordKind.START: ConsentAction.START}


def _carried(mention: Mention, decision: Decision) -> dict[str, Any]:
    """What an inbox row keeps of its message: the location and photos intake found in it
    (a follow-up's belong to its case already), and whether anyone may read it."""
    where = decision.location if decision.follow_up_case is None else None
    return {
        "lat": where.point.lat if where else None,
        "lon": where.point.lon if where else None,
        "location_source": where.source.value if where else None,
        "photo_urls": list(decision.photo_urls) if decision.follow_up_case is None else [],
        "public": mention.public,
        "address": decision.address if decision.follow_up_case is None else None,
    }


def _inserted(
    session: Session, table: Table, key: str, rows: Sequence[dict[str, Any]]
) -> dict[str, int]:
    """Insert `rows` into `table` (one statement) and return each row's new id by its `key`
    column (a post id). On PostgreSQL the ids are taken from the table's sequence first, one
    query for all, and the rows inserted with them: psycopg sends a plain many-row INSERT as
    one prepared statement in pipeline mode, where an INSERT … RETURNING of many rows is a new
    statement text for every number of rows (measured: 2.6 ms against 1.8 ms for 20 cases). A
    transaction that rolls back leaves the same gap in the sequence either way."""
    if session.get_bind().dialect.name != "postgresql":
        returned = session.execute(insert(table).returning(table.c[key], table.c.id), rows)
        return {post_id: row_id for post_id, row_id in returned.all()}
    ids = session.execute(_NEXT_IDS, {"table": table.name, "count": len(rows)}).scalars().all()
    session.execute(
        insert(table), [{**row, "id": row_id} for row, row_id in zip(rows, ids, strict=True)]
    )
    return {row[key]: row_id for row, row_id in zip(rows, ids, strict=True)}


# As many new ids of a table's `id` sequence as asked, ascending: the page's rows take them in
# their order ("the newest report wins" reads mention ids).
_NEXT_IDS = text(
    "SELECT nextval(pg_get_serial_sequence(:table, 'id')) AS id "
    "FROM generate_series(1, :count) ORDER BY id"
)


def _table(model: type[Any]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


_CASES = _table(Case)


_MENTIONS = _table(MentionRecord)


_CASE_EVENTS = _table(CaseEvent)


_OUTBOX = _table(OutboxMessage)


_INBOX = _table(InboxItem)
