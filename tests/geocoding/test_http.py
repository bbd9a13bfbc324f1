"""HttpGeocoder over Nominatim's and ArcGIS's wire formats, mocked with `responses`: found, not
found, outside the city, a 429, a 5xx, a timeout; remembered, paced, held off after a failure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialbot.domain import BBox, GeoPoint
from socialbot.errors import GeocoderError
from socialbot.geocoding import wire
from socialbot.geocoding.base import GeocoderConfig, GeocoderKind
from socialbot.geocoding.http import HOLD_SECONDS, HttpGeocoder
from socialbot.location import CityBounds
from tests.geocoding.answers import (
    ARCGIS_ERROR,
    arcgis_answer,
    arcgis_candidate,
    nominatim_building,
    nominatim_city,
    nominatim_house,
    nominatim_street,
)

NOMINATIM = "https://nominatim.example.org"
LOCATOR = "https://gis.example.gov/arcgis/rest/services/Locators/Boston/GeocodeServer"
SEARCH = f"{NOMINATIM}/search"
CANDIDATES = f"{LOCATOR}/findAddressCandidates"
BOSTON = CityBounds.from_bbox(BBox(-71.19, 42.22, -70.98, 42.40))


class FakeTime:
    """The geocoder's monotonic clock and sleep: sleeping moves the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


def nominatim(time_: FakeTime, **changes: object) -> HttpGeocoder:
    config = GeocoderConfig(
        kind=GeocoderKind.NOMINATIM,
        url=NOMINATIM,
        user_agent="socialbot-test (311@example.gov)",
        region="Boston, MA",
        timeout_seconds=2.0,
    )
    for name, value in changes.items():
        config = _replace(config, name, value)
    return HttpGeocoder(config, BOSTON, clock=time_.clock, sleep=time_.sleep)


def arcgis(time_: FakeTime, bounds: CityBounds | None = BOSTON) -> HttpGeocoder:
    config = GeocoderConfig(
        kind=GeocoderKind.ARCGIS, url=LOCATOR, user_agent="socialbot-test", region="Boston, MA"
    )
    return HttpGeocoder(config, bounds, clock=time_.clock, sleep=time_.sleep)


def _replace(config: GeocoderConfig, name: str, value: object) -> GeocoderConfig:
    import dataclasses

    return dataclasses.replace(config, **{name: value})


def params_of(call: responses.Call) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(call.request.url or "").query))


# ---------------------------------------------------------------------------------------------
# Nominatim


def test_nominatim_finds_the_house_and_is_asked_as_its_policy_wants(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.get(SEARCH, json=[nominatim_house()])
    point = nominatim(time_).locate("123 Main St")
    assert point == GeoPoint(42.3523, -71.0552)
    (call,) = http.calls
    assert params_of(call) == {
        "q": "123 Main St, Boston, MA",
        "format": "json",
        "limit": "5",
        "addressdetails": "0",
        "viewbox": "-71.19,42.4,-70.98,42.22",
        "bounded": "1",
    }
    assert call.request.headers["User-Agent"] == "socialbot-test (311@example.gov)"


def test_nominatim_takes_a_building_and_skips_a_street_or_a_city(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.get(SEARCH, json=[nominatim_city(), nominatim_street(), nominatim_building()])
    assert nominatim(time_).locate("Main St & 5th Ave") == GeoPoint(42.3601, -71.0589)


def test_nominatim_with_nothing_but_a_street_or_nothing_at_all_is_no_point(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.get(SEARCH, json=[nominatim_street()])
    http.get(SEARCH, json=[])
    geocoder = nominatim(time_)
    assert geocoder.locate("Main & 5th") is None
    assert geocoder.locate("999 Nowhere St") is None


def test_an_answer_outside_the_city_is_no_answer(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    springfield = nominatim_house(42.1015, -72.5898)
    http.get(SEARCH, json=[springfield, nominatim_house(42.3523, -71.0552)])
    assert nominatim(time_).locate("123 Main St") == GeoPoint(42.3523, -71.0552)
    http.replace(responses.GET, SEARCH, json=[springfield])
    assert nominatim(time_).locate("123 Main St") is None


def test_answers_are_remembered_so_a_storm_of_one_corner_asks_once(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.get(SEARCH, json=[nominatim_house()])
    geocoder = nominatim(time_)
    for spelling in ("Main & 5th", "main  &  5TH", "Main & 5th"):
        assert geocoder.locate(spelling) == GeoPoint(42.3523, -71.0552)
    assert len(http.calls) == 1


def test_not_found_is_remembered_too_and_the_memory_is_bounded(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.get(SEARCH, json=[])
    geocoder = nominatim(time_, remembered=2)
    for query in ("1 A St", "2 B St", "1 A St", "3 C St", "2 B St"):
        geocoder.locate(query)
    # 1, 2, (1 remembered), 3 drops 2 (1 was asked since), then 2 again.
    assert [params_of(c)["q"].split(",")[0] for c in http.calls] == [
        "1 A St",
        "2 B St",
        "3 C St",
        "2 B St",
    ]


def test_requests_are_paced_to_the_configured_rate(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.get(SEARCH, json=[])
    geocoder = nominatim(time_)  # 1 a second: Nominatim's public server's policy
    geocoder.locate("1 A St")
    geocoder.locate("2 B St")
    time_.now += 5
    geocoder.locate("3 C St")
    assert time_.slept == [pytest.approx(1.0)]
    fast = nominatim(time_, requests_per_second=4.0)
    fast.locate("4 D St")
    fast.locate("5 E St")
    assert time_.slept[1:] == [pytest.approx(0.25)]


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ({"status": 429, "headers": {"Retry-After": "120"}}, "429"),
        ({"status": 503, "body": "<html>Service Unavailable</html>"}, "HTTP 503"),
        ({"status": 403, "body": "Access blocked"}, "HTTP 403"),
        ({"status": 200, "body": "<html>maintenance</html>"}, "not JSON"),
        ({"status": 200, "json": {"error": "Unable to geocode"}}, "an error"),
        ({"status": 200, "json": {"lat": "1"}}, "not a list"),
        ({"status": 200, "json": ["x"]}, "not a JSON object"),
    ],
)
def test_failures_are_ours_and_hold_the_geocoder_off(
    http: responses.RequestsMock, time_: FakeTime, answer: dict[str, object], said: str
) -> None:
    http.add(responses.GET, SEARCH, **answer)  # type: ignore[arg-type]
    geocoder = nominatim(time_)
    with pytest.raises(GeocoderError, match=said):
        geocoder.locate("123 Main St")
    with pytest.raises(GeocoderError, match="held off"):
        geocoder.locate("9 Other St")  # no request: the outage costs no more time
    assert len(http.calls) == 1
    time_.now += 121 if "429" in said else HOLD_SECONDS + 1
    http.replace(responses.GET, SEARCH, json=[nominatim_house()])
    assert geocoder.locate("123 Main St") == GeoPoint(42.3523, -71.0552)  # failures not kept


def test_a_timeout_or_a_lost_connection_is_ours(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.get(SEARCH, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(GeocoderError, match="did not answer within 2 s"):
        nominatim(time_).locate("123 Main St")
    http.replace(responses.GET, SEARCH, body=requests.ConnectionError("refused"))
    with pytest.raises(GeocoderError, match="could not be reached"):
        nominatim(time_).locate("123 Main St")


def test_a_retry_after_as_a_date_or_nonsense_is_read_within_reason(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.get(SEARCH, status=429, headers={"Retry-After": "soon"})
    geocoder = nominatim(time_)
    with pytest.raises(GeocoderError):
        geocoder.locate("123 Main St")
    time_.now += HOLD_SECONDS + 1
    http.replace(responses.GET, SEARCH, status=429, headers={"Retry-After": "999999999"})
    with pytest.raises(GeocoderError):
        geocoder.locate("123 Main St")
    time_.now += 3601  # an hour at most, whatever the server said
    http.replace(responses.GET, SEARCH, json=[])
    assert geocoder.locate("123 Main St") is None


# ---------------------------------------------------------------------------------------------
# ArcGIS


def test_arcgis_finds_the_address_in_wgs84_within_the_city(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.get(CANDIDATES, json=arcgis_answer(arcgis_candidate()))
    assert arcgis(time_).locate("123 Main St") == GeoPoint(42.3523, -71.0552)
    params = params_of(http.calls[0])
    assert params["SingleLine"] == "123 Main St, Boston, MA"
    assert params["f"] == "json" and params["outSR"] == "4326"
    assert json.loads(params["searchExtent"]) == {
        "xmin": -71.19,
        "ymin": 42.22,
        "xmax": -70.98,
        "ymax": 42.4,
        "spatialReference": {"wkid": 4326},
    }


def test_arcgis_low_scores_areas_and_places_outside_are_no_answer(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.get(
        CANDIDATES,
        json=arcgis_answer(
            arcgis_candidate(score=62),
            arcgis_candidate(kind="StreetName"),
            arcgis_candidate(kind="Locality"),
            arcgis_candidate(-72.5898, 42.1015),  # Springfield's Main St
        ),
    )
    assert arcgis(time_).locate("123 Main St") is None
    http.replace(
        responses.GET,
        CANDIDATES,
        json=arcgis_answer(arcgis_candidate(score=62), arcgis_candidate(score=91.5)),
    )
    assert arcgis(time_).locate("Main & 5th") == GeoPoint(42.3523, -71.0552)


def test_arcgis_without_bounds_sends_no_extent(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.get(CANDIDATES, json=arcgis_answer())
    assert arcgis(time_, bounds=None).locate("123 Main St") is None
    assert "searchExtent" not in params_of(http.calls[0])


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (ARCGIS_ERROR, "an error: 498 Invalid Token"),
        (arcgis_answer(arcgis_candidate(), wkid=2249), "spatial reference 2249"),
        ({"spatialReference": {"wkid": 4326}}, 'no "candidates"'),
        ([], "not an object"),
    ],
)
def test_arcgis_refusals_and_odd_answers_are_ours(
    http: responses.RequestsMock, time_: FakeTime, body: object, said: str
) -> None:
    http.get(CANDIDATES, json=body)
    with pytest.raises(GeocoderError, match=said):
        arcgis(time_).locate("123 Main St")


def test_arcgis_outage_is_ours(http: responses.RequestsMock, time_: FakeTime) -> None:
    http.get(CANDIDATES, status=500, json={"error": {"code": 500, "message": "boom"}})
    with pytest.raises(GeocoderError, match="HTTP 500"):
        arcgis(time_).locate("123 Main St")


# ---------------------------------------------------------------------------------------------
# Any answer at all (hypothesis): a list of points or our error, never another exception

_JSON = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "lat": st.one_of(st.text(max_size=12), st.floats(), st.integers()),
        "lon": st.one_of(st.text(max_size=12), st.floats(), st.integers()),
        "class": st.sampled_from(["place", "building", "highway", "amenity", 3]),
        "type": st.sampled_from(["house", "yes", "city", None]),
        "score": st.one_of(st.floats(), st.integers(), st.text(max_size=3), st.booleans()),
        "location": st.one_of(_JSON, st.fixed_dictionaries({"x": st.floats(), "y": st.floats()})),
        "attributes": _JSON,
        "candidates": st.lists(_JSON, max_size=3),
        "spatialReference": _JSON,
        "error": _JSON,
    },
)
_BODIES = st.one_of(
    _JSON.map(lambda v: json.dumps(v).encode()),
    st.lists(_FIELDS, max_size=4).map(lambda v: json.dumps(v).encode()),
    _FIELDS.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_BODIES)
def test_any_answer_is_points_or_our_error(body: bytes) -> None:
    for read in (wire.nominatim_points, lambda b: wire.arcgis_points(b, 80.0)):
        try:
            points = read(body)
        except GeocoderError as exc:
            assert "\n" not in str(exc)
            continue
        assert all(isinstance(p, GeoPoint) for p in points)
