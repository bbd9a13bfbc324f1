"""Settings: environment over TOML file over defaults, one clear line for anything wrong."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from socialbot.config import PROJECT_ROOT, Settings, env_name, load_settings
from socialbot.errors import ConfigError
from socialbot.network_settings import TABLE_KEYS, NamedAccount


def test_defaults_need_nothing_set(tmp_path: Path) -> None:
    settings = load_settings()
    assert (
        settings.database_url == f"sqlite:///{tmp_path / 'xdg-data' / 'socialbot' / 'socialbot.db'}"
    )
    assert settings.hashtags == PROJECT_ROOT / "hashtags.yaml"
    assert settings.poll_seconds == 60
    assert not settings.has_x_credentials


def test_systemd_state_directory_holds_the_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/socialbot:/var/lib/other")
    assert load_settings().database_url == "sqlite:////var/lib/socialbot/socialbot.db"


def test_environment_wins_over_the_toml_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "socialbot.toml"
    config.write_text('poll_seconds = 30\nsend_seconds = 4\nx_user_id = "42"\n')
    monkeypatch.setenv("SOCIALBOT_POLL_SECONDS", "45")

    settings = load_settings(config)

    assert (settings.poll_seconds, settings.send_seconds, settings.x_user_id) == (45, 4, "42")


def test_config_file_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "socialbot.toml"
    config.write_text("poll_seconds = 90\n")
    monkeypatch.setenv("SOCIALBOT_CONFIG", str(config))
    assert load_settings().poll_seconds == 90


def test_a_bad_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_POLL_SECONDS", "often")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value) == (
        "SOCIALBOT_POLL_SECONDS: Input should be a valid integer, "
        "unable to parse string as an integer "
        "(got 'often')"
    )


def test_a_misspelt_variable_is_an_error_with_a_suggestion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_POLL_SECOND", "30")
    with pytest.raises(
        ConfigError,
        match=r"^SOCIALBOT_POLL_SECOND: unknown setting; did you mean SOCIALBOT_POLL_SECONDS\?$",
    ):
        load_settings()


def test_an_unknown_key_in_the_file_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "socialbot.toml"
    config.write_text("pol_seconds = 30\n")
    with pytest.raises(ConfigError) as err:
        load_settings(config)
    assert (
        str(err.value)
        == f"{config}: unknown setting `pol_seconds`; see README 'Settings' for the list"
    )


def test_broken_toml_names_the_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "socialbot.toml"
    config.write_text('poll_seconds = 30\ncase_url = "https://x\n')
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(config))}: not valid TOML: .*line 2"):
        load_settings(config)


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: cannot read the config file"):
        load_settings(tmp_path / "nope.toml")


def test_secrets_are_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_X_CONSUMER_KEY", "ck-SECRET")
    monkeypatch.setenv("SOCIALBOT_X_ACCESS_TOKEN", "at-SECRET")
    settings = load_settings()
    assert "SECRET" not in repr(settings) + str(settings)
    assert (
        settings.x_consumer_key is not None
        and settings.x_consumer_key.get_secret_value() == "ck-SECRET"
    )


def test_case_url_must_say_where_the_number_goes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_CASE_URL", "https://311.example.gov/cases/")
    with pytest.raises(ConfigError, match=r"^SOCIALBOT_CASE_URL: must contain \{case\}"):
        load_settings()


def test_the_readme_documents_every_setting() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    missing = [
        env_name(name) for name in Settings.model_fields if f"`{env_name(name)}`" not in readme
    ]
    # A network's table keys, as the settings table spells them, and each field a named
    # account takes.
    missing += [
        f"[{network}] {key}"
        for network, keys in TABLE_KEYS.items()
        for key in keys
        if f"`[{network}] {key}`" not in readme
    ]
    accounts_row = next(line for line in readme.splitlines() if "`[accounts.<name>]`" in line)
    missing += [name for name in NamedAccount.model_fields if f"`{name}`" not in accounts_row]
    assert missing == []
