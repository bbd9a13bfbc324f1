"""The composition root: settings in, a ready service out. All is validated here, at start-up.

A bad catalog, template, bounds file or database URL fails now, with one line naming the file or
setting, rather than in the middle of a storm.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from socialbot.broadcasts import storm
from socialbot.broadcasts.broadcaster import Broadcaster
from socialbot.broadcasts.templates import BroadcastTemplates
from socialbot.catalog import Catalog, load_catalog
from socialbot.config import INTAKE_ACCOUNT, SHIPPED_TEMPLATES, Settings
from socialbot.districts import Districts, load_districts
from socialbot.errors import ConfigError
from socialbot.health import JobHealth
from socialbot.intake import IntakeRules
from socialbot.location import CityBounds, parse_city_bounds
from socialbot.metering import DatabaseMeter, monthly_budget
from socialbot.networks.base import MediaRules, Platform
from socialbot.networks.x.rules import X_MEDIA, X_TEXT
from socialbot.outbox import Outbox, RetryPolicy, SendReport, send_once
from socialbot.poller import Intake, ensure_account
from socialbot.replies import Replies
from socialbot.sla import BusinessCalendar
from socialbot.staff import Staff
from socialbot.store.db import make_engine, require_current, upgrade
from socialbot.store.poll_lock import PollLock
from socialbot.text_rules import TextRules
from socialbot.usage import BudgetState, Meter, month_of

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Service:
    settings: Settings
    engine: Engine
    catalog: Catalog
    replies: Replies
    bounds: CityBounds | None
    platform: Platform  # the intake account's
    clock: Callable[[], datetime] = utc_now
    # The further accounts (e.g. "notify"), by name, each with its own outbox.
    accounts: Mapping[str, Platform] = field(default_factory=dict)
    broadcast_templates: BroadcastTemplates | None = None
    districts: Districts | None = None
    calendar: BusinessCalendar | None = None
    # Failed job runs, as `status` shows them (see `health`); `build_service` makes one.
    health: JobHealth | None = None

    def close(self) -> None:
        """Return every database connection; call once the service is done."""
        self.engine.dispose()

    @property
    def intake(self) -> Intake:
        return Intake(
            engine=self.engine,
            platform=self.platform,
            replies=self.replies,
            rules_for=self.rules_for,
            text_rules=X_TEXT,
            account=INTAKE_ACCOUNT,
            case_url=self.settings.case_url,
            backfill=timedelta(hours=self.settings.backfill_hours),
        )

    @property
    def outbox(self) -> Outbox:
        return Outbox(
            engine=self.engine,
            platform=self.platform,
            user_id=self.own_user_id,
            policy=retry_policy(self.settings),
            # No budget, no need to sum the month's spend every few seconds.
            budget=self.budget if self.settings.monthly_budget is not None else None,
        )

    @property
    def outboxes(self) -> list[Outbox]:
        """The intake account's outbox, then each further account's."""
        return [self.outbox_for(name) for name in (INTAKE_ACCOUNT, *sorted(self.accounts))]

    def outbox_for(self, account: str) -> Outbox:
        if account == INTAKE_ACCOUNT:
            return self.outbox
        return account_outbox(self.settings, self.engine, account, self.accounts[account])

    def poll_lock(self) -> PollLock:
        """The lock that lets one process at a time poll the intake account."""
        return PollLock(self.engine, platform=self.platform.name, account=INTAKE_ACCOUNT)

    def budget(self) -> BudgetState:
        """This month's estimated X spend against `SOCIALBOT_MONTHLY_BUDGET`."""
        return monthly_budget(self.engine, self.settings, month_of(self.clock()))

    @property
    def broadcaster(self) -> Broadcaster:
        assert self.broadcast_templates is not None
        return make_broadcaster(
            self.settings,
            self.engine,
            self.broadcast_templates,
            accounts=(INTAKE_ACCOUNT, *self.accounts),
            clock=self.clock,
        )

    def rules_for(self, own_user_id: str) -> IntakeRules:
        return IntakeRules(
            catalog=self.catalog,
            own_user_id=own_user_id,
            bounds=self.bounds,
            max_place_diagonal_m=self.settings.max_place_diagonal_m,
            daily_case_limit=self.settings.daily_case_limit,
            ignored_handles=self.settings.ignored_handles,
            storm=storm.current(self.engine),
            districts=self.districts,
            calendar=self.calendar,
            duplicate_radius_m=self.settings.duplicate_radius_m,
            duplicate_window=timedelta(days=self.settings.duplicate_days),
        )

    def own_user_id(self) -> str:
        """From settings, else the database, else one call to the network (then remembered)."""
        row = ensure_account(self.engine, self.platform, INTAKE_ACCOUNT, self.settings.x_user_id)
        assert row.user_id is not None
        return row.user_id


def account_outbox(settings: Settings, engine: Engine, account: str, platform: Platform) -> Outbox:
    """The outbox of `account`, posting through `platform`."""
    configured = settings.x_user_id if account == INTAKE_ACCOUNT else None
    if account in settings.accounts:
        configured = settings.accounts[account].x_user_id

    def user_id() -> str:
        row = ensure_account(engine, platform, account, configured)
        assert row.user_id is not None
        return row.user_id

    return Outbox(
        engine=engine,
        platform=platform,
        user_id=user_id,
        policy=retry_policy(settings),
        account=account,
    )


def post_queued(settings: Settings, broadcaster: Broadcaster, account: str) -> SendReport:
    """Post what `account` has queued (a broadcast just sent) through the real X, metered, now
    rather than at `socialbot run`'s next send."""
    platform = x_platform(
        settings, account, meter=DatabaseMeter(broadcaster.engine), clock=broadcaster.clock
    )
    outbox = account_outbox(settings, broadcaster.engine, account, platform)
    return send_once(outbox, broadcaster.clock)


def retry_policy(settings: Settings) -> RetryPolicy:
    """The outbox's retry policy; `recover_after_seconds` is the one part that is a setting."""
    return RetryPolicy(recover_after=timedelta(seconds=settings.recover_after_seconds))


def build_broadcaster(settings: Settings, clock: Callable[[], datetime] = utc_now) -> Broadcaster:
    """What the broadcast commands need: the database, the templates, the configured accounts.
    No network: posting builds the one account's platform (see `account_outbox`)."""
    templates = load_broadcast_templates(settings)
    return make_broadcaster(
        settings,
        open_database(settings),
        templates,
        accounts=configured_accounts(settings),
        clock=clock,
    )


def make_broadcaster(
    settings: Settings,
    engine: Engine,
    templates: BroadcastTemplates,
    *,
    accounts: tuple[str, ...],
    clock: Callable[[], datetime] = utc_now,
) -> Broadcaster:
    return Broadcaster(
        engine=engine,
        templates=templates,
        platform="x",
        accounts=accounts,
        zone=settings.zone,
        grace=timedelta(minutes=settings.broadcast_grace_minutes),
        clock=clock,
        media_dir=settings.media_dir,
        text_rules=text_rules(settings),
        media_rules=media_rules(settings),
    )


def text_rules(settings: Settings) -> dict[str, TextRules]:
    """The text rules of each network the city runs, by its short name (a row's `platform`)."""
    return {"x": X_TEXT}


def media_rules(settings: Settings) -> dict[str, MediaRules]:
    """The photo rules of each network the city runs, by its short name."""
    return {"x": X_MEDIA}


def load_broadcast_templates(settings: Settings) -> BroadcastTemplates:
    """The broadcast templates, every one checked (header against text, examples render)."""
    templates = BroadcastTemplates.for_dirs(settings.templates, SHIPPED_TEMPLATES)
    templates.check_all()
    return templates


def configured_accounts(settings: Settings) -> tuple[str, ...]:
    """The accounts whose credentials are complete: the ones socialbot can post from."""
    names = []
    for name in settings.account_names:
        try:
            settings.credentials(name)
        except ConfigError:
            continue
        names.append(name)
    return tuple(names)


def load_routing(settings: Settings, catalog: Catalog) -> tuple[Districts | None, BusinessCalendar]:
    """The districts file (checked against the catalog's keys) and the business-day calendar."""
    districts = (
        load_districts(settings.districts, known_categories=[c.key for c in catalog.categories])
        if settings.districts is not None
        else None
    )
    try:
        calendar = BusinessCalendar(
            zone=settings.zone,
            country=settings.holidays_country,
            subdivision=settings.holidays_subdivision,
        )
    except ConfigError as exc:  # "holidays: …": say which settings
        raise ConfigError(
            f"SOCIALBOT_HOLIDAYS_COUNTRY / SOCIALBOT_HOLIDAYS_SUBDIVISION: {exc}"
        ) from None
    return districts, calendar


def load_content(settings: Settings) -> tuple[Catalog, Replies, CityBounds | None]:
    """Catalog, templates (length-checked with the catalog's longest names) and city bounds."""
    catalog = load_catalog(settings.hashtags)
    replies = Replies.for_dirs(settings.templates, SHIPPED_TEMPLATES)
    replies.check_all(catalog, settings.case_url, rules=list(text_rules(settings).values()))
    return catalog, replies, load_bounds(settings)


@dataclass(frozen=True, slots=True)
class CaseContent:
    """The files that decide what a case is (catalog), whether it is in the city (bounds) and
    whose it is (districts, calendar): the content the service files cases with."""

    catalog: Catalog
    bounds: CityBounds | None
    districts: Districts | None
    calendar: BusinessCalendar


def load_case_content(settings: Settings) -> CaseContent:
    """Checked at the start of every command that reads or works cases (`cases …`, `report`,
    `export`), as `run` checks it: a broken file is one line naming it at once, not a surprise at
    the service's next restart."""
    catalog = load_catalog(settings.hashtags)
    districts, calendar = load_routing(settings, catalog)
    return CaseContent(
        catalog=catalog, bounds=load_bounds(settings), districts=districts, calendar=calendar
    )


def load_bounds(settings: Settings) -> CityBounds | None:
    return (
        parse_city_bounds(settings.city_bounds, base_dir=Path.cwd())
        if settings.city_bounds
        else None
    )


def open_database(settings: Settings, *, migrate: bool = False) -> Engine:
    """The database. Only `run`, `poll`, `demo` and `db upgrade` pass `migrate`: they create a
    missing database and bring its schema up. Every other command reads or writes a database
    that exists and is current, or stops with one line saying what to run: a mistyped path must
    not become an empty database, and a migration run by hand while the service is stopped must
    not be started by a staff member's `cases list`."""
    engine = make_engine(settings.database_url, create=migrate)
    try:
        if migrate:
            upgrade(engine)
        else:
            require_current(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def x_platform(
    settings: Settings,
    account: str = INTAKE_ACCOUNT,
    *,
    meter: Meter | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Platform:
    """The real X adapter acting as `account`, each call counted by `meter`; credentials are
    required to talk to X."""
    from socialbot.networks.x.adapter import XCredentials, XPlatform
    from socialbot.networks.x.request import FieldNames

    credentials = settings.credentials(account)
    return XPlatform(
        XCredentials(
            consumer_key=credentials.consumer_key,
            consumer_secret=credentials.consumer_secret,
            access_token=credentials.access_token,
            access_token_secret=credentials.access_token_secret,
        ),
        account=account,
        meter=meter,
        clock=clock,
        field_names=FieldNames(settings.x_field_names),
    )


def build_staff(settings: Settings) -> Staff:
    """What the staff commands need: no platform, no credentials. The catalog, bounds, districts
    and reply templates are all checked before the database is touched, as for `cases list`."""
    catalog, replies, _ = load_content(settings)
    load_routing(settings, catalog)
    return Staff(
        engine=open_database(settings),
        catalog=catalog,
        replies=replies,
        notify=settings.notify_statuses,
        media_dir=settings.media_dir,
        text_rules=text_rules(settings),
        media_rules=media_rules(settings),
    )


def build_service(
    settings: Settings,
    platform: Platform | None = None,
    clock: Callable[[], datetime] = utc_now,
    accounts: Mapping[str, Platform] | None = None,
    *,
    migrate: bool = True,
) -> Service:
    """The service; `platform` (intake) and `accounts` (the others) default to the real X, each
    call counted in the database (`socialbot usage`). It migrates the database (`run`, `poll`,
    `demo`) unless `migrate` is false (`send`: see `open_database`)."""
    # Missing credentials fail before anything else happens.
    if platform is None:
        settings.credentials(INTAKE_ACCOUNT)
    for name in sorted(settings.accounts) if accounts is None else ():
        settings.credentials(name)
    catalog, replies, bounds = load_content(settings)
    districts, calendar = load_routing(settings, catalog)
    broadcast_templates = load_broadcast_templates(settings)
    engine = open_database(settings, migrate=migrate)
    health = JobHealth(engine, clock)  # `socialbot run` adds its file (`scheduler.Jobs`)
    meter = DatabaseMeter(engine, health=health)
    if platform is None:
        platform = x_platform(settings, meter=meter, clock=clock)
    if accounts is None:
        accounts = {
            name: x_platform(settings, name, meter=meter, clock=clock)
            for name in sorted(settings.accounts)
        }
    log.info(
        "event=configured database=%s catalog=%s categories=%d templates=%s bounds=%s",
        engine.url.render_as_string(hide_password=True),
        settings.hashtags,
        len(catalog.categories),
        settings.templates,
        bounds.description if bounds is not None else "none",  # shows a swapped bbox at once
    )
    return Service(
        settings=settings,
        engine=engine,
        catalog=catalog,
        replies=replies,
        bounds=bounds,
        platform=platform,
        clock=clock,
        accounts=dict(accounts),
        broadcast_templates=broadcast_templates,
        districts=districts,
        calendar=calendar,
        health=health,
    )
