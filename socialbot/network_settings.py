"""Settings per network: the `[x]`, `[mastodon]` and `[bluesky]` tables, the network of each named
account, and the channels (network, account) socialbot may act as.

A network's settings are flat fields of `Settings` (`x_access_token`, `mastodon_access_token`):
each then has one environment variable (SOCIALBOT_MASTODON_ACCESS_TOKEN, as today's
SOCIALBOT_X_ACCESS_TOKEN) and one credential file. The TOML file may group them in a table
(`[mastodon] access_token`); `fold_tables` turns the table into the flat keys as the file is read,
so the environment still wins over either spelling in the file.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from socialbot.errors import ConfigError

Network = Literal["x", "mastodon", "bluesky"]
# In the order `Settings.networks` and `Settings.channels` list them.
NETWORKS: tuple[Network, ...] = ("x", "mastodon", "bluesky")
LABELS: dict[str, str] = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky", "sms": "SMS"}

# What each network's table takes: `[mastodon] access_token` is the setting
# `mastodon_access_token`, SOCIALBOT_MASTODON_ACCESS_TOKEN.
TABLE_KEYS: dict[str, tuple[str, ...]] = {
    "x": (
        "consumer_key",
        "consumer_secret",
        "access_token",
        "access_token_secret",
        "user_id",
        "field_names",
    ),
    "mastodon": ("api_base_url", "access_token", "user_id", "max_characters"),
    "bluesky": ("handle", "app_password", "service", "user_id"),
}

# A named account's fields for each network, and the ones it cannot do without.
ACCOUNT_FIELDS: dict[str, tuple[str, ...]] = {
    "x": (
        "x_access_token",
        "x_access_token_secret",
        "x_consumer_key",
        "x_consumer_secret",
        "x_user_id",
    ),
    "mastodon": ("mastodon_access_token", "mastodon_api_base_url", "mastodon_user_id"),
    "bluesky": ("bluesky_handle", "bluesky_app_password", "bluesky_service", "bluesky_user_id"),
}
REQUIRED_ACCOUNT_FIELDS: dict[str, tuple[str, ...]] = {
    "x": ("x_access_token", "x_access_token_secret"),
    "mastodon": ("mastodon_access_token",),
    "bluesky": ("bluesky_handle", "bluesky_app_password"),
}
# Where a Bluesky account lives unless it says otherwise: Bluesky's own PDS entryway.
BLUESKY_SERVICE = "https://bsky.social"
# Plain http would send the token (or app password) in clear; a server running on the same
# machine is the one place it cannot be read on the way (a development server, the tests'
# recordings).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


@dataclass(frozen=True, slots=True)
class Channel:
    """One (network, account) socialbot may act as: `Channel("mastodon", "intake")`."""

    network: str
    account: str


@dataclass(frozen=True, slots=True)
class BlueskyCredentials:
    """What the Bluesky adapter needs to sign in as one account: its handle and app password on
    its PDS (`service`), and its DID when the settings give it (doctor compares the session's)."""

    handle: str
    app_password: str = field(repr=False)
    service: str
    user_id: str | None
    account: str


# SMS: one Twilio sender, the intake account alone (a text answers a number, from our number),
# listed after the networks with accounts.
SMS = "sms"
SMS_LABEL = "SMS"
TWILIO_SETTINGS = (
    "SOCIALBOT_TWILIO_ACCOUNT_SID",
    "SOCIALBOT_TWILIO_AUTH_TOKEN",
    "SOCIALBOT_TWILIO_FROM",
)


@dataclass(frozen=True, slots=True)
class TwilioSettings:
    """What the SMS adapter needs: the Twilio account, its auth token, and what we send from
    (our number in E.164 or a Messaging Service SID)."""

    account_sid: str
    auth_token: str = field(repr=False)
    sender: str = field(repr=False)  # our own number: shown masked, never in full


@dataclass(frozen=True, slots=True)
class MastodonCredentials:
    """What the Mastodon adapter needs to act as one account on one instance."""

    api_base_url: str
    access_token: str = field(repr=False)
    user_id: str | None
    account: str


def check_api_base_url(value: str) -> str:
    """`value` as the instance's address, `https://mastodon.example` without a trailing slash;
    a ValueError saying what is wrong with it (the validator adds the setting's name)."""
    return check_server_url(
        value, "https://mastodon.example", "instance", ("token", "MASTODON_ACCESS_TOKEN")
    )


def check_service_url(value: str) -> str:
    """`value` as a Bluesky account's PDS, `https://bsky.social` without a trailing slash; a
    ValueError saying what is wrong with it."""
    return check_server_url(
        value, BLUESKY_SERVICE, "server", ("app password", "BLUESKY_APP_PASSWORD")
    )


def check_server_url(value: str, example: str, server: str, secret: tuple[str, str]) -> str:
    """`value` as the address of a `server` like `example`, without a trailing slash; a
    ValueError saying what is wrong with it. `secret` is what must not go in clear, and the
    setting that holds it."""
    what, setting = secret
    if not value.isprintable() or any(c.isspace() for c in value):
        raise ValueError("not a URL: it holds spaces or control characters")
    try:
        parts = urlsplit(value)
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        raise ValueError(f"not a URL; expected e.g. {example}") from None
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError(f"not an https URL; expected e.g. {example}")
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        raise ValueError(
            f"must be https (http only for localhost or 127.0.0.1), or the {what} would go in clear"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"must not hold a user or password; the {what} is {setting}")
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise ValueError(f"must be the {server}'s address alone, e.g. {example}")
    return value.rstrip("/")


# atproto's handle syntax: a domain name of two labels or more, the last not starting with a
# digit (https://atproto.com/specs/handle).
_HANDLE = re.compile(
    r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?", re.ASCII
)
# A DID (https://atproto.com/specs/did), no longer than the 64 characters our id columns hold
# (a did:plc is 32).
_DID = re.compile(r"did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]", re.ASCII)
MAX_DID = 64


def check_handle(value: str) -> str:
    """`value` as a Bluesky handle, lower case, without a leading @ (`city.bsky.social`); a
    ValueError saying what is wrong with it."""
    handle = value.strip().removeprefix("@").lower()
    if "@" in handle:
        raise ValueError(
            "an email address signs in too, but set the account's handle (e.g. "
            "city.bsky.social): it is what doctor checks the session against"
        )
    if handle.startswith("did:"):
        raise ValueError("a DID, not a handle: set it as BLUESKY_USER_ID, and the handle here")
    if len(handle) > 253 or not _HANDLE.fullmatch(handle):
        raise ValueError("not a Bluesky handle; expected e.g. city.bsky.social (without the @)")
    return handle


def check_did(value: str) -> str:
    """`value` as a DID (`did:plc:…`); a ValueError saying what is wrong with it."""
    did = value.strip()
    if not _DID.fullmatch(did):
        raise ValueError(
            "not a DID; expected e.g. did:plc:ewvi7nxzyoun6zhxrhs64oiz (the account's id, shown "
            "by `socialbot doctor`)"
        )
    if len(did) > MAX_DID:
        raise ValueError(f"longer than the {MAX_DID} characters socialbot can store")
    return did


def network_of_field(name: str) -> str | None:
    """The network an account field belongs to (`mastodon_user_id` → mastodon), else None."""
    for network, names in ACCOUNT_FIELDS.items():
        if name in names:
            return network
    return None


class NamedAccount(BaseModel):
    """A further account (e.g. `notify` for broadcasts) on X (the default), Mastodon or Bluesky.

    On X, unset app keys are the intake's: one X app usually acts for several city accounts, each
    with its own access token. On Mastodon, an unset `mastodon_api_base_url` is the intake's
    instance; on Bluesky, an unset `bluesky_service` the intake's PDS."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    network: Network = "x"
    x_access_token: SecretStr | None = None
    x_access_token_secret: SecretStr | None = None
    x_consumer_key: SecretStr | None = None
    x_consumer_secret: SecretStr | None = None
    x_user_id: str | None = None
    mastodon_access_token: SecretStr | None = None
    mastodon_api_base_url: str | None = None
    mastodon_user_id: str | None = None
    bluesky_handle: str | None = None
    bluesky_app_password: SecretStr | None = None
    bluesky_service: str | None = None
    bluesky_user_id: str | None = None

    @field_validator("mastodon_api_base_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        return None if value is None else check_api_base_url(value)

    @field_validator("bluesky_service")
    @classmethod
    def _service(cls, value: str | None) -> str | None:
        return None if value is None else check_service_url(value)

    @field_validator("bluesky_handle")
    @classmethod
    def _handle(cls, value: str | None) -> str | None:
        return None if value is None else check_handle(value)

    @field_validator("bluesky_user_id")
    @classmethod
    def _did(cls, value: str | None) -> str | None:
        return None if value is None else check_did(value)

    @model_validator(mode="after")
    def _fields_of_its_network(self) -> Self:
        # The field goes into the error's context: `config._describe` names it with its variable.
        for name in sorted(self.model_fields_set):
            owner = network_of_field(name)
            if owner is not None and owner != self.network:
                raise PydanticCustomError(
                    "wrong_network",
                    "{label} setting, but this account is on {network} (its `network`); remove "
                    'it, or set network = "{owner}"',
                    {
                        "field": name,
                        "label": f"an {LABELS[owner]}" if owner == "x" else f"a {LABELS[owner]}",
                        "network": self.network,
                        "owner": owner,
                    },
                )
        for name in REQUIRED_ACCOUNT_FIELDS[self.network]:
            if getattr(self, name) is None:
                needed = " and ".join(REQUIRED_ACCOUNT_FIELDS[self.network])
                raise PydanticCustomError(
                    "missing_for_network",
                    "not set; an account on {network} needs {needed}",
                    {"field": name, "network": self.network, "needed": needed},
                )
        return self


def shown_key(key: str) -> str:
    """A key from a file as one printable line: as is when it can be, else quoted."""
    return key if key.isprintable() and key.strip() == key and key else repr(key)


def fold_tables(
    data: dict[str, Any],
    origin: str,
    tables: Mapping[str, tuple[str, ...]] = TABLE_KEYS,
    prefixes: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """`data` (a TOML file's) with each of `tables` (`[x]`, `[mastodon]` and `[bluesky]` unless
    told otherwise) turned into the flat keys it stands for, `<table>_<key>` or, for a table in
    `prefixes`, `<prefix>_<key>`; a ConfigError for a table that is not one, a key it does not
    take, or a setting given both ways."""
    folded = dict(data)
    for network, keys in tables.items():
        if network not in folded:
            continue
        table = folded.pop(network)
        if not isinstance(table, dict):
            raise ConfigError(
                f"{origin}: `{network}` must be a table, [{network}] with {', '.join(keys)}"
            )
        for key, value in table.items():
            if key not in keys:
                close = difflib.get_close_matches(key, keys, n=1)
                hint = f"did you mean {close[0]}?" if close else f"it takes {', '.join(keys)}"
                raise ConfigError(f"{origin}: unknown setting `{network}.{shown_key(key)}`; {hint}")
            flat = f"{(prefixes or {}).get(network, network)}_{key}"
            if flat in folded:
                raise ConfigError(
                    f"{origin}: `{flat}` and `[{network}] {key}` are the same setting, given "
                    "twice; keep one"
                )
            folded[flat] = value
    return folded
