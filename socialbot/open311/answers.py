"""Our own Open311 GeoReport v2 answers (the read side `socialbot serve` offers): categories and
public cases → the spec's JSON values and XML bytes. Pure: no web framework, no database.

What each answer looks like, and why:

- JSON is the spec's bare array (`[{...}, ...]`), XML the spec's roots (`services/service`,
  `service_requests/request`, `service_definition`, `errors/error`, `discovery`), preceded by
  the XML declaration with `encoding="UTF-8"`, as the spec requires.
- A value we do not have is left out of a JSON object (as Chicago's endpoint does) and written as
  an empty element in XML (as Toronto's does): no client reads a `null` it did not expect.
- `service_request_id` is our case number as text: most cities' ids are text ("14-01100669"),
  so clients hold them as text, and text is what a client sends back in the path.
- Times are W3C date-times in the city's zone with its offset (`2026-11-24T12:49:18-05:00`).
- `description` is the category's name; with the resident's public words, when `PublicCase`
  carries them, after it, with every @handle taken out (a post names the city's account, and
  may name other people's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from xml.sax.saxutils import escape

from socialbot.catalog import Catalog, Category
from socialbot.web.public import PublicCase, without_handles

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# The content types the spec names for its formats (its "Format Support" examples).
JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
MEDIA_TYPES = {"json": "application/json", "xml": "text/xml"}

Scalar = str | int | float | bool | None
Record = tuple[tuple[str, Scalar], ...]

_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
# Characters XML 1.0 cannot carry at all, even escaped: dropped from any text we write.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Discovery:
    """The spec's service discovery document: one production endpoint, ours."""

    url: str  # the GeoReport v2 endpoint's base, e.g. https://311.example.gov/open311/v2
    changeset: datetime  # when the services last changed (the catalog file's time)
    contact: str
    key_service: str


# ---------------------------------------------------------------------------------------------
# Records: the spec's fields, in the spec's order


def w3c_time(moment: datetime, zone: tzinfo) -> str:
    """`moment` as a W3C date-time in `zone`, to the second, with its offset."""
    if moment.tzinfo is None:  # the store's times are UTC; a naive one is UTC too
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).isoformat(timespec="seconds")


def service_record(category: Category) -> Record:
    """One service of `GET services`: a category of our catalog. No attributes (`metadata`
    false); `keywords` its hashtags without '#', comma-separated as cities write them."""
    return (
        ("service_code", category.key),
        ("service_name", category.name_en),
        ("description", category.description("en")),
        ("metadata", False),
        ("type", "realtime"),
        ("keywords", ", ".join(alias.tag for alias in category.aliases)),
        ("group", category.department),
    )


def request_record(case: PublicCase, catalog: Catalog, zone: tzinfo) -> Record:
    """One request of `GET requests`: a case as anyone may see it."""
    name = case.category_name(catalog, "en")
    point = case.point
    return (
        ("service_request_id", str(case.number)),
        ("status", "open" if case.is_open else "closed"),
        ("status_notes", case.status_words("en")),
        ("service_name", name),
        ("service_code", case.category),
        ("description", description(name, case.text)),
        ("agency_responsible", case.department),
        ("requested_datetime", w3c_time(case.requested_at, zone)),
        ("updated_datetime", w3c_time(case.updated_at, zone)),
        ("expected_datetime", w3c_time(case.expected_at, zone) if case.expected_at else None),
        ("address", case.address),  # a public post's only (`web.public.public_address`)
        ("lat", point.lat if point is not None else None),
        ("long", point.lon if point is not None else None),
        ("media_url", case.photo_url),
    )


def description(name: str, words: str | None) -> str:
    """The category's name, and after it the resident's public words without any @handle."""
    if not words:
        return name
    kept = without_handles(words)  # already so in a PublicCase; kept for any other caller
    return f"{name}: {kept}" if kept else name


# ---------------------------------------------------------------------------------------------
# The answers


def services_json(categories: Iterable[Category]) -> bytes:
    return _json([_object(service_record(c)) for c in categories])


def services_xml(categories: Iterable[Category]) -> bytes:
    return _xml_list("services", "service", (service_record(c) for c in categories))


def definition_json(category: Category) -> bytes:
    """`GET services/{code}`: the spec's service definition, an object; we take no
    attributes."""
    return _json({"service_code": category.key, "attributes": []})


def definition_xml(category: Category) -> bytes:
    body = f"<service_code>{_text(category.key)}</service_code><attributes/>"
    return _document(f"<service_definition>{body}</service_definition>")


def requests_json(cases: Iterable[PublicCase], catalog: Catalog, zone: tzinfo) -> bytes:
    return _json([_object(request_record(c, catalog, zone)) for c in cases])


def requests_xml(cases: Iterable[PublicCase], catalog: Catalog, zone: tzinfo) -> bytes:
    records = (request_record(c, catalog, zone) for c in cases)
    return _xml_list("service_requests", "request", records)


def errors_json(code: int, description: str) -> bytes:
    return _json([{"code": code, "description": description}])


def errors_xml(code: int, description: str) -> bytes:
    error = f"<error><code>{code}</code><description>{_text(description)}</description></error>"
    return _document(f"<errors>{error}</errors>")


def discovery_json(discovery: Discovery, zone: tzinfo) -> bytes:
    changeset = w3c_time(discovery.changeset, zone)
    return _json(
        {
            "changeset": changeset,
            "contact": discovery.contact,
            "key_service": discovery.key_service,
            "endpoints": [
                {
                    "specification": SPECIFICATION,
                    "url": discovery.url,
                    "changeset": changeset,
                    "type": "production",
                    "formats": [MEDIA_TYPES["xml"], MEDIA_TYPES["json"]],
                }
            ],
        }
    )


def discovery_xml(discovery: Discovery, zone: tzinfo) -> bytes:
    changeset = _text(w3c_time(discovery.changeset, zone))
    formats = "".join(
        f"<format>{_text(f)}</format>" for f in (MEDIA_TYPES["xml"], MEDIA_TYPES["json"])
    )
    endpoint = (
        f"<endpoint><specification>{SPECIFICATION}</specification>"
        f"<url>{_text(discovery.url)}</url><changeset>{changeset}</changeset>"
        f"<type>production</type><formats>{formats}</formats></endpoint>"
    )
    return _document(
        f"<discovery><changeset>{changeset}</changeset>"
        f"<contact>{_text(discovery.contact)}</contact>"
        f"<key_service>{_text(discovery.key_service)}</key_service>"
        f"<endpoints>{endpoint}</endpoints></discovery>"
    )


# ---------------------------------------------------------------------------------------------
# Writing


def _object(record: Record) -> dict[str, Scalar]:
    return {name: value for name, value in record if value is not None}


def _json(value: object) -> bytes:
    # A lone surrogate cannot be UTF-8: replaced rather than failing the whole answer.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")


def _xml_list(root: str, item: str, records: Iterable[Record]) -> bytes:
    parts = [f"<{root}>"]
    for record in records:
        parts.append(f"<{item}>")
        parts.extend(_element(name, value) for name, value in record)
        parts.append(f"</{item}>")
    parts.append(f"</{root}>")
    return _document("".join(parts))


def _element(name: str, value: Scalar) -> str:
    if value is None or value == "":
        return f"<{name}/>"
    return f"<{name}>{_scalar(value)}</{name}>"


def _scalar(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return _text(str(value))


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("", value))


def _document(body: str) -> bytes:
    return (_XML_DECLARATION + body).encode("utf-8")
