"""Settings for Bluesky: `[bluesky]` (or its flat keys, or SOCIALBOT_BLUESKY_*), named accounts
with network = "bluesky", the channels they add, and the app password kept out of every line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialbot import logs
from socialbot.config import Settings, load_settings
from socialbot.errors import ConfigError
from socialbot.logs import MASK, add_secrets, named_secrets, secrets_of, setup_logging
from socialbot.network_settings import BlueskyCredentials, Channel, check_did, check_handle
from tests.test_config_networks import MASTODON_TABLE, X_TABLE, toml_string

BLUESKY_TABLE = """
[bluesky]
handle = "@City311.bsky.social"
app_password = "abcd-efgh-ijkl-mnop"
"""
NOTIFY_ON_BLUESKY = """
[accounts.notify]
network = "bluesky"
bluesky_handle = "alerts.city.gov"
bluesky_app_password = "qrst-uvwx-yz23-4567"
"""
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"


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


def test_a_city_on_bluesky_with_its_alerts_there_too(tmp_path: Path) -> None:
    city = load(tmp_path, BLUESKY_TABLE, NOTIFY_ON_BLUESKY)

    assert city.networks == ("bluesky",)
    assert city.channels == (Channel("bluesky", "intake"), Channel("bluesky", "notify"))
    # The handle as Bluesky spells it: no @, lower case.
    assert city.credentials("intake", "bluesky") == BlueskyCredentials(
        handle="city311.bsky.social",
        app_password="abcd-efgh-ijkl-mnop",
        service="https://bsky.social",
        user_id=None,
        account="intake",
    )
    notify = city.bluesky_credentials("notify")
    assert (notify.handle, notify.app_password) == ("alerts.city.gov", "qrst-uvwx-yz23-4567")
    assert notify.service == "https://bsky.social"  # the intake's PDS, which is the default
    assert city.network_of("notify") == "bluesky"


def test_the_flat_keys_and_the_table_mean_the_same(tmp_path: Path) -> None:
    flat = load(
        tmp_path,
        'bluesky_handle = "city.bsky.social"\nbluesky_app_password = "abcd-efgh-ijkl-mnop"\n'
        f'bluesky_service = "https://pds.city.gov/"\nbluesky_user_id = "{DID}"\n',
    )
    nested = load(
        tmp_path,
        '[bluesky]\nhandle = "city.bsky.social"\napp_password = "abcd-efgh-ijkl-mnop"\n'
        f'service = "https://pds.city.gov/"\nuser_id = "{DID}"\n',
    )
    assert flat.model_dump() == nested.model_dump()
    credentials = flat.bluesky_credentials("intake")
    assert (credentials.service, credentials.user_id) == ("https://pds.city.gov", DID)


def test_bluesky_from_the_environment_and_systemd_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "socialbot_bluesky_app_password").write_text("file-pass-word-1234\n")
    (creds / "socialbot_accounts__notify__bluesky_app_password").write_text("notify-pass-1234\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    monkeypatch.setenv("SOCIALBOT_BLUESKY_HANDLE", "city.bsky.social")
    monkeypatch.setenv("SOCIALBOT_BLUESKY_USER_ID", DID)
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__NOTIFY__NETWORK", "bluesky")
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__NOTIFY__BLUESKY_HANDLE", "alerts.city.gov")
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__NOTIFY__BLUESKY_SERVICE", "https://pds.city.gov")

    city = load_settings()

    assert city.networks == ("bluesky",)
    intake = city.bluesky_credentials("intake")
    assert (intake.app_password, intake.user_id) == ("file-pass-word-1234", DID)
    notify = city.bluesky_credentials("notify")
    assert (notify.app_password, notify.service) == ("notify-pass-1234", "https://pds.city.gov")
    assert notify.user_id is None  # the intake's DID is not the notify account's


def test_bluesky_beside_x_and_mastodon_comes_last(tmp_path: Path) -> None:
    city = load(
        tmp_path,
        BLUESKY_TABLE,
        X_TABLE,
        MASTODON_TABLE,
        NOTIFY_ON_BLUESKY,
        '[accounts.alerts]\nnetwork = "mastodon"\nmastodon_access_token = "mt-alerts"\n',
    )
    assert city.networks == ("x", "mastodon", "bluesky")
    assert city.channels == (
        Channel("x", "intake"),
        Channel("mastodon", "intake"),
        Channel("bluesky", "intake"),
        Channel("mastodon", "alerts"),
        Channel("bluesky", "notify"),
    )


def test_a_handle_without_its_app_password_is_no_network(tmp_path: Path) -> None:
    city = load(tmp_path, '[bluesky]\nhandle = "city.bsky.social"\n')
    assert city.networks == ()
    with pytest.raises(ConfigError) as err:
        city.require_networks()
    assert "SOCIALBOT_BLUESKY_HANDLE and SOCIALBOT_BLUESKY_APP_PASSWORD (`[bluesky]`)" in str(
        err.value
    )
    with pytest.raises(
        ConfigError, match=r"^SOCIALBOT_BLUESKY_APP_PASSWORD: not set; Bluesky credentials"
    ):
        city.bluesky_credentials("intake")
    with pytest.raises(
        ConfigError,
        match=r"^SOCIALBOT_BLUESKY_HANDLE, SOCIALBOT_BLUESKY_APP_PASSWORD: not set",
    ):
        load(tmp_path).credentials("intake", "bluesky")


def test_a_named_account_on_bluesky_needs_its_handle_and_app_password(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[accounts.notify]\nnetwork = "bluesky"\n')
    assert message.startswith(
        "SOCIALBOT_ACCOUNTS__NOTIFY__BLUESKY_HANDLE (or `accounts.notify.bluesky_handle` in "
    )
    assert message.endswith(
        "not set; an account on bluesky needs bluesky_handle and bluesky_app_password"
    )
    message = error_of(
        tmp_path, '[accounts.notify]\nnetwork = "bluesky"\nbluesky_handle = "a.bsky.social"\n'
    )
    assert message.startswith("SOCIALBOT_ACCOUNTS__NOTIFY__BLUESKY_APP_PASSWORD (or ")


def test_a_field_of_another_network_is_an_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = toml_file(tmp_path, NOTIFY_ON_BLUESKY, 'mastodon_access_token = "mt-SECRET"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    assert str(err.value) == (
        "SOCIALBOT_ACCOUNTS__NOTIFY__MASTODON_ACCESS_TOKEN (or "
        f"`accounts.notify.mastodon_access_token` in {config}): a Mastodon setting, but this "
        'account is on bluesky (its `network`); remove it, or set network = "mastodon"'
    )
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__ALERTS__X_ACCESS_TOKEN", "at")
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__ALERTS__X_ACCESS_TOKEN_SECRET", "ats")
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__ALERTS__BLUESKY_APP_PASSWORD", "bs-SECRET-pass")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value) == (
        "SOCIALBOT_ACCOUNTS__ALERTS__BLUESKY_APP_PASSWORD: a Bluesky setting, but this account "
        'is on x (its `network`); remove it, or set network = "bluesky"'
    )


def test_credentials_of_the_wrong_network_say_where_the_account_is(tmp_path: Path) -> None:
    city = load(tmp_path, X_TABLE, BLUESKY_TABLE, NOTIFY_ON_BLUESKY)
    with pytest.raises(ConfigError, match=r"^account 'notify' is on bluesky .*not on x$"):
        city.credentials("notify")
    with pytest.raises(ConfigError, match=r"^account 'notify' is on bluesky .*not on mastodon$"):
        city.mastodon_credentials("notify")
    with pytest.raises(
        ConfigError,
        match=r"^account 'alerts' is not configured \(accounts: intake, notify\); add "
        r"SOCIALBOT_ACCOUNTS__ALERTS__BLUESKY_APP_PASSWORD",
    ):
        city.bluesky_credentials("alerts")
    city = load(tmp_path, X_TABLE, '[accounts.notify]\nx_access_token = "a"\n'
                'x_access_token_secret = "b"\n')  # fmt: skip
    with pytest.raises(ConfigError, match=r"^account 'notify' is on x .*not on bluesky$"):
        city.bluesky_credentials("notify")


@pytest.mark.parametrize(
    ("handle", "problem"),
    [
        ("city", "not a Bluesky handle; expected e.g. city.bsky.social"),
        ("city.bsky.social.", "not a Bluesky handle"),
        ("city..bsky.social", "not a Bluesky handle"),
        ("-city.bsky.social", "not a Bluesky handle"),
        ("city.bsky.123", "not a Bluesky handle"),
        ("city_311.bsky.social", "not a Bluesky handle"),
        ("cité.bsky.social", "not a Bluesky handle"),
        ("city@city.gov", "an email address signs in too, but set the account's handle"),
        (DID, "a DID, not a handle: set it as BLUESKY_USER_ID"),
        ("a" * 64 + ".bsky.social", "not a Bluesky handle"),
    ],
)
def test_the_handle_must_be_a_handle(
    monkeypatch: pytest.MonkeyPatch, handle: str, problem: str
) -> None:
    monkeypatch.setenv("SOCIALBOT_BLUESKY_HANDLE", handle)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value).startswith(f"SOCIALBOT_BLUESKY_HANDLE: {problem}")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("value", "handle"),
    [
        ("city.bsky.social", "city.bsky.social"),
        ("@City.Bsky.Social", "city.bsky.social"),
        (" city.gov ", "city.gov"),
        ("xn--cit-bpa.example", "xn--cit-bpa.example"),
        ("311.city.gov", "311.city.gov"),
    ],
)
def test_a_handle_is_kept_as_bluesky_spells_it(value: str, handle: str) -> None:
    assert check_handle(value) == handle


@pytest.mark.parametrize(
    ("did", "problem"),
    [
        ("ewvi7nxzyoun6zhxrhs64oiz", "not a DID; expected e.g. did:plc:"),
        ("did:PLC:ewvi7nxzyoun6zhxrhs64oiz", "not a DID"),
        ("did:plc:", "not a DID"),
        ("did:plc:abc:", "not a DID"),
        ("did:web:" + "a" * 60 + ".example", "longer than the 64 characters socialbot can store"),
    ],
)
def test_the_user_id_must_be_a_did(monkeypatch: pytest.MonkeyPatch, did: str, problem: str) -> None:
    monkeypatch.setenv("SOCIALBOT_BLUESKY_USER_ID", did)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value).startswith(f"SOCIALBOT_BLUESKY_USER_ID: {problem}")


def test_a_did_web_is_a_did() -> None:
    assert check_did("did:web:city.gov") == "did:web:city.gov"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://pds.city.gov", "must be https (http only for localhost or 127.0.0.1), or the app "
         "password would go in clear"),
        ("bsky.social", "not an https URL; expected e.g. https://bsky.social"),
        ("https://city:pw@pds.city.gov", "must not hold a user or password; the app password is "
         "BLUESKY_APP_PASSWORD"),
        ("https://bsky.social/xrpc?x=1", "must be the server's address alone"),
    ],
)  # fmt: skip
def test_the_service_must_be_an_https_url(
    monkeypatch: pytest.MonkeyPatch, url: str, problem: str
) -> None:
    monkeypatch.setenv("SOCIALBOT_BLUESKY_SERVICE", url)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value).startswith(f"SOCIALBOT_BLUESKY_SERVICE: {problem}")


def test_a_named_accounts_service_is_checked_too(tmp_path: Path) -> None:
    message = error_of(tmp_path, NOTIFY_ON_BLUESKY, 'bluesky_service = "http://pds.example"\n')
    assert message.startswith("SOCIALBOT_ACCOUNTS__NOTIFY__BLUESKY_SERVICE (or ")
    assert "must be https" in message


def test_a_pds_on_this_machine_may_be_plain_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_BLUESKY_SERVICE", "http://localhost:2583/")
    assert load_settings().bluesky_service == "http://localhost:2583"


def test_an_app_password_is_never_shown(tmp_path: Path) -> None:
    city = load(tmp_path, BLUESKY_TABLE, NOTIFY_ON_BLUESKY)
    shown = repr(city) + str(city) + repr(city.bluesky_credentials("notify"))
    shown += repr(city.channels) + repr(city.bluesky_credentials("intake"))
    assert "abcd-efgh-ijkl-mnop" not in shown and "qrst-uvwx-yz23-4567" not in shown
    message = error_of(tmp_path, BLUESKY_TABLE, 'bluesky_app_password = "again-1234"\n')
    assert "again-1234" not in message and "abcd-efgh" not in message


def test_app_passwords_are_secrets_of_the_settings(tmp_path: Path) -> None:
    city = load(tmp_path, BLUESKY_TABLE, NOTIFY_ON_BLUESKY)
    assert ("SOCIALBOT_BLUESKY_APP_PASSWORD", "abcd-efgh-ijkl-mnop") in named_secrets(city)
    assert (
        "SOCIALBOT_ACCOUNTS__NOTIFY__BLUESKY_APP_PASSWORD",
        "qrst-uvwx-yz23-4567",
    ) in named_secrets(city)


@pytest.fixture
def no_learned_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no secret learned by an earlier one."""
    monkeypatch.setattr(logs, "_learned", ())
    monkeypatch.setattr(logs, "_configured", ())
    monkeypatch.setattr(logs, "_secrets", ())


@pytest.mark.usefixtures("no_learned_secrets")
def test_session_tokens_are_masked_from_when_the_adapter_gets_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    city = load(tmp_path, BLUESKY_TABLE)
    access, refresh = "eyJ0eXAiOiJhdCtqd3QifQ.eyJzY29wZSI6ImFjY2VzcyJ9.c2lnbmF0dXJl", "rt-9f8e7d"
    for log_format in ("text", "json"):
        setup_logging("DEBUG", log_format, secrets_of(city))
        log = logging.getLogger("socialbot.networks.bluesky")
        log.info("event=before token=%s", access)  # not yet a secret: nobody said so
        add_secrets([access, refresh])
        log.info("event=auth header=%r", f"Bearer {access}")
        log.warning("event=refresh error=%r password=%s", refresh.encode(), "abcd-efgh-ijkl-mnop")
        # A later setup (another command's settings) keeps what the adapters learned.
        setup_logging("DEBUG", log_format, secrets_of(city))
        log.info("event=again token=%s", access)
        logs.remember_secrets(())
        logs._learned = ()
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 8
    assert [access in line for line in lines] == [True, False, False, False] * 2
    assert all(MASK in line for i, line in enumerate(lines) if i % 4)
    assert not [line for line in lines if refresh in line or "abcd-efgh-ijkl-mnop" in line]


@pytest.mark.usefixtures("no_learned_secrets")
def test_only_the_newest_learned_secrets_are_kept(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO", "text", ["configured-secret-1"])
    for n in range(logs.MAX_LEARNED + 3):
        add_secrets([f"token-{n:04d}-abcdef", ""])
    add_secrets([f"token-{logs.MAX_LEARNED + 2:04d}-abcdef"])  # again: no second copy
    logging.getLogger("socialbot").info(
        "event=t old=token-0000-abcdef kept=token-0003-abcdef new=token-%04d-abcdef c=%s",
        logs.MAX_LEARNED + 2,
        "configured-secret-1",
    )
    line = capsys.readouterr().err
    assert "old=token-0000-abcdef" in line  # forgotten: it expired long ago
    assert "kept=****" in line and "new=****" in line and "c=****" in line
    assert len(logs._learned) == logs.MAX_LEARNED


KEYS = st.one_of(
    st.sampled_from(
        [
            "network",
            "handle",
            "app_password",
            "service",
            "user_id",
            "bluesky_handle",
            "bluesky_app_password",
            "bluesky_service",
            "bluesky_user_id",
            "mastodon_access_token",
        ]
    ),
    st.text(min_size=1, max_size=12),
)
VALUES = st.one_of(
    st.sampled_from(
        ["bluesky", "x", "city.bsky.social", "@a.b", "https://bsky.social", "http://localhost", DID]
    ),
    st.text(max_size=40),
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    table=st.sampled_from(["bluesky", "accounts.notify"]),
    values=st.dictionaries(KEYS, VALUES, max_size=5),
)
def test_any_bluesky_table_of_strings_loads_or_is_one_line_naming_the_setting(
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
        assert any(word in message.lower() for word in ("bluesky", "accounts")), message
        return
    for channel in city.channels:
        if channel.network != "bluesky":
            continue
        credentials = city.credentials(channel.account, "bluesky")
        assert check_handle(credentials.handle) == credentials.handle
        assert credentials.service.startswith(("https://", "http://"))
    if table == "accounts.notify":
        assert city.network_of("notify") == values.get("network", "x")
