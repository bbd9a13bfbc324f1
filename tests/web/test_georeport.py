"""Open311 GeoReport v2 as an integrator meets it: a real `socialbot serve` over the demo's
database, read by an Open311 client nobody here wrote (the `georeport` package on PyPI) in JSON
and in XML, by our own client (`open311.wire`), and fuzzed from the app's own OpenAPI
description (schemathesis) without a server error."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeElementTree
import georeport
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from schemathesis import Case
from schemathesis.openapi import from_url
from schemathesis.specs.openapi.checks import positive_data_acceptance

from socialbot.catalog import load_catalog
from socialbot.open311 import wire
from tests.web.server import Served, serve

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "hashtags.yaml")
PRIVATE = "11"  # the demo's case from a Mastodon status that was not public
FORMATS = ("json", "xml")


def client(served: Served, fmt: str) -> georeport.GeoReport:
    return georeport.GeoReport(served.base_url + "/open311/v2", output_format=fmt)


@pytest.fixture(scope="session")  # one server a worker, however xdist orders the tests
def described(demo_database: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`socialbot serve` for a city that shows residents' public words
    (`[web] public_descriptions`)."""
    log = tmp_path_factory.mktemp("described") / "serve.log"
    with serve(demo_database, log, {"SOCIALBOT_WEB_PUBLIC_DESCRIPTIONS": "true"}) as server:
        yield server


# ---------------------------------------------------------------------------------------------
# The georeport client, in both formats


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_service_list_is_our_catalog(served: Served, fmt: str) -> None:
    services = client(served, fmt).get_service_list()

    assert [s["service_code"] for s in services] == [c.key for c in CATALOG.categories]
    pothole = services[0]
    assert pothole["service_name"] == "Pothole"
    assert pothole["description"] == "A hole or sunken patch in the road surface."
    assert pothole["group"] == "Public Works – Highway"
    assert pothole["keywords"] == "pothole, potholes, bache, baches, hoyo"
    assert pothole["type"] == "realtime"
    assert pothole["metadata"] in (False, "false")  # XML carries text


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_definition_takes_no_attributes(served: Served, fmt: str) -> None:
    definition = client(served, fmt).get_service_definition("pothole")
    assert definition["service_code"] == "pothole"
    assert not definition["attributes"]  # [] in JSON, an empty element (None) in XML


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_demo_case_is_a_request_with_public_fields_only(served: Served, fmt: str) -> None:
    found = client(served, fmt).get_service_requests()

    assert sorted(int(r["service_request_id"]) for r in found) == list(range(1, 15))
    for request in found:
        # Without [web] public_descriptions, the category's name alone.
        assert request["description"] == request["service_name"]
        assert request["status"] in ("open", "closed")
        assert datetime.fromisoformat(request["requested_datetime"]).utcoffset() is not None
        assert "@" not in json.dumps(request)  # no handle, not even the city's own


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_filters_as_a_client_sends_them(served: Served, fmt: str) -> None:
    reader = client(served, fmt)
    closed = reader.get_service_requests(status="closed")
    potholes = reader.get_service_requests(service_code="pothole")
    some = reader.get_service_requests(service_request_id="1,11", status="open")
    week = reader.get_service_requests(
        start_date=(datetime.now(UTC) - timedelta(days=30)).isoformat(timespec="seconds"),
        end_date=datetime.now(UTC).isoformat(timespec="seconds"),
    )

    assert closed and {r["status"] for r in closed} == {"closed"}
    assert potholes and {r["service_code"] for r in potholes} == {"pothole"}
    # The ids override every other filter, as the spec says: #1 is resolved, yet listed.
    assert sorted(r["service_request_id"] for r in some) == ["1", "11"]
    assert len(week) == 14


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_request_and_the_private_case_shows_no_photo(served: Served, fmt: str) -> None:
    reader = client(served, fmt)
    one = reader.get_service_request("1")
    private = reader.get_service_request(PRIVATE)

    assert (one["service_request_id"], one["service_code"], one["status"]) == (
        "1",
        "pothole",
        "closed",
    )
    assert one["status_notes"] == "Fixed"
    assert one["media_url"] == "https://pbs.twimg.com/media/31859001.jpg"
    assert private["description"] == "Streetlight out"
    assert not private.get("media_url")


def test_a_city_that_shows_words_shows_public_ones_only_without_handles(
    described: Served,
) -> None:
    reader = client(described, "json")
    one = reader.get_service_request("1")
    private = reader.get_service_request(PRIVATE)

    assert one["description"].startswith("Pothole: Huge #pothole on Boylston St")
    assert "@" not in one["description"]
    assert private["description"] == "Streetlight out"  # a non-public status: never its words


# ---------------------------------------------------------------------------------------------
# Errors, in the spec's body and the format asked for


@pytest.mark.parametrize(
    ("path", "status", "description"),
    [
        ("/requests/999.json", 404, "no request '999'"),
        ("/requests/abc.json", 404, "no request 'abc'"),
        ("/services/nope.json", 404, "service_code 'nope' is not one of ours"),
        (
            "/requests.json?start_date=2026-11-24T00:00:00",
            400,
            "start_date: has no time zone; write a W3C date-time with its time zone, "
            "e.g. 2026-11-24T12:49:18-05:00",
        ),
        ("/requests.json?status=pending", 400, "status: 'pending' is neither open nor closed"),
    ],
)
def test_errors_are_the_specs_json_body(
    served: Served, path: str, status: int, description: str
) -> None:
    answer = served.get("/open311/v2" + path)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == [{"code": status, "description": description}]


def test_an_error_of_an_xml_path_is_the_specs_xml_body(served: Served) -> None:
    answer = served.get("/open311/v2/requests/999.xml")

    assert (answer.status_code, answer.headers["content-type"]) == (404, "text/xml; charset=utf-8")
    assert wire.parse_errors(answer.content, "xml") == [wire.CrmError("404", "no request '999'")]
    root = SafeElementTree.fromstring(answer.content)
    assert (root.tag, [e.tag for e in root]) == ("errors", ["error"])


def test_a_format_we_do_not_speak_is_no_such_resource(served: Served) -> None:
    answer = served.get("/open311/v2/services.csv")
    assert answer.status_code == 404
    assert answer.json()[0]["code"] == 404
    with pytest.raises(requests.HTTPError):
        client(served, "json").get_service_request("999")


# ---------------------------------------------------------------------------------------------
# Our own client, and discovery


@pytest.mark.parametrize("fmt", FORMATS)
def test_our_own_client_reads_our_answers(served: Served, fmt: wire.Format) -> None:
    services = wire.parse_services(served.get(f"/open311/v2/services.{fmt}").content, fmt)
    page = wire.parse_requests(served.get(f"/open311/v2/requests.{fmt}").content, fmt)

    assert [s.code for s in services] == [c.key for c in CATALOG.categories]
    assert (len(page), page.skipped) == (14, 0)
    assert all(state.requested_at is not None for state in page)
    assert {state.service_code for state in page} <= {c.key for c in CATALOG.categories}


def test_discovery_points_at_this_endpoint_in_both_formats(served: Served) -> None:
    as_json: dict[str, Any] = served.get("/open311/v2/discovery.json").json()
    as_xml = SafeElementTree.fromstring(served.get("/open311/v2/discovery.xml").content)

    (endpoint,) = as_json["endpoints"]
    assert endpoint["url"] == served.base_url + "/open311/v2"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert as_xml.findtext("endpoints/endpoint/url") == served.base_url + "/open311/v2"
    assert datetime.fromisoformat(as_json["changeset"]).utcoffset() is not None


# ---------------------------------------------------------------------------------------------
# Fuzzed from our own OpenAPI description


EXAMPLES = 15  # per operation: 150 requests in all, 9 s measured on a shared, loaded core


def test_no_input_makes_a_server_error_or_an_undescribed_answer(served: Served) -> None:
    """Every Open311 operation /openapi.json describes, with parameters made from its own
    description: no 5xx, and each answer's status, media type and (JSON) schema as described.
    (schemathesis' pytest plugin is not used: its lazy fixture needs a private pytest field.)"""
    schema = from_url(served.base_url + "/openapi.json").include(path_regex="^/open311/")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 10  # five resources, two formats each

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: Case) -> None:
            # Schema-valid filters may still be refused: two dates more than 90 days apart, or
            # end before start, are a 400 no OpenAPI schema can describe.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        call()
