"""`GET requests`' filters as clients write them (`open311.queries`): the spec's rules, one
message naming the parameter for each mistake, and any text at all read without a surprise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialbot.errors import QueryError
from socialbot.open311.queries import RequestsQuery, parse_case_number, parse_requests_query

NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


def problem(**parameters: str) -> str:
    with pytest.raises(QueryError) as caught:
        parse_requests_query(now=NOW, **parameters)
    return str(caught.value)


def test_no_filter_is_the_last_90_days_of_every_code_and_status() -> None:
    assert parse_requests_query(now=NOW) == RequestsQuery(start=NOW - timedelta(days=90))


def test_request_ids_override_every_other_filter() -> None:
    query = parse_requests_query(
        now=NOW, service_request_id="3, 11,3", service_code="pothole", status="open"
    )
    assert query == RequestsQuery(numbers=(3, 11))


def test_codes_and_statuses_are_comma_lists() -> None:
    query = parse_requests_query(now=NOW, service_code="pothole,graffiti", status="OPEN")
    assert (query.codes, query.open) == (("pothole", "graffiti"), True)
    assert parse_requests_query(now=NOW, status="closed").open is False
    assert parse_requests_query(now=NOW, status="open,closed").open is None


def test_dates_are_w3c_with_a_zone_and_read_as_utc() -> None:
    query = parse_requests_query(
        now=NOW, start_date="2026-11-24T12:49:18-05:00", end_date="2026-11-30T00:00:00Z"
    )
    assert (query.start, query.end) == (
        datetime(2026, 11, 24, 17, 49, 18, tzinfo=UTC),
        datetime(2026, 11, 30, tzinfo=UTC),
    )


def test_one_date_alone_makes_a_90_day_range_from_it() -> None:
    start = parse_requests_query(now=NOW, start_date="2026-01-01T00:00:00Z")
    end = parse_requests_query(now=NOW, end_date="2026-04-01T00:00:00Z")
    assert start.end == datetime(2026, 4, 1, tzinfo=UTC)
    assert end.start == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (
            {"start_date": "2026-11-24T12:49:18"},
            "start_date: has no time zone; write a W3C date-time with its time zone, "
            "e.g. 2026-11-24T12:49:18-05:00",
        ),
        (
            {"end_date": "2026-11-24"},
            "end_date: has no time zone; write a W3C date-time with its time zone, "
            "e.g. 2026-11-24T12:49:18-05:00",
        ),
        (
            {"start_date": "yesterday"},
            "start_date: not a W3C date-time with its time zone, e.g. 2026-11-24T12:49:18-05:00",
        ),
        (
            {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
            "start_date: to end_date spans more than 90 days (the spec's most)",
        ),
        (
            {"start_date": "2026-06-01T00:00:00Z", "end_date": "2026-01-01T00:00:00Z"},
            "end_date: is before start_date",
        ),
        ({"start_date": "0001-01-01T00:00:00+01:00"}, "start_date: is out of range"),
        ({"status": "pending"}, "status: 'pending' is neither open nor closed"),
        ({"service_request_id": "3,abc"}, "service_request_id: 'abc' is not a request id of ours"),
        (
            {"service_request_id": "99999999999999999999"},
            "service_request_id: '99999999999999999999' is not a request id of ours",
        ),
        (
            {"service_request_id": ",".join(["1"] * 1001)},
            "service_request_id: at most 1000 ids, not 1001",
        ),
    ],
)
def test_each_mistake_names_its_parameter(parameters: dict[str, str], message: str) -> None:
    assert problem(**parameters) == message


def test_a_path_id_is_a_case_number_or_nothing() -> None:
    assert [parse_case_number(t) for t in ("11", " 7 ", "0", "-1", "1e3", "١٢", "9" * 20)] == [
        11,
        7,
        None,
        None,
        None,
        None,  # Arabic-Indic digits: int() reads them, no client sends them
        None,
    ]


optional_text = st.none() | st.text(max_size=60)


@given(
    ids=optional_text,
    codes=optional_text,
    status=optional_text | st.sampled_from(["open", "closed", "open,closed"]),
    start=optional_text | st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
    end=optional_text | st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
)
def test_any_parameters_are_a_query_or_a_query_error(
    ids: str | None, codes: str | None, status: str | None, start: str | None, end: str | None
) -> None:
    try:
        query = parse_requests_query(
            now=NOW,
            service_request_id=ids,
            service_code=codes,
            status=status,
            start_date=start,
            end_date=end,
        )
    except QueryError as error:
        assert error.parameter in {
            "service_request_id",
            "service_code",
            "status",
            "start_date",
            "end_date",
        }
        return
    for moment in (query.start, query.end):
        assert moment is None or moment.utcoffset() == timedelta(0)
    if query.start is not None and query.end is not None:
        assert timedelta(0) <= query.end - query.start <= timedelta(days=90)
