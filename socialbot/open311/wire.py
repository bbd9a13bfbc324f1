"""Open311 GeoReport v2 answers → our dataclasses. No HTTP here, no database: the client hands
over the body as the CRM sent it, and it is read once, here.

Each answer comes in the format the endpoint speaks (`Format`): JSON arrays, as the spec writes
them, or XML with the spec's roots (`services/service`, `service_requests/request`,
`errors/error`, `service_definition/attributes/attribute`; FixMyStreet's updates extension:
`service_requests_updates/request_update`). Everything in it is untrusted: XML
is read with defusedxml and without any DTD (no entity expansion, no external entity is ever
fetched), a body longer than `MAX_BODY` is refused unread, and every value is checked for its
type, since an XML answer says "true" and "41.85" where a JSON one says true and 41.85.

What fails and how: a body that cannot be read at all is a `DataError` naming what was wrong.
In a page of requests (`parse_requests`) each request is read on its own: one that cannot be
read is skipped and counted, and the rest of the page goes on. The errors body
(`parse_errors`) never fails: it only explains a failure the status code already told.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import defusedxml
import defusedxml.ElementTree as SafeElementTree

from socialbot.errors import DataError
from socialbot.networks.json_values import kind, short
from socialbot.storable import clean_text

Format = Literal["json", "xml"]
FORMATS: tuple[Format, ...] = ("json", "xml")

# A service list of a big city is a few hundred kilobytes, a page of 50 requests less; 8 MiB
# is far above any honest answer and far below what would hurt us to hold in memory.
MAX_BODY = 8 * 1024 * 1024
# Ids, tokens and service codes as we store them (the store's columns are this long). An id
# never holds a comma or a space: ids travel as a comma list (`service_request_id=a,b,c`).
MAX_ID = 128
MAX_NAME = 256  # a service's, an attribute's code and datatype
MAX_TEXT = 10_000  # descriptions and status notes; the spec's description is 4,000 at most
MAX_ERROR = 1000  # an error's description, as a case shows it

_ID = re.compile(rf"[^\x00-\x20\x7f,]{{1,{MAX_ID}}}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Service:
    """One service of `GET services.{fmt}`: what a case can be filed as. `metadata` says the
    service has attributes (`GET services/{code}.{fmt}`); `type` is the spec's "realtime",
    "batch" or "blackbox"."""

    code: str
    name: str
    description: str
    metadata: bool
    type: str
    keywords: tuple[str, ...]
    group: str | None


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute of a service definition: a question the CRM asks with each request.
    `values` are the (key, name) pairs of a `singlevaluelist`/`multivaluelist`; the key is sent.
    `variable` false means the attribute is only information (nothing is sent for it)."""

    code: str
    datatype: str
    required: bool
    description: str
    values: tuple[tuple[str, str], ...]
    variable: bool
    order: int | None


@dataclass(frozen=True, slots=True)
class ServiceDefinition:
    """`GET services/{code}.{fmt}`: the attributes of a service, in the CRM's order."""

    code: str
    attributes: tuple[Attribute, ...]

    @property
    def required(self) -> tuple[Attribute, ...]:
        """The attributes a request must fill (information-only ones never need a value)."""
        return tuple(a for a in self.attributes if a.required and a.variable)


@dataclass(frozen=True, slots=True)
class Accepted:
    """The answer to `POST requests.{fmt}` or `GET tokens/{token}.{fmt}`: the request's id, or
    a token to ask for it later (an endpoint that files requests in batches), or both."""

    service_request_id: str | None
    token: str | None
    notice: str | None


@dataclass(frozen=True, slots=True)
class CrmError:
    """One item of the spec's errors body: the CRM's code (often the HTTP status) and why."""

    code: str
    description: str


@dataclass(frozen=True, slots=True)
class RequestState:
    """A request as `GET requests.{fmt}` reports it. `status` is "open" or "closed", whatever
    the CRM wrote; `extended_status` is FixMyStreet's finer word ("FIXED", "IN_PROGRESS", …),
    upper case with underscores, when the CRM gave one (see `statuses`). Dates are in UTC."""

    service_request_id: str
    status: str
    extended_status: str | None
    status_notes: str | None
    description: str | None
    requested_at: datetime | None
    updated_at: datetime | None
    expected_at: datetime | None
    service_code: str | None = None


@dataclass(frozen=True, slots=True)
class RequestsPage:
    """A page of requests: the ones we could read, and how many we could not (each with why,
    for the log). Iterating it, and `len`, go over `states`."""

    states: list[RequestState]
    skipped: int = 0
    problems: tuple[str, ...] = field(default=())

    def __iter__(self) -> Iterator[RequestState]:
        return iter(self.states)

    def __len__(self) -> int:
        return len(self.states)


@dataclass(frozen=True, slots=True)
class RequestUpdate:
    """One update of FixMyStreet's `servicerequestupdates` extension: a change on a request,
    with its status then (upper case, as FixMyStreet writes them) and the CRM's note. `state`
    reads it as a `RequestState`, the note as its status notes, for `statuses.closure_of`."""

    update_id: str
    service_request_id: str
    status: str
    extended_status: str | None
    description: str | None
    updated_at: datetime | None
    media_url: str | None = None

    @property
    def state(self) -> RequestState:
        return RequestState(
            service_request_id=self.service_request_id,
            status=self.status,
            extended_status=self.extended_status,
            status_notes=self.description,
            description=None,
            requested_at=None,
            updated_at=self.updated_at,
            expected_at=None,
        )


@dataclass(frozen=True, slots=True)
class UpdatesPage:
    """A page of updates: the ones we could read, and how many we could not."""

    updates: list[RequestUpdate]
    skipped: int = 0
    problems: tuple[str, ...] = field(default=())

    def __iter__(self) -> Iterator[RequestUpdate]:
        return iter(self.updates)

    def __len__(self) -> int:
        return len(self.updates)


# ---------------------------------------------------------------------------------------------
# The answers


def parse_services(body: bytes, fmt: Format) -> list[Service]:
    """`GET services.{fmt}`: the CRM's services. A service without a usable code is a DataError
    (a city maps its categories to these codes: a list that lost one would mislead `doctor`)."""
    items = _items(_document(body, fmt, "services", "service"), "services")
    services = []
    for index, item in enumerate(items):
        where = f"services[{index}]"
        record = _record(item, where)
        code = _code(record.get("service_code"), f"{where}.service_code")
        services.append(
            Service(
                code=code,
                name=_text(record.get("service_name"), MAX_NAME) or code,
                description=_text(record.get("description"), MAX_TEXT) or "",
                metadata=_bool(record.get("metadata"), f"{where}.metadata", default=False),
                type=(_text(record.get("type"), MAX_NAME) or "realtime").lower(),
                keywords=_keywords(record.get("keywords")),
                group=_text(record.get("group"), MAX_NAME),
            )
        )
    return services


def parse_definition(body: bytes, fmt: Format) -> ServiceDefinition:
    """`GET services/{code}.{fmt}`: the service's attributes, sorted by their `order` (those
    without one last, as the CRM listed them). One attribute that cannot be read fails the
    whole definition: a required attribute we skipped would be one we never fill."""
    document = _document(body, fmt, "service_definition", None)
    if isinstance(document, list) and len(document) == 1:
        document = document[0]  # in an array, as some endpoints write every answer
    record = _record(document, "service_definition")
    code = _code(record.get("service_code"), "service_definition.service_code")
    raw = record.get("attributes")
    if raw is None or raw == "":
        raw = []
    if not isinstance(raw, list):
        raise DataError(f"service_definition.attributes: expected a list, got {kind(raw)}")
    attributes = [_attribute(item, f"attributes[{i}]") for i, item in enumerate(raw)]
    attributes.sort(key=lambda a: (a.order is None, a.order or 0))
    return ServiceDefinition(code, tuple(attributes))


def parse_accepted(body: bytes, fmt: Format) -> Accepted:
    """The answer to `POST requests.{fmt}` (the new request's id, or a token) and to
    `GET tokens/{token}.{fmt}` (the id the token became; no id yet while it is pending).
    An answer with neither an id nor a token is a DataError: it tells us nothing we can keep.
    One object instead of the spec's array is read too: refusing an answer that says where our
    request went would make a filed request look lost."""
    document = _document(body, fmt, "service_requests", "request")
    if isinstance(document, Mapping) and ("service_request_id" in document or "token" in document):
        document = [document]
    items = _items(document, "service_requests")
    if not items:
        raise DataError("service_requests: the answer holds no request")
    record = _record(items[0], "service_requests[0]")
    request_id = _id(record.get("service_request_id"), "service_request_id")
    token = _id(record.get("token"), "token")
    if request_id is None and token is None:
        raise DataError("service_requests[0]: neither a service_request_id nor a token")
    return Accepted(request_id, token, _text(record.get("service_notice"), MAX_TEXT))


def parse_errors(body: bytes, fmt: Format) -> list[CrmError]:
    """The spec's errors body (`[{"code", "description"}]`, `errors/error`). Never raises:
    a body that is not one (an HTML error page, nothing at all) is []."""
    try:
        document = _document(body, fmt, "errors", "error")
    except (DataError, RecursionError):
        return []
    if isinstance(document, Mapping) and "errors" not in document:
        document = [document]  # one error, not in a list
    try:
        items = _items(document, "errors")
    except DataError:
        return []
    errors = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        code = item.get("code")
        description = item.get("description")
        code_text = _text(str(code) if _scalar(code) else None, MAX_ID) or ""
        text = _text(description if isinstance(description, str) else None, MAX_ERROR) or ""
        if code_text or text:
            errors.append(CrmError(code_text, text))
    return errors


def parse_requests(body: bytes, fmt: Format) -> RequestsPage:
    """`GET requests.{fmt}`: the requests' states. One request that cannot be read (no id that
    is one, no status) is skipped and counted."""
    items = _items(_document(body, fmt, "service_requests", "request"), "service_requests")
    states: list[RequestState] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        try:
            states.append(_request_state(item, f"service_requests[{index}]"))
        except DataError as error:
            problems.append(clean_text(str(error))[:MAX_ERROR])
    return RequestsPage(states, len(problems), tuple(problems))


def parse_updates(body: bytes, fmt: Format) -> UpdatesPage:
    """`GET servicerequestupdates.{fmt}`, FixMyStreet's extension: what changed on requests
    since a time (`service_requests_updates/request_update`). One update that cannot be read
    is skipped and counted, as in `parse_requests`."""
    document = _document(body, fmt, "service_requests_updates", "request_update")
    items = _items(document, "service_requests_updates")
    updates: list[RequestUpdate] = []
    problems: list[str] = []
    for index, item in enumerate(items):
        try:
            updates.append(_request_update(item, f"service_requests_updates[{index}]"))
        except DataError as error:
            problems.append(clean_text(str(error))[:MAX_ERROR])
    return UpdatesPage(updates, len(problems), tuple(problems))


# ---------------------------------------------------------------------------------------------
# Items


def _attribute(item: Any, where: str) -> Attribute:
    record = _record(item, where)
    code = _code(record.get("code"), f"{where}.code")
    raw_values = record.get("values")
    if raw_values is None or raw_values == "":
        raw_values = []
    if not isinstance(raw_values, list):
        raise DataError(f"{where}.values: expected a list, got {kind(raw_values)}")
    values = []
    for index, value in enumerate(raw_values):
        pair = _record(value, f"{where}.values[{index}]")
        key = _code(pair.get("key"), f"{where}.values[{index}].key")
        values.append((key, _text(pair.get("name"), MAX_NAME) or key))
    datatype = _text(record.get("datatype"), MAX_NAME)
    if datatype is None:
        raise DataError(f"{where}.datatype: missing")
    return Attribute(
        code=code,
        datatype=datatype.lower(),
        required=_bool(record.get("required"), f"{where}.required", default=False),
        description=_text(record.get("description"), MAX_TEXT) or "",
        values=tuple(values),
        variable=_bool(record.get("variable"), f"{where}.variable", default=True),
        order=_int(record.get("order"), f"{where}.order"),
    )


def _request_state(item: Any, where: str) -> RequestState:
    record = _record(item, where)
    request_id = _request_id(record, where)
    status, extended = _status(record, where)
    return RequestState(
        service_request_id=request_id,
        status=status,
        extended_status=extended,
        status_notes=_text(record.get("status_notes"), MAX_TEXT),
        description=_text(record.get("description"), MAX_TEXT),
        requested_at=_datetime(record.get("requested_datetime")),
        updated_at=_datetime(record.get("updated_datetime")),
        expected_at=_datetime(record.get("expected_datetime")),
        service_code=_code_or_none(record.get("service_code")),
    )


def _request_update(item: Any, where: str) -> RequestUpdate:
    record = _record(item, where)
    if set(record) == {"request_update"}:
        record = _record(record["request_update"], where)  # {"request_update": {...}}
    update_id = _id(record.get("update_id"), f"{where}.update_id")
    if update_id is None:
        raise DataError(f"{where}.update_id: missing")
    status, extended = _status(record, where)
    media = _text(record.get("media_url"), MAX_TEXT)
    return RequestUpdate(
        update_id=update_id,
        service_request_id=_request_id(record, where),
        status=status,
        extended_status=extended,
        description=_text(record.get("description"), MAX_TEXT),
        updated_at=_datetime(record.get("updated_datetime")),
        media_url=media if media and media.lower().startswith(("https://", "http://")) else None,
    )


def _request_id(record: Mapping[str, Any], where: str) -> str:
    request_id = _id(record.get("service_request_id"), f"{where}.service_request_id")
    if request_id is None:
        raise DataError(f"{where}.service_request_id: missing")
    return request_id


def _status(record: Mapping[str, Any], where: str) -> tuple[str, str | None]:
    """ "open" or "closed", and the extended status if the CRM gave one: in its own field, or
    as the status itself, as FixMyStreet's endpoints write it ("ACTION_SCHEDULED"). A word we
    do not know is kept to be shown, and read as open: nothing is done on a guess."""
    # Imported here: statuses reads RequestState, which this module defines.
    from socialbot.open311.statuses import plain_status

    word = _text(record.get("status"), MAX_NAME)
    extended = _text(record.get("extended_status"), MAX_NAME)
    if word is None:
        raise DataError(f"{where}.status: missing")
    status = word.lower()
    if status not in ("open", "closed"):
        extended = extended or word
        status = plain_status(_extended_word(extended)) or "open"
    return status, _extended_word(extended) if extended else None


def _extended_word(word: str) -> str:
    """An extended status as `statuses` writes them: "Action scheduled" → "ACTION_SCHEDULED"."""
    return re.sub(r"[\s-]+", "_", word.strip()).upper()


# ---------------------------------------------------------------------------------------------
# Values


def _record(item: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise DataError(f"{where}: expected an object, got {kind(item)}")
    return item


def _scalar(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    )


def _text(value: Any, limit: int) -> str | None:
    """A text value, storable and cut to `limit`; None for nothing, an empty one, or a value
    that is not text (a number is its digits: XML cannot tell them apart)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        if not _scalar(value):
            return None
        value = str(value)
    if not isinstance(value, str):
        return None
    value = clean_text(value).strip()
    return value[:limit] or None


def _code(value: Any, where: str) -> str:
    """A service code or an attribute's code or key: text or a whole number (`"001"`, `12`)."""
    code = _code_or_none(value)
    if code is None:
        raise DataError(f"{where}: expected a code, got {short(value)}")
    return code


def _code_or_none(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    code = value.strip()
    if not code or len(code) > MAX_ID or _CONTROL.search(code) or clean_text(code) != code:
        return None
    return code


def _id(value: Any, where: str) -> str | None:
    """A request id or a token: text or a whole number (the spec's examples are numbers); None
    when absent. One we could not send back as it came is a DataError."""
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise DataError(f"{where}: expected text, got {kind(value)}")
    text = value.strip()
    if not text:
        return None
    if not _ID.fullmatch(text) or clean_text(text) != text:
        raise DataError(f"{where}: {short(text)} is not an id we can ask for again")
    return text


def _bool(value: Any, where: str, *, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise DataError(f"{where}: expected true or false, got {short(value)}")


def _int(value: Any, where: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,9}\s*", value):
        number = int(value)
    else:
        raise DataError(f"{where}: expected a whole number, got {short(value)}")
    if abs(number) >= 10**9:
        raise DataError(f"{where}: {number} is out of range")
    return number


def _keywords(value: Any) -> tuple[str, ...]:
    """The spec's keywords are one comma-separated text; a list of texts is read as well."""
    if isinstance(value, str):
        words = value.split(",")
    elif isinstance(value, list):
        words = [w for w in value if isinstance(w, str)]
    else:
        return ()
    cleaned = (_text(w, MAX_NAME) for w in words[:100])
    return tuple(w for w in cleaned if w)


def _datetime(value: Any) -> datetime | None:
    """A W3C date-time as UTC. One without an offset is taken as UTC (the spec requires the
    offset); one we cannot read is None: a date is never worth losing the request over."""
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        return None
    text = value.strip()
    if text[-1:] in ("z", "Z"):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


# ---------------------------------------------------------------------------------------------
# Bodies: JSON and XML as the same values (objects, lists, texts)


def _document(body: bytes, fmt: Format, root: str, item: str | None) -> Any:
    """`body` read as JSON, or as XML whose root is `root`: a list of `item` records, or (for
    `item` None) one record. Each XML element with children is an object of its children's
    texts, except those the spec uses as lists (`values`, `attributes`)."""
    if not isinstance(body, bytes | bytearray):
        raise DataError(f"{root}: expected the answer's bytes, got {kind(body)}")
    if len(body) > MAX_BODY:
        raise DataError(f"{root}: the answer is {len(body):,} bytes; at most {MAX_BODY:,} are read")
    if fmt == "json":
        return _json(bytes(body), root)
    if fmt == "xml":
        return _xml(bytes(body), root, item)
    raise DataError(f"{root}: unknown format {short(fmt)} (json or xml)")


def _json(body: bytes, root: str) -> Any:
    try:
        text = body.decode("utf-8-sig")
        return json.loads(text, parse_constant=_no_constant)
    except UnicodeDecodeError as error:
        raise DataError(f"{root}: the answer is not UTF-8 ({error.reason})") from None
    except RecursionError:
        raise DataError(f"{root}: the answer is nested too deeply") from None
    except ValueError as error:
        raise DataError(f"{root}: not JSON ({short(str(error))})") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


# Elements whose children are a list, whatever their names: the spec's lists inside records.
_LISTS = frozenset({"attributes", "values"})


def _xml(body: bytes, root: str, item: str | None) -> Any:
    try:
        # forbid_dtd: an Open311 answer has no DTD, and one is how entity bombs and external
        # entities come in; defusedxml refuses those too, should a DTD ever be allowed.
        element = SafeElementTree.fromstring(body, forbid_dtd=True)
    except defusedxml.DefusedXmlException as error:
        raise DataError(f"{root}: the XML was refused ({type(error).__name__})") from None
    except ElementTree.ParseError as error:
        raise DataError(f"{root}: not XML ({short(str(error))})") from None
    except (ValueError, RecursionError) as error:
        raise DataError(f"{root}: not XML ({type(error).__name__})") from None
    if _local(element.tag) != root:
        raise DataError(f"{root}: the XML's root is {short(_local(element.tag))}, not {root}")
    try:
        if item is None:
            return _xml_value(element)
        return [_xml_value(child) for child in element if _local(child.tag) == item]
    except RecursionError:
        raise DataError(f"{root}: the XML is nested too deeply") from None


def _xml_value(element: ElementTree.Element) -> Any:
    children = [child for child in element if isinstance(child.tag, str)]
    if not children:
        return element.text or ""
    if _local(element.tag) in _LISTS:
        return [_xml_value(child) for child in children]
    record: dict[str, Any] = {}
    for child in children:
        record.setdefault(_local(child.tag), _xml_value(child))  # the first one counts
    return record


def _local(tag: Any) -> str:
    """A tag without its namespace (`{urn:x}service` → `service`): some endpoints add one."""
    text = tag if isinstance(tag, str) else ""
    return text.rsplit("}", 1)[-1]


def _items(document: Any, root: str) -> list[Any]:
    """The spec's JSON array; also an object wrapping it under the root's name, as some
    endpoints write it (`{"service_requests": [...]}`)."""
    if isinstance(document, Mapping) and isinstance(document.get(root), list):
        document = document[root]
    if not isinstance(document, list):
        raise DataError(f"{root}: expected a list, got {kind(document)}")
    return document
