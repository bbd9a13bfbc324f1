"""The composition root: settings in, a ready service out. All is validated here, at start-up.

A bad catalog, template, bounds file or database URL fails now, with one line naming the file or
setting, rather than in the middle of a storm.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import Engine

from socialbot import __version__, people
from socialbot.answers import Answers, length_errors
from socialbot.answers import load_answers as read_answers
from socialbot.broadcasts import storm
from socialbot.broadcasts.audience import ALERT_SEGMENTS, SubscriberSending
from socialbot.broadcasts.broadcaster import Broadcaster
from socialbot.broadcasts.templates import BroadcastTemplates
from socialbot.catalog import Catalog, load_catalog
from socialbot.config import INTAKE_ACCOUNT, SHIPPED_TEMPLATES, Settings
from socialbot.districts import Districts, load_districts
from socialbot.errors import ConfigError, HandleError
from socialbot.geocoding.adapter import GeopyGeocoder
from socialbot.geocoding.base import PUBLIC_NOMINATIM, GeocoderConfig, GeocoderKind
from socialbot.health import JobHealth
from socialbot.intake import IntakeRules
from socialbot.location import CityBounds, parse_city_bounds
from socialbot.memo import Memo, files_key
from socialbot.metering import BILLED_NETWORKS, DatabaseMeter, monthly_budget
from socialbot.network_settings import Channel
from socialbot.networks.base import MediaRules, Network
from socialbot.networks.bluesky.rules import BLUESKY_MEDIA, BLUESKY_TEXT, bluesky_handle
from socialbot.networks.sessions import SessionStore
from socialbot.networks.x.rules import X_MEDIA, X_TEXT, x_handle
from socialbot.outbox import Outbox, RetryPolicy, SendReport, send_once
from socialbot.pacing import Pace, Pacer, Sleep, interruptible
from socialbot.poller import Intake, ensure_account
from socialbot.replies import Replies
from socialbot.sla import BusinessCalendar
from socialbot.staff import Staff
from socialbot.store.db import make_engine, require_current, upgrade
from socialbot.store.poll_lock import PollLock
from socialbot.store.sessions import DatabaseSessions
from socialbot.text_rules import TextRules
from socialbot.usage import BudgetState, Meter, month_of

if TYPE_CHECKING:
    from socialbot.inbox import Inbox
    from socialbot.open311.client import Open311Client
    from socialbot.open311.forwarder import Forwarder

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
    # Every account socialbot acts as, on every network, by (network, account): each intake
    # account is polled, and each has its own outbox. Intake accounts come first.
    networks: Mapping[Channel, Network]
    clock: Callable[[], datetime] = utc_now
    broadcast_templates: BroadcastTemplates | None = None
    districts: Districts | None = None
    calendar: BusinessCalendar | None = None
    # Failed job runs, as `status` shows them (see `health`); `build_service` makes one.
    health: JobHealth | None = None
    # Sends cases to the city's Open311 CRM; None when SOCIALBOT_OPEN311_ENDPOINT is unset.
    open311: Forwarder | None = None
    # The city's answers (`load_answers`), checked against every network it runs; None when
    # the service was built without them (no entries: automatic answers are off).
    answers: Answers | None = None
    # The geocoder of addresses in words (`make_geocoder`); None with SOCIALBOT_GEOCODER=none.
    geocoder: GeopyGeocoder | None = None
    # Set when the service is asked to stop (`scheduler`): a paced send waiting its turn stops.
    stopping: threading.Event = field(default_factory=threading.Event)
    # The send rate of each paced account (`NetworkKind.pace`), kept for the process's life and
    # shared by every job that sends from it.
    pacers: Mapping[Channel, Pacer] = field(default_factory=dict)

    def close(self) -> None:
        """Return every database connection; call once the service is done."""
        self.engine.dispose()
        if self.geocoder is not None:
            self.geocoder.close()

    @property
    def intake_networks(self) -> list[Network]:
        """The networks whose mentions are read, in the order configured."""
        return [n for channel, n in self.networks.items() if channel.account == INTAKE_ACCOUNT]

    @property
    def platform(self) -> Network:
        """The first intake network: the one a single-network city has."""
        return self.intake_networks[0]

    def intake_for(self, network: Network) -> Intake:
        kind = NETWORKS.get(network.name)
        return Intake(
            engine=self.engine,
            platform=network,
            replies=self.replies,
            rules_for=functools.partial(
                self.rules_for, converses=kind is not None and kind.converses
            ),
            account=INTAKE_ACCOUNT,
            case_url=case_url_for(self.settings, network.name),
            backfill=timedelta(hours=self.settings.backfill_hours),
            user_id=configured_user_id(self.settings, network.name, INTAKE_ACCOUNT),
            answer_links=answer_links(network.name),
            city_name=self.settings.city_name,
            geocoder=self.geocoder,
            geocode_limit=self.settings.geocoder_max_per_poll,
        )

    @property
    def intake(self) -> Intake:
        return self.intake_for(self.platform)

    @property
    def intakes(self) -> list[Intake]:
        return [self.intake_for(n) for n in self.intake_networks]

    @property
    def outbox(self) -> Outbox:
        """The first intake network's outbox."""
        return self.outbox_for(INTAKE_ACCOUNT)

    @property
    def outboxes(self) -> list[Outbox]:
        """Every account's outbox on every network: the intake accounts', then the others'."""
        return [self.outbox_for(c.account, c.network) for c in self.networks]

    def outbox_for(self, account: str, network: str | None = None) -> Outbox:
        name = network or self.platform.name
        adapter = self.networks[Channel(name, account)]
        outbox = account_outbox(
            self.settings, self.engine, account, adapter, self.pacers.get(Channel(name, account))
        )
        billed = adapter.name in BILLED_NETWORKS
        if account == INTAKE_ACCOUNT and billed and self.settings.monthly_budget is not None:
            # No budget, no need to sum the month's spend every few seconds. The budget is what
            # X bills: a network that bills nothing is never held by it.
            return dataclasses.replace(outbox, budget=self.budget)
        return outbox

    def poll_lock(self, network: str | None = None) -> PollLock:
        """The lock that lets one process at a time poll `network`'s intake account."""
        return PollLock(self.engine, platform=network or self.platform.name, account=INTAKE_ACCOUNT)

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
            channels=tuple(self.networks),
            clock=self.clock,
        )

    @property
    def staff(self) -> Staff:
        """The staff actions on this service's database, with its catalog and templates."""
        return make_staff(self.settings, self.engine, self.catalog, self.replies)

    def rules_for(self, own_user_id: str, *, converses: bool = False) -> IntakeRules:
        """The intake rules of a network whose account is `own_user_id`; `converses`: its
        messages are private texts to one number (`NetworkKind.converses`)."""
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
            answers=self.answers if self.answers is not None and self.answers.entries else None,
            converses=converses,
        )

    def own_user_id(self, network: str | None = None) -> str:
        """From settings, else the database, else one call to the network (then remembered)."""
        adapter = self.networks[Channel(network or self.platform.name, INTAKE_ACCOUNT)]
        configured = configured_user_id(self.settings, adapter.name, INTAKE_ACCOUNT)
        row = ensure_account(self.engine, adapter, INTAKE_ACCOUNT, configured)
        assert row.user_id is not None
        return row.user_id


def configured_user_id(settings: Settings, network: str, account: str) -> str | None:
    """The account's id on `network` as the settings give it, if they do; None for a network
    the settings do not configure (the fake's, a test's), whose id is asked and remembered."""
    kind = NETWORKS.get(network)
    if kind is None:
        return None
    try:
        return kind.user_id(settings, account)
    except ConfigError:
        return None


def account_outbox(
    settings: Settings,
    engine: Engine,
    account: str,
    platform: Network,
    pacer: Pacer | None = None,
) -> Outbox:
    """The outbox of `account`, posting through `platform`, at `pacer`'s rate if it has one."""
    configured = configured_user_id(settings, platform.name, account)

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
        pacer=pacer,
    )


def pace_of(settings: Settings, network: str) -> Pace | None:
    """`network`'s send rate as the settings give it (`NetworkKind.pace`), in its text rules'
    units; None for a network that sends as fast as it answers."""
    kind = NETWORKS.get(network)
    per_second = kind.pace(settings) if kind is not None else None
    if kind is None or per_second is None:
        return None
    rules = kind.text(settings)
    return Pace(per_second, rules.measure, rules.unit)


def paces(settings: Settings) -> dict[str, Pace]:
    """The send rate of every paced network socialbot knows, by its short name: what `status`
    says a queue takes to drain with."""
    found = {name: pace_of(settings, name) for name in NETWORKS}
    return {name: pace for name, pace in found.items() if pace is not None}


def make_pacers(
    settings: Settings,
    channels: Iterable[Channel],
    clock: Callable[[], datetime],
    sleep: Sleep,
) -> dict[Channel, Pacer]:
    """A `Pacer` for each of `channels` whose network is paced."""
    made = {}
    for channel in channels:
        pace = pace_of(settings, channel.network)
        if pace is not None:
            made[channel] = Pacer(pace, clock, sleep)
    return made


def post_queued(settings: Settings, broadcaster: Broadcaster, channel: Channel) -> SendReport:
    """Post what `channel`'s account has queued (a broadcast just sent) through its real
    network, metered, now rather than at `socialbot run`'s next send."""
    network = network_for(
        settings,
        channel,
        meter=DatabaseMeter(broadcaster.engine),
        clock=broadcaster.clock,
        engine=broadcaster.engine,
    )
    pace = pace_of(settings, channel.network)
    # A paced network's texts go at its rate from here too; Ctrl-C stops between two of them.
    pacer = Pacer(pace, broadcaster.clock, _sleep) if pace is not None else None
    outbox = account_outbox(settings, broadcaster.engine, channel.account, network, pacer)
    return send_once(outbox, broadcaster.clock)


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return True


def retry_policy(settings: Settings) -> RetryPolicy:
    """The outbox's retry policy: its first wait and its recovery wait are settings."""
    return RetryPolicy(
        first_delay=timedelta(seconds=settings.retry_seconds),
        recover_after=timedelta(seconds=settings.recover_after_seconds),
    )


def build_broadcaster(settings: Settings, clock: Callable[[], datetime] = utc_now) -> Broadcaster:
    """What the broadcast commands need: the database, the templates, the configured accounts
    on every network. No network is called: posting builds each account's adapter
    (`post_queued`)."""
    templates = load_broadcast_templates(settings)
    return make_broadcaster(
        settings,
        open_database(settings),
        templates,
        channels=configured_channels(settings),
        clock=clock,
    )


def make_broadcaster(
    settings: Settings,
    engine: Engine,
    templates: BroadcastTemplates,
    *,
    channels: tuple[Channel, ...],
    clock: Callable[[], datetime] = utc_now,
) -> Broadcaster:
    return Broadcaster(
        engine=engine,
        templates=templates,
        channels=channels,
        zone=settings.zone,
        grace=timedelta(minutes=settings.broadcast_grace_minutes),
        clock=clock,
        media_dir=settings.media_dir,
        text_rules=text_rules(settings),
        media_rules=media_rules(settings),
        subscribers=subscriber_sending(settings),
        districts=load_districts(settings.districts).names if settings.districts else (),
    )


def subscriber_sending(settings: Settings) -> dict[str, SubscriberSending]:
    """How each network whose broadcasts go to its subscribers sends an alert
    (`NetworkKind.subscribers`), by its short name."""
    return {
        name: kind.subscribers(settings)
        for name, kind in NETWORKS.items()
        if kind.subscribers is not None
    }


def text_rules(settings: Settings) -> dict[str, TextRules]:
    """The text rules of every network socialbot knows, by its short name (a row's `platform`),
    as the settings give them without asking the network: what staff and broadcast commands
    measure with (a case from a network the city no longer runs is still answered by its rules).
    The running service's adapters know their instance's own (`Network.text_rules`)."""
    return {name: kind.text(settings) for name, kind in NETWORKS.items()}


def media_rules(settings: Settings) -> dict[str, MediaRules]:
    """The photo rules of every network socialbot knows, by its short name."""
    return {name: kind.media for name, kind in NETWORKS.items()}


def configured_text_rules(settings: Settings) -> list[TextRules]:
    """The text rules of the networks the city runs (every one, if it runs none yet): what
    the reply templates are checked against at start-up and by `doctor`."""
    names = dict.fromkeys(channel.network for channel in settings.channels) or NETWORKS
    return [NETWORKS[name].text(settings) for name in names]


def load_broadcast_templates(settings: Settings) -> BroadcastTemplates:
    """The broadcast templates, every one checked (header against text, examples render)."""

    def checked() -> BroadcastTemplates:
        templates = BroadcastTemplates.for_dirs(settings.templates, SHIPPED_TEMPLATES)
        templates.check_all()
        return templates

    read = [settings.templates, SHIPPED_TEMPLATES]
    files = files_key(read)
    if files is None:
        return checked()
    return _CHECKED_BROADCASTS.get(files, checked, still=lambda: files_key(read) == files)


_CHECKED_BROADCASTS: Memo[BroadcastTemplates] = Memo(size=16)


def configured_channels(settings: Settings) -> tuple[Channel, ...]:
    """The accounts, on every network, whose credentials are complete: the ones socialbot can
    post from."""
    complete = []
    for channel in settings.channels:
        try:
            require_credentials(settings, channel)
        except ConfigError:
            continue
        complete.append(channel)
    return tuple(complete)


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
    # The key before anything is read: a file saved from here to the end of the check is a
    # different key afterwards, and nothing is remembered (socialbot.memo).
    read = [settings.hashtags, settings.templates, SHIPPED_TEMPLATES]
    files = files_key(read)
    catalog = load_catalog(settings.hashtags)
    links = configured_case_urls(settings)
    every_rules = configured_text_rules(settings)

    def checked() -> Replies:
        replies = Replies.for_dirs(settings.templates, SHIPPED_TEMPLATES)
        for rules in every_rules:
            replies.check_all(
                catalog, links.get(rules.network), rules=[rules], city=settings.city_name
            )
        return replies

    # The same files checked against the same networks pass again: remembered (socialbot.memo).
    replies = (
        checked()
        if files is None
        else _CHECKED_REPLIES.get(
            (files, tuple(sorted(links.items())), tuple(every_rules), settings.city_name),
            checked,
            still=lambda: files_key(read) == files,
        )
    )
    return catalog, replies, load_bounds(settings)


_CHECKED_REPLIES: Memo[Replies] = Memo(size=16)


def answers_are_off(settings: Settings) -> bool:
    """The default answers file is gone (a city that deleted it): no automatic answers, every
    question to staff. A file the settings name must exist: its absence is a mistake."""
    return "answers" not in settings.model_fields_set and not settings.answers.exists()


def answer_rules(settings: Settings) -> list[tuple[TextRules, bool]]:
    """The text rules of each network the city runs (every one, if it runs none yet), each with
    whether its answers carry their link: not where a link is billed (`links_billed`)."""
    names = dict.fromkeys(channel.network for channel in settings.channels) or NETWORKS
    return [(NETWORKS[name].text(settings), answer_links(name)) for name in names]


def load_answers(settings: Settings, catalog: Catalog) -> Answers:
    """The answers file checked against the catalog and, every answer in every language, against
    the length of each network the city runs; the first problem is an AnswersError line.
    Remembered once a process by the file's bytes, the catalog and the rules (socialbot.memo)."""
    if answers_are_off(settings):
        return Answers(())
    read = [settings.answers]
    files = files_key(read)
    rules = answer_rules(settings)

    def checked() -> Answers:
        answers = read_answers(settings.answers, catalog)
        for network, with_link in rules:
            problems = length_errors(answers, network, with_link=with_link)
            if problems:
                raise problems[0]
        return answers

    if files is None:
        return checked()
    return _CHECKED_ANSWERS.get(
        (files, tuple(c.key for c in catalog.categories), tuple(rules)),
        checked,
        still=lambda: files_key(read) == files,
    )


_CHECKED_ANSWERS: Memo[Answers] = Memo(size=16)


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
    sessions: SessionStore | None = None,
    engine: Engine | None = None,
) -> Network:
    """The real X adapter acting as `account`, each call counted by `meter`; credentials are
    required to talk to X. X acts with tokens and keeps no session: `sessions` is not used."""
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
        prices=settings.prices,
    )


def mastodon_network(
    settings: Settings,
    account: str = INTAKE_ACCOUNT,
    *,
    meter: Meter | None = None,
    clock: Callable[[], datetime] = utc_now,
    sessions: SessionStore | None = None,
    engine: Engine | None = None,
) -> Network:
    """The real Mastodon adapter acting as `account` on its instance, each call counted.
    Mastodon acts with a token and keeps no session: `sessions` is not used."""
    from socialbot.networks.mastodon.adapter import MastodonCredentials, MastodonNetwork

    credentials = settings.mastodon_credentials(account)
    return MastodonNetwork(
        MastodonCredentials(credentials.api_base_url, credentials.access_token),
        account=account,
        meter=meter,
        clock=clock,
        max_characters=settings.mastodon_max_characters,
    )


def bluesky_network(
    settings: Settings,
    account: str = INTAKE_ACCOUNT,
    *,
    meter: Meter | None = None,
    clock: Callable[[], datetime] = utc_now,
    sessions: SessionStore | None = None,
    engine: Engine | None = None,
) -> Network:
    """The real Bluesky adapter signing in as `account` at its PDS, each call counted. Its
    session is kept in `sessions` (the database's, from `network_for`; None: this process's
    memory, a sign-in each start), and every token it comes to hold is masked in the logs."""
    from socialbot.logs import add_secrets
    from socialbot.networks.bluesky.adapter import BlueskyCredentials, BlueskyNetwork

    credentials = settings.bluesky_credentials(account)
    return BlueskyNetwork(
        BlueskyCredentials(credentials.handle, credentials.app_password, credentials.service),
        account=account,
        meter=meter,
        clock=clock,
        sessions=sessions,
        # each account's tokens, masked for as long as it holds them
        secrets=functools.partial(add_secrets, holder=f"bluesky:{account}"),
    )


class NetworkBuilder(Protocol):
    """Builds a network's real adapter acting as `account`. `sessions` is where a network that
    signs in keeps its session (`NetworkKind.signs_in`); `engine` the database a network whose
    messages are pushed to us reads them from (`NetworkKind.reads_database`: SMS's webhook
    rows). The others take and ignore them."""

    def __call__(
        self,
        settings: Settings,
        account: str = INTAKE_ACCOUNT,
        *,
        meter: Meter | None = None,
        clock: Callable[[], datetime] = utc_now,
        sessions: SessionStore | None = None,
        engine: Engine | None = None,
    ) -> Network: ...


def sms_network(
    settings: Settings,
    account: str = INTAKE_ACCOUNT,
    *,
    meter: Meter | None = None,
    clock: Callable[[], datetime] = utc_now,
    sessions: SessionStore | None = None,
    engine: Engine | None = None,
) -> Network:
    """The real SMS adapter: Twilio's REST API for what we text, `engine`'s `sms_inbound`
    (the webhook's rows) for what residents text. Without `engine` it only sends and checks
    (`doctor`); reading texts then says it has no database. Twilio keeps no session."""
    from socialbot.networks.sms.adapter import SmsNetwork, TwilioCredentials

    credentials = settings.twilio_credentials(account)
    return SmsNetwork(
        TwilioCredentials(credentials.account_sid, credentials.auth_token, credentials.sender),
        engine,
        account=account,
        meter=meter,
        clock=clock,
        price_per_segment=settings.twilio_price_per_segment,
        media_dir=settings.media_dir,
    )


def _sms_handle(_settings: Settings, handle: str) -> str:
    """A number as staff type it (`+16175550123`) → E.164, which SMS's mentions carry as their
    author's id (there is no username): HandleError if it is none."""
    from socialbot.errors import DataError
    from socialbot.sms.phone import parse

    try:
        return parse(handle.strip(), "handle").e164
    except DataError:
        raise HandleError(
            f"{handle!r} is not a phone number in E.164 (+ and the country code, as +16175550123)"
        ) from None


def _sms_text(_settings: Settings) -> TextRules:
    from socialbot.sms.rules import sms_text_rules

    return sms_text_rules()


def _sms_media() -> MediaRules:
    from socialbot.networks.sms.adapter import SMS_MEDIA

    return SMS_MEDIA


@dataclass(frozen=True, slots=True)
class NetworkKind:
    """What the composition root knows of a network: how to build its adapter for an account,
    the account's id as the settings give it, and how its handles are written. The one place a
    network is named.

    `handle`: a handle as staff type it (`@Someone`) → as its wire code writes
    `Mention.author_username`, lower case (what a block is matched on); HandleError naming the
    network's rule if it is not one. It takes the settings: Mastodon leaves our own instance's
    domain out of a local account's handle.

    `signs_in`: the network signs in with a password and lives on a session (Bluesky), which
    `network_for` keeps in the database, so that no restart or command spends a sign-in.

    `links_billed`: a post with a link costs more than a plain one (X: about 13 times), so its
    replies link the status page only when the city asks (`WEB_CASE_LINKS=all`); on SMS a link
    costs segments, each billed.

    `converses`: its messages are private texts between one number and ours (SMS): a whole
    text may be a carrier or bot keyword (STOP, START, HELP, STATUS, ALERTS, a menu choice), a
    problem is named in plain words, one may do ("bache"), a text that names none gets the
    numbered menu, and the number's next text completes the case that waits for its location
    (`IntakeRules.converses`, which `Service.intake_for` sets from it).

    `subscribers`: the network's broadcasts go to its subscribers one by one (a text to each
    number that asked for alerts) rather than as one public post, sent as the settings say
    (`audience.SubscriberSending`: an alert's limit, the pace, the price of a unit); None: a
    broadcast is a public post.

    `personal_ids`: a person's id on the network is personal data in itself (SMS: their phone
    number), so every command, export and report shows it masked (`shown_id`, `people`).

    `reads_database`: its messages are pushed to the web service, which records them (SMS's
    webhook), and its adapter reads them from the database: `network_for` hands it the engine.

    `paced`: it sends no faster than the rate `pace` gives (segments a second, SMS's carrier
    rule); the outbox spaces its sends by each text's `pace_units`."""

    build: NetworkBuilder
    user_id: Callable[[Settings, str], str | None]
    text: Callable[[Settings], TextRules]  # its length rules as the settings know them
    media: MediaRules
    handle: Callable[[Settings, str], str]
    signs_in: bool = False
    links_billed: bool = False
    converses: bool = False
    subscribers: Callable[[Settings], SubscriberSending] | None = None
    personal_ids: bool = False
    reads_database: bool = False
    pace: Callable[[Settings], float | None] = lambda _settings: None


def sms_alert_sending(settings: Settings) -> SubscriberSending:
    """How SMS texts an alert to its subscribers (`NetworkKind.subscribers` of "sms"): up to
    `ALERT_SEGMENTS` segments, at `TWILIO_SEGMENTS_PER_SECOND`, each segment at
    `TWILIO_PRICE_PER_SEGMENT`, its encoding GSM-7 or UCS-2."""
    from socialbot.sms.rules import sms_text_rules
    from socialbot.sms.segments import encoding_of

    return SubscriberSending(
        rules=sms_text_rules(ALERT_SEGMENTS),
        units_per_second=settings.twilio_segments_per_second,
        price_per_unit=settings.twilio_price_per_segment,
        encoding=lambda text: encoding_of(text).value,
    )


def personal_networks() -> frozenset[str]:
    """The networks whose people's ids are personal data (`NetworkKind.personal_ids`)."""
    return frozenset(name for name, kind in NETWORKS.items() if kind.personal_ids)


def shown_id(network: str, author_id: str) -> str:
    """A person's id on `network` as every command shows it (`people.shown_id`): masked where
    the network's ids are personal; a network not in the table shows it with any phone number
    in it masked."""
    kind = NETWORKS.get(network)
    return people.shown_id(author_id, personal=kind is not None and kind.personal_ids)


def shown_person(network: str, author_id: str, handle: str | None) -> str:
    """`@maria`, or the id as `shown_id` shows it where the network gave no handle."""
    kind = NETWORKS.get(network)
    return people.shown_person(author_id, handle, personal=kind is not None and kind.personal_ids)


def _mastodon_text(settings: Settings) -> TextRules:
    from socialbot.networks.mastodon.text import MAX_CHARACTERS, mastodon_text_rules

    return mastodon_text_rules(settings.mastodon_max_characters or MAX_CHARACTERS)


def _mastodon_handle(settings: Settings, handle: str) -> str:
    from socialbot.networks.mastodon.handles import instance_domain, mastodon_handle

    return mastodon_handle(handle, instance_domain(settings.mastodon_api_base_url))


def _mastodon_media() -> MediaRules:
    from socialbot.networks.mastodon.text import MASTODON_MEDIA

    return MASTODON_MEDIA


NETWORKS: Mapping[str, NetworkKind] = {
    "x": NetworkKind(
        x_platform,
        lambda s, account: s.credentials(account, "x").user_id,
        lambda _settings: X_TEXT,
        X_MEDIA,
        lambda _settings, handle: x_handle(handle),
        links_billed=True,
    ),
    "mastodon": NetworkKind(
        mastodon_network,
        lambda s, account: s.mastodon_credentials(account).user_id,
        _mastodon_text,
        _mastodon_media(),
        _mastodon_handle,
    ),
    "bluesky": NetworkKind(
        bluesky_network,
        lambda s, account: s.bluesky_credentials(account).user_id,
        lambda _settings: BLUESKY_TEXT,
        BLUESKY_MEDIA,
        lambda _settings, handle: bluesky_handle(handle),
        signs_in=True,
    ),
    "sms": NetworkKind(
        sms_network,
        lambda s, account: s.twilio_credentials(account).sender,
        _sms_text,
        _sms_media(),
        _sms_handle,
        # A link costs segments, and every segment is billed: answers go without theirs, and
        # replies link the status page only under WEB_CASE_LINKS=all.
        links_billed=True,
        converses=True,
        subscribers=sms_alert_sending,
        personal_ids=True,
        reads_database=True,
        pace=lambda s: s.twilio_segments_per_second,
    ),
}


def answer_links(network: str) -> bool:
    """Whether an answer of answers.yaml carries its link on `network`: not where a post with a
    link is billed (`NetworkKind.links_billed`); a resident there is told the answer alone."""
    kind = NETWORKS.get(network)
    return kind is None or not kind.links_billed


def case_url_for(settings: Settings, network: str) -> str | None:
    """The link a reply on `network` gives its case, `{case}` standing for the number; None
    for no link. `CASE_URL`, when set, on every network (the city chose it); else the status
    page under `WEB_PUBLIC_URL` on the networks `WEB_CASE_LINKS` picks: `free` leaves out those
    that bill a post with a link (`NetworkKind.links_billed`)."""
    if settings.case_url:
        return settings.case_url
    if settings.web_public_url is None or settings.web_case_links == "none":
        return None
    if settings.web_case_links == "free" and NETWORKS[network].links_billed:
        return None
    return settings.web_public_url.rstrip("/") + "/cases/{case}"


def case_urls(settings: Settings) -> dict[str, str | None]:
    """`case_url_for` each network, by its short name (a case's `platform`)."""
    return {name: case_url_for(settings, name) for name in NETWORKS}


def configured_case_urls(settings: Settings) -> dict[str, str | None]:
    """`case_url_for` each network the city runs, by its text rules' display name
    (`TextRules.network`): what the reply templates are measured with."""
    names = dict.fromkeys(channel.network for channel in settings.channels) or NETWORKS
    return {NETWORKS[name].text(settings).network: case_url_for(settings, name) for name in names}


def handle_rules(settings: Settings) -> dict[str, Callable[[str], str]]:
    """Each network's handle rule (`NetworkKind.handle`) as these settings read handles, by
    network: what `moderation.account_of` chooses a handle's network with."""
    return {name: functools.partial(kind.handle, settings) for name, kind in NETWORKS.items()}


def network_for(
    settings: Settings,
    channel: Channel,
    *,
    meter: Meter | None = None,
    clock: Callable[[], datetime] = utc_now,
    engine: Engine | None = None,
) -> Network:
    """The real adapter of `channel`'s network, acting as its account. A network that signs in
    keeps its session in `engine`'s database (`DatabaseSessions`); without one, in memory."""
    kind = NETWORKS[channel.network]
    sessions = (
        DatabaseSessions(engine, channel.network, channel.account)
        if kind.signs_in and engine is not None
        else None
    )
    if kind.reads_database:
        return kind.build(
            settings, channel.account, meter=meter, clock=clock, sessions=sessions, engine=engine
        )
    return kind.build(settings, channel.account, meter=meter, clock=clock, sessions=sessions)


def _partly_configured(settings: Settings) -> None:
    """A network whose intake credentials are half set is a mistake to name, not a network the
    city does not use: the ConfigError says what it lacks."""
    if settings.networks:
        return
    x_keys = (settings.x_consumer_key, settings.x_consumer_secret, settings.x_access_token)
    if any((*x_keys, settings.x_access_token_secret)):
        settings.credentials(INTAKE_ACCOUNT, "x")
    if settings.mastodon_api_base_url or settings.mastodon_access_token:
        settings.mastodon_credentials(INTAKE_ACCOUNT)
    if settings.bluesky_handle or settings.bluesky_app_password:
        settings.bluesky_credentials(INTAKE_ACCOUNT)


def _sms_partly_configured(settings: Settings) -> None:
    """Twilio's three settings go together: one or two of them set is a mistake to name (a
    city that meant to text and would hear nothing), whatever else runs. The web service's
    webhook needs only the token; `socialbot run`, all three."""
    if any((settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_from)):
        settings.twilio_credentials(INTAKE_ACCOUNT)


def require_credentials(settings: Settings, channel: Channel) -> None:
    """A ConfigError naming what `channel` lacks, before anything else happens."""
    NETWORKS[channel.network].user_id(settings, channel.account)


def open311_client(settings: Settings) -> Open311Client:
    """The client of the city's Open311 endpoint; a ConfigError when none is set."""
    from socialbot.open311.client import Open311Client, Timeouts

    if settings.open311_endpoint is None:
        raise ConfigError(
            "SOCIALBOT_OPEN311_ENDPOINT: not set; set it (`[open311] endpoint` in the config "
            "file) to the base URL of the city's Open311 GeoReport v2 endpoint"
        )
    key = settings.open311_api_key
    return Open311Client(
        settings.open311_endpoint,
        api_key=key.get_secret_value() if key is not None else None,
        jurisdiction_id=settings.open311_jurisdiction_id,
        fmt=settings.open311_format,
        timeouts=Timeouts(read=settings.open311_timeout_seconds),
    )


def make_forwarder(
    settings: Settings, engine: Engine, catalog: Catalog, client: Open311Client | None = None
) -> Forwarder:
    """What sends the catalog's mapped categories to the city's CRM (`client`, else the one the
    settings name)."""
    from socialbot.open311.forwarder import Forwarder
    from socialbot.open311.mapping import service_rules

    key = settings.open311_api_key
    return Forwarder(
        engine=engine,
        client=client or open311_client(settings),
        rules=service_rules(catalog),
        catalog=catalog,
        api_key=key.get_secret_value() if key is not None else None,
        jurisdiction_id=settings.open311_jurisdiction_id,
        send_handle=settings.open311_send_handle,
    )


def build_staff(settings: Settings) -> Staff:
    """What the staff commands need: no platform, no credentials. The catalog, bounds, districts
    and reply templates are all checked before the database is touched, as for `cases list`."""
    catalog, replies, _ = load_content(settings)
    load_routing(settings, catalog)
    return make_staff(settings, open_database(settings), catalog, replies)


def make_staff(settings: Settings, engine: Engine, catalog: Catalog, replies: Replies) -> Staff:
    return Staff(
        engine=engine,
        catalog=catalog,
        replies=replies,
        notify=settings.notify_statuses,
        media_dir=settings.media_dir,
        text_rules=text_rules(settings),
        media_rules=media_rules(settings),
        case_urls=case_urls(settings),
    )


def build_service(
    settings: Settings,
    platform: Network | None = None,
    clock: Callable[[], datetime] = utc_now,
    accounts: Mapping[str, Network] | None = None,
    *,
    networks: Mapping[Channel, Network] | None = None,
    migrate: bool = True,
    sleep: Sleep | None = None,
) -> Service:
    """The service. Its adapters are `networks` when given; else `platform` (the intake account)
    and `accounts` (the others, by name), each defaulting to the real adapters of what the
    settings configure (`Settings.channels`: X, Mastodon, Bluesky), every call counted in the
    database (`socialbot usage`). It migrates the database (`run`, `poll`, `demo`) unless
    `migrate` is false (`send`: see `open_database`). A paced network's sends wait with `sleep`
    (tests: simulated time); by default in real time, ended by the service's `stopping`."""
    # Missing credentials fail before anything else happens.
    wanted: list[Channel] = []
    if networks is None:
        if platform is None:
            _partly_configured(settings)
            _sms_partly_configured(settings)
            settings.require_networks()
            wanted += [c for c in settings.channels if c.account == INTAKE_ACCOUNT]
        if accounts is None:
            wanted += [c for c in settings.channels if c.account != INTAKE_ACCOUNT]
    for channel in wanted:
        require_credentials(settings, channel)
    catalog, replies, bounds = load_content(settings)
    districts, calendar = load_routing(settings, catalog)
    broadcast_templates = load_broadcast_templates(settings)
    answers = load_answers(settings, catalog)
    engine = open_database(settings, migrate=migrate)
    health = JobHealth(engine, clock)  # `socialbot run` adds its file (`scheduler.Jobs`)
    meter = DatabaseMeter(engine, health=health)
    if networks is None:
        built = {
            c: network_for(settings, c, meter=meter, clock=clock, engine=engine) for c in wanted
        }
        given = {Channel(platform.name, INTAKE_ACCOUNT): platform} if platform else {}
        given |= {Channel(n.name, name): n for name, n in (accounts or {}).items()}
        # Intake accounts first, in the settings' order: the first is the city's main network.
        networks = {
            **{c: n for c, n in given.items() if c.account == INTAKE_ACCOUNT},
            **{c: n for c, n in built.items() if c.account == INTAKE_ACCOUNT},
            **{c: n for c, n in given.items() if c.account != INTAKE_ACCOUNT},
            **{c: n for c, n in built.items() if c.account != INTAKE_ACCOUNT},
        }
    forwarder = make_forwarder(settings, engine, catalog) if settings.forwards_to_open311 else None
    log.info(
        "event=configured database=%s catalog=%s categories=%d templates=%s bounds=%s networks=%s "
        "open311=%s",
        engine.url.render_as_string(hide_password=True),
        settings.hashtags,
        len(catalog.categories),
        settings.templates,
        bounds.description if bounds is not None else "none",  # shows a swapped bbox at once
        ",".join(f"{c.network}/{c.account}" for c in networks),
        f"{settings.open311_endpoint}({len(forwarder.rules)} categories)"
        if forwarder is not None
        else "none",
    )
    stopping = threading.Event()
    pacers = make_pacers(settings, networks, clock, sleep or interruptible(stopping))
    return Service(
        settings=settings,
        engine=engine,
        catalog=catalog,
        replies=replies,
        bounds=bounds,
        stopping=stopping,
        pacers=pacers,
        networks=dict(networks),
        clock=clock,
        broadcast_templates=broadcast_templates,
        districts=districts,
        calendar=calendar,
        health=health,
        open311=forwarder,
        answers=answers,
        geocoder=make_geocoder(settings, bounds),
    )


def geocoder_config(settings: Settings) -> GeocoderConfig | None:
    """The geocoder the settings configure, checked; None for `SOCIALBOT_GEOCODER=none`."""
    kind = GeocoderKind(settings.geocoder)
    if kind is GeocoderKind.NONE:
        return None
    url = settings.geocoder_url
    if kind is GeocoderKind.ARCGIS and url is None:
        raise ConfigError(
            "SOCIALBOT_GEOCODER_URL: required with SOCIALBOT_GEOCODER=arcgis: the city's "
            "locator, e.g. https://gis.example.gov/arcgis/rest/services/Locators/City/GeocodeServer"
        )
    agent = settings.geocoder_user_agent
    if agent is None and kind is GeocoderKind.NOMINATIM:
        raise ConfigError(
            "SOCIALBOT_GEOCODER_USER_AGENT: required with SOCIALBOT_GEOCODER=nominatim (its "
            "usage policy refuses anonymous clients), e.g. 'socialbot (311@example.gov)'"
        )
    return GeocoderConfig(
        kind=kind,
        url=url or PUBLIC_NOMINATIM,
        user_agent=agent or f"socialbot/{__version__}",
        timeout_seconds=settings.geocoder_timeout_seconds,
        region=settings.geocoder_region,
        requests_per_second=settings.geocoder_requests_per_second,
    )


def make_geocoder(settings: Settings, bounds: CityBounds | None) -> GeopyGeocoder | None:
    """The city's geocoder, within its bounds; None when none is configured."""
    config = geocoder_config(settings)
    return GeopyGeocoder(config, bounds) if config is not None else None


@contextmanager
def opened_inbox(
    settings: Settings, *, answers: bool = False, filing: bool = False
) -> Iterator[Inbox]:
    """`build_inbox`'s inbox for the block, its database connections closed when it ends."""
    inbox = build_inbox(settings, answers=answers, filing=filing)
    try:
        yield inbox
    finally:
        inbox.engine.dispose()


def build_inbox(settings: Settings, *, answers: bool = False, filing: bool = False) -> Inbox:
    """What the inbox commands need: the database and each network's text rules; answers.yaml
    (checked as at start-up) for `inbox answer`; for `inbox file` the catalog, bounds, districts,
    calendar and reply templates, as intake files a case with them. No network is called."""
    from socialbot.inbox import Filing, Inbox

    catalog = None
    made_filing = None
    if filing:
        catalog, replies, bounds = load_content(settings)
        districts, calendar = load_routing(settings, catalog)
        rules = IntakeRules(
            catalog=catalog,
            own_user_id="",  # nothing is decided about an author here: only routed and filed
            bounds=bounds,
            max_place_diagonal_m=settings.max_place_diagonal_m,
            districts=districts,
            calendar=calendar,
        )
        made_filing = Filing(rules=rules, replies=replies, case_urls=case_urls(settings))
    loaded = None
    if answers:
        loaded = load_answers(settings, catalog or load_catalog(settings.hashtags))
    return Inbox(
        engine=open_database(settings),
        text_rules=text_rules(settings),
        zone=settings.zone,
        answers=loaded,
        answer_links={name: answer_links(name) for name in NETWORKS},
        filing=made_filing,
        personal_networks=personal_networks(),
    )
