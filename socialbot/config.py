"""One Settings object, read once at start from SOCIALBOT_* variables and an optional TOML file.

Precedence, highest first: environment, TOML file (``--config PATH`` or ``SOCIALBOT_CONFIG``),
defaults. Every setting is declared once below with its help text; the README's settings table
is checked against this declaration by the tests, so the two cannot drift apart. A network's
settings (`x_*`, `mastodon_*`, `bluesky_*`) may also be grouped in the file as `[x]`, `[mastodon]`
and `[bluesky]`, the Open311 endpoint's (`open311_*`) as `[open311]`, the web service's (`web_*`)
as `[web]` and Twilio's (`twilio_*`) as `[sms]`; which networks and accounts socialbot acts on is
`Settings.channels` (see `network_settings`).
"""

from __future__ import annotations

import difflib
import enum
import ipaddress
import os
import sys
import tomllib
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

import platformdirs
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    NestedSecretsSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from socialbot.domain import CaseStatus
from socialbot.errors import ConfigError
from socialbot.geocell import MAX_RADIUS_M
from socialbot.network_settings import (
    BLUESKY_SERVICE,
    NETWORKS,
    SMS,
    TABLE_KEYS,
    TWILIO_SETTINGS,
    BlueskyCredentials,
    Channel,
    MastodonCredentials,
    NamedAccount,
    Network,
    TwilioSettings,
    check_api_base_url,
    check_did,
    check_handle,
    check_server_url,
    check_service_url,
    fold_tables,
    shown_key,
)
from socialbot.sms.phone import check_account_sid, check_auth_token, check_sender
from socialbot.usage import Prices

ENV_PREFIX = "SOCIALBOT_"
# SOCIALBOT_ACCOUNTS__NOTIFY__X_ACCESS_TOKEN: a named account's field, through the environment.
NESTED = "__"
# The account whose credentials are the top-level SOCIALBOT_X_* (SOCIALBOT_MASTODON_*,
# SOCIALBOT_BLUESKY_*) settings: it reads mentions, on each network that has them.
INTAKE_ACCOUNT = "intake"
# systemd's LoadCredential= puts each credential in a file here: `socialbot_x_access_token` is
# SOCIALBOT_X_ACCESS_TOKEN, `socialbot_accounts__notify__x_access_token` a named account's token.
CREDENTIALS_DIRECTORY = "CREDENTIALS_DIRECTORY"
# Shipped defaults live at the top of the source tree (see README: "Install"); an installed wheel
# carries them to <prefix>/share/socialbot/ (pyproject's data-files).
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _shipped(name: str) -> Path:
    checkout = PROJECT_ROOT / name
    if checkout.exists():
        return checkout
    return Path(sys.prefix) / "share" / "socialbot" / name


SHIPPED_HASHTAGS = _shipped("hashtags.yaml")
SHIPPED_ANSWERS = _shipped("answers.yaml")
SHIPPED_TEMPLATES = _shipped("templates")


# The statuses staff can move a case to whose change may be told to the resident.
NOTIFIABLE = ("acknowledged", "in_progress", "resolved", "closed")


class LogFormat(enum.StrEnum):
    """How log lines are written (`SOCIALBOT_LOG_FORMAT`, `--log-format`)."""

    TEXT = "text"
    JSON = "json"


def default_data_dir() -> Path:
    """systemd's StateDirectory when run as a service, else the user's data dir."""
    state = os.environ.get("STATE_DIRECTORY")
    # systemd passes several directories colon-separated when the unit names several.
    return Path(state.split(":")[0]) if state else Path(platformdirs.user_data_dir("socialbot"))


def default_database_url() -> str:
    """SQLite in the data dir (`default_data_dir`)."""
    return f"sqlite:///{default_data_dir() / 'socialbot.db'}"


def default_media_dir() -> Path:
    """`media/` in the data dir: the service can read it whoever copied a photo there."""
    return default_data_dir() / "media"


@dataclass(frozen=True, slots=True)
class AccountCredentials:
    """What the X adapter needs to act as one account."""

    name: str
    consumer_key: str = field(repr=False)
    consumer_secret: str = field(repr=False)
    access_token: str = field(repr=False)
    access_token_secret: str = field(repr=False)
    user_id: str | None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=NESTED,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    database_url: str = Field(
        default_factory=default_database_url,
        description="SQLAlchemy URL. Default: SQLite file `socialbot.db` under `$STATE_DIRECTORY` "
        "(systemd) or the XDG data dir (`~/.local/share/socialbot/`). PostgreSQL: "
        "`postgresql+psycopg://user@host/db`.",
    )
    x_consumer_key: SecretStr | None = Field(
        default=None, description="X app's API key (OAuth 1.0a, user context of the city account)."
    )
    x_consumer_secret: SecretStr | None = Field(default=None, description="X app's API key secret.")
    x_access_token: SecretStr | None = Field(
        default=None, description="Access token of the city account."
    )
    x_access_token_secret: SecretStr | None = Field(
        default=None, description="Access token secret of the city account."
    )
    x_user_id: str | None = Field(
        default=None,
        description="Numeric user id of the city account. Unset: looked up once with "
        "`GET /2/users/me` and stored in the database.",
    )
    x_field_names: Literal["tweet", "post"] = Field(
        default="tweet",
        description="How the X requests spell their names: `tweet` (`tweet.fields`, "
        "`referenced_tweets.id`: X's documented API and every recording) or `post` "
        "(`post.fields`, `referenced_posts`: X's production spec 2.167). `socialbot doctor` "
        "checks which one the account's API accepts.",
    )
    mastodon_api_base_url: str | None = Field(
        default=None,
        description="The city's Mastodon instance, e.g. `https://mastodon.example` (https; http "
        "only for localhost or 127.0.0.1). With `MASTODON_ACCESS_TOKEN`, the intake account on "
        "Mastodon; also the instance of each Mastodon account in `[accounts]` that names none.",
    )
    mastodon_access_token: SecretStr | None = Field(
        default=None,
        description="Access token of the city account on that instance (an application made "
        "under Preferences → Development, scopes `read` and `write`).",
    )
    mastodon_user_id: str | None = Field(
        default=None,
        description="Id of the city account on the instance. Unset: looked up once with "
        "`GET /api/v1/accounts/verify_credentials` and stored in the database.",
    )
    mastodon_max_characters: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="Longest status, for an instance that does not say "
        "(`configuration.statuses.max_characters` of `GET /api/v2/instance`). Unset: what the "
        "instance says, else 500.",
    )
    bluesky_handle: str | None = Field(
        default=None,
        description="Handle of the city account on Bluesky, e.g. `city.bsky.social` (without the "
        "@). With `BLUESKY_APP_PASSWORD`, the intake account on Bluesky.",
    )
    bluesky_app_password: SecretStr | None = Field(
        default=None,
        description="An app password of that account (Settings → Privacy and security → App "
        "passwords), not its own password. It signs in once; the session is kept in the "
        "database and refreshed.",
    )
    bluesky_service: str = Field(
        default=BLUESKY_SERVICE,
        description="The account's PDS (https; http only for localhost or 127.0.0.1): "
        "`https://bsky.social` for an account made on Bluesky, else its own server's address. "
        "Also the PDS of each Bluesky account in `[accounts]` that names none.",
    )
    bluesky_user_id: str | None = Field(
        default=None,
        description="The account's DID (`did:plc:…`). Unset: the one its session names, stored "
        "in the database; set, `socialbot doctor` checks the handle signs in as that account.",
    )
    hashtags: Path = Field(
        default=SHIPPED_HASHTAGS,
        description="The city's hashtag → category catalog. Default: the shipped `hashtags.yaml`.",
    )
    answers: Path = Field(
        default=SHIPPED_ANSWERS,
        description="The city's answers to common questions (`answers.yaml`), sent when a "
        "message that is not a report matches one confidently. Default: the shipped example; "
        "without that file, no automatic answers. A file named here must exist.",
    )
    templates: Path = Field(
        default=SHIPPED_TEMPLATES,
        description="Directory of reply templates. A file here overrides the shipped one of the "
        "same name; messages it lacks fall back to the shipped `templates/`.",
    )
    media_dir: Path = Field(
        default_factory=default_media_dir,
        description="Where `cases resolve --photo` and `broadcast send --media` copy the photo "
        "for the service to post: a folder the commands can write and the service can read. "
        "Default: `media/` under `$STATE_DIRECTORY` (systemd) or the XDG data dir.",
    )
    poll_seconds: int = Field(
        default=60, ge=5, description="How often `socialbot run` polls for new mentions."
    )
    send_seconds: int = Field(
        default=10, ge=1, description="How often `socialbot run` posts queued replies."
    )
    recover_after_seconds: int = Field(
        default=120,
        ge=1,
        description="A reply a crash left half-sent (claimed, maybe posted) is checked against "
        "the account's recent posts, then marked sent or queued again, once it has been waiting "
        "this long; a younger one may still be in flight in another process. Keep it well above "
        "X's 30-second read timeout; the crash tests set it low to recover at once.",
    )
    retry_seconds: int = Field(
        default=30,
        ge=1,
        le=3600,
        description="The wait before a reply's first retry after a failed post or a crash in "
        "mid-send; each later retry waits 1.5 times longer (jittered, at most an hour). A crash "
        "that repeats at every send then restarts no faster than this; the crash tests set it "
        "low.",
    )
    city_bounds: str | None = Field(
        default=None,
        description="`west,south,east,north` in degrees, or a GeoJSON (Multi)Polygon file. "
        "Reports located outside get a polite reply and no case. Unset: no bounds check.",
    )
    max_place_diagonal_m: float = Field(
        default=1000.0,
        gt=0,
        description="A tagged place is used as the location only when its bounding box's "
        "diagonal is at most this many metres (a whole-city place is no location for a pothole).",
    )
    daily_case_limit: int = Field(
        default=10,
        ge=1,
        description="Most new cases one account may open in 24 hours. The first report over it "
        "gets one polite reply; later ones are recorded in silence.",
    )
    ignore_accounts: str = Field(
        default="",
        description="Comma-separated handles never answered and never filed: other bots, the "
        "city's own other accounts (replies between bots can loop).",
    )
    backfill_hours: float = Field(
        default=24.0,
        ge=0,
        description="On an account's very first poll (no cursor yet), mentions older than this "
        "are recorded but neither filed nor answered, so a new install does not reply to "
        "last month's posts.",
    )
    case_url: str | None = Field(
        default=None,
        description="Optional link in the replies about a case, on every network (X included, "
        "which charges a post with a URL about 13 times a plain one), with `{case}` replaced by "
        "the case number, e.g. `https://311.example.gov/cases/{case}`. Unset: the status page "
        "under `WEB_PUBLIC_URL` on the networks `WEB_CASE_LINKS` picks, else no URL.",
    )
    notify_on: str = Field(
        default="resolved,closed",
        description="Status changes made by staff that send the resident a reply in their thread, "
        "comma-separated: any of acknowledged, in_progress, resolved, closed.",
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    districts: Path | None = Field(
        default=None,
        description="GeoJSON file of the city's districts or neighborhoods (Polygon or "
        "MultiPolygon features with a `name` property, optionally `department_overrides`): each "
        "located case is stored with its district and routed by it. Unset: no districts.",
    )
    duplicate_radius_m: float = Field(
        default=50.0,
        ge=0,
        le=MAX_RADIUS_M,
        description="A new report of the same category this close to an open case is linked to "
        "it instead of opening a new one (a category's `duplicate_radius_m` in the catalog wins; "
        "0 never merges).",
    )
    duplicate_days: int = Field(
        default=30,
        ge=1,
        description="Only open cases opened in the last this many days take duplicates.",
    )
    holidays_country: str = Field(
        default="US",
        description="ISO country code whose public holidays business-day SLAs skip.",
    )
    holidays_subdivision: str | None = Field(
        default=None,
        description="State or province code for its own holidays too, e.g. `MA` (Patriots' Day).",
    )
    accounts: dict[str, NamedAccount] = Field(
        default_factory=dict,
        description="Further accounts by name, each on one network with its own credentials: in "
        "TOML `[accounts.notify]` with `network` (`x`, the default, `mastodon` or `bluesky`), "
        "then on X `x_access_token`, `x_access_token_secret` (and optionally `x_consumer_key`, "
        "`x_consumer_secret`, `x_user_id`), on Mastodon `mastodon_access_token` (and optionally "
        "`mastodon_api_base_url`, `mastodon_user_id`), on Bluesky `bluesky_handle`, "
        "`bluesky_app_password` (and optionally `bluesky_service`, `bluesky_user_id`); in the "
        "environment `SOCIALBOT_ACCOUNTS__NOTIFY__NETWORK`, "
        "`SOCIALBOT_ACCOUNTS__NOTIFY__X_ACCESS_TOKEN` and so on. The top-level `SOCIALBOT_X_*`, "
        "`SOCIALBOT_MASTODON_*` and `SOCIALBOT_BLUESKY_*` credentials are the account named "
        "`intake` on each network.",
    )
    broadcast_account: str = Field(
        default="notify",
        description="The account(s) `broadcast send` posts from unless `--account` says "
        "otherwise, comma-separated: each on every network it is configured on (`intake` is on "
        "each), e.g. `notify,mastodon_notify`. A town with one account a network sets `intake`.",
    )
    timezone: str = Field(
        default="UTC",
        description="The city's IANA time zone, e.g. `America/New_York`: `broadcast send --at` "
        "and `--cron` times are read in it, and shown in it.",
    )
    city_name: str = Field(
        default="City 311",
        min_length=1,
        max_length=40,
        description="The city's name as its texts say it: the SMS answer to HELP (`Boston 311: "
        "text us a problem…`), the confirmation of START and of ALERTS. Counted in the length "
        "check of those replies at start-up.",
    )
    broadcast_grace_minutes: float = Field(
        default=15.0,
        ge=0,
        description="A scheduled broadcast that could not go out at its time (service down, X "
        "unavailable) is still posted up to this many minutes late; after that it is marked "
        "missed (or failed) and never posted.",
    )

    log_format: LogFormat = Field(
        default=LogFormat.TEXT,
        description="`text`: one line per event, `key=value` fields (journald adds the time). "
        "`json`: one JSON object per line, the same fields as keys. `--log-format` overrides it.",
    )
    monthly_budget: float | None = Field(
        default=None,
        gt=0,
        description="US dollars a month the X API may cost (estimated with the `PRICE_*` "
        "settings, `socialbot usage`). Unset: no cap. Near it, help, status and other replies "
        "not about a filed case are held; case replies and broadcasts go on.",
    )
    budget_reserve_percent: float = Field(
        default=10.0,
        ge=0,
        lt=100,
        description="Share of `MONTHLY_BUDGET` kept for case replies and broadcasts: "
        "non-essential replies are held once the month's spend reaches the rest.",
    )
    price_post_read: float = Field(
        default=0.005, ge=0, description="US dollars X bills per post read (mentions, timeline)."
    )
    price_user_read: float = Field(
        default=0.010, ge=0, description="US dollars X bills per user read (`users/me`)."
    )
    price_post_create: float = Field(
        default=0.015, ge=0, description="US dollars X bills per post created."
    )
    price_post_create_url: float = Field(
        default=0.200,
        ge=0,
        description="US dollars X bills per post created with a link in its text (a reply with "
        "`CASE_URL`, a broadcast with a link).",
    )
    price_media_upload: float = Field(
        default=0.0, ge=0, description="US dollars X bills per photo uploaded."
    )

    open311_endpoint: str | None = Field(
        default=None,
        description="The base URL of the city's Open311 GeoReport v2 endpoint, e.g. "
        "`https://311.example.gov/open311/v2` (https; http only for localhost or 127.0.0.1): "
        "each located case of a category with an `open311_service_code` is sent there as a "
        "request, and its status read back. Unset: nothing is forwarded.",
    )
    open311_api_key: SecretStr | None = Field(
        default=None,
        description="The API key the endpoint gave the city for posting requests (sent as the "
        "`api_key` form field). Unset: requests are posted without one (a test endpoint).",
    )
    open311_jurisdiction_id: str | None = Field(
        default=None,
        description="The `jurisdiction_id` an endpoint serving several cities asks for, e.g. "
        "`city.example.gov`. Unset: not sent.",
    )
    open311_format: Literal["json", "xml"] = Field(
        default="json",
        description="What the endpoint speaks: `json` or `xml` (many, FixMyStreet's among them, "
        "speak XML only).",
    )
    open311_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=300,
        description="Longest wait for one answer of the endpoint; a slower one is retried later "
        "as an outage.",
    )
    open311_send_handle: bool = Field(
        default=False,
        description="Also send the resident's handle (as posted, e.g. `@maria`) with each "
        "request. Off: the CRM never learns who posted; the case number in every description "
        "leads staff back to the case.",
    )
    open311_sync_minutes: float = Field(
        default=5.0,
        ge=1,
        description="How often `socialbot run` reads the forwarded cases' status back from the "
        "endpoint (new cases are sent at `SEND_SECONDS`).",
    )
    open311_updates: bool = Field(
        default=False,
        description="The endpoint offers FixMyStreet's `servicerequestupdates` extension: each "
        "sync fetches only what changed since the last one, not every forwarded case's state.",
    )

    geocoder: Literal["none", "nominatim", "arcgis"] = Field(
        default="none",
        description='What finds the point of an address in words ("123 Main St", "Main and '
        "5th\") a resident wrote: `nominatim` (OpenStreetMap's Nominatim: the public server, "
        "or the city's own at `GEOCODER_URL`), `arcgis` (the city's own ArcGIS locator at "
        "`GEOCODER_URL`), or `none`: the address is kept on the case, and sent to Open311 as "
        "`address_string`, without a point.",
    )
    geocoder_url: str | None = Field(
        default=None,
        description="The geocoder's address: a Nominatim server's base URL (unset: the public "
        "`https://nominatim.openstreetmap.org`), or the ArcGIS locator's `…/GeocodeServer` "
        "(required for `arcgis`), e.g. "
        "`https://gis.example.gov/arcgis/rest/services/Locators/City/GeocodeServer`.",
    )
    geocoder_user_agent: str | None = Field(
        default=None,
        description="The User-Agent every geocoder request carries, naming the city and a "
        "contact, e.g. `socialbot (311@example.gov)`: required for `nominatim`, whose usage "
        "policy refuses anonymous clients.",
    )
    geocoder_region: str | None = Field(
        default=None,
        description='Added to every address asked, e.g. `Boston, MA`: a resident writes "123 '
        'Main St", not the city. The search is also kept within `CITY_BOUNDS` when set, and '
        "a point outside them is no answer.",
    )
    geocoder_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Longest wait for one geocoder answer; slower is an outage (the report is "
        "filed by its address alone, and the geocoder is left alone for a minute).",
    )
    geocoder_requests_per_second: float = Field(
        default=1.0,
        gt=0,
        le=100,
        description="At most this many geocoder requests a second (Nominatim's public server "
        "allows 1; a city's own server or locator may allow more).",
    )
    geocoder_max_per_poll: int = Field(
        default=10,
        ge=0,
        le=1000,
        description="At most this many distinct addresses geocoded a poll (each costs up to a "
        "second and holds the page's replies); more are filed by their address alone.",
    )

    web_public_url: str | None = Field(
        default=None,
        description="The address residents reach the web service (`socialbot serve`) at, behind "
        "the city's reverse proxy, e.g. `https://311.example.gov` (https; http only for "
        "localhost or 127.0.0.1). Replies link each case's status page under it (see "
        "`WEB_CASE_LINKS`). Unset: no reply carries a link, unless `CASE_URL` gives one.",
    )
    web_host: str = Field(
        default="127.0.0.1",
        description="The address `socialbot serve` listens on: loopback, behind a reverse proxy "
        "(`--host` overrides it).",
    )
    web_port: int = Field(
        default=8311, ge=1, le=65535, description="The port `socialbot serve` listens on."
    )
    web_trusted_proxies: str = Field(
        default="127.0.0.1,::1",
        description="Comma-separated addresses or networks (CIDR) of the reverse proxies whose "
        "`X-Forwarded-For` and `X-Forwarded-Proto` are believed; from anyone else they are "
        "ignored, so no client can claim an address it does not have.",
    )
    web_metrics_allow: str = Field(
        default="127.0.0.1,::1",
        description="Comma-separated addresses or networks (CIDR) that may read `/metrics` "
        "(the monitor's): everyone else gets 403.",
    )
    web_public_descriptions: bool = Field(
        default=False,
        description="The Open311 answers' `description` also carries what the resident wrote, "
        "when it was posted publicly. Off: the category's name alone. A direct message's words "
        "are never shown.",
    )
    web_case_links: Literal["free", "all", "none"] = Field(
        default="free",
        description="Which networks' replies link the case's status page (with `WEB_PUBLIC_URL` "
        "set): `free`, those where a link costs nothing (not X, which bills a post with a link "
        "about 13 times a plain one); `all`; `none`.",
    )
    web_stale_minutes: float = Field(
        default=10.0,
        gt=0,
        description="`/healthz` reports the bot unhealthy (503) once a network's poll has not "
        "succeeded for this long, or a due reply has waited this long unsent.",
    )

    twilio_account_sid: str | None = Field(
        default=None,
        description="The city's Twilio account SID (`AC…`, the console's Account Info). With "
        "`TWILIO_AUTH_TOKEN` and `TWILIO_FROM` it makes SMS a channel `socialbot run` reads and "
        "answers; the web service's webhook needs only the auth token.",
    )
    twilio_auth_token: SecretStr | None = Field(
        default=None,
        description="The Twilio account's auth token: the web service checks every inbound "
        "text's `X-Twilio-Signature` with it (`POST /sms/twilio` under `WEB_PUBLIC_URL`, which "
        "it then needs). Unset: the webhook refuses every request. A secret: masked in every "
        "log line.",
    )
    twilio_from: str | None = Field(
        default=None,
        description="The number texts are sent from, in E.164 (`+16175550100`), or a "
        "Messaging Service SID (`MG…`): SMS's account id. Set with `TWILIO_ACCOUNT_SID` and "
        "`TWILIO_AUTH_TOKEN`; one of the three without the others stops `socialbot run` with "
        "a line naming what is missing.",
    )
    twilio_segments_per_second: float = Field(
        default=1.0,
        gt=0,
        le=1000,
        description="How many SMS segments a second the sending number may send: about 1 for a "
        "long code (the default), more for toll-free, 10DLC or short codes as Twilio or the "
        "carrier granted. Outbound texts are paced to it, and an alert's preview says how long "
        "its whole send takes at it.",
    )
    twilio_price_per_segment: float = Field(
        default=0.0083,
        ge=0,
        description="What one outbound SMS segment costs, in US dollars (Twilio's US list price "
        "without carrier fees by default): `usage` prices each text by its segments with it.",
    )

    @field_validator("database_url")
    @classmethod
    def _database_url_parses(cls, value: str) -> str:
        # Every command parses it (to connect, to mask its password in logs): a URL that does not
        # parse is this one line, not a ValueError from deep inside. Never echoed: it may hold a
        # password.
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value)
        except (ArgumentError, ValueError):
            raise ValueError(
                "not a database URL (is the port a number?); expected e.g. "
                "sqlite:////var/lib/socialbot/socialbot.db or "
                "postgresql+psycopg://user@host:5432/db"
            ) from None
        return value

    @field_validator("case_url")
    @classmethod
    def _case_url_has_placeholder(cls, value: str | None) -> str | None:
        if value is not None and "{case}" not in value:
            raise ValueError("must contain {case}, where the case number goes")
        return value

    @field_validator("notify_on")
    @classmethod
    def _known_statuses(cls, value: str) -> str:
        names = [n.strip() for n in value.split(",") if n.strip()]
        unknown = [n for n in names if n not in NOTIFIABLE]
        if unknown:
            raise ValueError(f"unknown status {unknown[0]!r}; use any of {', '.join(NOTIFIABLE)}")
        return ",".join(names)

    @field_validator("mastodon_api_base_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        return None if value is None else check_api_base_url(value)

    @field_validator("geocoder_url")
    @classmethod
    def _geocoder_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return check_server_url(
            value,
            "https://gis.example.gov/arcgis/rest/services/Locators/City/GeocodeServer",
            "geocoder",
            ("addresses residents wrote", "GEOCODER_URL"),
        )

    @field_validator("geocoder_user_agent", "geocoder_region")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and (not value.isprintable() or not value.strip()):
            raise ValueError("must be one line of printable text")
        return value.strip() if value is not None else None

    @field_validator("open311_endpoint")
    @classmethod
    def _open311_endpoint(cls, value: str | None) -> str | None:
        return None if value is None else check_open311_endpoint(value)

    @field_validator("web_public_url")
    @classmethod
    def _web_public_url(cls, value: str | None) -> str | None:
        return None if value is None else check_web_public_url(value)

    @field_validator("twilio_account_sid")
    @classmethod
    def _twilio_account_sid(cls, value: str | None) -> str | None:
        return None if value is None else check_account_sid(value)

    @field_validator("twilio_auth_token")
    @classmethod
    def _twilio_auth_token(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None else SecretStr(check_auth_token(value.get_secret_value()))

    @field_validator("twilio_from")
    @classmethod
    def _twilio_from(cls, value: str | None) -> str | None:
        return None if value is None else check_sender(value)

    @field_validator("web_trusted_proxies", "web_metrics_allow")
    @classmethod
    def _addresses(cls, value: str) -> str:
        return ",".join(str(network) for network in parse_networks(value))

    @field_validator("open311_jurisdiction_id")
    @classmethod
    def _jurisdiction(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value or not value.isprintable():
            raise ValueError("empty or holds control characters; e.g. city.example.gov")
        return value

    @field_validator("bluesky_service")
    @classmethod
    def _service(cls, value: str) -> str:
        return check_service_url(value)

    @field_validator("bluesky_handle")
    @classmethod
    def _handle(cls, value: str | None) -> str | None:
        return None if value is None else check_handle(value)

    @field_validator("bluesky_user_id")
    @classmethod
    def _did(cls, value: str | None) -> str | None:
        return None if value is None else check_did(value)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError("not an IANA time zone name such as America/New_York") from None
        return value

    @field_validator("accounts")
    @classmethod
    def _names(cls, value: dict[str, NamedAccount]) -> dict[str, NamedAccount]:
        for name in value:
            if name == INTAKE_ACCOUNT:
                raise ValueError(
                    "`intake` is the account of the top-level SOCIALBOT_X_*, "
                    "SOCIALBOT_MASTODON_* and SOCIALBOT_BLUESKY_* credentials; give further "
                    "accounts other names"
                )
            if not name.isidentifier() or name != name.lower():
                raise ValueError(f"account name {name!r}: use lower-case letters, digits and _")
        return value

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def prices(self) -> Prices:
        return Prices(
            post_read=self.price_post_read,
            user_read=self.price_user_read,
            post_create=self.price_post_create,
            post_create_url=self.price_post_create_url,
            media_upload=self.price_media_upload,
            sms_segment=self.twilio_price_per_segment,
        )

    @property
    def account_names(self) -> tuple[str, ...]:
        """Every account name socialbot may act as: `intake`, then the named ones."""
        return (INTAKE_ACCOUNT, *sorted(self.accounts))

    @property
    def broadcast_accounts(self) -> tuple[str, ...]:
        """`broadcast_account` as the names it lists, in order, each once."""
        names = (name.strip() for name in self.broadcast_account.split(","))
        return tuple(dict.fromkeys(name for name in names if name))

    @property
    def networks(self) -> tuple[str, ...]:
        """The networks whose intake credentials are complete, X first: the ones to poll."""
        complete = {
            "x": self.has_x_credentials,
            "mastodon": self.has_mastodon_credentials,
            "bluesky": self.has_bluesky_credentials,
        }
        sms = (SMS,) if self.has_twilio_credentials else ()
        return (*(network for network in NETWORKS if complete[network]), *sms)

    @property
    def channels(self) -> tuple[Channel, ...]:
        """Every (network, account) socialbot may act as: the intake account on each of
        `networks`, then each named account on its network, by name. A named account is listed
        as configured; `credentials` says what it still lacks (X app keys, say)."""
        return (
            *(Channel(network, INTAKE_ACCOUNT) for network in self.networks),
            *(Channel(self.accounts[name].network, name) for name in sorted(self.accounts)),
        )

    def require_networks(self) -> tuple[str, ...]:
        """`networks`, or a ConfigError saying both ways to configure one when there is none."""
        if not self.networks:
            raise ConfigError(
                "no network configured: set SOCIALBOT_X_CONSUMER_KEY, "
                "SOCIALBOT_X_CONSUMER_SECRET, SOCIALBOT_X_ACCESS_TOKEN and "
                "SOCIALBOT_X_ACCESS_TOKEN_SECRET (`[x]` in the config file) for X, or "
                "SOCIALBOT_MASTODON_API_BASE_URL and SOCIALBOT_MASTODON_ACCESS_TOKEN "
                "(`[mastodon]`) for Mastodon, or SOCIALBOT_BLUESKY_HANDLE and "
                "SOCIALBOT_BLUESKY_APP_PASSWORD (`[bluesky]`) for Bluesky, or "
                "SOCIALBOT_TWILIO_ACCOUNT_SID, SOCIALBOT_TWILIO_AUTH_TOKEN and "
                "SOCIALBOT_TWILIO_FROM (`[sms]`) for SMS (try `socialbot demo` to see it work "
                "without them)"
            )
        return self.networks

    def network_of(self, account: str) -> str:
        """The network a named account is on. `intake` is on every network of `networks`: ask
        `channels` for it."""
        if account == INTAKE_ACCOUNT:
            raise ConfigError(
                f"`{INTAKE_ACCOUNT}` is the account of every configured network "
                f"({', '.join(self.networks) or 'none yet'}): name the network too"
            )
        return self._named(account, "x").network

    def _named(self, account: str, network: str) -> NamedAccount:
        named = self.accounts.get(account)
        if named is None:
            known = ", ".join(self.account_names)
            token = {"mastodon": "mastodon_access_token", "bluesky": "bluesky_app_password"}.get(
                network, "x_access_token"
            )
            raise ConfigError(
                f"account {account!r} is not configured (accounts: {known}); add "
                f"{account_env_name(account, token)} and the rest of its credentials, or "
                f"`[accounts.{account}]` in the config file"
            )
        return named

    @overload
    def credentials(self, account: str, network: Literal["x"] = "x") -> AccountCredentials: ...

    @overload
    def credentials(self, account: str, network: Literal["mastodon"]) -> MastodonCredentials: ...

    @overload
    def credentials(self, account: str, network: Literal["bluesky"]) -> BlueskyCredentials: ...

    def credentials(
        self, account: str, network: Network = "x"
    ) -> AccountCredentials | MastodonCredentials | BlueskyCredentials:
        """The credentials to act as `account` on `network`; a ConfigError naming what is
        missing. On Mastodon, the same as `mastodon_credentials`; on Bluesky, as
        `bluesky_credentials`."""
        if network == "mastodon":
            return self.mastodon_credentials(account)
        if network == "bluesky":
            return self.bluesky_credentials(account)
        extra = None if account == INTAKE_ACCOUNT else self._named(account, "x")
        if extra is not None and extra.network != "x":
            raise ConfigError(_on_another_network(account, extra.network, "x"))
        values = {
            "SOCIALBOT_X_CONSUMER_KEY": (extra and extra.x_consumer_key) or self.x_consumer_key,
            "SOCIALBOT_X_CONSUMER_SECRET": (extra and extra.x_consumer_secret)
            or self.x_consumer_secret,
            account_env_name(account, "x_access_token"): extra.x_access_token
            if extra
            else self.x_access_token,
            account_env_name(account, "x_access_token_secret"): extra.x_access_token_secret
            if extra
            else self.x_access_token_secret,
        }
        missing = [name for name, value in values.items() if value is None]
        if missing:
            raise ConfigError(
                f"{', '.join(missing)}: not set; X credentials are needed to poll and post "
                "(try `socialbot demo` to see it work without them)"
            )
        key, key_secret, token, token_secret = (
            value.get_secret_value() for value in values.values() if value is not None
        )
        return AccountCredentials(
            name=account,
            consumer_key=key,
            consumer_secret=key_secret,
            access_token=token,
            access_token_secret=token_secret,
            user_id=extra.x_user_id if extra else self.x_user_id,
        )

    def mastodon_credentials(self, account: str) -> MastodonCredentials:
        """The credentials to act as `account` on Mastodon; a ConfigError naming what is
        missing. A named account without its own instance is on the intake's."""
        extra = None if account == INTAKE_ACCOUNT else self._named(account, "mastodon")
        if extra is not None and extra.network != "mastodon":
            raise ConfigError(_on_another_network(account, extra.network, "mastodon"))
        base_url = (extra and extra.mastodon_api_base_url) or self.mastodon_api_base_url
        token = extra.mastodon_access_token if extra else self.mastodon_access_token
        missing = []
        if base_url is None:
            own = account_env_name(account, "mastodon_api_base_url")
            missing.append(own if extra is None else f"{own} (or SOCIALBOT_MASTODON_API_BASE_URL)")
        if token is None:
            missing.append(account_env_name(account, "mastodon_access_token"))
        if base_url is None or token is None:
            raise ConfigError(
                f"{', '.join(missing)}: not set; Mastodon credentials are needed to poll and post "
                "there (try `socialbot demo` to see it work without them)"
            )
        return MastodonCredentials(
            api_base_url=base_url,
            access_token=token.get_secret_value(),
            user_id=extra.mastodon_user_id if extra else self.mastodon_user_id,
            account=account,
        )

    def bluesky_credentials(self, account: str) -> BlueskyCredentials:
        """The credentials to sign in as `account` on Bluesky; a ConfigError naming what is
        missing. A named account without its own PDS is on the intake's."""
        extra = None if account == INTAKE_ACCOUNT else self._named(account, "bluesky")
        if extra is not None and extra.network != "bluesky":
            raise ConfigError(_on_another_network(account, extra.network, "bluesky"))
        handle = extra.bluesky_handle if extra else self.bluesky_handle
        password = extra.bluesky_app_password if extra else self.bluesky_app_password
        missing = [
            account_env_name(account, name)
            for name, value in (("bluesky_handle", handle), ("bluesky_app_password", password))
            if value is None
        ]
        if handle is None or password is None:
            raise ConfigError(
                f"{', '.join(missing)}: not set; Bluesky credentials are needed to poll and post "
                "there (try `socialbot demo` to see it work without them)"
            )
        return BlueskyCredentials(
            handle=handle,
            app_password=password.get_secret_value(),
            service=(extra and extra.bluesky_service) or self.bluesky_service,
            user_id=extra.bluesky_user_id if extra else self.bluesky_user_id,
            account=account,
        )

    def twilio_credentials(self, account: str = INTAKE_ACCOUNT) -> TwilioSettings:
        """What texting through Twilio needs; a ConfigError naming what is missing. SMS has one
        account, `intake`: a text answers a number from our number (or Messaging Service)."""
        if account != INTAKE_ACCOUNT:
            named = self.accounts.get(account)
            on = f" (it is on {named.network})" if named is not None else ""
            raise ConfigError(
                f"account {account!r}: SMS has no named accounts{on}; it texts from "
                f"SOCIALBOT_TWILIO_FROM as `{INTAKE_ACCOUNT}`"
            )
        sid, token, sender = self.twilio_account_sid, self.twilio_auth_token, self.twilio_from
        if sid is None or token is None or sender is None:
            values = (sid, token, sender)
            missing = [name for name, v in zip(TWILIO_SETTINGS, values, strict=True) if v is None]
            raise ConfigError(
                f"{', '.join(missing)}: not set; SMS needs all three of "
                f"{', '.join(TWILIO_SETTINGS)} (`[sms]` in the config file) to read texts and "
                "answer them"
            )
        return TwilioSettings(sid, token.get_secret_value(), sender)

    @property
    def has_twilio_credentials(self) -> bool:
        """The Twilio account, its auth token and our sender are all set."""
        return None not in (self.twilio_account_sid, self.twilio_auth_token, self.twilio_from)

    @property
    def ignored_handles(self) -> frozenset[str]:
        return frozenset(
            h.strip().lstrip("@").lower() for h in self.ignore_accounts.split(",") if h.strip()
        )

    @property
    def notify_statuses(self) -> frozenset[CaseStatus]:
        return frozenset(CaseStatus(n) for n in self.notify_on.split(",") if n)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR")
        return level

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        credentials = os.environ.get(CREDENTIALS_DIRECTORY)
        if credentials:
            # Same names as the environment, lower case, one file each; the environment wins.
            sources.append(
                NestedSecretsSettingsSource(
                    file_secret_settings, secrets_dir=credentials, secrets_dir_missing="error"
                )
            )
        sources.append(_TomlWithTables(settings_cls))
        return tuple(sources)

    @property
    def has_mastodon_credentials(self) -> bool:
        """The intake account's instance and token are both set."""
        return self.mastodon_api_base_url is not None and self.mastodon_access_token is not None

    @property
    def has_bluesky_credentials(self) -> bool:
        """The intake account's handle and app password are both set."""
        return self.bluesky_handle is not None and self.bluesky_app_password is not None

    @property
    def forwards_to_open311(self) -> bool:
        """An Open311 endpoint is set: cases are sent to the city's CRM and read back."""
        return self.open311_endpoint is not None

    @property
    def has_x_credentials(self) -> bool:
        return all(
            s is not None
            for s in (
                self.x_consumer_key,
                self.x_consumer_secret,
                self.x_access_token,
                self.x_access_token_secret,
            )
        )


class _TomlWithTables(TomlConfigSettingsSource):
    """The TOML file, with `[x]`, `[mastodon]`, `[bluesky]`, `[open311]`, `[web]` and `[sms]`
    read as the flat settings they group."""

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        return fold_tables(
            super()._read_file(file_path), str(file_path), FILE_TABLES, TABLE_PREFIXES
        )


def check_open311_endpoint(value: str) -> str:
    """`value` as the Open311 endpoint's base URL, without a trailing slash (the client adds
    `services.json` and the rest); a ValueError saying what is wrong with it."""
    return check_server_url(
        value, "https://311.example.gov/open311/v2", "endpoint", ("API key", "OPEN311_API_KEY")
    )


def check_web_public_url(value: str) -> str:
    """`value` as the web service's public address, without a trailing slash; a ValueError
    saying what is wrong with it."""
    return check_server_url(
        value, "https://311.example.gov", "web service", ("status page", "WEB_PUBLIC_URL")
    )


def parse_networks(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """`127.0.0.1,::1,10.0.0.0/8` as networks (an address is a network of one); a ValueError
    naming the first that is neither."""
    networks = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(
                f"{part!r} is not an address or network; e.g. 127.0.0.1,::1,10.0.0.0/8"
            ) from None
    return tuple(networks)


def _on_another_network(account: str, network: str, asked: str) -> str:
    return (
        f"account {account!r} is on {network} ({account_env_name(account, 'network')}), not on "
        f"{asked}"
    )


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def account_env_name(account: str, field: str) -> str:
    """The variable of `account`'s `field`: SOCIALBOT_X_USER_ID for the intake account,
    SOCIALBOT_ACCOUNTS__NOTIFY__X_USER_ID for the one named notify."""
    if account == INTAKE_ACCOUNT:
        return env_name(field)
    return NESTED.join((env_name("accounts"), account.upper(), field.upper()))


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Read and validate every setting once; any problem is one ConfigError naming the setting."""
    if config_file is None and os.environ.get(ENV_PREFIX + "CONFIG"):
        config_file = Path(os.environ[ENV_PREFIX + "CONFIG"])
    _check_env_names()
    _check_credential_names()
    settings_cls: type[Settings] = Settings
    if config_file is not None:
        _check_toml(config_file)

        class _WithFile(Settings):
            model_config = SettingsConfigDict(toml_file=config_file)

        settings_cls = _WithFile
    try:
        return settings_cls(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, config_file)) from None


# Variables with our prefix that are not settings: the config file's path and test knobs
# (FAILPOINTS: socialbot/failpoints.py, for the crash suite).
_NOT_SETTINGS = {"CONFIG", "FAILPOINTS"}
_NOT_SETTINGS_PREFIXES = ("TEST_",)


def _check_credential_names() -> None:
    """A misspelt credential file would otherwise be ignored silently, like a variable."""
    directory = os.environ.get(CREDENTIALS_DIRECTORY)
    if not directory:
        return
    try:
        names = sorted(p.name for p in Path(directory).iterdir() if not p.name.startswith("."))
    except OSError as exc:
        raise ConfigError(f"${CREDENTIALS_DIRECTORY} {directory}: {exc.strerror}") from None
    for name in names:
        if not name.upper().startswith(ENV_PREFIX):
            raise ConfigError(
                f"credential {name!r} in {directory}: not a setting; a credential is named like "
                f"its variable, in lower case, e.g. {ENV_PREFIX.lower()}x_access_token"
            )
        try:
            _check_env_names([name.upper()])
        except ConfigError as exc:
            raise ConfigError(f"credential {name!r} in {directory}: {exc}") from None


def _check_env_names(names: Iterable[str] | None = None) -> None:
    """A misspelt variable would otherwise be ignored silently and its default used."""
    known = {env_name(name) for name in Settings.model_fields}
    nested = {env_name(name) + NESTED for name in Settings.model_fields}
    account_fields = {f.upper() for f in NamedAccount.model_fields}
    for name in sorted(os.environ if names is None else names):
        if not name.startswith(ENV_PREFIX) or name in known:
            continue
        if name.startswith(tuple(nested)):
            _check_account_env_name(name, account_fields)
            continue
        rest = name.removeprefix(ENV_PREFIX)
        if rest in _NOT_SETTINGS or rest.startswith(_NOT_SETTINGS_PREFIXES):
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]}?" if close else "; see README 'Settings' for the list"
        raise ConfigError(f"{name}: unknown setting{hint}")


def _check_account_env_name(name: str, fields: set[str]) -> None:
    parts = name.split(NESTED)
    if parts[0] != env_name("accounts") or len(parts) != 3 or not parts[1]:
        raise ConfigError(
            f"{name}: unknown setting; a named account's setting reads "
            f"SOCIALBOT_ACCOUNTS{NESTED}<NAME>{NESTED}<FIELD>, e.g. "
            f"SOCIALBOT_ACCOUNTS{NESTED}NOTIFY{NESTED}X_ACCESS_TOKEN"
        )
    if parts[2] not in fields:
        close = difflib.get_close_matches(parts[2], fields, n=1)
        hint = (
            f"; did you mean {close[0]}?" if close else f"; use one of {', '.join(sorted(fields))}"
        )
        raise ConfigError(f"{name}: unknown account field{hint}")


def _check_toml(path: Path) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


# `[open311] endpoint` is `open311_endpoint`. Open311 is no network (no account, no channel), but
# its settings are grouped in the file the same way.
OPEN311_KEYS = (
    "endpoint",
    "api_key",
    "jurisdiction_id",
    "format",
    "timeout_seconds",
    "send_handle",
    "sync_minutes",
    "updates",
)
# `[web] public_url` is `web_public_url`: the web service's settings (`socialbot serve`).
WEB_KEYS = (
    "public_url",
    "host",
    "port",
    "trusted_proxies",
    "metrics_allow",
    "public_descriptions",
    "case_links",
    "stale_minutes",
)
# `[sms] auth_token` is `twilio_auth_token`: the table is named for the channel, the settings
# for the provider whose credentials they are (as their variables, SOCIALBOT_TWILIO_*).
SMS_KEYS = ("account_sid", "auth_token", "from", "segments_per_second", "price_per_segment")
FILE_TABLES: dict[str, tuple[str, ...]] = {
    **TABLE_KEYS,
    "open311": OPEN311_KEYS,
    "web": WEB_KEYS,
    "sms": SMS_KEYS,
}
TABLE_PREFIXES = {"sms": "twilio"}

# `[mastodon] access_token` names the setting `mastodon_access_token` in a file as well as the
# flat key does, and is how the README shows it.
_TABLE_SPELLING = {
    f"{TABLE_PREFIXES.get(table, table)}_{key}": f"[{table}] {key}"
    for table, keys in FILE_TABLES.items()
    for key in keys
}


def _describe(exc: ValidationError, config_file: Path | None) -> str:
    """The first problem, as one line naming the variable (and the file when one was read)."""
    error = exc.errors()[0]
    loc = [shown_key(str(part)) for part in error["loc"]]
    if error["type"] in ("wrong_network", "missing_for_network"):
        # A named account's check of its fields as a whole: the field it names is the setting.
        loc.append(str(error.get("ctx", {}).get("field", "?")))
    field = loc[0] if loc else "?"
    env = NESTED.join([env_name(field), *(part.upper() for part in loc[1:])])
    dotted = _TABLE_SPELLING.get(field, ".".join(loc))
    where = f"{env} (or `{dotted}` in {config_file})" if config_file else env
    if error["type"] == "extra_forbidden":
        origin = f"{config_file}" if config_file else "the settings"
        return f"{origin}: unknown setting `{'.'.join(loc)}`; see README 'Settings' for the list"
    value = error.get("input")
    shown = "" if _is_secret(field) or value is None else f" (got {value!r})"
    message = str(error["msg"]).removeprefix("Value error, ")
    more = f"; and {len(exc.errors()) - 1} more problem(s)" if len(exc.errors()) > 1 else ""
    return f"{where}: {message}{shown}{more}"


def _is_secret(field: str) -> bool:
    if field in ("accounts", "database_url"):  # hold tokens, a password
        return True
    annotation = Settings.model_fields[field].annotation if field in Settings.model_fields else None
    return annotation is not None and "SecretStr" in str(annotation)
