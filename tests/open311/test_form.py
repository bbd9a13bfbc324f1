"""A case as the form of `POST requests.{fmt}`, and our reference found back in what a CRM
keeps of the description."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialbot.errors import SocialbotError
from socialbot.open311 import form
from socialbot.open311.form import ForwardedCase, ServiceRule, case_of_reference, reference

PHOTOS = (
    "https://cdn.example/media/one.jpg",
    "https://cdn.example/media/two.jpg",
    "https://cdn.example/media/three.jpg",
)
CASE = ForwardedCase(
    id=123,
    category="pothole",
    category_name="Pothole",
    lat=42.3601,
    lon=-71.0589,
    description="Deep pothole by the school,\nright at the crossing!",
    photo_urls=PHOTOS,
    network="mastodon",
    district="Ward 3",
    author_username="alice@city.example",
)
RULE = ServiceRule("CSROWR-12", {"SEVERITY": "high", "WARD": "{district}", "SRC": "{network}"})


def fields(
    case: ForwardedCase = CASE,
    rule: ServiceRule = RULE,
    *,
    api_key: str | None = "k3y",
    jurisdiction_id: str | None = None,
    with_handle: bool = False,
) -> dict[str, str]:
    pairs = form.request_form(
        case, rule, api_key=api_key, jurisdiction_id=jurisdiction_id, with_handle=with_handle
    )
    assert len({name for name, _ in pairs}) == len(pairs), "a field twice"
    return dict(pairs)


def test_a_case_with_several_photos() -> None:
    sent = fields()
    assert sent["service_code"] == "CSROWR-12"
    assert sent["lat"] == "42.3601" and sent["long"] == "-71.0589"
    assert sent["media_url"] == PHOTOS[0]
    assert sent["api_key"] == "k3y"
    assert "jurisdiction_id" not in sent
    text = sent["description"]
    assert text.splitlines()[0] == "socialbot case #123 · Pothole · Reported on mastodon"
    assert "Deep pothole by the school,\nright at the crossing!" in text  # as posted
    assert PHOTOS[0] not in text  # it is the media_url
    assert text.endswith(f"More photos:\n{PHOTOS[1]}\n{PHOTOS[2]}")


def test_one_photo_and_none() -> None:
    one = fields(replace(CASE, photo_urls=PHOTOS[:1]))
    assert one["media_url"] == PHOTOS[0] and "photos" not in one["description"]
    none = fields(replace(CASE, photo_urls=()))
    assert "media_url" not in none


def test_no_handle_unless_the_city_opts_in() -> None:
    handle = "alice@city.example"
    assert all(handle not in value for value in fields().values())
    opted = fields(with_handle=True)
    assert opted["description"].splitlines()[0].endswith(" · by @alice@city.example")
    x_style = fields(replace(CASE, author_username="@bob"), with_handle=True)
    assert x_style["description"].splitlines()[0].endswith(" · by @bob")
    # opted in, but a case without a known author sends none
    nobody = fields(replace(CASE, author_username=None), with_handle=True)
    assert "by " not in nobody["description"].splitlines()[0]


def test_jurisdiction_and_no_api_key() -> None:
    sent = fields(api_key=None, jurisdiction_id="city.example")
    assert sent["jurisdiction_id"] == "city.example" and "api_key" not in sent


def test_attribute_rules_resolved_per_case() -> None:
    sent = fields()
    assert sent["attribute[SEVERITY]"] == "high"  # fixed
    assert sent["attribute[WARD]"] == "Ward 3"
    assert sent["attribute[SRC]"] == "mastodon"
    other = fields(replace(CASE, id=7, district="Ward 9", network="bluesky"))
    assert other["attribute[WARD]"] == "Ward 9" and other["attribute[SRC]"] == "bluesky"
    # no district: the attribute is not sent (the CRM says so, if it needs it)
    assert "attribute[WARD]" not in fields(replace(CASE, district=None))
    category = fields(rule=ServiceRule("1", {"KIND": "{category}"}))
    assert category["attribute[KIND]"] == "pothole"


def test_placeholders() -> None:
    assert {"{category}", "{district}", "{network}"} == form.PLACEHOLDERS
    assert form.unknown_placeholder("{distrcit}")
    assert not form.unknown_placeholder("{district}")
    assert not form.unknown_placeholder("high")


def test_the_form_encodes_and_decodes_as_sent() -> None:
    pairs = form.request_form(CASE, RULE, api_key="k", jurisdiction_id="j", with_handle=False)
    assert parse_qsl(urlencode(pairs)) == pairs


def test_a_long_post_is_cut_never_the_reference_or_the_photos() -> None:
    long = replace(CASE, description="word " * 2000)
    text = fields(long)["description"]
    assert len(text) == form.MAX_DESCRIPTION
    assert text.startswith(reference(123)) and text.endswith(PHOTOS[2])
    assert "…" in text


@pytest.mark.parametrize(("lat", "lon"), [(float("nan"), 0.0), (0.0, float("inf")), (91.0, 0.0)])
def test_a_case_without_a_usable_location_is_refused(lat: float, lon: float) -> None:
    with pytest.raises(SocialbotError, match="#123"):
        fields(replace(CASE, lat=lat, lon=lon))


def test_degrees_never_in_exponent_form() -> None:
    sent = fields(replace(CASE, lat=1e-8, lon=-0.00001))
    assert sent["lat"] == "0" and sent["long"] == "-0.00001"


# ---------------------------------------------------------------------------------------------
# The reference, found back


def test_reference_round_trip() -> None:
    assert reference(123) == "socialbot case #123"
    assert case_of_reference(reference(123)) == 123


@pytest.mark.parametrize(
    "kept",
    [
        "Via Open311: socialbot case #123 · Pothole\n\nDeep pothole",
        "[Web intake] SOCIALBOT CASE #123 – Pothole (forwarded)",
        "socialbot  case # 123\r\n--\r\nCRM note: crew sent",
        "<p>socialbot case #123</p><p>Deep pothole</p>",
    ],
)
def test_reference_found_in_what_a_crm_made_of_the_description(kept: str) -> None:
    assert case_of_reference(kept) == 123


def test_the_first_reference_counts_and_the_resident_cannot_fake_it() -> None:
    posted = replace(CASE, description="please see socialbot case #99 too")
    text = fields(posted)["description"]
    assert case_of_reference("CRM: " + text + " socialbot case #5") == 123


@pytest.mark.parametrize(
    "text",
    [
        "",
        "case #123",
        "socialbot #123",
        "socialbot case #",
        "socialbot case #12abc",
        "mysocialbot case #1",
        "socialbot case #\u0663",  # an Arabic-Indic three is no case number we wrote
    ],
)
def test_no_reference(text: str) -> None:
    assert case_of_reference(text) is None


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fuzz_case_of_reference(text: str) -> None:
    found = case_of_reference(text)
    assert found is None or found >= 0


@settings(max_examples=200, deadline=None)
@given(
    case_id=st.integers(1, 10**12),
    words=st.text(),
    photos=st.lists(st.text(min_size=1, max_size=300), max_size=4),
    before=st.text(max_size=50).filter(lambda t: case_of_reference(t) is None),
    after=st.text(max_size=50),
    with_handle=st.booleans(),
)
def test_fuzz_every_description_fits_and_is_found_again(
    case_id: int, words: str, photos: list[str], before: str, after: str, with_handle: bool
) -> None:
    case = replace(CASE, id=case_id, description=words, photo_urls=tuple(photos))
    text = form.description(case, with_handle=with_handle)
    assert len(text) <= form.MAX_DESCRIPTION
    assert case_of_reference(before + " " + text + after) == case_id


# ---------------------------------------------------------------------------------------------
# Where the case is: lat/long, or address_string (GeoReport v2 requires one of lat/long,
# address_string or address_id)


def test_a_case_filed_by_its_address_alone_sends_address_string_and_no_point() -> None:
    by_address = replace(CASE, lat=None, lon=None, address="Main  and\n5th")
    sent = fields(by_address)
    assert sent["address_string"] == "Main and 5th"
    assert "lat" not in sent and "long" not in sent


def test_a_located_case_with_an_address_sends_both() -> None:
    sent = fields(replace(CASE, address="123 Main St, Apt 4"))
    assert (sent["lat"], sent["long"], sent["address_string"]) == (
        "42.3601",
        "-71.0589",
        "123 Main St, Apt 4",
    )
    names = [
        name
        for name, _ in form.request_form(
            CASE, RULE, api_key=None, jurisdiction_id=None, with_handle=False
        )
    ]
    assert "address_string" not in names  # no address written: none sent


def test_a_case_with_neither_point_nor_address_is_refused_before_any_post() -> None:
    with pytest.raises(SocialbotError, match="case #123: no location to send"):
        fields(replace(CASE, lat=None, lon=None, address=None))
    with pytest.raises(SocialbotError, match="no location to send"):
        fields(replace(CASE, lat=None, lon=None, address="  "))


def test_an_address_is_cut_to_what_a_crm_column_holds() -> None:
    sent = fields(replace(CASE, lat=None, lon=None, address="1 " + "Long " * 100 + "St"))
    assert len(sent["address_string"]) == form.MAX_ADDRESS


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(st.none(), st.text(max_size=300)),
    st.one_of(st.none(), st.tuples(st.floats(-90, 90), st.floats(-180, 180))),
)
def test_any_case_sends_one_of_the_spec_s_locations_or_is_refused(
    address: str | None, point: tuple[float, float] | None
) -> None:
    lat, lon = point if point is not None else (None, None)
    case = replace(CASE, lat=lat, lon=lon, address=address)
    try:
        sent = fields(case)
    except SocialbotError as exc:
        assert point is None and not (address or "").split()
        assert "\n" not in str(exc)
        return
    assert ("lat" in sent and "long" in sent) or sent["address_string"].strip()
    assert "\n" not in sent.get("address_string", "")
