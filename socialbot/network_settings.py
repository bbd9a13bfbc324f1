"""Settings per network: the `[x]` and `[mastodon]` tables, the network of each named account, and
the channels (network, account) socialbot may act as.

A network's settings are flat fields of `Settings` (`x_access_token`, `mastodon_access_token`):
each then has one environment variable (SOCIALBOT_MASTODON_ACCESS_TOKEN, as today's
SOCIALBOT_X_ACCESS_TOKEN) and one credential file. The TOML file may group them in a table
(`[mastodon] access_token`); `fold_tables` turns the table into the flat keys as the file is read,
so the environment still wins over either spelling in the file.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from socialbot.errors import ConfigError

Network = Literal["x", "mastodon"]
# In the order `Settings.networks` and `Settings.channels` list them.
NETWORKS: tuple[Network, ...] = ("x", "mastodon")
LABELS: dict[str, str] = {"x": "X", "mastodon": "Mastodon"}

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
}
REQUIRED_ACCOUNT_FIELDS: dict[str, tuple[str, ...]] = {
    "x": ("x_access_token", "x_access_token_secret"),
    "mastodon": ("mastodon_access_token",),
}
# Plain http would send the token in clear; a Mastodon running on the same machine is the one
# place it cannot be read on the way (a development server, the tests' recordings).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


@dataclass(frozen=True, slots=True)
class Channel:
    """One (network, account) socialbot may act as: `Channel("mastodon", "intake")`."""

    network: str
    account: str


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
    if not value.isprintable() or any(c.isspace() for c in value):
        raise ValueError("not a URL: it holds spaces or control characters")
    try:
        parts = urlsplit(value)
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        raise ValueError("not a URL; expected e.g. https://mastodon.example") from None
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError("not an https URL; expected e.g. https://mastodon.example")
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        raise ValueError(
            "must be https (http only for localhost or 127.0.0.1), or the token would go in clear"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not hold a user or password; the token is MASTODON_ACCESS_TOKEN")
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise ValueError("must be the instance's address alone, e.g. https://mastodon.example")
    return value.rstrip("/")


def network_of_field(name: str) -> str | None:
    """The network an account field belongs to (`mastodon_user_id` → mastodon), else None."""
    for network, names in ACCOUNT_FIELDS.items():
        if name in names:
            return network
    return None


class NamedAccount(BaseModel):
    """A further account (e.g. `notify` for broadcasts) on X (the default) or on Mastodon.

    On X, unset app keys are the intake's: one X app usually acts for several city accounts, each
    with its own access token. On Mastodon, an unset `mastodon_api_base_url` is the intake's
    instance."""

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

    @field_validator("mastodon_api_base_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        return None if value is None else check_api_base_url(value)

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


def fold_tables(data: dict[str, Any], origin: str) -> dict[str, Any]:
    """`data` (a TOML file's) with `[x]` and `[mastodon]` turned into the flat keys they stand
    for; a ConfigError for a table that is not one, a key it does not take, or a setting given
    both ways."""
    folded = dict(data)
    for network, keys in TABLE_KEYS.items():
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
            flat = f"{network}_{key}"
            if flat in folded:
                raise ConfigError(
                    f"{origin}: `{flat}` and `[{network}] {key}` are the same setting, given "
                    "twice; keep one"
                )
            folded[flat] = value
    return folded
