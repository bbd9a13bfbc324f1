"""Settings of the web service: `[web]` in the file (or SOCIALBOT_WEB_*), the proxies and the
monitor's addresses checked as addresses or CIDR networks, one line naming the setting."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialbot.config import WEB_KEYS, Settings, load_settings
from socialbot.errors import ConfigError

WEB_TABLE = """
[web]
public_url = "https://311.example.gov/"
host = "0.0.0.0"
port = 8400
trusted_proxies = "10.0.0.7, 192.168.0.0/16"
metrics_allow = "10.1.2.3/8,::1"
stale_minutes = 3
"""


def load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "socialbot.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path)


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as err:
        load(tmp_path, text)
    return str(err.value)


def test_unset_serves_loopback_to_loopback() -> None:
    city = load_settings()
    assert (city.web_host, city.web_port) == ("127.0.0.1", 8311)
    assert city.web_trusted_proxies == city.web_metrics_allow == "127.0.0.1/32,::1/128"
    assert city.web_stale_minutes == 10.0


def test_the_web_table_sets_the_services_settings(tmp_path: Path) -> None:
    city = load(tmp_path, WEB_TABLE)
    assert city.web_public_url == "https://311.example.gov"
    assert (city.web_host, city.web_port, city.web_stale_minutes) == ("0.0.0.0", 8400, 3.0)
    # Networks written as uvicorn's forwarded_allow_ips takes them (a host's bits cleared).
    assert city.web_trusted_proxies == "10.0.0.7/32,192.168.0.0/16"
    assert city.web_metrics_allow == "10.0.0.0/8,::1/128"


def test_the_environment_wins_over_the_web_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCIALBOT_WEB_PORT", "8500")
    assert load(tmp_path, WEB_TABLE).web_port == 8500


def test_a_port_out_of_range_names_the_table_key(tmp_path: Path) -> None:
    message = error_of(tmp_path, "[web]\nport = 99999\n")
    assert message.startswith("SOCIALBOT_WEB_PORT (or `[web] port` in ")
    assert "65535" in message and "\n" not in message


@pytest.mark.parametrize("bad", ["10.0.0.0/33", "nginx", "10.0.0.1, proxy.local", "::1/129"])
def test_a_bad_address_or_network_is_one_line_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv("SOCIALBOT_WEB_METRICS_ALLOW", bad)
    with pytest.raises(ConfigError) as err:
        load_settings()
    message = str(err.value)
    assert message.startswith("SOCIALBOT_WEB_METRICS_ALLOW: ")
    assert "is not an address or network; e.g. 127.0.0.1,::1,10.0.0.0/8" in message
    assert "\n" not in message


def test_a_bad_proxy_in_the_file_names_the_file(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[web]\ntrusted_proxies = "10.0.0.0/33"\n')
    assert message.startswith("SOCIALBOT_WEB_TRUSTED_PROXIES (or `[web] trusted_proxies` in ")


def test_a_stale_threshold_must_be_positive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_WEB_STALE_MINUTES", "0")
    with pytest.raises(ConfigError, match=r"^SOCIALBOT_WEB_STALE_MINUTES: "):
        load_settings()


def test_every_web_key_is_a_setting() -> None:
    assert {f"web_{key}" for key in WEB_KEYS} <= set(Settings.model_fields)


@given(st.text(max_size=60))
def test_any_address_list_is_settings_or_one_line(value: str) -> None:
    """Whatever an operator writes there is a setting, or one line naming it (never a crash)."""
    try:
        city = Settings(web_metrics_allow=value)
    except Exception as exc:  # pydantic's ValidationError; load_settings makes it a ConfigError
        assert "web_metrics_allow" in str(exc)
        return
    assert Settings(web_metrics_allow=city.web_metrics_allow).web_metrics_allow == (
        city.web_metrics_allow
    )
