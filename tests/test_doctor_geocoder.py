"""`doctor` and the city's geocoder: one search (mocked with `responses` in Nominatim's and
ArcGIS's wire formats), one line; none when no geocoder is configured."""

from __future__ import annotations

import responses

from socialbot.config import Settings, load_settings
from socialbot.doctor import check_geocoder
from tests.geocoding.answers import ARCGIS_ERROR, arcgis_answer, arcgis_candidate, nominatim_house
from tests.test_doctor import lines

NOMINATIM = "https://nominatim.example.org"
LOCATOR = "https://gis.example.gov/arcgis/rest/services/Locators/Boston/GeocodeServer"
BOUNDS = "-71.19,42.22,-70.98,42.40"


def nominatim(**more: object) -> Settings:
    return load_settings(
        None,
        geocoder="nominatim",
        geocoder_url=NOMINATIM,
        geocoder_user_agent="socialbot (311@example.gov)",
        geocoder_region="Boston, MA",
        city_bounds=BOUNDS,
        **more,
    )


def test_no_geocoder_no_line() -> None:
    assert check_geocoder(load_settings(None), offline=False) == []


@responses.activate
def test_nominatim_answering_is_one_ok_line_after_one_request() -> None:
    responses.get(f"{NOMINATIM}/search", json=[nominatim_house(42.3603, -71.0580)])
    assert lines(check_geocoder(nominatim(), offline=False)) == [
        f"OK geocoder: nominatim at {NOMINATIM} answers: 'City Hall, Boston, MA': found "
        "42.36030,-71.05800"
    ]
    assert len(responses.calls) == 1


@responses.activate
def test_an_arcgis_locator_that_refuses_is_one_failed_line() -> None:
    responses.get(f"{LOCATOR}/findAddressCandidates", json=ARCGIS_ERROR)
    settings = load_settings(None, geocoder="arcgis", geocoder_url=LOCATOR)
    assert lines(check_geocoder(settings, offline=False)) == [
        "FAIL geocoder: the ArcGIS locator answered an error: 498 Invalid Token → check "
        "SOCIALBOT_GEOCODER_URL (and GEOCODER_USER_AGENT) and that it is up; meanwhile reports "
        "are filed by their address alone"
    ]


@responses.activate
def test_an_answer_with_nothing_in_the_city_is_still_an_answer() -> None:
    far = arcgis_candidate(-72.5898, 42.1015)
    responses.get(f"{LOCATOR}/findAddressCandidates", json=arcgis_answer(far))
    settings = load_settings(None, geocoder="arcgis", geocoder_url=LOCATOR, city_bounds=BOUNDS)
    assert lines(check_geocoder(settings, offline=False)) == [
        f"OK geocoder: arcgis at {LOCATOR} answers: 'City Hall': no point in the city"
    ]


@responses.activate
def test_out_of_reach_fails_and_offline_asks_nothing() -> None:
    responses.get(f"{NOMINATIM}/search", status=502)
    assert lines(check_geocoder(nominatim(), offline=False))[0].startswith(
        f"FAIL geocoder: nominatim at {NOMINATIM} answered HTTP 502 →"
    )
    assert lines(check_geocoder(nominatim(), offline=True)) == [
        f"SKIP geocoder: not checked (--offline): nominatim at {NOMINATIM}"
    ]


def test_a_geocoder_missing_what_it_needs_is_named() -> None:
    [arcgis] = check_geocoder(load_settings(None, geocoder="arcgis"), offline=True)
    assert arcgis.detail.startswith(
        "SOCIALBOT_GEOCODER_URL: required with SOCIALBOT_GEOCODER=arcgis"
    )
    [anonymous] = check_geocoder(load_settings(None, geocoder="nominatim"), offline=True)
    assert anonymous.detail.startswith("SOCIALBOT_GEOCODER_USER_AGENT: required")


def test_a_sample_user_agent_for_the_public_nominatim_is_named() -> None:
    settings = load_settings(None, geocoder="nominatim", geocoder_user_agent="my-application")
    [sample] = check_geocoder(settings, offline=False)
    assert sample.detail.startswith("SOCIALBOT_GEOCODER_USER_AGENT: 'my-application' is a sample")
