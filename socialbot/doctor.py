"""`socialbot doctor`: everything the service needs, checked one by one, changing nothing.

Each check is a plain function returning `Check` lines: the settings, the catalog, the answers
(`answers.yaml` against the catalog and each network's length), every reply and
broadcast template, the city bounds and districts files, the database and its migrations, and the
credentials of every account on every network (`Settings.channels`), unless offline, each
network checked in its own way (`NETWORK_CHECKS`): on X one `GET /2/users/me` an account, and for
the intake account one mentions request of five posts that proves X takes the field names it
asks for; on Mastodon one `verify_credentials` an account, and for the intake account the
instance's limits and whether the account's notification policy lets residents' mentions
through (a `WARN` when it does not: a warning, not a failure); on Bluesky one `getSession` an
account, on the session the service saved (no sign-in spent when it works), and whom it acts as
against the configured handle and DID. `run_checks` runs them all: a check that fails does not
stop the others, and one whose prerequisite failed (the templates when the catalog did not load)
says so instead of running. With an Open311 endpoint set, its service list (and the definitions
of the mapped services that have attributes) is read and compared with the catalog's codes
(`check_open311`): a code the CRM does not list, a required attribute with no value rule, or the
endpoint out of reach is one failed line each. With a geocoder set (`SOCIALBOT_GEOCODER`), one
search ("City Hall" in the region) shows it answers (`check_geocoder`).

Nothing here writes but one thing: the database is read, never migrated (a SQLite file that does
not exist is reported, not created), and no message carries a token or secret (`run_checks` masks
any configured secret value in every line as a last guard). The one write: a Bluesky session that
had to be refreshed or signed in anew is saved, as the service saves it, since a refresh retires
the refresh token the service holds.
"""

from __future__ import annotations

import enum
import functools
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import urlsplit

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session, select

from socialbot import app
from socialbot.answers import length_errors, load_answers
from socialbot.app import configured_case_urls, configured_text_rules, network_for
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
    AnswersError,
    AuthFailed,
    CatalogError,
    ConfigError,
    CrmRejected,
    PlatformError,
    RateLimited,
    Rejected,
    SocialbotError,
)
from socialbot.location import parse_city_bounds
from socialbot.logs import (
    MIN_SECRET_LENGTH,
    learned_secrets,
    mask,
    masking,
    named_secrets,
    secrets_of,
)
from socialbot.network_settings import BLUESKY_SERVICE, LABELS, Channel
from socialbot.networks.base import MentionPage, Network
from socialbot.networks.bluesky.rules import INVALID_HANDLE
from socialbot.networks.x import request as x_request
from socialbot.replies import LANGS, Replies
from socialbot.store.db import driver_reason, make_engine, pending_migrations
from socialbot.store.models import Account
from socialbot.text_rules import TextRules

if TYPE_CHECKING:
    from socialbot.networks.bluesky.adapter import SessionCheck
    from socialbot.networks.mastodon.adapter import AccountCheck, InstanceLimits, PolicyCheck
    from socialbot.networks.sms.wire import TwilioAccount

UPGRADE_FIX = "run `socialbot db upgrade`"

# Builds the adapter acting as a (network, account): the real one (`app.network_for`).
NetworkFor = Callable[[Settings, Channel], Network]
# What Mastodon's notification policy needs (`read` holds it); 4.3 added the endpoint.
POLICY_SINCE = "4.3"


class Outcome(enum.StrEnum):
    OK = "ok"
    FAIL = "fail"
    SKIP = "skip"  # not checked: --offline, not configured, or a prerequisite failed
    WARN = "warn"  # works, but something will go wrong for some residents: not a failure


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


def warn(area: str, detail: str, fix: str | None = None) -> Check:
    return Check(area, Outcome.WARN, detail, fix)


@runtime_checkable
class _KnowsUsername(Protocol):
    """An adapter that can say the account's @username with its id (XPlatform does)."""

    def own_user(self) -> tuple[str, str | None]: ...


@runtime_checkable
class _ProbesMentions(Protocol):
    """An adapter that can ask for one small mentions page with every name intake asks for."""

    def probe_mentions(self, user_id: str) -> MentionPage: ...


@runtime_checkable
class _ChecksMastodonAccount(Protocol):
    """An adapter that can say who its token is, what its instance allows and what the account's
    notification policy filters (MastodonNetwork does)."""

    def check_credentials(self) -> AccountCheck: ...

    def instance_limits(self) -> InstanceLimits: ...

    def notification_policy(self) -> PolicyCheck: ...


@runtime_checkable
class _ChecksTwilioAccount(Protocol):
    """An adapter that can say what the Twilio account its credentials open is (SmsNetwork)."""

    def check_account(self) -> TwilioAccount: ...


@runtime_checkable
class _ChecksSession(Protocol):
    """An adapter that signs in and can say whom its session acts as, and whether the saved
    session worked, was refreshed or a sign-in was spent (BlueskyNetwork does)."""

    def check_session(self) -> SessionCheck: ...


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


# What a zone is called when it is no city's: the settings' default, or a server's clock.
UNIVERSAL_ZONES = frozenset(
    {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Etc/Zulu", "Zulu"}
    | {"GMT", "Etc/GMT", "Etc/GMT+0", "Etc/GMT-0", "Etc/GMT0", "GMT0", "GMT+0", "GMT-0"}
    | {"Etc/Greenwich", "Greenwich"}
)


def check_timezone(settings: Settings, config_file: Path | None = None) -> Check:
    """The city's own time zone is set: business days (SLAs), `--at` and `--cron` and every time
    shown are in it. UTC is the default, and a server's clock: a warning, since a city's business
    day then ends at midnight UTC (7 pm in Boston)."""
    area = "time zone"
    if settings.timezone not in UNIVERSAL_ZONES:
        return ok(area, f"{settings.timezone}: business days, SLAs and every time shown are in it")
    if config_file is None and os.environ.get(ENV_PREFIX + "CONFIG"):
        config_file = Path(os.environ[ENV_PREFIX + "CONFIG"])
    where = (
        f'set timezone = "America/New_York" (the city\'s IANA zone) in {config_file}'
        if config_file is not None and ENV_PREFIX + "TIMEZONE" not in os.environ
        else "set SOCIALBOT_TIMEZONE=America/New_York (the city's IANA zone)"
    )
    return warn(
        area,
        f"{settings.timezone}: the default, not the city's zone: business days (and so SLA due "
        f"times) end at midnight {settings.timezone}, and every time is shown in "
        f"{settings.timezone}",
        where,
    )


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


def check_answers(settings: Settings, catalog: Catalog | None) -> Check:
    """The answers file loads against the catalog and every answer, in each language, fits each
    network the city runs (with its link where links are not billed), as start-up checks it; the
    first problem and how many more. A WARN when the default file is gone: answers are off."""
    area = "answers"
    if catalog is None:
        return skip(area, "not checked: they need the catalog, which did not load")
    if app.answers_are_off(settings):
        return warn(
            area,
            f"{settings.answers} not found: no automatic answers, every question goes to staff",
            "restore the shipped answers.yaml, or set SOCIALBOT_ANSWERS to the city's file",
        )
    try:
        answers = load_answers(settings.answers, catalog)
    except AnswersError as exc:
        return fail(area, str(exc))
    networks = app.answer_rules(settings)
    problems = [
        problem
        for rules, with_link in networks
        for problem in length_errors(answers, rules, with_link=with_link)
    ]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return fail(area, f"{problems[0]}{more}", "shorten the answers named")
    detail = (
        f"{settings.answers}: {len(answers.entries)} entries, en and es, fit "
        f"{', '.join(rules.network for rules, _ in networks)}"
    )
    return ok(area, detail)


def check_replies(
    settings: Settings,
    catalog: Catalog | None,
    rules: Sequence[TextRules],
    case_urls: Mapping[str, str | None] | None = None,
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
        # The case link that network's replies carry (`app.case_url_for`), by its display name.
        link = case_urls.get(network.network) if case_urls is not None else settings.case_url
        checked, problems = _first_problems(
            replies.check_each(catalog, link, network, city=settings.city_name)
        )
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
    if missing is not None:  # a fresh install: nothing is wrong yet, one command makes it
        return warn(
            "database",
            f"{shown}: no database yet (the file does not exist; doctor creates nothing)",
            f"{UPGRADE_FIX} to create it (the service's first start, `socialbot run`, does too)",
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


# --- credentials, network by network ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelCheck:
    """What checking one channel needs: how to build its adapter, the id the database remembers
    for it, and how its lines name it (`intake`, or `x/intake` when the city runs more than one
    network)."""

    settings: Settings
    channel: Channel
    network_for: NetworkFor
    remembered: str | None
    name: str

    @property
    def account(self) -> str:
        return self.channel.account


def check_x_channel(check: ChannelCheck) -> list[Check]:
    """One authenticated call (`GET /2/users/me`): the credentials work, and they are the
    account's whose id is configured (or remembered in the database); for the intake account,
    the mentions probe (`check_field_names`)."""
    result, platform, user_id = _check_x_account(check)
    checks = [result]
    # Only the intake account reads mentions: its API must take the names of that request.
    if check.account == INTAKE_ACCOUNT and platform is not None and user_id is not None:
        probe = check_field_names(check.settings, platform, user_id)
        if probe is not None:
            checks.append(probe)
    return checks


def _check_x_account(check: ChannelCheck) -> tuple[Check, Network | None, str | None]:
    """The credentials line, and the adapter and user id when it passed (for the probe)."""
    settings, account, name = check.settings, check.account, check.name
    try:
        credentials = settings.credentials(account)
    except ConfigError as exc:
        return fail("credentials", f"{name}: {exc}", _set_credentials_fix()), None, None
    try:
        platform = check.network_for(settings, check.channel)
        if isinstance(platform, _KnowsUsername):
            user_id, username = platform.own_user()
        else:
            user_id, username = platform.own_user_id(), None
    except AuthFailed as exc:
        return fail("credentials", f"{name}: {exc}", _auth_fix(account)), None, None
    except RateLimited as exc:
        return (
            fail("credentials", f"{name}: X could not be checked: {exc}", _retry_after(exc)),
            None,
            None,
        )
    except PlatformError as exc:
        return (
            fail("credentials", f"{name}: X could not be reached: {exc}", RETRY_FIX),
            None,
            None,
        )
    except ConfigError as exc:
        return fail("credentials", f"{name}: {exc}"), None, None
    who = f"@{username} (user id {user_id})" if username else f"user id {user_id}"
    setting = account_env_name(account, "x_user_id")
    if credentials.user_id is not None and credentials.user_id != user_id:
        mismatch = fail(
            "credentials",
            f"{name}: the access token is {who}, but {setting} is {credentials.user_id}: "
            "replies would go out from the wrong account",
            f"use the access token of user {credentials.user_id}, or set {setting}={user_id}",
        )
        return mismatch, None, None
    if credentials.user_id is None and check.remembered not in (None, user_id):
        forgotten = fail(
            "credentials",
            f"{name}: the access token is {who}, but the database knows this account as user "
            f"id {check.remembered}: mentions would be read for one account and answered from "
            "another",
            f"use the access token of user {check.remembered}, or, if the city account really "
            f"changed, set {setting}={user_id}",
        )
        return forgotten, None, None
    return ok("credentials", f"{name}: {who}"), platform, user_id


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


def check_mastodon_channel(check: ChannelCheck) -> list[Check]:
    """One `GET /api/v1/accounts/verify_credentials`: the token works, and it is the account's
    whose id is configured (or remembered); for the intake account, the instance's limits
    (`check_instance`) and the account's notification policy (`check_policy`)."""
    settings, account, name = check.settings, check.account, check.name
    try:
        credentials = settings.mastodon_credentials(account)
    except ConfigError as exc:
        return [fail("credentials", f"{name}: {exc}", _set_credentials_fix())]
    base_url = credentials.api_base_url
    try:
        network = check.network_for(settings, check.channel)
        if isinstance(network, _ChecksMastodonAccount):
            found = network.check_credentials()
            user_id, acct = found.user_id, found.acct
        else:
            user_id, acct = network.own_user_id(), None
    except AuthFailed as exc:
        return [fail("credentials", f"{name}: {exc}", _mastodon_token_fix(account, base_url))]
    except RateLimited as exc:
        return [
            fail("credentials", f"{name}: Mastodon could not be checked: {exc}", _retry_after(exc))
        ]
    except Rejected as exc:
        return [
            fail(
                "credentials",
                f"{name}: {base_url} refused verify_credentials: {exc}",
                f"check {_base_url_setting(settings, account)}: it must be the address of the "
                "Mastodon instance the account is on",
            )
        ]
    except PlatformError as exc:
        return [fail("credentials", f"{name}: {base_url} could not be reached: {exc}", RETRY_FIX)]
    except ConfigError as exc:
        return [fail("credentials", f"{name}: {exc}")]
    host = urlsplit(base_url).netloc
    handle = f"@{acct}" if acct is None or "@" in acct else f"@{acct}@{host}"
    who = f"{handle} (account id {user_id})" if acct is not None else f"account id {user_id}"
    setting = account_env_name(account, "mastodon_user_id")
    if credentials.user_id is not None and credentials.user_id != user_id:
        return [
            fail(
                "credentials",
                f"{name}: the access token is {who}, but {setting} is {credentials.user_id}: "
                "replies would go out from the wrong account",
                f"use the access token of account {credentials.user_id}, or set "
                f"{setting}={user_id}",
            )
        ]
    if credentials.user_id is None and check.remembered not in (None, user_id):
        return [
            fail(
                "credentials",
                f"{name}: the access token is {who}, but the database knows this account as "
                f"account id {check.remembered}: mentions would be read for one account and "
                "answered from another",
                f"use the access token of account {check.remembered}, or, if the city account "
                f"really changed, set {setting}={user_id}",
            )
        ]
    checks = [ok("credentials", f"{name}: {who} on {base_url}")]
    # Only the intake account reads mentions: its instance and its policy decide what arrives.
    if account == INTAKE_ACCOUNT and isinstance(network, _ChecksMastodonAccount):
        limits, instance = check_instance(check, network, base_url)
        checks += instance
        checks.append(check_policy(check, network, base_url, limits))
    return checks


def check_instance(
    check: ChannelCheck, network: _ChecksMastodonAccount, base_url: str
) -> tuple[InstanceLimits | None, list[Check]]:
    """What the instance allows (`GET /api/v2/instance`): one OK line saying it, and a FAIL when
    SOCIALBOT_MASTODON_MAX_CHARACTERS promises more than the instance takes."""
    name = check.name
    try:
        limits = network.instance_limits()
    except PlatformError as exc:
        return None, [
            fail(
                "instance",
                f"{name}: {base_url} could not be asked for its limits: {exc}",
                RETRY_FIX,
            )
        ]
    domain = limits.domain or urlsplit(base_url).netloc
    version = f"Mastodon {limits.version}" if limits.version else "Mastodon (version not said)"
    media = limits.media
    checks = [
        ok(
            "instance",
            f"{name}: {domain}, {version}: posts of up to {limits.text.limit} "
            f"{limits.text.unit}, photos of up to {media.megabytes} MB, {media.max_count} a post",
        )
    ]
    wanted = check.settings.mastodon_max_characters
    if wanted is not None and wanted > limits.text.limit:
        checks.append(
            fail(
                "instance",
                f"{name}: SOCIALBOT_MASTODON_MAX_CHARACTERS is {wanted}, but {domain} takes "
                f"{limits.text.limit} {limits.text.unit} a post: replies measured against "
                f"{wanted} would be refused",
                f"unset SOCIALBOT_MASTODON_MAX_CHARACTERS (the instance says its own), or set "
                f"it to {limits.text.limit} or less",
            )
        )
    return limits, checks


def check_policy(
    check: ChannelCheck,
    network: _ChecksMastodonAccount,
    base_url: str,
    limits: InstanceLimits | None,
) -> Check:
    """Whether the account's notification policy (`GET /api/v2/notifications/policy`) lets
    residents' mentions through: a WARN, with the adapter's fix, when it filters or drops some;
    a SKIP on a server older than the policy."""
    name = check.name
    try:
        policy = network.notification_policy()
    except AuthFailed as exc:
        return fail("policy", f"{name}: {exc}", _mastodon_token_fix(check.account, base_url))
    except Rejected as exc:
        version = f"Mastodon {limits.version}" if limits and limits.version else "the instance"
        return Check(
            "policy",
            Outcome.SKIP,
            f"{name}: not checked: {version} has no notification policy ({exc}); Mastodon "
            f"{POLICY_SINCE} added it",
            "make sure the account's notification settings do not block notifications from "
            "people it does not follow",
        )
    except PlatformError as exc:
        return fail("policy", f"{name}: {base_url} could not be asked: {exc}", RETRY_FIX)
    if policy.warning is not None:
        return warn("policy", f"{name}: {policy.warning}")
    return ok("policy", f"{name}: the notification policy lets every resident's mention through")


# How the session `check_session` acted with was had, as the OK line says it.
SESSION_HOW = {
    "saved": "the saved session works (no sign-in spent)",
    "refreshed": "the saved session was refreshed and saved again (no sign-in spent)",
    "created": "signed in with the app password (no saved session worked; Bluesky allows about "
    "100 sign-ins a day) and saved the session",
}
# An app password as Bluesky makes them: four groups of four letters and digits.
APP_PASSWORD_SHAPE = re.compile(r"[a-z0-9]{4}(-[a-z0-9]{4}){3}")


def check_bluesky_channel(check: ChannelCheck) -> list[Check]:
    """One `com.atproto.server.getSession` on the account's saved session (refreshed, or signed
    in with the app password, only when it must be): the account can be acted as, and it is the
    account of the configured handle, and of the configured (or remembered) DID."""
    settings, account, name = check.settings, check.account, check.name
    try:
        credentials = settings.bluesky_credentials(account)
    except ConfigError as exc:
        return [fail("credentials", f"{name}: {exc}", _set_credentials_fix())]
    service = credentials.service
    try:
        network = check.network_for(settings, check.channel)
        if isinstance(network, _ChecksSession):
            found = network.check_session()
            user_id, handle, how = found.user_id, found.handle, found.how
        else:
            user_id, handle, how = network.own_user_id(), None, None
    except AuthFailed as exc:
        return [fail("credentials", f"{name}: {exc}", _bluesky_password_fix(account))]
    except RateLimited as exc:
        return [
            fail("credentials", f"{name}: Bluesky could not be checked: {exc}", _retry_after(exc))
        ]
    except Rejected as exc:
        return [
            fail(
                "credentials",
                f"{name}: {service} refused the sign-in: {exc}",
                f"check {_service_setting(settings, account)}: it must be the address of the "
                f"account's PDS ({BLUESKY_SERVICE} for an account made on Bluesky)",
            )
        ]
    except PlatformError as exc:
        return [fail("credentials", f"{name}: {service} could not be reached: {exc}", RETRY_FIX)]
    except ConfigError as exc:
        return [fail("credentials", f"{name}: {exc}")]
    if handle == user_id:  # the PDS did not say the handle: nothing to compare
        handle = None
    who = f"@{handle} ({user_id})" if handle is not None else user_id
    did_setting = account_env_name(account, "bluesky_user_id")
    handle_setting = account_env_name(account, "bluesky_handle")
    if handle == INVALID_HANDLE:
        # atproto's name for a handle that no longer verifies: the session is the account's,
        # but residents' mentions of @handle no longer reach it.
        return [
            fail(
                "credentials",
                f"{name}: the session acts as {user_id}, but Bluesky no longer verifies its "
                f"handle {credentials.handle} (it shows as handle.invalid): residents' mentions "
                "of it do not reach the account",
                f"check the handle's DNS TXT record _atproto.{credentials.handle} (or "
                f"https://{credentials.handle}/.well-known/atproto-did) names {user_id}",
            )
        ]
    if handle is not None and handle.lower() != credentials.handle:
        # The adapter signs in as the configured handle: a session of another one is the
        # account's own, renamed on Bluesky since. It works, until a sign-in as the old name.
        return [
            fail(
                "credentials",
                f"{name}: the session acts as {who}, but {handle_setting} is "
                f"{credentials.handle}: the next sign-in, as {credentials.handle}, would fail or "
                "be another account's",
                f"if the account's handle changed, set {handle_setting}={handle.lower()}; "
                f"else set the handle and app password of {credentials.handle}",
            )
        ]
    if credentials.user_id is not None and credentials.user_id != user_id:
        return [
            fail(
                "credentials",
                f"{name}: the session acts as {who}, but {did_setting} is "
                f"{credentials.user_id}: replies would go out from the wrong account",
                f"use the handle and app password of {credentials.user_id}, or set "
                f"{did_setting}={user_id}",
            )
        ]
    if credentials.user_id is None and check.remembered not in (None, user_id):
        return [
            fail(
                "credentials",
                f"{name}: the session acts as {who}, but the database knows this account as "
                f"{check.remembered}: mentions would be read for one account and answered from "
                "another",
                f"use the handle and app password of {check.remembered}, or, if the city "
                f"account really changed, set {did_setting}={user_id}",
            )
        ]
    said = f": {SESSION_HOW[how]}" if how in SESSION_HOW else ""
    checks = [ok("credentials", f"{name}: {who} at {service}{said}")]
    if not APP_PASSWORD_SHAPE.fullmatch(credentials.app_password):
        checks.append(
            warn(
                "credentials",
                f"{name}: {account_env_name(account, 'bluesky_app_password')} does not look like "
                "an app password (xxxx-xxxx-xxxx-xxxx): if it is the account's own password, "
                "socialbot can do anything the account can, and revoking it locks you out too",
                "make an app password (Settings → Privacy and security → App passwords) and set "
                "it instead",
            )
        )
    return checks


def check_sms_channel(check: ChannelCheck) -> list[Check]:
    """One `GET Accounts/{sid}.json`: the auth token opens the account, and the account is
    active (a suspended or closed one sends nothing). The sender is shown masked: our number is
    a phone number like any other."""
    from socialbot.networks.sms.adapter import mask_sender

    settings, name = check.settings, check.name
    try:
        credentials = settings.twilio_credentials(check.account)
    except ConfigError as exc:
        return [fail("credentials", f"{name}: {exc}")]
    sender = mask_sender(credentials.sender)
    try:
        network = check.network_for(settings, check.channel)
        if not isinstance(network, _ChecksTwilioAccount):
            return [ok("credentials", f"{name}: texts from {sender} (not checked with Twilio)")]
        account = network.check_account()
    except AuthFailed as exc:
        return [
            fail(
                "credentials",
                f"{name}: {exc}",
                "copy the Account SID and Auth Token from the Twilio console's Account Info",
            )
        ]
    except RateLimited as exc:
        return [fail("credentials", f"{name}: Twilio could not be checked: {exc}", RETRY_FIX)]
    except PlatformError as exc:
        return [fail("credentials", f"{name}: Twilio could not be reached: {exc}", RETRY_FIX)]
    except ConfigError as exc:
        return [fail("credentials", f"{name}: {exc}")]
    called = f"{account.friendly_name!r} ({account.sid})" if account.friendly_name else account.sid
    if account.status != "active":
        return [
            fail(
                "credentials",
                f"{name}: Twilio account {called} is {account.status}: it sends no text",
                "reactivate the account in the Twilio console (Billing, or Support)",
            )
        ]
    return [ok("credentials", f"{name}: Twilio account {called}, active; texts from {sender}")]


def _sms_begun(settings: Settings) -> bool:
    # Even the auth token alone: the webhook then records texts that `run` would never answer,
    # which is what `run` refuses to start with (`app._sms_partly_configured`).
    return any((settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_from))


@dataclass(frozen=True, slots=True)
class NetworkChecks:
    """How `doctor` checks one network: its name in lines, whether the city began to set up its
    intake account (a half-set one is a FAIL naming what it lacks, not a network left out), and
    the check of one of its channels."""

    label: str
    begun: Callable[[Settings], bool]
    credentials: Callable[[Settings, str], object]  # a ConfigError naming what is missing
    check: Callable[[ChannelCheck], list[Check]]


def _x_begun(settings: Settings) -> bool:
    keys = (settings.x_consumer_key, settings.x_consumer_secret, settings.x_access_token)
    return any((*keys, settings.x_access_token_secret))


def _mastodon_begun(settings: Settings) -> bool:
    # The instance alone may be there for the named accounts on it: not an intake left half set.
    named = any(account.network == "mastodon" for account in settings.accounts.values())
    return settings.mastodon_access_token is not None or (
        settings.mastodon_api_base_url is not None and not named
    )


def _bluesky_begun(settings: Settings) -> bool:
    # The PDS alone may be there for the named accounts on it: not an intake left half set.
    named = any(account.network == "bluesky" for account in settings.accounts.values())
    return (
        settings.bluesky_handle is not None
        or settings.bluesky_app_password is not None
        or ("bluesky_service" in settings.model_fields_set and not named)
    )


# In the order lines are shown: a network's intake account, then the named ones.
NETWORK_CHECKS: Mapping[str, NetworkChecks] = {
    "x": NetworkChecks(
        LABELS["x"], _x_begun, lambda s, account: s.credentials(account, "x"), check_x_channel
    ),
    "mastodon": NetworkChecks(
        LABELS["mastodon"],
        _mastodon_begun,
        lambda s, account: s.mastodon_credentials(account),
        check_mastodon_channel,
    ),
    "bluesky": NetworkChecks(
        LABELS["bluesky"],
        _bluesky_begun,
        lambda s, account: s.bluesky_credentials(account),
        check_bluesky_channel,
    ),
    "sms": NetworkChecks(
        LABELS["sms"],
        _sms_begun,
        lambda s, account: s.twilio_credentials(account),
        check_sms_channel,
    ),
}
# A city that set up no network yet is told what X needs, as before there was another.
DEFAULT_NETWORK = "x"


def checked_channels(settings: Settings) -> tuple[Channel, ...]:
    """Every channel to check: `Settings.channels`, with the intake account of each network
    begun but not complete (or of X, when none is begun) in its place."""
    configured = set(settings.networks)
    begun = [n for n, kind in NETWORK_CHECKS.items() if n in configured or kind.begun(settings)]
    intake = [Channel(n, INTAKE_ACCOUNT) for n in begun or [DEFAULT_NETWORK]]
    return (*intake, *(c for c in settings.channels if c.account != INTAKE_ACCOUNT))


def check_credentials(
    settings: Settings,
    *,
    offline: bool = False,
    network_for: NetworkFor = network_for,
    remembered: Mapping[Channel, str] | None = None,
) -> list[Check]:
    """Every account on every network (`checked_channels`), each by its network's check
    (`NETWORK_CHECKS`); offline, none is called, and missing credentials are only noted. When
    the city runs more than one network, every line names the network of its account."""
    channels = checked_channels(settings)
    several = len({c.network for c in channels}) > 1
    checks: list[Check] = []
    for channel in channels:
        kind = NETWORK_CHECKS[channel.network]
        # X's lines keep their old names in a city on X alone; Mastodon's always say it.
        prefixed = several or channel.network != DEFAULT_NETWORK
        name = f"{channel.network}/{channel.account}" if prefixed else channel.account
        if offline:
            state = (
                "credentials set"
                if _complete(kind, settings, channel)
                else "credentials not set yet"
            )
            checks.append(
                skip("credentials", f"{name}: {state}; not checked with {kind.label} (--offline)")
            )
            continue
        checks += kind.check(
            ChannelCheck(
                settings=settings,
                channel=channel,
                network_for=network_for,
                remembered=(remembered or {}).get(channel),
                name=name,
            )
        )
    return checks


def _complete(kind: NetworkChecks, settings: Settings, channel: Channel) -> bool:
    try:
        kind.credentials(settings, channel.account)
    except ConfigError:
        return False
    return True


def remembered_user_ids(settings: Settings) -> dict[Channel, str]:
    """The user id the database remembers for each (network, account) (the first poll looked
    it up), read only; {} when the database cannot tell."""
    if _missing_sqlite_file(settings.database_url) is not None:
        return {}
    try:
        engine = make_engine(settings.database_url, create=False)  # doctor never creates one
    except ConfigError:
        return {}
    try:
        with Session(engine) as session:
            rows = session.exec(select(Account.platform, Account.name, Account.user_id)).all()
    except SQLAlchemyError:
        return {}
    finally:
        engine.dispose()
    return {Channel(platform, name): user_id for platform, name, user_id in rows if user_id}


# --- all of them ------------------------------------------------------------------------------


def run_checks(
    load: Callable[[], Settings],
    *,
    config_file: Path | None = None,
    offline: bool = False,
    network_for: NetworkFor | None = None,
) -> list[Check]:
    """Every check, in order; each runs whatever the others found. The adapters are
    `network_for`'s, else the real ones, on the sessions the database keeps when it is current
    (a network that signs in then spends no sign-in the service need not)."""
    config, settings = check_config(load, config_file)
    if settings is None:
        not_checked = "not checked: the settings did not load (see config)"
        return [
            config,
            *(
                skip(area, not_checked)
                for area in (
                    "time zone",
                    "catalog",
                    "answers",
                    "replies",
                    "broadcasts",
                    "city bounds",
                    "districts",
                    "database",
                    "credentials",
                )
            ),
        ]
    checks = [
        config,
        *_guarded_list("time zone", lambda: [check_timezone(settings, config_file)]),
        *_guarded_list("secrets", lambda: check_secrets(settings)),
    ]
    catalog: Catalog | None = None
    try:
        catalog_check, catalog = check_catalog(settings)
    except Exception as exc:  # a bug must not hide the other checks
        catalog_check = _unexpected("catalog", exc)
    checks.append(catalog_check)
    checks += _guarded_list("answers", lambda: [check_answers(settings, catalog)])
    networks = configured_text_rules(settings)
    links = configured_case_urls(settings)
    checks += _guarded_list("replies", lambda: check_replies(settings, catalog, networks, links))
    checks += _guarded_list("broadcasts", lambda: check_broadcast_templates(settings))
    checks += _guarded_list("city bounds", lambda: [check_city_bounds(settings)])
    checks += _guarded_list("districts", lambda: [check_districts(settings, catalog)])
    database = _guarded_list("database", lambda: [check_database(settings)])
    checks += database
    current = not offline and all(c.outcome is Outcome.OK for c in database)
    remembered = remembered_user_ids(settings) if current else {}
    with _sessions_database(settings, current) as engine:
        build = network_for or functools.partial(app.network_for, engine=engine)
        checks += _guarded_list(
            "credentials",
            lambda: check_credentials(
                settings, offline=offline, network_for=build, remembered=remembered
            ),
        )
    checks += _guarded_list("open311", lambda: check_open311(settings, catalog, offline=offline))
    checks += _guarded_list("geocoder", lambda: check_geocoder(settings, offline=offline))
    # The tokens of the sessions the adapters held, too: a server's error may quote one.
    return list(_masked(checks, masking((*secrets_of(settings), *learned_secrets()))))


def check_open311(settings: Settings, catalog: Catalog | None, *, offline: bool) -> list[Check]:
    """The city's Open311 endpoint answers its service list, every mapped code is on it, and
    every required attribute of a mapped service has a value rule in the catalog. One request
    for the list, one for each mapped service that has attributes; nothing is posted."""
    from socialbot.open311.mapping import compare_services, service_rules, wanted_definitions

    area = "open311"
    mapped = len(service_rules(catalog)) if catalog is not None else 0
    if settings.open311_endpoint is None:
        # A city without a CRM link sees no line, as before; one that mapped codes is told.
        if not mapped:
            return []
        return [
            warn(
                area,
                f"{mapped} categories have an open311_service_code, but "
                "SOCIALBOT_OPEN311_ENDPOINT is not set: no case is forwarded",
                "set the endpoint (`[open311] endpoint`) to forward them",
            )
        ]
    if catalog is None:
        return [skip(area, "not checked: the catalog did not load (see catalog)")]
    if offline:
        return [skip(area, f"not checked (--offline): {settings.open311_endpoint}")]
    client = app.open311_client(settings)
    reach = "check SOCIALBOT_OPEN311_ENDPOINT (and OPEN311_FORMAT) and that the endpoint is up"
    try:
        services = client.services()
        definitions = {
            code: client.definition(code) for code in wanted_definitions(catalog, services)
        }
    except CrmRejected as exc:  # refused: our key (401, 403) or our request
        said = (
            "check SOCIALBOT_OPEN311_API_KEY (and OPEN311_JURISDICTION_ID) with the CRM's team"
            if exc.status in (401, 403)
            else reach
        )
        return [fail(area, f"{client.endpoint}: {exc}", said)]
    except SocialbotError as exc:  # out of reach, or an answer that cannot be read
        return [fail(area, f"{client.endpoint}: {exc}", reach)]
    finally:
        client.close()
    found = compare_services(catalog, services, definitions)
    checks = [
        ok(
            area,
            f"{client.endpoint} lists {len(services)} service(s); {mapped} of "
            f"{len(catalog.categories)} categories mapped",
        )
    ]
    if not mapped:
        checks.append(
            warn(
                "open311 mapping",
                "no category has an open311_service_code: nothing is forwarded",
                "add codes to the catalog (`socialbot open311 services` lists the CRM's)",
            )
        )
    for problem in found.problems:
        fix = (
            "use a code `socialbot open311 services` lists"
            if problem.attribute is None
            else "add it to the category's open311_attributes (a fixed value or "
            "'{category}', '{district}', '{network}')"
        )
        checks.append(fail("open311 mapping", problem.describe(), fix))
    return checks


# What `doctor` asks the geocoder: a place every city has, with the region added as always.
GEOCODER_PROBE = "City Hall"


def check_geocoder(settings: Settings, *, offline: bool) -> list[Check]:
    """The configured geocoder answers one search (found or not: an answer is what is checked);
    no line when none is configured."""
    area = "geocoder"
    try:
        config = app.geocoder_config(settings)
    except ConfigError as exc:
        return [fail(area, str(exc))]
    if config is None:
        return []
    if offline:
        return [skip(area, f"not checked (--offline): {config.kind.value} at {config.url}")]
    try:  # geopy refuses a sample user agent for the public Nominatim
        geocoder = app.make_geocoder(settings, app.load_bounds(settings))
    except ConfigError as exc:
        return [fail(area, str(exc))]
    assert geocoder is not None
    asked = f"{GEOCODER_PROBE}, {config.region}" if config.region else GEOCODER_PROBE
    try:
        point = geocoder.locate(GEOCODER_PROBE)
    except SocialbotError as exc:
        return [
            fail(
                area,
                str(exc),
                "check SOCIALBOT_GEOCODER_URL (and GEOCODER_USER_AGENT) and that it is up; "
                "meanwhile reports are filed by their address alone",
            )
        ]
    finally:
        geocoder.close()
    found = (
        f"found {point.lat:.5f},{point.lon:.5f}" if point is not None else "no point in the city"
    )
    return [ok(area, f"{geocoder.name} answers: {asked!r}: {found}")]


@contextmanager
def _sessions_database(settings: Settings, current: bool) -> Iterator[Engine | None]:
    """The database the networks that sign in keep their sessions in, when it is `current`
    (its schema has `network_sessions`); None otherwise (they sign in, in memory)."""
    if not current:
        yield None
        return
    try:
        engine = make_engine(settings.database_url, create=False)  # doctor never creates one
    except ConfigError:
        yield None
        return
    try:
        yield engine
    finally:
        engine.dispose()


def failed(checks: Iterable[Check]) -> list[Check]:
    return [c for c in checks if c.failed]


def warnings(checks: Iterable[Check]) -> list[Check]:
    return [c for c in checks if c.outcome is Outcome.WARN]


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


RETRY_FIX = "run it again in a few minutes"


def _retry_after(exc: RateLimited) -> str:
    when = f" after {exc.reset_at:%Y-%m-%d %H:%M} UTC" if exc.reset_at else " in a few minutes"
    return f"run it again{when}"


def _mastodon_token_fix(account: str, base_url: str) -> str:
    # verify_credentials alone takes `profile` or `read`; reading mentions and the notification
    # policy needs `read`, replying and uploading photos `write` (Mastodon's controllers).
    return (
        f"check {account_env_name(account, 'mastodon_access_token')}: make a new access token on "
        f"{base_url} (Preferences → Development → your application) with the scopes read and "
        "write (a `profile` token only says who it is; it cannot read mentions or post)"
    )


def _bluesky_password_fix(account: str) -> str:
    return (
        f"check {account_env_name(account, 'bluesky_handle')} and "
        f"{account_env_name(account, 'bluesky_app_password')}: an app password of that account "
        "(Settings → Privacy and security → App passwords; make a new one if it was revoked)"
    )


def _service_setting(settings: Settings, account: str) -> str:
    """The setting that gave `account` its PDS: its own, else the intake's."""
    named = settings.accounts.get(account) if account != INTAKE_ACCOUNT else None
    if named is not None and named.bluesky_service is not None:
        return account_env_name(account, "bluesky_service")
    return account_env_name(INTAKE_ACCOUNT, "bluesky_service")


def _base_url_setting(settings: Settings, account: str) -> str:
    """The setting that gave `account` its instance: its own, else the intake's."""
    named = settings.accounts.get(account) if account != INTAKE_ACCOUNT else None
    if named is not None and named.mastodon_api_base_url is not None:
        return account_env_name(account, "mastodon_api_base_url")
    return account_env_name(INTAKE_ACCOUNT, "mastodon_api_base_url")


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
