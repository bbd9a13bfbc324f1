"""GeopyGeocoder (geopy's Nominatim and ArcGIS over its RequestsAdapter) on the services' wire
formats, mocked with `responses`: found, not found, outside the city, a 429, a 5xx, a timeout, an
endless body; remembered, paced, held off after a failure; the city's own servers' URLs."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialbot.domain import BBox, GeoPoint
from socialbot.errors import ConfigError, GeocoderError
from socialbot.geocoding import wire
from socialbot.geocoding.adapter import HOLD_SECONDS, MAX_HOLD_SECONDS, GeopyGeocoder
from socialbot.geocoding.base import PUBLIC_NOMINATIM, GeocoderConfig, GeocoderKind
from socialbot.location import CityBounds
from socialbot.logs import setup_logging
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


def nominatim(
    time_: FakeTime, bounds: CityBounds | None = BOSTON, **changes: object
) -> GeopyGeocoder:
    config = GeocoderConfig(
        kind=GeocoderKind.NOMINATIM,
        url=NOMINATIM,
        user_agent="socialbot-test (311@example.gov)",
        region="Boston, MA",
        timeout_seconds=2.0,
    )
    for name, value in changes.items():
        config = _replace(config, name, value)
    return GeopyGeocoder(config, bounds, clock=time_.clock, sleep=time_.sleep)


def arcgis(time_: FakeTime, bounds: CityBounds | None = BOSTON) -> GeopyGeocoder:
    config = GeocoderConfig(
        kind=GeocoderKind.ARCGIS, url=LOCATOR, user_agent="socialbot-test", region="Boston, MA"
    )
    return GeopyGeocoder(config, bounds, clock=time_.clock, sleep=time_.sleep)


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
        "viewbox": "-71.19,42.22,-70.98,42.4",
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
        ({"status": 200, "json": {"error": "Internal error"}}, "an error: Internal error"),
        ({"status": 200, "json": {"lat": "1"}}, "cannot read"),
        ({"status": 200, "json": ["x"]}, "cannot read"),
        ({"status": 200, "body": b"[" * 100_000}, "cannot read"),
        ({"status": 200, "body": b" " * (wire.MAX_BODY + 1)}, "more than 1048576 bytes"),
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


def test_a_self_hosted_nominatim_is_asked_at_its_own_path_with_the_timeout(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    """SOCIALBOT_GEOCODER_URL may name a server under a path, and http on localhost."""
    for base in ("https://gis.example.gov/nominatim/", "http://localhost:8088"):
        http.get(f"{base.rstrip('/')}/search", json=[nominatim_house()])
        geocoder = nominatim(time_, url=base)
        assert geocoder.locate(f"123 Main St via {base}") == GeoPoint(42.3523, -71.0552)
        assert geocoder.name == f"nominatim at {base}"
    first, second = http.calls
    assert urlsplit(first.request.url or "")[:3] == (
        "https",
        "gis.example.gov",
        "/nominatim/search",
    )
    assert urlsplit(second.request.url or "")[:3] == ("http", "localhost:8088", "/search")
    assert first.request.req_kwargs["timeout"] == 2.0  # type: ignore[attr-defined]


def test_nominatim_places_without_their_position_are_no_answer(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    """geopy reads a place without `lat`/`lon` as (0, 0), and wraps a longitude past 180: no
    bounds to catch them here, the place itself is refused."""
    house = nominatim_house()
    http.get(
        SEARCH,
        json=[
            {k: v for k, v in house.items() if k not in ("lat", "lon")},
            house | {"lat": None},
            house | {"lon": "200"},
            house | {"lat": True, "lon": 1},
        ],
    )
    assert nominatim(time_, bounds=None).locate("123 Main St") is None


def test_unable_to_geocode_is_no_answer_as_geopy_reads_it(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    http.get(SEARCH, json={"error": "Unable to geocode"})
    geocoder = nominatim(time_)
    assert geocoder.locate("123 Main St") is None
    assert geocoder.locate("123 Main St") is None and len(http.calls) == 1  # remembered


def test_geopy_logs_no_address_nor_body_even_at_debug(
    http: responses.RequestsMock, time_: FakeTime, capsys: pytest.CaptureFixture[str]
) -> None:
    """geopy logs each request's URL (the resident's words) at DEBUG, an error's body at INFO."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    http.get(SEARCH, status=500, body="internal trouble at 123 Main St")
    try:
        setup_logging("DEBUG")
        with pytest.raises(GeocoderError, match="HTTP 500"):
            nominatim(time_).locate("123 Main St")
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.getLogger("geopy").setLevel(logging.NOTSET)
    written = capsys.readouterr().err
    assert "Main" not in written and "internal trouble" not in written


def test_a_sample_user_agent_for_the_public_server_is_a_setting_to_fix() -> None:
    with pytest.raises(ConfigError, match="SOCIALBOT_GEOCODER_USER_AGENT: 'my-application'"):
        nominatim(FakeTime(), url=PUBLIC_NOMINATIM, user_agent="my-application")
    nominatim(FakeTime(), url=NOMINATIM, user_agent="my-application").close()  # the city's own


def test_nothing_is_retried_unpaced() -> None:
    """geopy's adapter retries a failed connection twice by default: a second request at once,
    past the pacing, to a server that is down; the hold-off waits instead."""
    geocoder = nominatim(FakeTime())
    session = geocoder._service.adapter.session
    for scheme in ("https://", "http://"):
        assert session.get_adapter(scheme).max_retries.total == 0
    geocoder.close()


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
    assert params["maxLocations"] == "5" and params["outFields"] == "Addr_type"
    assert http.calls[0].request.headers["User-Agent"] == "socialbot-test"
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


def test_arcgis_asks_the_citys_locator_not_esris_world_one(
    http: responses.RequestsMock, time_: FakeTime
) -> None:
    """geopy's ArcGIS asks geocode.arcgis.com's World locator; the city's is its own URL."""
    http.get(CANDIDATES, json=arcgis_answer(arcgis_candidate()))
    geocoder = arcgis(time_)
    assert geocoder.locate("123 Main St") == GeoPoint(42.3523, -71.0552)
    url = urlsplit(http.calls[0].request.url or "")
    assert f"{url.scheme}://{url.netloc}{url.path}" == CANDIDATES
    assert geocoder.name == f"arcgis at {LOCATOR}"


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


# One geocoder of each kind for every example (building one loads the CA store: 20 ms); each
# example asks a new address, after any hold-off.
_TIME = FakeTime()
_GEOCODERS: dict[str, GeopyGeocoder] = {}
_ASKED = iter(range(10**9))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(_BODIES)
def test_any_answer_is_a_point_in_the_city_none_or_our_error(body: bytes) -> None:
    """Through geopy's reading and ours: whatever the body, a point in the city, None, or a
    `GeocoderError` of one line, never another exception."""
    for url, make in ((SEARCH, nominatim), (CANDIDATES, arcgis)):
        geocoder = _GEOCODERS.get(url) or _GEOCODERS.setdefault(url, make(_TIME))
        _TIME.now += MAX_HOLD_SECONDS + 1
        with responses.RequestsMock() as mock:
            mock.get(url, body=body, content_type="application/json")
            try:
                point = geocoder.locate(f"{next(_ASKED)} Main St")
            except GeocoderError as exc:
                assert "\n" not in str(exc)
                continue
        assert point is None or BOSTON.contains(point)
