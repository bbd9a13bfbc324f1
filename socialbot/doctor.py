"""`socialbot doctor`: everything the service needs, checked one by one, changing nothing.

Each check is a plain function returning `Check` lines: the settings, the catalog, every reply and
broadcast template, the city bounds and districts files, the database and its migrations, and
each X account's credentials (one `GET /2/users/me` each, unless offline), and for the intake
account one mentions request of five posts that proves X takes the field names it asks for.
`run_checks` runs them all: a check that fails does not stop the others, and one whose
prerequisite failed (the templates when the catalog did not load) says so instead of running.

Nothing here writes: the database is read, never migrated (a SQLite file that does not exist is
reported, not created), and no message carries a token or secret (`run_checks` masks any
configured secret value in every line as a last guard).
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol, runtime_checkable

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session, select

from socialbot.app import configured_text_rules, x_platform
from socialbot.broadcasts.templates import BroadcastTemplates
from socialbot.catalog import Catalog, load_catalog
from socialbot.config import (
    ENV_PREFIX,
    INTAKE_ACCOUNT,
    SHIPPED_TEMPLATES,
    Settings,
    account_env_name,
)
from socialbot.districts import load_districts
from socialbot.errors import (
    AuthFailed,
    CatalogError,
    ConfigError,
    PlatformError,
    RateLimited,
    Rejected,
    SocialbotError,
)
from socialbot.location import parse_city_bounds
from socialbot.logs import MIN_SECRET_LENGTH, mask, masking, named_secrets, secrets_of
from socialbot.networks.base import MentionPage, Network
from socialbot.networks.x import request as x_request
from socialbot.networks.x import wire as x_wire
from socialbot.replies import LANGS, Replies
from socialbot.store.db import driver_reason, make_engine, pending_migrations
from socialbot.store.models import Account
from socialbot.text_rules import TextRules

UPGRADE_FIX = "run `socialbot db upgrade`"

# Builds the adapter acting as an account: the real X unless a test says otherwise.
PlatformFor = Callable[[Settings, str], Network]


class Outcome(enum.StrEnum):
    OK = "ok"
    FAIL = "fail"
    SKIP = "skip"  # not checked: --offline, not configured, or a prerequisite failed


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report: what was checked, how it went, and what to do when it failed."""

    area: str
    outcome: Outcome
    detail: str
    fix: str | None = None

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.FAIL


def ok(area: str, detail: str) -> Check:
    return Check(area, Outcome.OK, detail)


def fail(area: str, detail: str, fix: str | None = None) -> Check:
    return Check(area, Outcome.FAIL, detail, fix)


def skip(area: str, detail: str) -> Check:
    return Check(area, Outcome.SKIP, detail)


@runtime_checkable
class _KnowsUsername(Protocol):
    """An adapter that can say the account's @username with its id (XPlatform does)."""

    def own_user(self) -> tuple[str, str | None]: ...


@runtime_checkable
class _ProbesMentions(Protocol):
    """An adapter that can ask for one small mentions page with every name intake asks for."""

    def probe_mentions(self, user_id: str) -> MentionPage: ...


# --- the checks -------------------------------------------------------------------------------


def check_config(
    load: Callable[[], Settings], config_file: Path | None = None
) -> tuple[Check, Settings | None]:
    """The settings load and validate; the Settings, or None when they do not."""
    try:
        settings = load()
    except ConfigError as exc:
        return fail("config", str(exc)), None
    if config_file is None and os.environ.get(ENV_PREFIX + "CONFIG"):
        config_file = Path(os.environ[ENV_PREFIX + "CONFIG"])
    source = f"{config_file} and the environment" if config_file else "the environment and defaults"
    return ok("config", f"settings are valid (from {source})"), settings


def check_secrets(settings: Settings) -> list[Check]:
    """No secret is too short to be a real credential. The logs mask it anyway, and with it
    every innocent occurrence of those few characters: the lines of a short secret read wrong."""
    short = [name for name, value in named_secrets(settings) if len(value) < MIN_SECRET_LENGTH]
    return [
        fail(
            "secrets",
            f"{name} is shorter than {MIN_SECRET_LENGTH} characters: no real credential is, and "
            "the logs mask every occurrence of its characters",
            "set the real value (copy it again from the X developer portal, or give the "
            "database user a longer password)",
        )
        for name in short
    ]


def check_catalog(settings: Settings) -> tuple[Check, Catalog | None]:
    """The hashtag catalog loads; the Catalog, or None when it does not."""
    try:
        catalog = load_catalog(settings.hashtags)
    except CatalogError as exc:
        return fail("catalog", str(exc)), None
    return ok("catalog", f"{settings.hashtags}: {len(catalog.categories)} categories"), catalog


def check_replies(
    settings: Settings, catalog: Catalog | None, rules: Sequence[TextRules]
) -> list[Check]:
    """Every reply template renders with the longest values the catalog can produce, within
    each configured network's length (`rules`), in every language: one line a broken template
    and network, one OK line a network saying whose rules it measured against."""
    if catalog is None:
        return [skip("replies", "not checked: they need the catalog, which did not load")]
    try:
        replies = Replies.for_dirs(settings.templates, SHIPPED_TEMPLATES)
    except SocialbotError as exc:
        return [fail("replies", str(exc))]
    checks = []
    for network in rules:
        checked, problems = _first_problems(replies.check_each(catalog, settings.case_url, network))
        if problems:
            checks += [fail("replies", str(problem)) for problem in problems]
            continue
        longest = (
            "category name, case number and handle"
            if network.mention_author
            else "category name and case number"
        )
        checks.append(
            ok(
                "replies",
                f"{checked} templates ({', '.join(LANGS)}) fit {network.describe()} with the "
                f"longest {longest}",
            )
        )
    return checks


def check_broadcast_templates(settings: Settings) -> list[Check]:
    """Every broadcast template's header lists the variables its text uses, in every language,
    and the text renders with the header's examples: one line a broken template."""
    try:
        templates = BroadcastTemplates.for_dirs(settings.templates, SHIPPED_TEMPLATES)
    except SocialbotError as exc:
        return [fail("broadcasts", str(exc))]
    checked, problems = _first_problems(templates.check_each())
    if problems:
        return [fail("broadcasts", str(problem)) for problem in problems]
    return [
        ok(
            "broadcasts",
            f"{len(templates.names())} templates ({checked} files): headers match the texts, "
            "examples render",
        )
    ]


def check_city_bounds(settings: Settings) -> Check:
    """The city bounds setting (a box or a GeoJSON file) reads, when there is one."""
    if not settings.city_bounds:
        return skip("city bounds", "not set: reports from anywhere are filed")
    try:
        bounds = parse_city_bounds(settings.city_bounds, base_dir=Path.cwd())
    except ConfigError as exc:
        return fail("city bounds", str(exc))
    return ok("city bounds", bounds.description)


def check_districts(settings: Settings, catalog: Catalog | None) -> Check:
    """The districts file reads, and its overrides name categories of the catalog (when the
    catalog loaded)."""
    if settings.districts is None:
        return skip("districts", "not set: cases are routed by category alone")
    known = [c.key for c in catalog.categories] if catalog is not None else None
    try:
        districts = load_districts(settings.districts, known_categories=known)
    except ConfigError as exc:
        return fail("districts", str(exc))
    unchecked = "" if catalog is not None else " (categories not checked: no catalog)"
    return ok("districts", f"{settings.districts}: {len(districts.districts)} districts{unchecked}")


def check_database(settings: Settings) -> Check:
    """The database answers and its schema is at the newest migration. Reads only: a missing
    SQLite file is reported, not created, and nothing is migrated."""
    try:
        shown = make_url(settings.database_url).render_as_string(hide_password=True)
    except ArgumentError:
        shown = "SOCIALBOT_DATABASE_URL"
    missing = _missing_sqlite_file(settings.database_url)
    if missing is not None:
        return fail(
            "database",
            f"{shown}: no database yet (the file does not exist)",
            f"{UPGRADE_FIX} to create it (`socialbot run` does too)",
        )
    try:
        engine = make_engine(settings.database_url, create=False)  # doctor never creates one
    except ConfigError as exc:
        return fail("database", str(exc))
    try:
        pending = pending_migrations(engine)
    except ConfigError as exc:
        return fail("database", str(exc), "upgrade socialbot to the version that migrated it")
    except SQLAlchemyError as exc:
        return fail(
            "database",
            f"{shown}: cannot connect ({driver_reason(exc, engine)})",
            "check SOCIALBOT_DATABASE_URL and that the database server is running",
        )
    finally:
        engine.dispose()
    if pending:
        return fail(
            "database",
            f"{shown}: schema is {len(pending)} migration(s) behind (pending: "
            f"{', '.join(pending)})",
            UPGRADE_FIX,
        )
    return ok("database", f"{shown}: schema is current")


def check_account(
    settings: Settings,
    account: str,
    *,
    platform_for: PlatformFor = x_platform,
    remembered: str | None = None,
) -> Check:
    """One authenticated call as `account` (`GET /2/users/me`): the credentials work, and they
    are the account's whose id is configured (or remembered in the database, `remembered`)."""
    return _check_account(settings, account, platform_for=platform_for, remembered=remembered)[0]


def _check_account(
    settings: Settings,
    account: str,
    *,
    platform_for: PlatformFor,
    remembered: str | None,
) -> tuple[Check, Network | None, str | None]:
    """`check_account`, and the adapter and user id when it passed (for `check_field_names`)."""
    try:
        credentials = settings.credentials(account)
    except ConfigError as exc:
        return fail("credentials", f"{account}: {exc}", _set_credentials_fix()), None, None
    try:
        platform = platform_for(settings, account)
        if isinstance(platform, _KnowsUsername):
            user_id, username = platform.own_user()
        else:
            user_id, username = platform.own_user_id(), None
    except AuthFailed as exc:
        return fail("credentials", f"{account}: {exc}", _auth_fix(account)), None, None
    except RateLimited as exc:
        when = f" after {exc.reset_at:%Y-%m-%d %H:%M} UTC" if exc.reset_at else " in a few minutes"
        return (
            fail("credentials", f"{account}: X could not be checked: {exc}", f"run it again{when}"),
            None,
            None,
        )
    except PlatformError as exc:
        return (
            fail(
                "credentials",
                f"{account}: X could not be reached: {exc}",
                "run it again in a few minutes",
            ),
            None,
            None,
        )
    except ConfigError as exc:
        return fail("credentials", f"{account}: {exc}"), None, None
    who = f"@{username} (user id {user_id})" if username else f"user id {user_id}"
    if credentials.user_id is not None and credentials.user_id != user_id:
        mismatch = fail(
            "credentials",
            f"{account}: the access token is {who}, but "
            f"{account_env_name(account, 'x_user_id')} is {credentials.user_id}: replies would "
            "go out from the wrong account",
            f"use the access token of user {credentials.user_id}, or set "
            f"{account_env_name(account, 'x_user_id')}={user_id}",
        )
        return mismatch, None, None
    if credentials.user_id is None and remembered is not None and remembered != user_id:
        forgotten = fail(
            "credentials",
            f"{account}: the access token is {who}, but the database knows this account as user "
            f"id {remembered}: mentions would be read for one account and answered from another",
            f"use the access token of user {remembered}, or, if the city account really "
            f"changed, set {account_env_name(account, 'x_user_id')}={user_id}",
        )
        return forgotten, None, None
    return ok("credentials", f"{account}: {who}"), platform, user_id


def check_field_names(settings: Settings, platform: Network, user_id: str) -> Check | None:
    """One mentions request of the fewest posts X allows, with every parameter, field and
    expansion intake asks for: proves the names this account's API accepts (`x_request`).
    None when the adapter cannot say (a test double)."""
    if not isinstance(platform, _ProbesMentions):
        return None
    names = f"SOCIALBOT_X_FIELD_NAMES={settings.x_field_names}"
    try:
        page = platform.probe_mentions(user_id)
    except Rejected as exc:
        return fail("field names", f"{names}: {exc}", _field_names_fix(settings, exc))
    except RateLimited as exc:
        return fail("field names", f"{names}: X could not be asked: {exc}", "run it again later")
    except PlatformError as exc:
        return fail(
            "field names",
            f"{names}: X could not be asked: {exc}",
            "run it again in a few minutes",
        )
    if page.malformed:
        # X took the names but its answer lacks what intake reads (a field one spelling asks
        # for and the other's API leaves out): every mention would be malformed.
        return fail(
            "field names",
            f"{names}: X accepts the names, but {len(page.malformed)} of the "
            f"{len(page.malformed) + len(page.mentions)} mentions it sent cannot be read: "
            f"{page.malformed[0].problem}",
            _field_names_fix(settings, None),
        )
    return ok(
        "field names",
        f"{names}: X accepts every name the mentions request uses, and its answer reads "
        f"({len(page.mentions)} of the newest {x_request.PROBE_PAGE_SIZE} mentions)",
    )


def _field_names_fix(settings: Settings, exc: Rejected | None) -> str:
    other = x_request.vocabulary(settings.x_field_names).other()
    if exc is not None and exc.parameter is None:
        return "see the message; report it if it names no parameter of ours"
    return (
        f"set SOCIALBOT_X_FIELD_NAMES={other.names.value} (uses `{other.fields_parameter}`) "
        "and run `socialbot doctor` again"
    )


def check_credentials(
    settings: Settings,
    *,
    offline: bool = False,
    platform_for: PlatformFor = x_platform,
    remembered: Mapping[str, str] | None = None,
) -> list[Check]:
    """`check_account` for the intake account and every configured one; offline, none is
    called, and missing credentials are only noted."""
    checks: list[Check] = []
    for account in settings.account_names:
        if offline:
            try:
                settings.credentials(account)
                state = "credentials set"
            except ConfigError:
                state = "credentials not set yet"
            checks.append(
                skip("credentials", f"{account}: {state}; not checked with X (--offline)")
            )
            continue
        check, platform, user_id = _check_account(
            settings,
            account,
            platform_for=platform_for,
            remembered=(remembered or {}).get(account),
        )
        checks.append(check)
        # Only the intake account reads mentions: its API must take the names of that request.
        if account == INTAKE_ACCOUNT and platform is not None and user_id is not None:
            probe = check_field_names(settings, platform, user_id)
            if probe is not None:
                checks.append(probe)
    return checks


def remembered_user_ids(settings: Settings) -> dict[str, str]:
    """The user id the database remembers for each account (the first poll looked it up), read
    only; {} when the database cannot tell."""
    if _missing_sqlite_file(settings.database_url) is not None:
        return {}
    try:
        engine = make_engine(settings.database_url, create=False)  # doctor never creates one
    except ConfigError:
        return {}
    try:
        with Session(engine) as session:
            rows = session.exec(
                select(Account.name, Account.user_id).where(Account.platform == x_wire.PLATFORM)
            ).all()
    except SQLAlchemyError:
        return {}
    finally:
        engine.dispose()
    return {name: user_id for name, user_id in rows if user_id}


# --- all of them ------------------------------------------------------------------------------


def run_checks(
    load: Callable[[], Settings],
    *,
    config_file: Path | None = None,
    offline: bool = False,
    platform_for: PlatformFor = x_platform,
) -> list[Check]:
    """Every check, in order; each runs whatever the others found."""
    config, settings = check_config(load, config_file)
    if settings is None:
        not_checked = "not checked: the settings did not load (see config)"
        return [
            config,
            *(
                skip(area, not_checked)
                for area in (
                    "catalog",
                    "replies",
                    "broadcasts",
                    "city bounds",
                    "districts",
                    "database",
                    "credentials",
                )
            ),
        ]
    checks = [config, *_guarded_list("secrets", lambda: check_secrets(settings))]
    catalog: Catalog | None = None
    try:
        catalog_check, catalog = check_catalog(settings)
    except Exception as exc:  # a bug must not hide the other checks
        catalog_check = _unexpected("catalog", exc)
    checks.append(catalog_check)
    networks = configured_text_rules(settings)
    checks += _guarded_list("replies", lambda: check_replies(settings, catalog, networks))
    checks += _guarded_list("broadcasts", lambda: check_broadcast_templates(settings))
    checks += _guarded_list("city bounds", lambda: [check_city_bounds(settings)])
    checks += _guarded_list("districts", lambda: [check_districts(settings, catalog)])
    database = _guarded_list("database", lambda: [check_database(settings)])
    checks += database
    remembered = (
        remembered_user_ids(settings)
        if not offline and all(c.outcome is Outcome.OK for c in database)
        else {}
    )
    checks += _guarded_list(
        "credentials",
        lambda: check_credentials(
            settings, offline=offline, platform_for=platform_for, remembered=remembered
        ),
    )
    return list(_masked(checks, masking(secrets_of(settings))))


def failed(checks: Iterable[Check]) -> list[Check]:
    return [c for c in checks if c.failed]


# --- helpers ----------------------------------------------------------------------------------


def _first_problems(
    results: Iterable[tuple[str, SocialbotError | None]],
) -> tuple[int, list[SocialbotError]]:
    """How many templates were checked, and the first problem of each broken one."""
    seen: set[str] = set()
    broken: dict[str, SocialbotError] = {}
    for name, problem in results:
        seen.add(name)
        if problem is not None:
            broken.setdefault(name, problem)
    return len(seen), list(broken.values())


def _guarded_list(area: str, check: Callable[[], list[Check]]) -> list[Check]:
    try:
        return check()
    except Exception as exc:  # a bug must not hide the other checks
        return [_unexpected(area, exc)]


def _unexpected(area: str, exc: Exception) -> Check:
    return fail(
        area, f"the check itself failed: {type(exc).__name__}: {exc}", "please report this bug"
    )


def _missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file `url` names when it does not exist (connecting would create it)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    path = Path(parsed.database).expanduser()
    return None if path.exists() else path


def _set_credentials_fix() -> str:
    return (
        "set them in the environment, or one file each in /etc/socialbot/credentials/ (README "
        "'Configure'); or run `socialbot doctor --offline` until you have them"
    )


def _auth_fix(account: str) -> str:
    return (
        f"check {account_env_name(account, 'x_access_token')} and "
        f"{account_env_name(account, 'x_access_token_secret')}, and the app's "
        "SOCIALBOT_X_CONSUMER_KEY and SOCIALBOT_X_CONSUMER_SECRET, against the X developer "
        "portal (regenerate them if they were revoked; the app needs Read and write permission)"
    )


def _masked(checks: Iterable[Check], secrets: tuple[str, ...]) -> Iterator[Check]:
    for check in checks:
        yield replace(
            check,
            detail=mask(check.detail, secrets),
            fix=mask(check.fix, secrets) if check.fix is not None else None,
        )
