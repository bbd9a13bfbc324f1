"""The poll job: fetch new mentions, decide, and record cases and replies, one page per transaction.

A network serves the newest page first; we process the oldest page first, and the account's
cursor (opaque: each network's own, `MentionPage.cursor`) moves in the same transaction as the
mentions it covers. So a crash at any point either leaves a page wholly committed (cursor past it)
or wholly absent (it is fetched again next time), and the unique (platform, post_id) index turns
any re-fetch into a no-op. What a page's mentions do is `socialbot.ingest`'s business: the same
ingest takes the messages a channel is pushed. On an account's first poll the
cursor moves with the newest page only: a first poll cut short is a first poll again, backfill
window included, rather than a poll that would answer the older pages it had not reached.
"""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from socialbot import failpoints, holds
from socialbot.errors import RateLimited
from socialbot.ingest.batch import ingest
from socialbot.ingest.context import Clock, Handled, Intake, PollReport
from socialbot.ingest.geocode import PollGeocoding
from socialbot.ingest.prereads import nearby_cases
from socialbot.ingest.reply import reply_key
from socialbot.intake import IntakeRules, decide
from socialbot.networks.base import MentionPage, Network
from socialbot.store.db import transaction
from socialbot.store.models import Account

__all__ = [
    "Handled",
    "Intake",
    "PollReport",
    "decide",
    "ensure_account",
    "nearby_cases",
    "poll_once",
    "reply_key",
]

log = logging.getLogger(__name__)


def ensure_account(engine: Engine, platform: Network, account: str, user_id: str | None) -> Account:
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
    account = ensure_account(
        intake.engine, intake.platform, intake.account, user_id or intake.user_id
    )
    assert account.user_id is not None
    rules = intake.rules_for(account.user_id)
    first_poll = account.cursor is None
    if first_poll:
        # The account's first poll: X returns up to 800 past mentions. Older than the backfill
        # window they are recorded, not filed or answered: no reply to a post from last month.
        rules = dataclasses.replace(rules, not_before=now() - intake.backfill)
    pages = _fetch(intake, account, now)
    failpoints.hit("poll.after_fetch")
    report = PollReport(pages=len(pages))
    geocoder = intake.geocoder
    geocoding = PollGeocoding(geocoder, intake.geocode_limit) if geocoder is not None else None
    for page in reversed(pages):  # oldest page first
        report.fetched += len(page.mentions)
        report.partial_errors += len(page.errors)
        for error in page.errors[:3]:
            log.warning("event=partial_error platform=%s error=%r", intake.platform.name, error)
        # The addresses in words, geocoded before the transaction: no lock held meanwhile.
        page_rules = geocoding.rules_for(rules, page.mentions) if geocoding else rules
        with transaction(intake.engine, commit=not dry_run) as session:
            move_cursor = not first_poll or page is pages[0]  # see the module's docstring
            _handle_page(session, intake, page_rules, page, now(), report, move_cursor=move_cursor)
        failpoints.hit("poll.after_commit")
    if not dry_run and all(page.cursor is None for page in pages):
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
    """The new pages, unless the network's rate limit holds the endpoint (`holds.Held`, no call
    made); a 429 is written down, so that every process and command waits it out."""
    network = intake.platform
    endpoint = network.endpoints.mentions
    holds.check(intake.engine, network.name, intake.account, endpoint, now())
    assert account.user_id is not None
    try:
        return network.fetch_mentions(account.user_id, account.cursor)
    except RateLimited as exc:
        at = now()
        until = exc.reset_at if exc.reset_at and exc.reset_at > at else at + timedelta(minutes=1)
        reason = f"{network.text_rules.network} answered 429"
        holds.hold(intake.engine, network.name, intake.account, endpoint, until, at, reason)
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
    """`ingest` the page, then move the account's cursor past it, in the same transaction."""
    ingest(session, intake, rules, page, now, report)
    failpoints.hit("poll.mid_page")  # the page's rows written, its cursor not moved, no commit
    if page.cursor is not None:
        account = session.exec(
            select(Account).where(
                Account.platform == intake.platform.name, Account.name == intake.account
            )
        ).one()
        if move_cursor:  # the adapter's cursor never moves back (`Network.fetch_mentions`)
            account.cursor = page.cursor
        account.polled_at = now
