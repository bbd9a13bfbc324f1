"""What staff do to cases: acknowledge, start, assign, note, resolve, close, reopen.

Each action is one transaction: the case is locked, the transition checked (`lifecycle`), the case
updated, an event recorded (when, who, from → to, note) and, when the new status is one the city
notifies (`SOCIALBOT_NOTIFY_ON`), the resident's reply queued in their thread. Internal notes are
never posted, with one exception: the note of a `resolve --photo` is the photo's alt text.
Nothing is ever deleted.

Duplicates: closing N as a duplicate of M (`cases merge N --into M`, or `close --reason duplicate
--of M`) adds N's reporters to M's count; reopening N (`cases unmerge N`) takes them back. When M
is resolved or closed, everyone who reported it hears so in their own thread: the opener, each
report linked to M as a duplicate at intake, and the reporters of cases merged into M.

A resolve may carry an after-photo: it is checked here (exists, a photo, at most 5 MB) before
anything changes, then copied into SOCIALBOT_MEDIA_DIR (`socialbot.media`: the service may not see
the folder staff took it from) and the copy's path goes into the outbox row; the file staff named
is not needed after the command.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from socialbot import media, storable
from socialbot.catalog import Catalog
from socialbot.config import INTAKE_ACCOUNT
from socialbot.domain import CaseStatus, MentionOutcome, Reply
from socialbot.errors import SocialbotError, TransitionRefused
from socialbot.lifecycle import FINISHED, Action, CloseReason, next_status
from socialbot.networks.base import MediaRules
from socialbot.replies import Replies, ReplyContext
from socialbot.store.db import transaction
from socialbot.store.models import (
    Case,
    CaseEvent,
    MentionRecord,
    OutboxMessage,
    OutboxState,
    TemplateFailure,
)
from socialbot.text_rules import TextRules

CLOSED_REPLY = {
    CloseReason.DUPLICATE: Reply.CLOSED_DUPLICATE,
    CloseReason.REFERRED: Reply.CLOSED_REFERRED,
    CloseReason.NOT_CITY_PROPERTY: Reply.CLOSED_NOT_CITY_PROPERTY,
    CloseReason.INVALID: Reply.CLOSED,
}
STATUS_REPLY = {
    CaseStatus.ACKNOWLEDGED: Reply.ACKNOWLEDGED,
    CaseStatus.IN_PROGRESS: Reply.IN_PROGRESS,
    CaseStatus.RESOLVED: Reply.RESOLVED,
}
# The photo's alt text when the resolve has no note, in the case's language.
PHOTO_ALT = {
    "en": "After photo of case #{case} ({category})",
    "es": "Foto del caso #{case} ({category}) ya resuelto",
}


@dataclass(frozen=True, slots=True)
class Request:
    """One staff action on one case, as typed on the command line or read from a CSV row."""

    case_id: int
    action: Action
    actor: str
    note: str = ""
    department: str | None = None  # assign
    reason: CloseReason | None = None  # close
    duplicate_of: int | None = None  # close --reason duplicate
    photo: Path | None = None  # resolve --photo: attached to the resident's reply
    unmerge: bool = False  # reopen: only a case merged into another (closed as a duplicate)
    # When it happened, if elsewhere and earlier (the CRM's time of a closure): the case's
    # resolved/closed time, so reports measure the crew's time to close, not our sync's delay.
    happened_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Done:
    case_id: int
    action: Action
    from_status: CaseStatus
    to_status: CaseStatus
    reply_text: str | None  # the reply queued for the resident, if any
    photo: Path | None = None  # the copy of the photo attached to that reply (media.keep_photo)
    photo_alt: str | None = None  # and its alt text


@dataclass(frozen=True, slots=True)
class Staff:
    engine: Engine
    catalog: Catalog
    replies: Replies
    notify: frozenset[CaseStatus]
    media_dir: Path  # where a resolve's photo is copied for the service (SOCIALBOT_MEDIA_DIR)
    # Each network's rules (by its short name, a case's `platform`): the reply to a case is
    # measured, and its photo checked, by those of the network the case came from.
    text_rules: Mapping[str, TextRules]
    media_rules: Mapping[str, MediaRules]
    # The link each network's replies give a case, `{case}` for its number (`app.case_url_for`);
    # a network not named gets none.
    case_urls: Mapping[str, str | None] = field(default_factory=dict)

    def act(self, request: Request, now: datetime) -> Done:
        """Apply `request`, or raise a SocialbotError saying why it was refused."""
        if not 0 < request.case_id <= MAX_CASE_NUMBER:
            raise SocialbotError(f"case #{request.case_id} does not exist")
        kept: list[Path] = []
        try:
            return self._act(request, now, kept)
        except BaseException:
            for path in kept:  # the action did not happen: no copy of its photo stays behind
                media.discard(path)
            raise

    def _act(self, request: Request, now: datetime, kept: list[Path]) -> Done:
        with transaction(self.engine) as session:
            case = session.get(Case, request.case_id, with_for_update=True)
            if case is None:
                raise SocialbotError(f"case #{request.case_id} does not exist")
            assert case.id is not None
            if request.unmerge and case.close_reason != CloseReason.DUPLICATE:
                raise SocialbotError(
                    f"case #{case.id} was not merged into another case; nothing to unmerge "
                    f"(`socialbot cases show {case.id}` shows its history)"
                )
            before = case.status
            after = next_status(case.id, before, request.action)
            _check_details(session, case.id, request)
            photo = _check_photo(case.id, request, self.notify, self._media_rules(case))
            if photo is not None:  # it goes to every reporter, each on their own network
                for network in {r.network for r in linked_reporters(session, case)}:
                    _check_photo(case.id, request, self.notify, self._media_rules(case, network))
            if photo is not None:
                photo = _keep_photo(
                    case.id, request, photo, self.media_dir, self._media_rules(case)
                )
                kept.append(photo)
            _move_reporters(session, case, request, now)
            event_note = self._apply(case, request, after, now)
            session.add(case)
            event = CaseEvent(
                case_id=case.id,
                at=now,
                actor=request.actor,
                from_status=before,
                to_status=after,
                note=event_note,
            )
            session.add(event)
            session.flush()
            reply = alt = None
            if after is not before:
                _supersede_unsent_status_replies(session, case.id, after)
                if after in self.notify:
                    reply, alt = self._queue_reply(session, case, request, event, now, photo)
                    if after in TOLD_TO_LINKED:
                        self._tell_linked(session, case, request, event, now, photo)
            return Done(case.id, request.action, before, after, reply, photo, alt)

    def act_all(
        self, requests: Iterable[Request | SocialbotError], now: Callable[[], datetime]
    ) -> Iterator[Done | SocialbotError]:
        """Each request on its own transaction: one refused (or unreadable) never stops the rest."""
        for request in requests:
            if isinstance(request, SocialbotError):
                yield request
                continue
            try:
                yield self.act(request, now())
            except SocialbotError as exc:
                yield exc

    def _apply(self, case: Case, request: Request, after: CaseStatus, now: datetime) -> str:
        note = request.note
        if request.action is Action.ASSIGN:
            assert request.department is not None
            note = f"assigned to {request.department} (was {case.department})" + (
                f": {note}" if note else ""
            )
            case.department = request.department
        why = f": {note}" if note else ""
        if request.action is Action.CLOSE:
            assert request.reason is not None
            case.close_reason = request.reason.value
            case.duplicate_of = request.duplicate_of
            if request.reason is CloseReason.DUPLICATE:  # the history says into which, and why
                note = f"merged into #{request.duplicate_of}{why}"
        if request.action is Action.REOPEN:
            if case.close_reason == CloseReason.DUPLICATE.value:
                note = f"unmerged from #{case.duplicate_of}{why}"
            case.close_reason, case.duplicate_of = None, None
        finished = _finished_at(request.happened_at, case.created_at, now)
        case.resolved_at = finished if after is CaseStatus.RESOLVED else None
        case.closed_at = finished if after is CaseStatus.CLOSED else None
        case.status = after
        case.updated_at = now
        return note

    def _tell_linked(
        self,
        session: Session,
        case: Case,
        request: Request,
        event: CaseEvent,
        now: datetime,
        photo: Path | None,
    ) -> None:
        """The same news for everyone else who reported this problem, each in their thread, on
        their own network (a neighbour on Mastodon may have reported what a resident on X did)."""
        for reporter in linked_reporters(session, case):
            self._queue_reply(session, case, request, event, now, photo, to=reporter)

    def _text_rules(self, case: Case, network: str | None = None) -> TextRules:
        return _of_network(self.text_rules, case, network)

    def _media_rules(self, case: Case, network: str | None = None) -> MediaRules:
        return _of_network(self.media_rules, case, network)

    def _queue_reply(
        self,
        session: Session,
        case: Case,
        request: Request,
        event: CaseEvent,
        now: datetime,
        photo: Path | None,
        to: Reporter | None = None,
    ) -> tuple[str | None, str | None]:
        """The reply's text and, with a photo, the photo's alt text; to the case's opener, or to
        `to` (a linked report), in its thread on its network."""
        reporter = to or Reporter(
            case.platform, case.mention_post_id, case.lang, case.author_username, case.author_id
        )
        network, post_id, lang, handle = (
            reporter.network,
            reporter.post_id,
            reporter.lang,
            reporter.handle,
        )
        message: Reply | None
        if case.status is CaseStatus.CLOSED:
            assert request.reason is not None
            message = CLOSED_REPLY[request.reason]
        else:
            message = STATUS_REPLY.get(case.status)
        if message is None:
            return None, None
        try:
            category_name = self.catalog.get(case.category).name(lang)
        except KeyError:  # the city removed the category since the case was filed
            category_name = case.category
        rendered = self.replies.render_or_fallback(
            message,
            lang,
            ReplyContext(
                case=case.id,
                category=category_name,
                duplicate_of=case.duplicate_of,
                case_url=_case_link(self.case_urls.get(network), case.id),
            ),
            self._text_rules(case, network),
            handle=handle,
            category_key=case.category,
            case_status=case.status,
        )
        text = rendered.text
        if rendered.problem is not None:  # the staff action stands; `status` shows the failure
            session.add(
                TemplateFailure(
                    at=now,
                    template=message.value,
                    lang=lang,
                    case_id=case.id,
                    problem=rendered.problem[:1000],
                )
            )
        alt = None
        if photo is not None:
            template = PHOTO_ALT.get(lang, PHOTO_ALT["en"])
            alt = request.note.strip() or template.format(case=case.id, category=category_name)
        session.add(
            OutboxMessage(
                platform=network,
                account=INTAKE_ACCOUNT,
                dedupe_key=f"status:{network}:{case.id}:{event.id}"
                + (f":{post_id}" if to is not None else ""),
                in_reply_to_post_id=post_id,
                reply_context=_reply_context(session, network, post_id),
                recipient=reporter.author_id,
                case_id=case.id,
                template=message.value,
                lang=lang,
                text=text,
                next_attempt_at=now,
                created_at=now,
                media_path=str(photo) if photo is not None else None,
                media_alt=alt,
            )
        )
        return text, alt


def _finished_at(happened: datetime | None, opened: datetime, now: datetime) -> datetime:
    """`happened` when it can be true (after the case was opened, not in the future), else
    `now`: a CRM's clock that is off, or a date it made up, never makes a case negative-aged."""
    if happened is not None and opened <= happened <= now:
        return happened
    return now


def _case_link(template: str | None, case_id: int | None) -> str | None:
    return template.replace("{case}", str(case_id)) if template and case_id else None


def _reply_context(session: Session, network: str, post_id: str) -> str:
    """What `network` needs to answer `post_id` beside its id, as recorded with the mention."""
    context = session.exec(
        select(MentionRecord.reply_context).where(
            MentionRecord.platform == network, MentionRecord.post_id == post_id
        )
    ).first()
    return context or ""


# The news a linked reporter hears too: how it ended, not each step on the way.
TOLD_TO_LINKED = FINISHED


@dataclass(frozen=True, slots=True)
class Reporter:
    """A report to answer: its network, its post, its language, its author's handle and id (the
    one person the answer goes to: `OutboxMessage.recipient`)."""

    network: str
    post_id: str
    lang: str
    handle: str | None
    author_id: str


def linked_reporters(session: Session, case: Case) -> list[Reporter]:
    """Every other report of `case`'s problem, each on its own network: reports linked to it at
    intake, the cases merged into it, and the reports linked to those."""
    merged = session.exec(
        select(Case).where(
            Case.duplicate_of == case.id, Case.close_reason == CloseReason.DUPLICATE.value
        )
    ).all()
    owners = [case.id, *(m.id for m in merged)]
    linked = session.execute(
        sa_select(
            col(MentionRecord.platform),
            col(MentionRecord.post_id),
            col(OutboxMessage.lang),
            col(MentionRecord.author_username),
            col(MentionRecord.author_id),
        )
        .join(OutboxMessage, col(OutboxMessage.mention_id) == col(MentionRecord.id))
        .where(
            col(MentionRecord.case_id).in_(owners),
            col(MentionRecord.outcome) == MentionOutcome.DUPLICATE,
        )
        .order_by(col(MentionRecord.id))
    ).all()
    return [
        Reporter(m.platform, m.mention_post_id, m.lang, m.author_username, m.author_id)
        for m in merged
    ] + [
        Reporter(network, post_id, lang, handle, author)
        for network, post_id, lang, handle, author in linked
    ]


def _move_reporters(session: Session, case: Case, request: Request, now: datetime) -> None:
    """Merging adds the case's reporters to the one it duplicates; unmerging takes them back.
    The other case's history says so too: who, which case, the count, and why."""
    target_id: int | None = None
    sign = 0
    if request.action is Action.CLOSE and request.reason is CloseReason.DUPLICATE:
        target_id, sign = request.duplicate_of, 1
    elif request.action is Action.REOPEN and case.close_reason == CloseReason.DUPLICATE.value:
        target_id, sign = case.duplicate_of, -1
    if target_id is None:
        return
    target = session.get(Case, target_id, with_for_update=True)
    if target is None:
        return
    before = target.reporter_count
    target.reporter_count = max(1, target.reporter_count + sign * case.reporter_count)
    session.add(target)
    what = "merged into this case" if sign > 0 else "unmerged from this case"
    session.add(
        CaseEvent(
            case_id=target_id,
            at=now,
            actor=request.actor,
            from_status=target.status,
            to_status=target.status,
            note=f"#{case.id} {what} (reporters {before} → {target.reporter_count})"
            + (f": {request.note}" if request.note else ""),
        )
    )


def _supersede_unsent_status_replies(
    session: Session, case_id: int, now_status: CaseStatus
) -> None:
    """A status reply not yet sent would now tell the resident something untrue (resolved, on a
    case just reopened): it is kept, marked failed, and never sent."""
    session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.case_id) == case_id,
            col(OutboxMessage.state) == OutboxState.PENDING,
            col(OutboxMessage.dedupe_key).startswith("status:"),
        )
        .values(
            state=OutboxState.FAILED,
            last_error=f"superseded: the case became {now_status.value} before this was sent",
        )
    )


# What staff type goes into these columns: checked here, so SQLite and PostgreSQL answer alike.
ACTOR_LENGTH = storable.column_length(CaseEvent.actor)
DEPARTMENT_LENGTH = storable.column_length(Case.department)


def _check_details(session: Session, case_id: int, request: Request) -> None:
    storable.check(request.actor, f"case #{case_id}: --as", ACTOR_LENGTH)
    storable.check(request.note, f"case #{case_id}: the note")
    if request.action is Action.ASSIGN and not request.department:
        raise SocialbotError(f"case #{case_id}: `assign` needs --to DEPARTMENT")
    if request.department is not None:
        storable.check(request.department, f"case #{case_id}: --to", DEPARTMENT_LENGTH)
    if request.action is Action.NOTE and not request.note.strip():
        raise SocialbotError(f"case #{case_id}: a note needs some text")
    if request.action is not Action.CLOSE:
        return
    if request.reason is None:
        raise SocialbotError(f"case #{case_id}: `close` needs --reason ({', '.join(CloseReason)})")
    if request.reason is CloseReason.DUPLICATE:
        if request.duplicate_of is None:
            raise SocialbotError(
                f"case #{case_id}: a duplicate needs --of M, the case it duplicates"
            )
        if request.duplicate_of == case_id:
            raise TransitionRefused(f"case #{case_id} cannot be a duplicate of itself")
        target = session.get(Case, request.duplicate_of)
        if target is None:
            raise SocialbotError(f"case #{case_id}: --of {request.duplicate_of}: no such case")
        if target.status is CaseStatus.CLOSED:
            raise TransitionRefused(
                f"case #{case_id}: case #{target.id} is closed; merge into an open case "
                "(or reopen it first)"
            )
    elif request.duplicate_of is not None:
        raise SocialbotError(f"case #{case_id}: --of goes with --reason duplicate only")


_Rules = TypeVar("_Rules", TextRules, MediaRules)


def _of_network(rules: Mapping[str, _Rules], case: Case, network: str | None = None) -> _Rules:
    """The rules of `network` (by default the one `case` came from); a SocialbotError when it is
    none socialbot knows."""
    name = network or case.platform
    try:
        return rules[name]
    except KeyError:
        raise SocialbotError(
            f"case #{case.id} has a report from {name}, which is not configured; configure "
            "it to answer the case"
        ) from None


def _check_photo(
    case_id: int, request: Request, notify: frozenset[CaseStatus], rules: MediaRules
) -> Path | None:
    """The request's photo as an absolute path, checked against the rules of the network the
    reply goes to, or a one-line error naming the file and the case."""
    if request.photo is None:
        return None
    given = request.photo
    if request.action is not Action.RESOLVE:
        raise SocialbotError(f"case #{case_id}: --photo {given}: a photo goes with `resolve` only")
    if CaseStatus.RESOLVED not in notify:
        raise SocialbotError(
            f"case #{case_id}: --photo {given}: residents are not told when a case is resolved "
            "(SOCIALBOT_NOTIFY_ON), so no reply would carry the photo"
        )
    # Absolute, but a symlink stays a symlink: its name is the one staff typed.
    path = Path(os.path.abspath(given.expanduser()))
    if not path.exists():
        raise SocialbotError(f"case #{case_id}: --photo {given}: no such file")
    if not path.is_file():
        raise SocialbotError(f"case #{case_id}: --photo {given}: not a file")
    if path.suffix.lower() not in rules.suffixes:
        raise SocialbotError(
            f"case #{case_id}: --photo {given}: not a photo {rules.network} takes; "
            f"use {media.either(rules.suffixes)}"
        )
    size = path.stat().st_size
    if size > rules.max_bytes:
        raise SocialbotError(
            f"case #{case_id}: --photo {given}: {media.megabytes(size)}; "
            f"{rules.network} takes photos up to {rules.megabytes} MB"
        )
    if size == 0:
        raise SocialbotError(f"case #{case_id}: --photo {given}: the file is empty")
    if len(request.note.strip()) > rules.max_alt_text:  # the note is the photo's alt text
        raise SocialbotError(
            f"case #{case_id}: --note: {len(request.note.strip()):,} characters; with --photo it "
            f"is the photo's alt text, and {rules.network} takes at most {rules.max_alt_text}"
        )
    if not os.access(path, os.R_OK):
        raise SocialbotError(f"case #{case_id}: --photo {given}: cannot be read (permission)")
    return path


def _keep_photo(
    case_id: int, request: Request, path: Path, media_dir: Path, rules: MediaRules
) -> Path:
    """The service's own copy of the checked photo (see `socialbot.media`)."""
    try:
        return media.keep_photo(path, media_dir, f"case-{case_id}", rules)
    except SocialbotError as exc:
        raise SocialbotError(f"case #{case_id}: --photo {request.photo}: {exc}") from None


def requests_from_csv(path: Path, action: Action, actor: str) -> list[Request | SocialbotError]:
    """One request per row of a CSV with columns `id` and `note`; a bad row is an error naming its
    line, in its place, so the rows around it still go through."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SocialbotError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # Excel's plain "CSV" on Windows
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = {c.strip().lower() for c in reader.fieldnames or []}
    if "id" not in columns:
        raise SocialbotError(f"{path}:1: needs a header row with an `id` column (and `note`)")
    results: list[Request | SocialbotError] = []
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # a cell over csv.field_size_limit(); the reader goes on after it
            results.append(SocialbotError(f"{path}:{reader.line_num + 1}: {_csv_problem(exc)}"))
            continue
        cells = {(k or "").strip().lower(): _cell(v) for k, v in row.items()}
        raw_id = cells.get("id", "").lstrip("#")
        if not is_case_number(raw_id):
            results.append(
                SocialbotError(
                    f"{path}:{reader.line_num}: id {cells.get('id', '')!r} is not a case number"
                )
            )
            continue
        note = cells.get("note", "")
        why = storable.problem(note)
        if why is not None:
            results.append(SocialbotError(f"{path}:{reader.line_num}: the note {why}"))
            continue
        results.append(Request(int(raw_id), action, actor, note=note))
    return results


def _cell(value: str | list[str] | None) -> str:
    # DictReader puts the cells of a row longer than the header in a list under the key None.
    if isinstance(value, list):
        return " ".join(value).strip()
    return (value or "").strip()


def _csv_problem(exc: csv.Error) -> str:
    if "field limit" in str(exc):
        return (
            f"a cell is longer than {csv.field_size_limit():,} characters; "
            "keep each note shorter (this row was skipped)"
        )
    return f"not CSV this program can read ({exc}); this row was skipped"


# Case numbers are the database's integer keys: plain ASCII digits, within a 32-bit integer.
MAX_CASE_NUMBER = 2**31 - 1


def is_case_number(text: str) -> bool:
    return text.isascii() and text.isdigit() and 0 < int(text) <= MAX_CASE_NUMBER
