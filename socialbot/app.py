"""The composition root: settings in, a ready service out. All is validated here, at start-up.

A bad catalog, template, bounds file or database URL fails now, with one line naming the file or
setting, rather than in the middle of a storm.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from socialbot.catalog import Catalog, load_catalog
from socialbot.config import SHIPPED_TEMPLATES, Settings
from socialbot.errors import ConfigError
from socialbot.intake import IntakeRules
from socialbot.location import CityBounds, parse_city_bounds
from socialbot.outbox import Outbox
from socialbot.platforms.base import Platform
from socialbot.poller import Intake, ensure_account
from socialbot.replies import Replies
from socialbot.staff import Staff
from socialbot.store.db import make_engine, upgrade

INTAKE_ACCOUNT = "intake"
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
    platform: Platform
    clock: Callable[[], datetime] = utc_now

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
            account=INTAKE_ACCOUNT,
            case_url=self.settings.case_url,
            backfill=timedelta(hours=self.settings.backfill_hours),
        )

    @property
    def outbox(self) -> Outbox:
        return Outbox(engine=self.engine, platform=self.platform, user_id=self.own_user_id)

    def rules_for(self, own_user_id: str) -> IntakeRules:
        return IntakeRules(
            catalog=self.catalog,
            own_user_id=own_user_id,
            bounds=self.bounds,
            max_place_diagonal_m=self.settings.max_place_diagonal_m,
            daily_case_limit=self.settings.daily_case_limit,
            ignored_handles=self.settings.ignored_handles,
        )

    def own_user_id(self) -> str:
        """From settings, else the database, else one call to the network (then remembered)."""
        row = ensure_account(self.engine, self.platform, INTAKE_ACCOUNT, self.settings.x_user_id)
        assert row.user_id is not None
        return row.user_id


def load_content(settings: Settings) -> tuple[Catalog, Replies, CityBounds | None]:
    """Catalog, templates (length-checked with the catalog's longest names) and city bounds."""
    catalog = load_catalog(settings.hashtags)
    replies = Replies.for_dirs(settings.templates, SHIPPED_TEMPLATES)
    replies.check_all(catalog, settings.case_url)
    bounds = (
        parse_city_bounds(settings.city_bounds, base_dir=Path.cwd())
        if settings.city_bounds
        else None
    )
    return catalog, replies, bounds


def open_database(settings: Settings, *, migrate: bool = True) -> Engine:
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    return engine


def x_platform(settings: Settings) -> Platform:
    """The real X adapter; credentials are required for anything that talks to X."""
    from socialbot.platforms.x import XCredentials, XPlatform

    if not settings.has_x_credentials:
        missing = [
            name
            for name, value in (
                ("SOCIALBOT_X_CONSUMER_KEY", settings.x_consumer_key),
                ("SOCIALBOT_X_CONSUMER_SECRET", settings.x_consumer_secret),
                ("SOCIALBOT_X_ACCESS_TOKEN", settings.x_access_token),
                ("SOCIALBOT_X_ACCESS_TOKEN_SECRET", settings.x_access_token_secret),
            )
            if value is None
        ]
        raise ConfigError(
            f"{', '.join(missing)}: not set; X credentials are needed to poll and post "
            "(try `socialbot demo` to see it work without them)"
        )
    assert settings.x_consumer_key and settings.x_consumer_secret
    assert settings.x_access_token and settings.x_access_token_secret
    return XPlatform(
        XCredentials(
            consumer_key=settings.x_consumer_key.get_secret_value(),
            consumer_secret=settings.x_consumer_secret.get_secret_value(),
            access_token=settings.x_access_token.get_secret_value(),
            access_token_secret=settings.x_access_token_secret.get_secret_value(),
        )
    )


def build_staff(settings: Settings) -> Staff:
    """What the staff commands need: no platform, no credentials."""
    catalog, replies, _ = load_content(settings)
    return Staff(
        engine=open_database(settings),
        catalog=catalog,
        replies=replies,
        notify=settings.notify_statuses,
    )


def build_service(
    settings: Settings,
    platform: Platform | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Service:
    if platform is None:
        platform = x_platform(settings)  # missing credentials fail before anything else happens
    catalog, replies, bounds = load_content(settings)
    engine = open_database(settings)
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
    )
