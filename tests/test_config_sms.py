"""The Twilio settings: from the environment or the file's `[sms]` table, each checked with a
one-line error naming it; the auth token a secret, never echoed and masked in logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialbot.config import load_settings
from socialbot.errors import ConfigError
from socialbot.logs import named_secrets

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "f" * 32


def test_the_sms_table_names_the_twilio_settings(tmp_path: Path) -> None:
    config = tmp_path / "socialbot.toml"
    config.write_text(
        f'[sms]\naccount_sid = "{SID}"\nauth_token = "{TOKEN}"\nfrom = "+16175550100"\n',
        encoding="utf-8",
    )

    settings = load_settings(config)

    assert settings.twilio_account_sid == SID
    assert settings.twilio_auth_token is not None
    assert settings.twilio_auth_token.get_secret_value() == TOKEN
    assert settings.twilio_from == "+16175550100"


def test_the_environment_takes_a_messaging_service_as_the_sender(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOCIALBOT_TWILIO_FROM", "MG" + "a" * 32)
    assert load_settings().twilio_from == "MG" + "a" * 32


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SOCIALBOT_TWILIO_ACCOUNT_SID", "AC123", "not a Twilio account SID"),
        ("SOCIALBOT_TWILIO_FROM", "6175550100", "neither a phone number in E.164"),
        ("SOCIALBOT_TWILIO_FROM", "MG123", "neither a phone number in E.164"),
        ("SOCIALBOT_TWILIO_AUTH_TOKEN", "two words", "empty, or holds spaces"),
    ],
)
def test_a_malformed_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value).startswith(f"{variable}: {message}")
    assert "\n" not in str(err.value)


def test_the_auth_token_is_never_echoed_and_is_masked_in_logs(tmp_path: Path) -> None:
    config = tmp_path / "socialbot.toml"
    config.write_text('[sms]\nauth_token = "sec ret"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    assert "sec ret" not in str(err.value) and "[sms] auth_token" in str(err.value)

    settings = load_settings(twilio_auth_token=TOKEN)
    assert TOKEN not in repr(settings)
    assert ("SOCIALBOT_TWILIO_AUTH_TOKEN", TOKEN) in named_secrets(settings)


def test_a_key_the_sms_table_does_not_take_is_named(tmp_path: Path) -> None:
    config = tmp_path / "socialbot.toml"
    config.write_text('[sms]\nauth_tokn = "x"\n', encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"unknown setting `sms.auth_tokn`; did you mean auth_token"
    ):
        load_settings(config)
