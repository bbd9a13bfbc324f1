"""The staff inbox: the messages that are not reports, waiting for a person (`socialbot inbox`).

Intake writes an `inbox` row for each, in the mention's own transaction (`intake`: posts that name
no category, questions answers.yaml does not answer confidently, free comments in a case's thread,
storm posts whose problem it could not tell, those first). Staff close each once:

- `reply`: their own words, queued in the resident's thread on the network it came from;
- `answer`: an entry of answers.yaml, in the message's language;
- `done`: nothing to send (the note says why, for the record);
- `file`: made a case as if the resident had posted it properly, and the resident told;
- `assign`: a person or a department is to see to it; it stays open.

Each is one transaction. "Once" is the database's: the first statement of every closing
transaction is a compare-and-set, `UPDATE inbox SET state=… WHERE id=? AND state='open'`, so of two
staff acting at the same moment, or a command run twice, one wins and the other is refused with
who closed it and when; the reply's outbox row carries the unique dedupe key `inbox:<id>` as a
second guard. A reply's text is made by one function for the preview and for the queue: what
staff saw is what is posted.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, case, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from socialbot import message_kind, people, storable
from socialbot.answers import Answer, Answers
from socialbot.broadcasts import storm
from socialbot.catalog import Category, normalize_tag
from socialbot.closures import calendar_in
from socialbot.departments import nearest
from socialbot.domain import (
    CaseStatus,
    GeoPoint,
    InboxReason,
    InboxState,
    Location,
    LocationSource,
    Mention,
    MentionOutcome,
    Reply,
)
from socialbot.errors import InboxError
from socialbot.ingest.cases import open_case
from socialbot.intake import Decision, IntakeRules, route
from socialbot.lifecycle import OPEN
from socialbot.location import best_location
from socialbot.replies import Replies, ReplyContext
from socialbot.sla import BusinessCalendar
from socialbot.store.db import transaction
from socialbot.store.models import (
    Case,
    CaseEvent,
    InboxItem,
    MentionRecord,
    OutboxMessage,
    TemplateFailure,
)
from socialbot.text_rules import TextRules

ACTOR_LENGTH = storable.column_length(InboxItem.closed_by)
ASSIGNEE_LENGTH = storable.column_length(InboxItem.assigned_to)
# Item numbers are the database's integer keys; a bigger one would overflow the driver.
MAX_ITEM = 2**31 - 1
# The outbox's template names of what staff send from here.
REPLY_TEMPLATE = "inbox_reply"
ANSWER_TEMPLATE = Reply.ANSWER.value

# C0 and C1 controls but newline and tab: a reply staff type carries no terminal escape, no CR
# that a network would show as garbage, nothing the resident cannot see.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# How a closed item reads in a refusal: "inbox #12 was answered (trash_day) by maria at …".
_CLOSED_AS = {
    InboxState.REPLIED: "was replied to",
    InboxState.ANSWERED: "was answered",
    InboxState.DONE: "was marked done",
    InboxState.FILED: "was filed",
}


@dataclass(frozen=True, slots=True)
class Item:
    """One message of the inbox, with what its mention says."""

    id: int
    mention_id: int
    network: str
    account: str
    post_id: str
    handle: str | None  # without '@'
    author_id: str
    reason: InboxReason
    priority: bool
    state: InboxState
    received_at: datetime
    text: str
    lang: str | None  # as the network gave it
    conversation_id: str | None
    reply_context: str = ""  # what the network needs to answer it (`PostRef.context`)
    case_id: int | None = None  # the case whose thread it is in
    assigned_to: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    answer_key: str | None = None
    note: str = ""
    outbox_id: int | None = None
    filed_case_id: int | None = None
    location: Location | None = None  # what intake found in the message: exact geo, a map link
    photo_urls: tuple[str, ...] = ()
    public: bool = True  # anyone may read the message (not a direct one)
    personal: bool = False  # the network's ids are personal data: shown masked (`people`)
    address: str | None = None  # an address in words intake found in it, as written

    @property
    def who(self) -> str:
        """`@maria`, or the author's id (masked where it is personal) where the network gave no
        handle."""
        return people.shown_person(self.author_id, self.handle, personal=self.personal)

    @property
    def reply_lang(self) -> str:
        """The language of what staff send back, as intake chooses it: its words ("¿cuándo…?"),
        else the network's word for it, else English. A comment in a case's thread is answered
        in the language it was written in, not the case's."""
        return message_kind.language_of(self.text, self.lang, "en")


@dataclass(frozen=True, slots=True)
class Post:
    """A post of a message's thread: the resident's (or a neighbour's), or one of our replies."""

    at: datetime
    who: str  # `@maria`; for ours, the account that posts it
    text: str
    ours: bool = False
    state: str | None = None  # ours: the outbox state (pending, sent, failed)
    this: bool = False  # the inbox item's own message


@dataclass(frozen=True, slots=True)
class OpenCase:
    """A case of the same resident still open."""

    id: int
    category: str
    status: CaseStatus
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Detail:
    """`inbox show`: the message, its thread in time order, the resident's open cases."""

    item: Item
    thread: tuple[Post, ...]
    open_cases: tuple[OpenCase, ...]


@dataclass(frozen=True, slots=True)
class Draft:
    """A reply as it will be posted (addressed to the resident where the network needs it),
    measured by the rules of the network it goes to."""

    item_id: int
    to: str  # `@maria`: whose thread it goes to
    text: str
    lang: str
    rules: TextRules
    length: int

    @property
    def fits(self) -> bool:
        return self.length <= self.rules.limit

    @property
    def measured(self) -> str:
        """ "143 of 500 characters on Mastodon"."""
        return f"{self.length} of {self.rules.limit} {self.rules.unit} on {self.rules.network}"

    def too_long(self) -> InboxError:
        return InboxError(
            f"inbox #{self.item_id}: the reply is {self.measured}; shorten it (nothing queued)"
        )


@dataclass(frozen=True, slots=True)
class Closed:
    """What a closing action did: the item's new state and, if something goes to the resident,
    its outbox row and text; a filed item's new case."""

    item_id: int
    state: InboxState
    outbox_id: int | None = None
    text: str | None = None
    case_id: int | None = None
    case_status: CaseStatus | None = None


@dataclass(frozen=True, slots=True)
class Assigned:
    item_id: int
    to: str
    before: str | None  # who it was assigned to until now


@dataclass(frozen=True, slots=True)
class FilePlan:
    """The case `inbox file` would open: the message's category, location and routing."""

    item: Item
    category: Category
    lang: str
    location: Location | None
    department: str
    district: str | None

    @property
    def located(self) -> bool:
        """A point, or an address in words (filed by it, as intake files one)."""
        return self.location is not None or self.item.address is not None

    @property
    def status(self) -> CaseStatus:
        return CaseStatus.NEW if self.located else CaseStatus.NEEDS_LOCATION


@dataclass(frozen=True, slots=True)
class Filing:
    """What filing a case needs, as intake has it: the catalog, bounds, districts and calendar
    (`IntakeRules`), the reply templates, the link each network's replies give a case."""

    rules: IntakeRules
    replies: Replies
    case_urls: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Inbox:
    """The inbox's reads and staff actions on one database. `text_rules` are each network's by
    its short name (an item's `network`); `answer_links`: whether an answer carries its link
    there (not where a link is billed; a network not named: yes)."""

    engine: Engine
    text_rules: Mapping[str, TextRules]
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    answers: Answers | None = None
    answer_links: Mapping[str, bool] = field(default_factory=dict)
    filing: Filing | None = None
    # The networks whose people's ids are personal data (`app.personal_networks`): shown masked.
    personal_networks: frozenset[str] = frozenset()

    # --- reads ---------------------------------------------------------------------------------

    def items(
        self,
        *,
        network: str | None = None,
        since: datetime | None = None,
        include_closed: bool = False,
    ) -> list[Item]:
        """The open items (every one with `include_closed`), open ones first, then those with
        priority (storm posts), then the oldest."""
        query = select(InboxItem, MentionRecord).join(
            MentionRecord, col(InboxItem.mention_id) == col(MentionRecord.id)
        )
        if not include_closed:
            query = query.where(col(InboxItem.state) == InboxState.OPEN)
        if network is not None:
            query = query.where(col(InboxItem.platform) == network)
        if since is not None:
            query = query.where(col(InboxItem.created_at) >= since)
        query = query.order_by(
            case((col(InboxItem.state) == InboxState.OPEN, 0), else_=1),
            col(InboxItem.priority).desc(),
            col(InboxItem.created_at),
            col(InboxItem.id),
        )
        with transaction(self.engine) as session:
            return [self._shown(_item(row, mention)) for row, mention in session.exec(query).all()]

    def detail(self, item_id: int) -> Detail:
        """One item, its thread (the case's, when it is in one; else its conversation) and its
        author's open cases; an InboxError when there is no such item."""
        with transaction(self.engine) as session:
            item = self._shown(_load(session, item_id))
            mentions = _thread_mentions(session, item)
            ids = [m.id for m in mentions if m.id is not None]
            replies = select(OutboxMessage).where(col(OutboxMessage.mention_id).in_(ids))
            if item.case_id is not None:
                replies = select(OutboxMessage).where(
                    (col(OutboxMessage.case_id) == item.case_id)
                    | col(OutboxMessage.mention_id).in_(ids)
                )
            posts = [
                Post(
                    m.created_at,
                    people.shown_person(m.author_id, m.author_username, personal=item.personal),
                    m.text,
                    this=m.id == item.mention_id,
                )
                for m in mentions
            ] + [
                Post(r.sent_at or r.created_at, r.account, r.text, ours=True, state=r.state.value)
                for r in session.exec(replies.order_by(col(OutboxMessage.id))).all()
            ]
            cases = session.exec(
                select(Case)
                .where(
                    col(Case.platform) == item.network,
                    col(Case.author_id) == item.author_id,
                    col(Case.status).in_(sorted(OPEN)),
                )
                .order_by(col(Case.id))
            ).all()
        posts.sort(key=lambda p: (p.at, p.ours))
        return Detail(
            item,
            tuple(posts),
            tuple(OpenCase(c.id or 0, c.category, c.status, c.created_at) for c in cases),
        )

    def _shown(self, item: Item) -> Item:
        return replace(item, personal=item.network in self.personal_networks)

    # --- replies -------------------------------------------------------------------------------

    def draft_reply(self, item_id: int, text: str, now: datetime) -> Draft:
        """Staff's words as they would be posted to item `item_id`; an InboxError when the item
        is closed or the text cannot be sent (empty, a control character). Too long is not an
        error here: the preview shows the length (`Draft.fits`)."""
        with transaction(self.engine) as session:
            item = self._shown(_load(session, item_id))
        _refuse_closed(item, self.zone, now, "nothing sent")
        return self._reply_draft(item, text)

    def reply(self, item_id: int, text: str, actor: str, now: datetime) -> Closed:
        """Queue staff's words in the resident's thread, once: the item becomes REPLIED."""
        _check_actor(actor)
        return self._close_with_post(
            item_id,
            InboxState.REPLIED,
            actor,
            now,
            lambda item: self._reply_draft(item, text),
            REPLY_TEMPLATE,
        )

    def draft_answer(self, item_id: int, key: str, now: datetime) -> Draft:
        """Entry `key` of answers.yaml as it would be posted to item `item_id`."""
        answer = self.answer_named(key)
        with transaction(self.engine) as session:
            item = self._shown(_load(session, item_id))
        _refuse_closed(item, self.zone, now, "nothing sent")
        return self._answer_draft(item, answer)

    def answer(self, item_id: int, key: str, actor: str, now: datetime) -> Closed:
        """Queue entry `key` of answers.yaml in the resident's thread, once: ANSWERED."""
        _check_actor(actor)
        answer = self.answer_named(key)
        return self._close_with_post(
            item_id,
            InboxState.ANSWERED,
            actor,
            now,
            lambda item: self._answer_draft(item, answer),
            ANSWER_TEMPLATE,
            answer_key=answer.key,
        )

    def answer_named(self, key: str) -> Answer:
        """The entry `key` (as typed, case and spaces aside); an InboxError naming the nearest
        keys when answers.yaml has none."""
        entries = self.answers.entries if self.answers is not None else ()
        by_key = {a.key: a for a in entries}
        typed = key.strip().lower()
        if typed in by_key:
            return by_key[typed]
        if not by_key:
            raise InboxError(f"{key!r}: answers.yaml has no entries (SOCIALBOT_ANSWERS)")
        near = nearest(typed.replace("_", " "), {k.replace("_", " "): k for k in by_key})
        hint = (
            "did you mean " + ", ".join(near) + "?"
            if near
            else f"its keys are {', '.join(sorted(by_key)[:8])}, …"
        )
        source = self.answers.source if self.answers is not None else "answers.yaml"
        raise InboxError(f"{key!r}: no such entry in {source}; {hint}")

    # --- closing without a post ----------------------------------------------------------------

    def done(self, item_id: int, actor: str, now: datetime, note: str = "") -> Closed:
        """Close the item without a reply (the note says why)."""
        _check_actor(actor)
        storable.check(note, f"inbox #{item_id}: --note")
        with transaction(self.engine) as session:
            _claim(
                session,
                item_id,
                InboxState.DONE,
                actor,
                now,
                self.zone,
                "nothing changed",
                note=note.strip(),
            )
        return Closed(item_id, InboxState.DONE)

    def assign(self, item_id: int, to: str, now: datetime) -> Assigned:
        """Give an open item to a person or a department (free text, 1-128 characters)."""
        name = " ".join(to.split())
        if not name:
            raise InboxError(f"inbox #{item_id}: --to needs a name (a person or a department)")
        storable.check(name, "--to", ASSIGNEE_LENGTH)
        if not 0 < item_id <= MAX_ITEM:
            raise _unknown(item_id)
        with transaction(self.engine) as session:
            row = session.get(InboxItem, item_id, with_for_update=True)
            if row is None:
                raise _unknown(item_id)
            _refuse_closed(_load(session, item_id), self.zone, now, "nothing changed")
            before = row.assigned_to
            row.assigned_to = name
            session.add(row)
        return Assigned(item_id, name, before)

    # --- filing --------------------------------------------------------------------------------

    def plan_file(
        self, item_id: int, category: str, at: GeoPoint | None, now: datetime
    ) -> FilePlan:
        """The case `file` would open for item `item_id`; an InboxError when it cannot (closed,
        an unknown category, a location outside the city)."""
        with transaction(self.engine) as session:
            item = self._shown(_load(session, item_id))
        _refuse_closed(item, self.zone, now, "nothing filed")
        return self._plan(item, category, at)

    def file(
        self, item_id: int, category: str, at: GeoPoint | None, actor: str, now: datetime
    ) -> Closed:
        """Open the case the message describes as intake opens one, tell the resident in their
        thread as intake would, once: FILED."""
        _check_actor(actor)
        filing = self._filing()
        with _once(item_id), transaction(self.engine) as session:
            item = _claim(
                session, item_id, InboxState.FILED, actor, now, self.zone, "nothing filed"
            )
            plan = self._plan(item, category, at)
            rules = filing.rules
            if rules.calendar is not None:  # due times by the days closed as of now
                rules = _with_calendar(rules, calendar_in(session, rules.calendar, now))
            reply = Reply.FILED if plan.located else Reply.NEEDS_LOCATION
            decision = Decision(
                MentionOutcome.CASE_OPENED if plan.located else MentionOutcome.NEEDS_LOCATION,
                plan.lang,
                reply=reply,
                category=plan.category,
                location=plan.location,
                photo_urls=item.photo_urls,
                detail=f"filed from the inbox by {actor}",
                address=item.address,
            )
            row, event = open_case(_as_mention(item), decision, rules, now)
            opened = Case(**row)
            session.add(opened)
            session.flush()
            assert opened.id is not None
            session.add(CaseEvent(**(event | {"actor": actor, "case_id": opened.id})))
            session.execute(
                update(MentionRecord)
                .where(col(MentionRecord.id) == item.mention_id)
                .values(case_id=opened.id)
            )
            text = self._filed_reply(session, item, plan, decision, opened, now)
            outbox_id = _queue_text(session, item, text, plan.lang, reply.value, now, opened.id)
            session.execute(
                update(InboxItem)
                .where(col(InboxItem.id) == item_id)
                .values(filed_case_id=opened.id, outbox_id=outbox_id)
            )
        return Closed(item_id, InboxState.FILED, outbox_id, text, opened.id, opened.status)

    # --- the parts -----------------------------------------------------------------------------

    def _rules(self, item: Item) -> TextRules:
        try:
            return self.text_rules[item.network]
        except KeyError:
            raise InboxError(
                f"inbox #{item.id} came from {item.network}, which is not configured; "
                "configure it to answer there"
            ) from None

    def _reply_draft(self, item: Item, text: str) -> Draft:
        words = text.strip()
        if not words:
            raise InboxError(f"inbox #{item.id}: the reply is empty; nothing queued")
        why = storable.problem(words)
        if why is not None:
            raise InboxError(f"inbox #{item.id}: the reply {why}; nothing queued")
        control = _CONTROL.search(words)
        if control is not None:
            raise InboxError(
                f"inbox #{item.id}: the reply holds a control character "
                f"(\\x{ord(control[0]):02x}); remove it (nothing queued)"
            )
        rules = self._rules(item)
        posted = rules.addressed(words, item.handle)
        return Draft(item.id, item.who, posted, item.reply_lang, rules, rules.length(posted))

    def _answer_draft(self, item: Item, answer: Answer) -> Draft:
        """The answer in the message's language, with its link where the network carries one,
        without it if only that makes it fit (a long handle), as intake sends an answer."""
        rules = self._rules(item)
        lang = item.reply_lang
        posted = ""
        for with_link in dict.fromkeys((self.answer_links.get(item.network, True), False)):
            posted = rules.addressed(answer.text(lang, with_link=with_link), item.handle)
            if rules.fits(posted):
                break
        return Draft(item.id, item.who, posted, lang, rules, rules.length(posted))

    def _close_with_post(
        self,
        item_id: int,
        state: InboxState,
        actor: str,
        now: datetime,
        draft_of: _Drafter,
        template: str,
        answer_key: str | None = None,
    ) -> Closed:
        with _once(item_id), transaction(self.engine) as session:
            values = {"answer_key": answer_key} if answer_key is not None else {}
            item = _claim(session, item_id, state, actor, now, self.zone, "nothing sent", **values)
            draft = draft_of(item)
            if not draft.fits:
                raise draft.too_long()
            outbox_id = _queue_text(session, item, draft.text, draft.lang, template, now)
            session.execute(
                update(InboxItem).where(col(InboxItem.id) == item_id).values(outbox_id=outbox_id)
            )
        return Closed(item_id, state, outbox_id, draft.text)

    def _filing(self) -> Filing:
        if self.filing is None:
            raise InboxError("filing a case needs the catalog and the reply templates")
        return self.filing

    def _plan(self, item: Item, typed: str, at: GeoPoint | None) -> FilePlan:
        filing = self._filing()
        rules = filing.rules
        category, lang = _category(rules, typed, item)
        if at is not None:
            location: Location | None = Location(at, LocationSource.STAFF)
        elif item.location is not None:
            location = item.location
        else:
            location = best_location(
                coordinates=None,
                place=None,
                text=item.text,
                expanded_urls=(),
                max_place_diagonal_m=rules.max_place_diagonal_m,
            )
        bounds = rules.bounds
        if location is not None and bounds is not None and not bounds.contains(location.point):
            point = f"{location.point.lat:.5f},{location.point.lon:.5f}"
            given = "--at" if at is not None else "the message's location"
            raise InboxError(
                f"inbox #{item.id}: {given} {point} is outside the city bounds "
                f"({bounds.description}); nothing filed"
            )
        routing = route(category, location.point if location else None, rules)
        return FilePlan(item, category, lang, location, routing.department, routing.district)

    def _filed_reply(
        self,
        session: Session,
        item: Item,
        plan: FilePlan,
        decision: Decision,
        opened: Case,
        now: datetime,
    ) -> str:
        """The filed (or needs_location) reply, rendered as intake renders it for the network;
        the built-in text when a template fails (the filing stands; `status` shows it)."""
        filing = self._filing()
        assert decision.reply is not None and opened.id is not None
        link = filing.case_urls.get(item.network)
        mode = storm.mode(session)
        rendered = filing.replies.render_or_fallback(
            decision.reply,
            plan.lang,
            ReplyContext(
                case=opened.id,
                category=plan.category.name(plan.lang),
                status=opened.status.value,
                hashtags=tuple(filing.rules.catalog.featured_hashtags(plan.lang)),
                case_url=link.replace("{case}", str(opened.id)) if link else None,
            ),
            self._rules(item),
            handle=item.handle,
            category_key=plan.category.key,
            case_status=opened.status,
            storm=mode
            if mode is not None
            and filing.replies.gets_storm_line(decision.reply, plan.category.priority)
            else None,
        )
        if rendered.problem is not None:
            session.add(
                TemplateFailure(
                    at=now,
                    template=decision.reply.value,
                    lang=plan.lang,
                    case_id=opened.id,
                    problem=rendered.problem[:1000],
                )
            )
        return rendered.text


# What makes a closing action's post from its item, inside the closing transaction.
_Drafter = Callable[[Item], Draft]


def _item(row: InboxItem, mention: MentionRecord) -> Item:
    assert row.id is not None
    return Item(
        id=row.id,
        mention_id=row.mention_id,
        network=row.platform,
        account=row.account,
        post_id=mention.post_id,
        handle=mention.author_username,
        author_id=mention.author_id,
        reason=row.reason,
        priority=row.priority,
        state=row.state,
        received_at=row.created_at,
        text=mention.text,
        lang=mention.lang,
        conversation_id=mention.conversation_id,
        reply_context=mention.reply_context,
        case_id=row.case_id,
        assigned_to=row.assigned_to,
        closed_at=row.closed_at,
        closed_by=row.closed_by,
        answer_key=row.answer_key,
        note=row.note,
        outbox_id=row.outbox_id,
        filed_case_id=row.filed_case_id,
        location=_stored_location(row),
        photo_urls=tuple(row.photo_urls),
        public=row.public,
        address=row.address,
    )


def _stored_location(row: InboxItem) -> Location | None:
    if row.lat is None or row.lon is None:
        return None
    try:
        source = LocationSource(row.location_source or "")
    except ValueError:
        source = LocationSource.TEXT
    return Location(GeoPoint(row.lat, row.lon), source)


def _unknown(item_id: int) -> InboxError:
    return InboxError(f"inbox #{item_id} does not exist (`socialbot inbox list --all` lists them)")


def _load(session: Session, item_id: int) -> Item:
    """Item `item_id` as `session` sees it; an InboxError when there is none."""
    if not 0 < item_id <= MAX_ITEM:
        raise _unknown(item_id)
    found = session.exec(
        select(InboxItem, MentionRecord)
        .join(MentionRecord, col(InboxItem.mention_id) == col(MentionRecord.id))
        .where(col(InboxItem.id) == item_id)
    ).first()
    if found is None:
        raise _unknown(item_id)
    return _item(*found)


def closed_refusal(item: Item, zone: ZoneInfo, now: datetime, nothing: str) -> InboxError:
    """ "inbox #12 was answered (trash_day) by maria at 10:02 EST; nothing sent": the time alone
    on the day it happened, with its date on any other (in the city's zone)."""
    what = _CLOSED_AS.get(item.state, f"is {item.state.value}")
    if item.state is InboxState.ANSWERED and item.answer_key:
        what += f" ({item.answer_key})"
    if item.state is InboxState.FILED and item.filed_case_id is not None:
        what += f" as case #{item.filed_case_id}"
    when = ""
    if item.closed_at is not None:
        local = item.closed_at.astimezone(zone)
        same_day = local.date() == now.astimezone(zone).date()
        when = f" at {local:%H:%M %Z}" if same_day else f" on {local:%Y-%m-%d} at {local:%H:%M %Z}"
    by = f" by {item.closed_by}" if item.closed_by else ""
    return InboxError(f"inbox #{item.id} {what}{by}{when}; {nothing}")


def _refuse_closed(item: Item, zone: ZoneInfo, now: datetime, nothing: str) -> None:
    if item.state is not InboxState.OPEN:
        raise closed_refusal(item, zone, now, nothing)


def _check_actor(actor: str) -> None:
    if not actor.strip():
        raise InboxError("--as needs a name")
    storable.check(actor, "--as", ACTOR_LENGTH)


def _claim(
    session: Session,
    item_id: int,
    state: InboxState,
    actor: str,
    now: datetime,
    zone: ZoneInfo,
    nothing: str,
    **values: object,
) -> Item:
    """Close item `item_id` as `state` if it is still open: the compare-and-set every closing
    action starts with. Refused (an InboxError naming who closed it and when) if it is not."""
    if not 0 < item_id <= MAX_ITEM:
        raise _unknown(item_id)
    taken = session.execute(
        update(InboxItem)
        .where(col(InboxItem.id) == item_id, col(InboxItem.state) == InboxState.OPEN)
        .values(state=state, closed_at=now, closed_by=actor, **values)
        .returning(col(InboxItem.id))
    ).first()
    item = _load(session, item_id)
    if taken is None:
        raise closed_refusal(item, zone, now, nothing)
    return item


def _queue_text(
    session: Session,
    item: Item,
    text: str,
    lang: str,
    template: str,
    now: datetime,
    case_id: int | None = None,
) -> int:
    """The outbox row of the one post an item may ever get: in the resident's thread, from the
    account the message came in on. Its id."""
    row = OutboxMessage(
        platform=item.network,
        account=item.account,
        dedupe_key=dedupe_key(item.id),
        in_reply_to_post_id=item.post_id,
        reply_context=item.reply_context,
        recipient=item.author_id,
        mention_id=item.mention_id,
        case_id=case_id if case_id is not None else item.case_id,
        template=template,
        lang=lang,
        text=text,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def dedupe_key(item_id: int) -> str:
    """The outbox key of the one post staff send for an inbox item."""
    return f"inbox:{item_id}"


@contextmanager
def _once(item_id: int) -> Iterator[None]:
    """The dedupe key's refusal, should anything have queued for the item outside the
    compare-and-set, as one line."""
    try:
        yield
    except IntegrityError:
        raise InboxError(
            f"inbox #{item_id}: a post for it is already in the outbox ({dedupe_key(item_id)}); "
            "nothing sent"
        ) from None


def _category(rules: IntakeRules, typed: str, item: Item) -> tuple[Category, str]:
    """The category `typed` names, by its key or any of its hashtags (folded as the catalog
    folds them), and the language of the reply: the hashtag's, if it is Spanish, else the
    message's. An InboxError with the nearest keys when it names none."""
    catalog = rules.catalog
    found = catalog.find(typed.strip()) or catalog.find(normalize_tag(typed))
    if found is not None:
        return found, item.reply_lang
    match = catalog.match([typed.strip()])
    if match is not None:
        return match.category, "es" if match.lang == "es" else item.reply_lang
    names = {normalize_tag(c.key): c.key for c in catalog.categories}
    for category in catalog.categories:
        for alias in category.aliases:
            names.setdefault(normalize_tag(alias.tag), category.key)
    near = dict.fromkeys(names[n] for n in nearest(normalize_tag(typed), names))
    hint = "did you mean " + ", ".join(near) + "?" if near else "`socialbot doctor` lists them"
    raise InboxError(f"--category {typed!r}: no category of the catalog; {hint}")


def _as_mention(item: Item) -> Mention:
    """The stored message as intake read it, for `open_case`: public or not as the post was (a
    case from a direct message shows no words and no photo on the web)."""
    return Mention(
        platform=item.network,
        post_id=item.post_id,
        author_id=item.author_id,
        author_username=item.handle,
        text=item.text,
        created_at=item.received_at,
        lang=item.lang,
        conversation_id=item.conversation_id,
        reply_context=item.reply_context,
        public=item.public,
    )


def _with_calendar(rules: IntakeRules, calendar: BusinessCalendar) -> IntakeRules:
    return dataclasses.replace(rules, calendar=calendar)


def _thread_mentions(session: Session, item: Item) -> list[MentionRecord]:
    """The resident's side of the thread: the case's mentions when the item is in a case's
    thread, else those of its conversation, else the message alone."""
    query = select(MentionRecord).where(col(MentionRecord.id) == item.mention_id)
    if item.case_id is not None:
        query = select(MentionRecord).where(
            (col(MentionRecord.case_id) == item.case_id)
            | (col(MentionRecord.id) == item.mention_id)
        )
    elif item.conversation_id is not None:
        query = select(MentionRecord).where(
            col(MentionRecord.platform) == item.network,
            (col(MentionRecord.conversation_id) == item.conversation_id)
            | (col(MentionRecord.id) == item.mention_id),
        )
    return list(session.exec(query.order_by(col(MentionRecord.id))).all())
