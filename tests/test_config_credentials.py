"""Credentials from systemd's LoadCredential= ($CREDENTIALS_DIRECTORY): one file a setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialbot.config import load_settings
from socialbot.errors import ConfigError


def test_systemd_credentials_are_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "socialbot_x_access_token").write_text("tok\n")
    (creds / "socialbot_x_consumer_key").write_text("ck")
    (creds / "socialbot_accounts__notify__x_access_token").write_text("ntok\n")
    (creds / "socialbot_accounts__notify__x_access_token_secret").write_text("nsec")
    toml = tmp_path / "s.toml"
    toml.write_text('x_consumer_key = "from-toml"\nx_consumer_secret = "cs"\n')
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    s = load_settings(toml)
    assert s.x_access_token is not None and s.x_access_token.get_secret_value() == "tok"
    assert s.x_consumer_key is not None and s.x_consumer_key.get_secret_value() == "ck"  # over TOML
    assert s.x_consumer_secret is not None and s.x_consumer_secret.get_secret_value() == "cs"
    assert s.accounts["notify"].x_access_token.get_secret_value() == "ntok"
    monkeypatch.setenv("SOCIALBOT_X_ACCESS_TOKEN", "env")
    token = load_settings(toml).x_access_token
    assert token is not None and token.get_secret_value() == "env"  # the environment wins


def test_a_misnamed_credential_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    (tmp_path / "socialbot_x_acess_token").write_text("typo")
    with pytest.raises(ConfigError, match="did you mean SOCIALBOT_X_ACCESS_TOKEN"):
        load_settings()
    (tmp_path / "socialbot_x_acess_token").unlink()
    (tmp_path / "x_user_id").write_text("123")
    with pytest.raises(ConfigError, match="not a setting"):
        load_settings()
