"""The Open311 client: what it asks, how it reads real cities' answers, how each failure is told."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialbot.errors import CrmRejected, PlatformError, Unavailable
from socialbot.open311.client import MAX_BODY, Open311Client, Timeouts
from socialbot.open311.wire import Format
from tests.open311.crm import API_KEY, ENDPOINT
from tests.recorded import recorded


def client(fmt: Format = "json", jurisdiction_id: str | None = None) -> Open311Client:
    return Open311Client(
        ENDPOINT, api_key=API_KEY, jurisdiction_id=jurisdiction_id, fmt=fmt, timeouts=Timeouts()
    )


def query(call: responses.Call) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(call.request.url or "").query))


@responses.activate
def test_reads_chicagos_service_list_and_toronto_s_requests() -> None:
    responses.get(
        f"{ENDPOINT}/services.json", body=recorded("open311/service_list.json").read_bytes()
    )
    responses.get(
        f"{ENDPOINT}/requests.xml", body=recorded("open311/requests_many.xml").read_bytes()
    )

    services = client("json", "city.example.gov").services()
    page = client("xml").requests(["101005420892", "101005420893"])

    assert [s.code for s in services] == ["001", "002", "003"]
    assert query(responses.calls[0]) == {"jurisdiction_id": "city.example.gov"}
    assert query(responses.calls[1]) == {"service_request_id": "101005420892,101005420893"}
    assert len(page) >= 2 and all(s.service_request_id for s in page)


@responses.activate
def test_a_post_sends_the_form_and_reads_the_new_id() -> None:
    responses.post(f"{ENDPOINT}/requests.json", json=[{"service_request_id": "293944"}])

    accepted = client().post_request([("api_key", API_KEY), ("service_code", "001")])

    assert accepted.service_request_id == "293944"
    assert parse_qsl(responses.calls[0].request.body or "") == [
        ("api_key", API_KEY),
        ("service_code", "001"),
    ]


@responses.activate
def test_a_token_is_asked_after_by_its_own_url() -> None:
    responses.get(
        f"{ENDPOINT}/tokens/12345.xml",
        body="<service_requests><request><service_request_id>638344</service_request_id>"
        "<token>12345</token></request></service_requests>",
    )
    assert client("xml").token("12345").service_request_id == "638344"


@responses.activate
def test_the_lost_post_search_asks_one_service_over_a_time_window() -> None:
    responses.get(f"{ENDPOINT}/requests.json", json=[])
    start = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)

    client().search("001", start, datetime(2026, 11, 23, 13, 0, tzinfo=UTC))

    assert query(responses.calls[0]) == {
        "service_code": "001",
        "start_date": "2026-11-23T11:00:00Z",
        "end_date": "2026-11-23T13:00:00Z",
        "status": "open,closed",
    }


@responses.activate
def test_fixmystreets_updates_are_asked_since_a_time() -> None:
    responses.get(
        f"{ENDPOINT}/servicerequestupdates.xml",
        body="<service_requests_updates><request_update><update_id>7</update_id>"
        "<service_request_id>638344</service_request_id><status>FIXED</status>"
        "<description>Filled</description><updated_datetime>2026-11-23T12:30:00Z"
        "</updated_datetime></request_update></service_requests_updates>",
    )
    start = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    (update,) = client("xml").updates(start, datetime(2026, 11, 23, 13, 0, tzinfo=UTC))

    assert (update.service_request_id, update.state.status_notes) == ("638344", "Filled")
    assert query(responses.calls[0]) == {
        "start_date": "2026-11-23T12:00:00Z",
        "end_date": "2026-11-23T13:00:00Z",
    }


@pytest.mark.parametrize("fmt", ["json", "xml"])
@responses.activate
def test_a_4xx_with_an_errors_body_is_the_crms_own_words(fmt: Format) -> None:
    body = (
        '[{"code": 400, "description": "service_code not found"}]'
        if fmt == "json"
        else "<errors><error><code>400</code><description>service_code not found"
        "</description></error></errors>"
    )
    responses.post(f"{ENDPOINT}/requests.{fmt}", body=body, status=400)

    with pytest.raises(CrmRejected) as err:
        client(fmt).post_request([("service_code", "9")])

    assert [(e.code, e.description) for e in err.value.errors] == [
        ("400", "service_code not found")
    ]
    assert err.value.about_the_case
    assert str(err.value) == (f"the CRM refused requests.{fmt} (400): service_code not found (400)")


@responses.activate
def test_a_4xx_without_an_errors_body_still_says_what_happened() -> None:
    responses.post(f"{ENDPOINT}/requests.json", body="<html>Forbidden</html>", status=403)
    with pytest.raises(CrmRejected) as err:
        client().post_request([])
    assert [(e.code, e.description) for e in err.value.errors] == [("403", "Forbidden")]
    assert not err.value.about_the_case  # our key, not the case


@responses.activate
def test_the_api_key_is_never_in_an_error_even_when_the_crm_echoes_it() -> None:
    echo = f'[{{"code": 403, "description": "api_key {API_KEY} is not valid"}}]'
    responses.post(f"{ENDPOINT}/requests.json", body=echo, status=403)
    responses.post(
        f"{ENDPOINT}/requests.json", body=requests.ConnectionError(f"reset while sending {API_KEY}")
    )
    for _ in range(2):
        with pytest.raises(PlatformError) as err:
            client().post_request([("api_key", API_KEY)])
        assert API_KEY not in str(err.value)
        if isinstance(err.value, CrmRejected):
            assert all(API_KEY not in e.description for e in err.value.errors)
    assert API_KEY not in repr(client())


@responses.activate
def test_a_5xx_or_a_read_timeout_on_a_post_may_have_made_the_request() -> None:
    responses.post(f"{ENDPOINT}/requests.json", body="oops", status=502)
    responses.post(f"{ENDPOINT}/requests.json", body=requests.ReadTimeout("read timed out"))
    responses.post(f"{ENDPOINT}/requests.json", body="[{}", status=201)  # unreadable 2xx
    for said in ("HTTP 502", "timed out", "cannot be read"):
        with pytest.raises(Unavailable) as err:
            client().post_request([])
        assert err.value.maybe_done and said in str(err.value)


@responses.activate
def test_a_connection_never_made_is_no_request_made() -> None:
    refused = requests.ConnectionError("NewConnectionError: [Errno 111] Connection refused")
    responses.post(f"{ENDPOINT}/requests.json", body=refused)
    responses.post(f"{ENDPOINT}/requests.json", body=requests.ConnectTimeout("connect timeout"))
    for _ in range(2):
        with pytest.raises(Unavailable) as err:
            client().post_request([])
        assert not err.value.maybe_done


@responses.activate
def test_a_5xx_on_a_get_is_unavailable_and_no_post_was_involved() -> None:
    responses.get(f"{ENDPOINT}/requests.json", status=503)
    with pytest.raises(Unavailable) as err:
        client().requests(["1"])
    assert not err.value.maybe_done
    assert str(err.value) == "the CRM answered requests.json with HTTP 503"


@responses.activate
def test_an_endless_answer_is_not_read_past_the_cap() -> None:
    responses.get(f"{ENDPOINT}/services.json", body=b"[" + b" " * (MAX_BODY + 1) + b"]")
    with pytest.raises(Unavailable, match="is over 8 MiB; not read"):
        client().services()


@responses.activate
def test_no_ids_is_no_call() -> None:
    assert len(client().requests([])) == 0
    assert len(responses.calls) == 0


BODIES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    st.sampled_from(
        [
            b'[{"service_request_id": "1"}]',
            b'[{"token": "t"}]',
            b"<service_requests><request><token>t</token></request></service_requests>",
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><errors>&a;</errors>',
            b'[{"code": 400, "description": null}]',
            b"{}",
            b"[]",
        ]
    ),
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    body=BODIES,
    status=st.sampled_from([200, 201, 202, 204, 301, 400, 401, 403, 404, 429, 500, 502, 503]),
    fmt=st.sampled_from(["json", "xml"]),
)
def test_whatever_the_crm_answers_each_call_returns_or_raises_a_platform_error(
    body: bytes, status: int, fmt: Format
) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add(responses.POST, re.compile(".*"), body=body, status=status)
        mock.add(responses.GET, re.compile(".*"), body=body, status=status)
        crm = client(fmt)
        for call in (
            lambda: crm.post_request([("service_code", "1")]),
            lambda: crm.token("t"),
            lambda: crm.requests(["1", "2"]),
            crm.services,
            lambda: crm.definition("a/b"),
            lambda: crm.updates(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)),
        ):
            try:
                call()
            except PlatformError as exc:
                assert "\n" not in str(exc)
                assert API_KEY not in str(exc)
