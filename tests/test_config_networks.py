"""Settings per network: `[x]` and `[mastodon]` (or their flat keys, or SOCIALBOT_X_* and
SOCIALBOT_MASTODON_*), named accounts on either network, and the channels socialbot acts on."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialbot.config import Settings, load_settings
from socialbot.errors import ConfigError
from socialbot.network_settings import Channel, MastodonCredentials

X_TABLE = """
[x]
consumer_key = "ck-city"
consumer_secret = "cs-city"
access_token = "at-city"
access_token_secret = "ats-city"
"""
MASTODON_TABLE = """
[mastodon]
api_base_url = "https://mastodon.example/"
access_token = "mt-city"
"""
NOTIFY_ON_MASTODON = """
[accounts.notify]
network = "mastodon"
mastodon_access_token = "mt-notify"
"""
NOTIFY_ON_X = """
[accounts.notify]
x_access_token = "at-notify"
x_access_token_secret = "ats-notify"
"""


def toml_file(tmp_path: Path, *parts: str) -> Path:
    path = tmp_path / "socialbot.toml"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def load(tmp_path: Path, *parts: str) -> Settings:
    return load_settings(toml_file(tmp_path, *parts))


def error_of(tmp_path: Path, *parts: str) -> str:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, *parts)
    return str(err.value)


def test_a_city_on_x_and_mastodon_with_its_alerts_on_mastodon(tmp_path: Path) -> None:
    city = load(tmp_path, X_TABLE, MASTODON_TABLE, NOTIFY_ON_MASTODON)

    assert city.networks == ("x", "mastodon")
    assert city.channels == (
        Channel("x", "intake"),
        Channel("mastodon", "intake"),
        Channel("mastodon", "notify"),
    )
    assert city.credentials("intake").access_token == "at-city"
    assert city.credentials("intake", "mastodon") == MastodonCredentials(
        api_base_url="https://mastodon.example",  # the trailing slash dropped
        access_token="mt-city",
        user_id=None,
        account="intake",
    )
    # The notify account has no instance of its own: it is on the intake's.
    notify = city.mastodon_credentials("notify")
    assert (notify.api_base_url, notify.access_token) == ("https://mastodon.example", "mt-notify")
    assert city.network_of("notify") == "mastodon"


def test_the_flat_keys_still_work_and_mean_the_same(tmp_path: Path) -> None:
    flat = load(
        tmp_path,
        'x_consumer_key = "ck-city"\nx_consumer_secret = "cs-city"\n'
        'x_access_token = "at-city"\nx_access_token_secret = "ats-city"\nx_user_id = "42"\n'
        'mastodon_api_base_url = "https://mastodon.example"\nmastodon_access_token = "mt-city"\n'
        'mastodon_user_id = "109"\nmastodon_max_characters = 1000\n',
    )
    nested = load(
        tmp_path,
        X_TABLE + 'user_id = "42"\n',
        MASTODON_TABLE + 'user_id = "109"\nmax_characters = 1000\n',
    )
    assert flat.model_dump() == nested.model_dump()
    assert flat.x_user_id == "42" and flat.mastodon_max_characters == 1000
    assert flat.mastodon_credentials("intake").user_id == "109"


def test_mastodon_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_MASTODON_API_BASE_URL", "https://mastodon.example")
    monkeypatch.setenv("SOCIALBOT_MASTODON_ACCESS_TOKEN", "mt-city")
    monkeypatch.setenv("SOCIALBOT_MASTODON_USER_ID", "109")
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__NOTIFY__NETWORK", "mastodon")
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__NOTIFY__MASTODON_ACCESS_TOKEN", "mt-notify")
    monkeypatch.setenv(
        "SOCIALBOT_ACCOUNTS__NOTIFY__MASTODON_API_BASE_URL", "https://alerts.example"
    )

    city = load_settings()

    assert city.networks == ("mastodon",)
    assert city.channels == (Channel("mastodon", "intake"), Channel("mastodon", "notify"))
    assert city.mastodon_credentials("intake").user_id == "109"
    assert city.mastodon_credentials("notify").api_base_url == "https://alerts.example"


def test_the_environment_wins_over_either_spelling_in_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCIALBOT_X_ACCESS_TOKEN", "at-env")
    monkeypatch.setenv("SOCIALBOT_MASTODON_ACCESS_TOKEN", "mt-env")
    city = load(tmp_path, X_TABLE, MASTODON_TABLE)
    assert city.credentials("intake").access_token == "at-env"
    assert city.mastodon_credentials("intake").access_token == "mt-env"


def test_mastodon_tokens_as_systemd_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "socialbot_mastodon_access_token").write_text("mt-file\n")
    (creds / "socialbot_accounts__notify__mastodon_access_token").write_text("mt-notify\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    city = load(
        tmp_path,
        MASTODON_TABLE.replace('access_token = "mt-city"', ""),
        '[accounts.notify]\nnetwork = "mastodon"\n',
    )
    assert city.mastodon_credentials("intake").access_token == "mt-file"
    assert city.mastodon_credentials("notify").access_token == "mt-notify"


@pytest.mark.parametrize(
    ("parts", "channels"),
    [
        ((X_TABLE,), [("x", "intake")]),
        ((X_TABLE, NOTIFY_ON_X), [("x", "intake"), ("x", "notify")]),
        ((MASTODON_TABLE,), [("mastodon", "intake")]),
        ((MASTODON_TABLE, NOTIFY_ON_MASTODON), [("mastodon", "intake"), ("mastodon", "notify")]),
        (
            (X_TABLE, MASTODON_TABLE, NOTIFY_ON_X),
            [("x", "intake"), ("mastodon", "intake"), ("x", "notify")],
        ),
        (
            (
                X_TABLE,
                MASTODON_TABLE,
                NOTIFY_ON_MASTODON,
                '[accounts.alerts]\nx_access_token = "a"\nx_access_token_secret = "b"\n',
            ),
            [("x", "intake"), ("mastodon", "intake"), ("x", "alerts"), ("mastodon", "notify")],
        ),
    ],
)
def test_channels_are_the_intake_on_each_network_then_the_named_accounts_by_name(
    tmp_path: Path, parts: tuple[str, ...], channels: list[tuple[str, str]]
) -> None:
    city = load(tmp_path, *parts)
    assert city.channels == tuple(Channel(network, account) for network, account in channels)
    intake = tuple(network for network, account in channels if account == "intake")
    assert city.networks == intake
    assert city.require_networks() == intake


def test_incomplete_intake_credentials_are_no_network(tmp_path: Path) -> None:
    city = load(
        tmp_path,
        X_TABLE.replace('access_token_secret = "ats-city"', ""),
        '[mastodon]\naccess_token = "mt-city"\n',
    )
    assert city.networks == ()
    assert city.channels == ()
    with pytest.raises(ConfigError) as err:
        city.require_networks()
    message = str(err.value)
    assert message.startswith("no network configured: set SOCIALBOT_X_CONSUMER_KEY")
    assert "SOCIALBOT_MASTODON_API_BASE_URL and SOCIALBOT_MASTODON_ACCESS_TOKEN" in message
    assert "\n" not in message


def test_one_setting_given_flat_and_in_its_table_is_an_error_naming_both(tmp_path: Path) -> None:
    config = toml_file(tmp_path, 'mastodon_access_token = "a"\n', MASTODON_TABLE)
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    assert str(err.value) == (
        f"{config}: `mastodon_access_token` and `[mastodon] access_token` are the same setting, "
        "given twice; keep one"
    )
    assert "x_user_id` and `[x] user_id`" in error_of(
        tmp_path, 'x_user_id = "1"\n[x]\nuser_id = "1"'
    )


def test_an_unknown_key_in_a_network_table_is_named_with_a_suggestion(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[mastodon]\napi_base_ur = "https://mastodon.example"\n')
    assert message.endswith("unknown setting `mastodon.api_base_ur`; did you mean api_base_url?")
    message = error_of(tmp_path, '[x]\nbearer = "t"\n')
    assert message.endswith(
        "unknown setting `x.bearer`; it takes consumer_key, consumer_secret, access_token, "
        "access_token_secret, user_id, field_names"
    )
    assert error_of(tmp_path, 'mastodon = "https://mastodon.example"\n').endswith(
        "`mastodon` must be a table, [mastodon] with api_base_url, access_token, user_id, "
        "max_characters"
    )


def test_a_nested_variable_for_a_network_is_unknown_with_the_right_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOCIALBOT_MASTODON__ACCESS_TOKEN", "mt")
    with pytest.raises(ConfigError, match=r"did you mean SOCIALBOT_MASTODON_ACCESS_TOKEN\?$"):
        load_settings()


def test_a_field_of_the_other_network_is_an_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = toml_file(tmp_path, NOTIFY_ON_MASTODON, 'x_user_id = "1583"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    assert str(err.value) == (
        f"SOCIALBOT_ACCOUNTS__NOTIFY__X_USER_ID (or `accounts.notify.x_user_id` in {config}): "
        "an X setting, but this account is on mastodon (its `network`); remove it, or set "
        'network = "x"'
    )
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__ALERTS__X_ACCESS_TOKEN", "at")
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__ALERTS__X_ACCESS_TOKEN_SECRET", "ats")
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__ALERTS__MASTODON_ACCESS_TOKEN", "mt-SECRET")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value) == (
        "SOCIALBOT_ACCOUNTS__ALERTS__MASTODON_ACCESS_TOKEN: a Mastodon setting, but this account "
        'is on x (its `network`); remove it, or set network = "mastodon"'
    )


def test_an_account_without_its_networks_token_names_it(tmp_path: Path) -> None:
    assert error_of(tmp_path, '[accounts.notify]\nnetwork = "mastodon"\n').startswith(
        "SOCIALBOT_ACCOUNTS__NOTIFY__MASTODON_ACCESS_TOKEN (or "
        "`accounts.notify.mastodon_access_token` in "
    )
    assert error_of(tmp_path, '[accounts.notify]\nx_access_token = "at"\n').endswith(
        "not set; an account on x needs x_access_token and x_access_token_secret"
    )
    assert "SOCIALBOT_ACCOUNTS__NOTIFY__NETWORK" in error_of(
        tmp_path, '[accounts.notify]\nnetwork = "sms"\n'
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://mastodon.example", "must be https (http only for localhost or 127.0.0.1)"),
        ("ftp://mastodon.example", "not an https URL"),
        ("mastodon.example", "not an https URL"),
        ("https://", "not an https URL"),
        ("https://mastodon.example:port", "not a URL"),
        ("https://city:pw@mastodon.example", "must not hold a user or password"),
        ("https://mastodon.example/?x=1", "must be the instance's address alone"),
        ("https://mastodon.example /", "not a URL: it holds spaces or control characters"),
    ],
)
def test_the_instance_must_be_an_https_url(
    monkeypatch: pytest.MonkeyPatch, url: str, problem: str
) -> None:
    monkeypatch.setenv("SOCIALBOT_MASTODON_API_BASE_URL", url)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value).startswith(f"SOCIALBOT_MASTODON_API_BASE_URL: {problem}")
    assert "\n" not in str(err.value)


def test_a_named_accounts_instance_is_checked_too(tmp_path: Path) -> None:
    message = error_of(
        tmp_path, NOTIFY_ON_MASTODON, 'mastodon_api_base_url = "http://alerts.example"\n'
    )
    assert message.startswith("SOCIALBOT_ACCOUNTS__NOTIFY__MASTODON_API_BASE_URL (or ")
    assert "must be https" in message


@pytest.mark.parametrize("url", ["http://localhost:3000", "http://127.0.0.1:3000/"])
def test_plain_http_is_for_a_server_on_this_machine(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("SOCIALBOT_MASTODON_API_BASE_URL", url)
    assert load_settings().mastodon_api_base_url == url.rstrip("/")


def test_mastodon_credentials_name_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_MASTODON_ACCESS_TOKEN", "mt-city")
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__NOTIFY__NETWORK", "mastodon")
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__NOTIFY__MASTODON_ACCESS_TOKEN", "mt-notify")
    city = load_settings()

    with pytest.raises(ConfigError, match=r"^SOCIALBOT_MASTODON_API_BASE_URL: not set; Mastodon"):
        city.mastodon_credentials("intake")
    with pytest.raises(
        ConfigError,
        match=r"^SOCIALBOT_ACCOUNTS__NOTIFY__MASTODON_API_BASE_URL "
        r"\(or SOCIALBOT_MASTODON_API_BASE_URL\): not set",
    ):
        city.credentials("notify", "mastodon")

    monkeypatch.delenv("SOCIALBOT_MASTODON_ACCESS_TOKEN")
    monkeypatch.setenv("SOCIALBOT_MASTODON_API_BASE_URL", "https://mastodon.example")
    with pytest.raises(ConfigError, match=r"^SOCIALBOT_MASTODON_ACCESS_TOKEN: not set"):
        load_settings().mastodon_credentials("intake")
    assert load_settings().mastodon_credentials("notify").access_token == "mt-notify"


def test_credentials_for_the_wrong_network_or_an_unknown_account(tmp_path: Path) -> None:
    city = load(tmp_path, X_TABLE, MASTODON_TABLE, NOTIFY_ON_MASTODON)
    with pytest.raises(
        ConfigError,
        match=r"^account 'notify' is on mastodon \(SOCIALBOT_ACCOUNTS__NOTIFY__NETWORK\), "
        r"not on x$",
    ):
        city.credentials("notify")
    city = load(tmp_path, X_TABLE, MASTODON_TABLE, NOTIFY_ON_X)
    with pytest.raises(ConfigError, match=r"^account 'notify' is on x .*not on mastodon$"):
        city.mastodon_credentials("notify")
    with pytest.raises(
        ConfigError,
        match=r"^account 'alerts' is not configured \(accounts: intake, notify\); add "
        r"SOCIALBOT_ACCOUNTS__ALERTS__MASTODON_ACCESS_TOKEN",
    ):
        city.mastodon_credentials("alerts")
    with pytest.raises(ConfigError, match=r"^account 'alerts' is not configured"):
        city.network_of("alerts")
    with pytest.raises(ConfigError, match=r"every configured network \(x, mastodon\)"):
        city.network_of("intake")


def test_a_mastodon_token_is_never_shown(tmp_path: Path) -> None:
    city = load(tmp_path, MASTODON_TABLE, NOTIFY_ON_MASTODON)
    shown = repr(city) + str(city) + repr(city.mastodon_credentials("notify"))
    shown += repr(city.channels) + repr(city.mastodon_credentials("intake"))
    assert "mt-city" not in shown and "mt-notify" not in shown


def test_max_characters_is_a_sensible_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_MASTODON_MAX_CHARACTERS", "0")
    with pytest.raises(ConfigError, match=r"^SOCIALBOT_MASTODON_MAX_CHARACTERS: .*(got '0')"):
        load_settings()


def toml_string(text: str) -> str:
    """`text` as a TOML basic string: every control character escaped, as TOML requires."""
    escaped = "".join(
        f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F or c in '"\\' else c for c in text
    )
    return f'"{escaped}"'


KEYS = st.one_of(
    st.sampled_from(
        [
            "network",
            "api_base_url",
            "access_token",
            "user_id",
            "max_characters",
            "x_access_token",
            "x_access_token_secret",
            "x_user_id",
            "mastodon_access_token",
            "mastodon_api_base_url",
            "mastodon_user_id",
        ]
    ),
    st.text(min_size=1, max_size=12),
)
VALUES = st.one_of(
    st.sampled_from(["x", "mastodon", "https://mastodon.example", "http://localhost", "500"]),
    st.text(max_size=40),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    table=st.sampled_from(["mastodon", "accounts.x"]),
    values=st.dictionaries(KEYS, VALUES, max_size=5),
)
def test_any_table_of_strings_loads_or_is_one_line_naming_the_setting(
    tmp_path: Path, table: str, values: dict[str, str]
) -> None:
    lines = [f"[{table}]", *(f"{toml_string(k)} = {toml_string(v)}" for k, v in values.items())]
    config = toml_file(tmp_path, *lines)
    try:
        city = load_settings(config)
    except ConfigError as err:
        message = str(err)
        assert "\n" not in message and "\r" not in message
        assert message.isprintable(), message
        assert (
            "MASTODON" in message
            or "mastodon" in message
            or "ACCOUNTS" in message
            or ("accounts" in message)
        ), message
        return
    # What loaded is what the file said, and socialbot can say what it acts on.
    assert all(channel.account in ("intake", "x") for channel in city.channels)
    if table == "accounts.x":
        assert city.network_of("x") == values.get("network", "x")
