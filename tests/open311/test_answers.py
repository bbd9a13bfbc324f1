"""Our own Open311 answers (`open311.answers`), held against the real cities' (Chicago's JSON,
Toronto's and Giessen's XML, the spec's service list, read from ../shared/fixtures/open311/):
the same element names, nesting and value formats; read back by our own client
(`open311.wire`); and nothing private in them, whatever the resident wrote."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import defusedxml.ElementTree as SafeElementTree
from hypothesis import given
from hypothesis import strategies as st

from socialbot.catalog import Catalog, load_catalog
from socialbot.domain import CaseStatus, GeoPoint
from socialbot.open311 import answers, wire
from socialbot.open311.answers import Discovery
from socialbot.web.public import PublicCase, public_photo, public_text
from tests.recorded import recorded

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "hashtags.yaml")
BOSTON = ZoneInfo("America/New_York")
OPENED = datetime(2026, 11, 24, 17, 49, 18, tzinfo=UTC)
# The spec's "w3 format" as the real cities write it: to the second, with the offset.
W3C = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")
DECIMAL = re.compile(r"-?\d+\.\d+")


def fixture(name: str) -> bytes:
    return recorded(f"open311/{name}").read_bytes()


def case(
    number: int = 7,
    *,
    status: CaseStatus = CaseStatus.IN_PROGRESS,
    text: str = "@DemoCity311 Huge #pothole on Boylston St by the library",
    public: bool = True,
    show_words: bool = True,
) -> PublicCase:
    """A public case as `reads` builds one: the privacy rule applied by `public`'s own
    functions."""
    return PublicCase(
        number=number,
        category="pothole",
        department="Public Works – Highway",
        status=status,
        close_reason=None,
        duplicate_of=None,
        requested_at=OPENED,
        updated_at=OPENED + timedelta(hours=5),
        acknowledged_at=None,
        resolved_at=None,
        closed_at=None,
        expected_at=OPENED + timedelta(days=3),
        point=GeoPoint(42.34937, -71.07787),
        text=public_text(text, public, show_words),
        photo_url=public_photo(["https://pbs.twimg.com/media/1.jpg"], public),
        has_after_photo=False,
    )


def xml_records(body: bytes, root: str, item: str) -> list[ElementTree.Element]:
    document = SafeElementTree.fromstring(body, forbid_dtd=True)
    assert document.tag == root
    assert {child.tag for child in document} <= {item}
    return list(document)


def names(element: ElementTree.Element) -> set[str]:
    """Its children's names. (Their order is the spec's in ours; real cities differ in it,
    Toronto writing `long` before `lat`, Giessen `metadata` before `description`, and clients
    read records by name.)"""
    return {child.tag for child in element}


# ---------------------------------------------------------------------------------------------
# Services, against the spec's list and Giessen's


def test_services_json_has_the_spec_examples_fields_and_value_types() -> None:
    ours = json.loads(answers.services_json(CATALOG.categories))
    theirs = json.loads(fixture("service_list.json"))

    assert isinstance(ours, list) and len(ours) == len(CATALOG.categories)
    for service in ours:
        assert set(service) == set(theirs[0])
        assert {k: type(v) for k, v in service.items()} == {
            k: type(v) for k, v in theirs[0].items()
        }
    pothole = ours[0]
    assert pothole == {
        "service_code": "pothole",
        "service_name": "Pothole",
        "description": "A hole or sunken patch in the road surface.",
        "metadata": False,
        "type": "realtime",
        "keywords": "pothole, potholes, bache, baches, hoyo",
        "group": "Public Works – Highway",
    }
    # Keywords written as the spec's example writes them: "lorem, ipsum, dolor".
    assert re.fullmatch(r"\w+(, \w+)*", theirs[0]["keywords"])
    assert all(re.fullmatch(r"\w+(, \w+)*", s["keywords"]) for s in ours)


def test_services_xml_nests_as_giessens_and_reads_back_as_the_json() -> None:
    body = answers.services_xml(CATALOG.categories)
    ours = xml_records(body, "services", "service")
    theirs = xml_records(fixture("services_giessen.xml"), "services", "service")

    for service in ours:
        assert names(service) == names(theirs[0]) | {"group"}  # Giessen has no groups
        assert service.findtext("metadata") in ("true", "false")  # as Giessen writes it
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    as_xml = wire.parse_services(body, "xml")
    as_json = wire.parse_services(answers.services_json(CATALOG.categories), "json")
    assert as_xml == as_json
    assert as_json[0] == wire.Service(
        code="pothole",
        name="Pothole",
        description="A hole or sunken patch in the road surface.",
        metadata=False,
        type="realtime",
        keywords=("pothole", "potholes", "bache", "baches", "hoyo"),
        group="Public Works – Highway",
    )


def test_a_service_definition_has_no_attributes_and_reads_back() -> None:
    pothole = CATALOG.get("pothole")
    for fmt, body in (
        ("json", answers.definition_json(pothole)),
        ("xml", answers.definition_xml(pothole)),
    ):
        assert wire.parse_definition(body, fmt) == wire.ServiceDefinition("pothole", ())  # type: ignore[arg-type]
    assert json.loads(answers.definition_json(pothole)) == {
        "service_code": "pothole",
        "attributes": [],
    }


# ---------------------------------------------------------------------------------------------
# Requests, against Chicago's JSON and Toronto's XML


def test_requests_json_matches_chicagos_names_and_value_types() -> None:
    ours = json.loads(answers.requests_json([case()], CATALOG, BOSTON))
    theirs = json.loads(fixture("service_requests.json"))
    chicago_types = {k: type(v) for item in theirs for k, v in item.items()}

    (request,) = ours
    shared = set(request) & set(chicago_types)
    assert shared >= {
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "agency_responsible",
        "requested_datetime",
        "updated_datetime",
        "lat",
        "long",
    }
    assert {k: type(request[k]) for k in shared} == {k: chicago_types[k] for k in shared}
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C.fullmatch(request[name]), name
    assert W3C.fullmatch(theirs[0]["requested_datetime"])
    assert request == {
        "service_request_id": "7",
        "status": "open",
        "status_notes": "Crew at work",
        "service_name": "Pothole",
        "service_code": "pothole",
        "description": "Pothole: Huge #pothole on Boylston St by the library",
        "agency_responsible": "Public Works – Highway",
        "requested_datetime": "2026-11-24T12:49:18-05:00",  # the city's zone, as Chicago's
        "updated_datetime": "2026-11-24T17:49:18-05:00",
        "expected_datetime": "2026-11-27T12:49:18-05:00",
        "lat": 42.34937,
        "long": -71.07787,
        "media_url": "https://pbs.twimg.com/media/1.jpg",
    }


def test_requests_xml_matches_torontos_element_names_order_and_formats() -> None:
    cases = [case(7), case(8, status=CaseStatus.RESOLVED, public=False)]
    ours = xml_records(answers.requests_xml(cases, CATALOG, BOSTON), "service_requests", "request")
    theirs = xml_records(fixture("requests_many.xml"), "service_requests", "request")

    assert len(ours) == 2
    for request in ours:
        assert names(request) <= names(theirs[0])
        assert W3C.fullmatch(request.findtext("requested_datetime") or "")
        assert DECIMAL.fullmatch(request.findtext("lat") or "")
        assert DECIMAL.fullmatch(request.findtext("long") or "")
    assert W3C.fullmatch(theirs[0].findtext("requested_datetime") or "")
    assert DECIMAL.fullmatch(theirs[0].findtext("lat") or "")
    # What we do not have is an empty element, as Toronto writes its empty media_url.
    private = ours[1]
    assert private.find("media_url") is not None and not private.findtext("media_url")
    assert private.findtext("status") == "closed"


def test_our_client_reads_our_requests_in_both_formats_alike() -> None:
    cases = [case(7), case(8, status=CaseStatus.CLOSED, public=False)]
    from_json = wire.parse_requests(answers.requests_json(cases, CATALOG, BOSTON), "json")
    from_xml = wire.parse_requests(answers.requests_xml(cases, CATALOG, BOSTON), "xml")

    assert from_json.skipped == from_xml.skipped == 0
    assert from_json.states == from_xml.states
    first, second = from_json.states
    assert first == wire.RequestState(
        service_request_id="7",
        status="open",
        extended_status=None,
        status_notes="Crew at work",
        description="Pothole: Huge #pothole on Boylston St by the library",
        requested_at=OPENED,
        updated_at=OPENED + timedelta(hours=5),
        expected_at=OPENED + timedelta(days=3),
        service_code="pothole",
    )
    assert (second.service_request_id, second.status, second.description) == (
        "8",
        "closed",
        "Pothole",
    )


# ---------------------------------------------------------------------------------------------
# Privacy


def test_a_private_case_shows_neither_words_nor_photo() -> None:
    (request,) = json.loads(answers.requests_json([case(public=False)], CATALOG, BOSTON))
    assert request["description"] == "Pothole"
    assert "media_url" not in request


def test_a_photo_at_an_address_naming_the_residents_account_is_not_shown() -> None:
    bluesky = "https://cdn.bsky.app/img/feed_fullsize/plain/did:plc:maria123/bafkrei@jpeg"
    assert public_photo([bluesky], public=True) is None
    assert public_photo(["https://pbs.twimg.com/media/1.jpg"], public=True) is not None


def test_words_are_shown_only_where_the_city_shows_them() -> None:
    (request,) = json.loads(answers.requests_json([case(show_words=False)], CATALOG, BOSTON))
    assert request["description"] == "Pothole"
    assert request["media_url"] == "https://pbs.twimg.com/media/1.jpg"  # a public photo


def test_no_handle_of_any_network_survives_in_a_description() -> None:
    text = (
        "@DemoCity311 @maria@social.example.gov \uff20someone hi @democity311.bsky.social "
        "pothole, write to pw@city.gov"
    )
    assert answers.description("Pothole", text) == "Pothole: hi pothole, write to pw@city.gov"
    assert answers.description("Pothole", "@DemoCity311 @other") == "Pothole"


HANDLE = re.compile(r"(?<![\w@])[@\uff20]\w")


@given(words=st.text(), name=st.text(min_size=1))
def test_any_words_make_answers_that_parse_and_carry_no_handle(words: str, name: str) -> None:
    one = replace(case(), text=words)
    catalog = Catalog((replace(CATALOG.get("pothole"), name_en=name),))
    as_json = json.loads(answers.requests_json([one], catalog, BOSTON))
    (request,) = xml_records(
        answers.requests_xml([one], catalog, BOSTON), "service_requests", "request"
    )

    assert not HANDLE.search(as_json[0]["description"].removeprefix(name))
    assert request.findtext("service_request_id") == "7"
    assert wire.parse_requests(answers.requests_xml([one], catalog, BOSTON), "xml").skipped == 0


# ---------------------------------------------------------------------------------------------
# Errors and discovery


@given(description=st.text())
def test_an_errors_body_reads_back_in_both_formats(description: str) -> None:
    for fmt, body in (
        ("json", answers.errors_json(404, description)),
        ("xml", answers.errors_xml(404, description)),
    ):
        (error,) = wire.parse_errors(body, fmt)  # type: ignore[arg-type]
        assert error.code == "404"
    assert json.loads(answers.errors_json(400, "start_date: has no time zone")) == [
        {"code": 400, "description": "start_date: has no time zone"}
    ]


def test_discovery_names_the_spec_our_endpoint_and_both_formats() -> None:
    document = Discovery(
        url="https://311.example.gov/open311/v2",
        changeset=OPENED,
        contact="call 311",
        key_service="no key",
    )
    as_json: dict[str, Any] = json.loads(answers.discovery_json(document, BOSTON))
    root = SafeElementTree.fromstring(answers.discovery_xml(document, BOSTON))

    assert as_json == {
        "changeset": "2026-11-24T12:49:18-05:00",
        "contact": "call 311",
        "key_service": "no key",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": "https://311.example.gov/open311/v2",
                "changeset": "2026-11-24T12:49:18-05:00",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    assert root.tag == "discovery"
    endpoint = root.find("endpoints/endpoint")
    assert endpoint is not None
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert [f.text for f in endpoint.findall("formats/format")] == ["text/xml", "application/json"]
