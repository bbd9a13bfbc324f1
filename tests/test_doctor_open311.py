"""`doctor` and the city's Open311 CRM: the endpoint answers, every mapped code is on its service
list, every required attribute has a value rule; one line each when not. Against Chicago's
real service list and the fake CRM."""

from __future__ import annotations

import json
from pathlib import Path

import requests
import responses
from sqlalchemy import Engine

from socialbot.config import Settings, load_settings
from socialbot.doctor import Outcome, check_open311, failed, run_checks
from tests.cli.test_open311 import CURB_DEFINITION, chicago, mapped_catalog
from tests.open311.crm import API_KEY, ENDPOINT
from tests.test_doctor import lines


def city(tmp_path: Path, *, endpoint: str | None = ENDPOINT, **codes: str) -> Settings:
    more: dict[str, object] = {"hashtags": mapped_catalog(tmp_path, **codes)}
    if endpoint is not None:
        more |= {"open311_endpoint": endpoint, "open311_api_key": API_KEY}
    return load_settings(None, **more)


def checks_of(settings: Settings, *, offline: bool = False) -> list[str]:
    from socialbot.catalog import load_catalog

    return lines(check_open311(settings, load_catalog(settings.hashtags), offline=offline))


@responses.activate
def test_a_well_mapped_catalog_is_one_ok_line(tmp_path: Path) -> None:
    chicago(responses.mock, definition={"service_code": "003", "attributes": []})
    assert checks_of(city(tmp_path, sidewalk="003", missed_trash="001")) == [
        f"OK open311: {ENDPOINT} lists 3 service(s); 2 of 26 categories mapped"
    ]


@responses.activate
def test_an_unlisted_code_and_an_unfilled_required_attribute_fail_one_line_each(
    tmp_path: Path,
) -> None:
    chicago(responses.mock, definition=CURB_DEFINITION)
    found = checks_of(city(tmp_path, sidewalk="003", pothole="4fd3b167e750846744000005"))
    assert found == [
        f"OK open311: {ENDPOINT} lists 3 service(s); 2 of 26 categories mapped",
        "FAIL open311 mapping: category 'pothole': open311_service_code "
        "'4fd3b167e750846744000005' is not among the CRM's services (see `socialbot open311 "
        "services`) → use a code `socialbot open311 services` lists",
        "FAIL open311 mapping: category 'sidewalk': service '003' requires attribute "
        "'WHISHETN'; give it a value in its open311_attributes → add it to the category's "
        "open311_attributes (a fixed value or '{category}', '{district}', '{network}')",
    ]


@responses.activate
def test_an_endpoint_out_of_reach_is_one_line(tmp_path: Path) -> None:
    responses.get(
        f"{ENDPOINT}/services.json", body=requests.ConnectionError("Name or service not known")
    )
    (line,) = checks_of(city(tmp_path, sidewalk="003"))
    assert line.startswith(f"FAIL open311: {ENDPOINT}: ")
    assert line.endswith(
        "→ check SOCIALBOT_OPEN311_ENDPOINT (and OPEN311_FORMAT) and that the endpoint is up"
    )
    assert API_KEY not in line


@responses.activate
def test_a_refused_key_is_one_line_naming_the_key(tmp_path: Path) -> None:
    responses.get(
        f"{ENDPOINT}/services.json",
        status=401,
        json=[{"code": 401, "description": "invalid api_key"}],
    )
    (line,) = checks_of(city(tmp_path, sidewalk="003"))
    assert line.startswith(f"FAIL open311: {ENDPOINT}: ")
    assert line.endswith(
        "→ check SOCIALBOT_OPEN311_API_KEY (and OPEN311_JURISDICTION_ID) with the CRM's team"
    )
    assert API_KEY not in line


@responses.activate
def test_an_answer_in_the_other_format_fails_the_same_way(tmp_path: Path) -> None:
    responses.get(f"{ENDPOINT}/services.json", body=b"<?xml version='1.0'?><services/>")
    (line,) = checks_of(city(tmp_path, sidewalk="003"))
    assert line.startswith(f"FAIL open311: {ENDPOINT}: ")


def test_offline_asks_nothing_and_unset_says_nothing_unless_codes_are_mapped(
    tmp_path: Path,
) -> None:
    assert checks_of(city(tmp_path, sidewalk="003"), offline=True) == [
        f"SKIP open311: not checked (--offline): {ENDPOINT}"
    ]
    assert checks_of(city(tmp_path, endpoint=None)) == []
    assert checks_of(city(tmp_path, endpoint=None, sidewalk="003")) == [
        "WARN open311: 1 categories have an open311_service_code, but "
        "SOCIALBOT_OPEN311_ENDPOINT is not set: no case is forwarded → set the endpoint "
        "(`[open311] endpoint`) to forward them"
    ]


@responses.activate
def test_run_checks_ends_with_the_crm_and_masks_the_key(tmp_path: Path, engine: Engine) -> None:
    responses.get(
        f"{ENDPOINT}/services.json",
        status=500,
        body=json.dumps([{"code": "500", "description": f"bad key {API_KEY}"}]),
    )
    settings = load_settings(
        None,
        database_url=engine.url.render_as_string(hide_password=False),
        hashtags=mapped_catalog(tmp_path, sidewalk="003"),
        open311_endpoint=ENDPOINT,
        open311_api_key=API_KEY,
    )
    checks = run_checks(lambda: settings, offline=False)
    last = checks[-1]
    assert (last.outcome, last.area) == (Outcome.FAIL, "open311")
    assert [c.area for c in failed(checks)][-1:] == ["open311"]  # credentials: none set
    assert all(API_KEY not in line for line in lines(checks))
