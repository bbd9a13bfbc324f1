"""Settings of the geocoder (SOCIALBOT_GEOCODER_*): off by default, each checked when read, and
what a service needs of each kind named at start-up."""

from __future__ import annotations

import pytest

from socialbot.app import geocoder_config, make_geocoder
from socialbot.config import load_settings
from socialbot.errors import ConfigError
from socialbot.geocoding.base import PUBLIC_NOMINATIM, GeocoderConfig, GeocoderKind


def test_off_by_default() -> None:
    settings = load_settings(None)
    assert settings.geocoder == "none" and geocoder_config(settings) is None
    assert make_geocoder(settings, None) is None


def test_nominatim_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_GEOCODER", "nominatim")
    monkeypatch.setenv("SOCIALBOT_GEOCODER_USER_AGENT", "socialbot (311@example.gov)")
    monkeypatch.setenv("SOCIALBOT_GEOCODER_REGION", " Boston, MA ")
    monkeypatch.setenv("SOCIALBOT_GEOCODER_MAX_PER_POLL", "4")
    settings = load_settings(None)
    assert geocoder_config(settings) == GeocoderConfig(
        kind=GeocoderKind.NOMINATIM,
        url=PUBLIC_NOMINATIM,
        user_agent="socialbot (311@example.gov)",
        region="Boston, MA",
    )
    assert settings.geocoder_max_per_poll == 4


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("SOCIALBOT_GEOCODER", "google", "SOCIALBOT_GEOCODER: Input should be 'none', 'nominatim'"),
        (
            "SOCIALBOT_GEOCODER_URL",
            "http://gis.example.gov/arcgis/rest/services/X/GeocodeServer",
            "SOCIALBOT_GEOCODER_URL: must be https (http only for localhost or 127.0.0.1)",
        ),
        (
            "SOCIALBOT_GEOCODER_URL",
            "https://gis.example.gov/GeocodeServer?token=abc",
            "SOCIALBOT_GEOCODER_URL: must be the geocoder's address alone",
        ),
        ("SOCIALBOT_GEOCODER_USER_AGENT", "a\tb", "must be one line of printable text"),
        ("SOCIALBOT_GEOCODER_TIMEOUT_SECONDS", "0", "SOCIALBOT_GEOCODER_TIMEOUT_SECONDS"),
        ("SOCIALBOT_GEOCODER_REQUESTS_PER_SECOND", "-1", "GEOCODER_REQUESTS_PER_SECOND"),
    ],
)
def test_each_setting_is_checked_when_read(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, said: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert said in str(caught.value) and "\n" not in str(caught.value)


def test_what_each_kind_needs_is_named_at_start_up() -> None:
    with pytest.raises(ConfigError, match="SOCIALBOT_GEOCODER_URL: required with"):
        geocoder_config(load_settings(None, geocoder="arcgis"))
    with pytest.raises(ConfigError, match="SOCIALBOT_GEOCODER_USER_AGENT: required with"):
        geocoder_config(load_settings(None, geocoder="nominatim"))
    locator = "https://gis.example.gov/arcgis/rest/services/Locators/City/GeocodeServer/"
    config = geocoder_config(load_settings(None, geocoder="arcgis", geocoder_url=locator))
    assert config is not None and config.url == locator.rstrip("/")
    assert config.user_agent.startswith("socialbot/")
