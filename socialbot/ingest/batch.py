"""`ingest`: one batch of inbound messages into cases, mention records and replies, inside the
caller's transaction. The poller hands it each page it fetched; a channel that is pushed to (an
SMS webhook) hands it the messages it received, the same way."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session

from socialbot.closures import calendar_in
from socialbot.domain import (
    Mention,
    MentionOutcome,
)
from socialbot.ingest.context import Intake, PollReport
from socialbot.ingest.prereads import recorded_posts
from socialbot.ingest.writer import (
    _PageWriter,
)
from socialbot.intake import (
    IntakeRules,
)
from socialbot.networks.base import MAX_PROBLEM, Malformed, MentionPage
from socialbot.storable import clean_text
from socialbot.store.models import (
    MentionRecord,
)

log = logging.getLogger(__name__)


def ingest(
    session: Session,
    intake: Intake,
    rules: IntakeRules,
    page: MentionPage,
    now: datetime,
    report: PollReport,
) -> None:
    """Record `page`'s messages (each once: one already recorded is skipped, a malformed one is
    recorded as such), open and follow up cases, queue the replies, all inside `session`'s
    transaction; `report` counts what happened. Only the database failing raises: a message that
    cannot be handled is recorded as malformed, and the rest of the batch goes on."""
    if (
        rules.calendar is not None and page.mentions
    ):  # due times by the days closed as this transaction sees them
        rules = dataclasses.replace(rules, calendar=calendar_in(session, rules.calendar, now))
    platform = intake.platform.name
    ids = [m.post_id for m in page.mentions] + [b.key for b in page.malformed]
    seen = recorded_posts(session, platform, ids)
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
