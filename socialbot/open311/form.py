"""A case as the form of `POST requests.{fmt}`. Pure: the case's facts in, the fields out.

The description is the city's own record of the report, not a public reply: it carries the
resident's words as they posted them, the category, the source network and the photos the
single `media_url` cannot. Its first line is our reference ("socialbot case #123"): a POST
whose answer was lost is found again by it (`case_of_reference`), and first, because a CRM
that cuts long descriptions cuts their end. The whole stays within the spec's 4,000
characters: the resident's words are what is shortened.

The resident's handle is personal data the city may not want in its CRM: it is sent only when
the city opts in (`with_handle`). A phone number never goes: an SMS case has no handle (its
author's id, the number, is not in the form at all), a number in the words is masked, and the
photos are those anyone may see (`ForwardedCase.photo_urls`: a CRM's `GET requests` shows its
`media_url` to anyone).

Where the case is: the spec requires `lat` and `long`, or `address_string`, or `address_id`. A
case located by a point sends the point, and its address in words too when the resident wrote
one (the CRM's staff read it, and the point is what its map shows); a case filed by its address
alone (no geocoder, or it found no point) sends `address_string` only; a case with neither is
never sent (`enqueue_due` queues none).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from socialbot.errors import SocialbotError
from socialbot.sms.phone import masked_in

MAX_DESCRIPTION = 4000  # GeoReport v2: "free form text limited to 4,000 characters"
# The spec sets no length for `address_string`; a resident's address is a few words, and a CRM's
# column is commonly 255 characters.
MAX_ADDRESS = 255

# An attribute's value from the catalog: a fixed text, or one of these, filled in per case.
AttributeValue = str
CATEGORY = "{category}"  # our category's key ("pothole")
DISTRICT = "{district}"  # the case's district (SOCIALBOT_DISTRICTS); none, and it is not sent
NETWORK = "{network}"  # the network the report came from ("mastodon")
PLACEHOLDERS = frozenset({CATEGORY, DISTRICT, NETWORK})

# Found again however a CRM re-spaced or re-cased it; "#12abc" is not a reference to case 12.
_REFERENCE = re.compile(r"\bsocialbot\s+case\s*#\s*([0-9]{1,18})(?!\w)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class ForwardedCase:
    """What the form needs of a case: its id and category (key and name as residents see it),
    its location, the resident's words and photos, where it came from, and who posted it."""

    id: int
    category: str
    category_name: str
    lat: float | None
    lon: float | None
    description: str
    # Of a public post only, and only web addresses: a private text's photo (a file of ours,
    # `networks/sms/photos`) never leaves the city (`Case.public_photo_urls`).
    photo_urls: tuple[str, ...] = ()
    network: str = ""
    district: str | None = None
    author_username: str | None = None
    address: str | None = None  # the address in words the resident wrote (`Case.address`)


@dataclass(frozen=True, slots=True)
class ServiceRule:
    """How a category is filed: the CRM's service code, and a value for each attribute (by the
    attribute's code), fixed or one of `PLACEHOLDERS`."""

    service_code: str
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)


def reference(case_id: int) -> str:
    """The text every description carries to be found again: "socialbot case #123"."""
    return f"socialbot case #{case_id}"


def case_of_reference(description: str) -> int | None:
    """The case a description names by `reference`, wherever the CRM put it among its own
    text, in whatever case and spacing; the first one counts (ours is the first line; one
    further down is the resident's words, which may be anything). None if there is none."""
    match = _REFERENCE.search(description)
    return int(match.group(1)) if match else None


def unknown_placeholder(value: AttributeValue) -> bool:
    """Whether `value` looks like a placeholder ("{...}") but is none of ours (a typo the
    catalog should refuse, rather than send "{distrcit}" to the CRM)."""
    return value.startswith("{") and value.endswith("}") and value not in PLACEHOLDERS


def attribute_value(value: AttributeValue, case: ForwardedCase) -> str | None:
    """`value` for `case`: a placeholder filled in, a fixed text as it is; None when the case
    has nothing for it (no district), and then the attribute is not sent."""
    if value == CATEGORY:
        return case.category
    if value == DISTRICT:
        return case.district or None
    if value == NETWORK:
        return case.network or None
    return value


def description(case: ForwardedCase, *, with_handle: bool) -> str:
    """The request's description (see the module's docstring)."""
    head = [reference(case.id), case.category_name]
    if case.network:
        head.append(f"Reported on {case.network}")
    if with_handle and case.author_username:
        head.append("by @" + case.author_username.removeprefix("@"))
    first = " · ".join(head)
    tail = ""
    if len(case.photo_urls) > 1:
        tail = "\n\nMore photos:\n" + "\n".join(case.photo_urls[1:])
    # A phone number in the resident's words (their own, or anyone's) is not the CRM's to keep,
    # nor its public `GET requests` to show: masked but its last two digits.
    words = masked_in(case.description.strip())
    room = MAX_DESCRIPTION - len(first) - len(tail) - 2
    if len(words) > room:
        words = words[: max(room - 1, 0)].rstrip() + "…" if room > 0 else ""
    text = first + ("\n\n" + words if words else "") + tail
    return text[:MAX_DESCRIPTION]


def request_form(
    case: ForwardedCase,
    rules: ServiceRule,
    *,
    api_key: str | None,
    jurisdiction_id: str | None,
    with_handle: bool,
) -> list[tuple[str, str]]:
    """The fields of `POST requests.{fmt}` for `case`, in order. The API key is among them:
    the caller never logs the form."""
    where = _where(case)
    fields: list[tuple[str, str]] = []
    if api_key:
        fields.append(("api_key", api_key))
    if jurisdiction_id:
        fields.append(("jurisdiction_id", jurisdiction_id))
    fields += [
        ("service_code", rules.service_code),
        *where,
        ("description", description(case, with_handle=with_handle)),
    ]
    if case.photo_urls:
        fields.append(("media_url", case.photo_urls[0]))
    for code, value in rules.attributes.items():
        resolved = attribute_value(value, case)
        if resolved is not None:
            fields.append((f"attribute[{code}]", resolved))
    return fields


def _where(case: ForwardedCase) -> list[tuple[str, str]]:
    """`lat` and `long`, and `address_string` when the case has an address (see the module's
    docstring); a SocialbotError for a case with neither, or with a point that is none."""
    address = " ".join((case.address or "").split())[:MAX_ADDRESS]
    named = [("address_string", address)] if address else []
    if case.lat is None or case.lon is None:
        if not named:
            raise SocialbotError(f"case #{case.id}: no location to send (no point, no address)")
        return named
    if not (math.isfinite(case.lat) and math.isfinite(case.lon)):
        raise SocialbotError(
            f"case #{case.id}: no location to send (lat {case.lat}, lon {case.lon})"
        )
    if not (-90 <= case.lat <= 90 and -180 <= case.lon <= 180):
        raise SocialbotError(f"case #{case.id}: lat {case.lat}, lon {case.lon} is no location")
    return [("lat", _degrees(case.lat)), ("long", _degrees(case.lon)), *named]


def _degrees(value: float) -> str:
    """Degrees with 7 decimals (a centimetre), never in exponent form: "-87.6647515"."""
    return f"{value:.7f}".rstrip("0").rstrip(".") or "0"
