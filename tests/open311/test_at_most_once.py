"""An independent review of Open311: a CRM that lies or loses its answers, a merge after sending,
the key in a CRM's error. Each test is a defect found; an xfail one is not fixed yet."""

from __future__ import annotations

from dataclasses import replace

import pytest
import responses

from socialbot.config import Settings
from socialbot.errors import CrmRejected
from socialbot.lifecycle import Action, CloseReason
from socialbot.open311.client import Open311Client, Timeouts
from socialbot.open311.forwarder import enqueue_due, forward_once
from socialbot.open311.wire import Accepted
from socialbot.staff import Request
from socialbot.store.db import transaction
from socialbot.store.models import Case, CrmState
from tests.conftest import Clock
from tests.open311.city import City, build_city
from tests.open311.crm import ENDPOINT


def only_case_1(city: City) -> None:
    city.service.staff.act(
        Request(4, Action.CLOSE, "ana", reason=CloseReason.INVALID), city.clock()
    )


def test_a_lost_answer_from_a_crm_that_answers_tokens_is_not_posted_again(
    settings: Settings, clock: Clock, crm_mock: responses.RequestsMock
) -> None:
    city = build_city(settings, clock, crm_mock, tokens=True)
    try:
        forwarder = replace(city.forwarder(), batch=1)
        enqueue_due(forwarder, clock)
        assert forward_once(forwarder, clock).token == 1  # the CRM answers tokens
        city.crm.script = ["lost"]  # it queued the next request; its token never came back

        assert forward_once(forwarder, clock).unverified == 1
        for _ in range(5 * 6):  # its back office gives the request no id for five hours
            clock.advance(minutes=10)
            forward_once(forwarder, clock)

        assert len(city.crm.posts) == 2  # one each: the lost one was looked for, not sent again
        # Six hours on and still not listed, it is taken as lost, and sent once more.
        clock.advance(hours=1, minutes=10)
        forward_once(forwarder, clock)
        assert len(city.crm.posts) == 3
    finally:
        city.close()


def test_an_id_the_crm_already_gave_another_case_is_not_taken_for_this_one(city: City) -> None:
    forwarder = replace(city.forwarder(), batch=1)
    enqueue_due(forwarder, city.clock)
    forward_once(forwarder, city.clock)
    assert city.row(1).service_request_id == "REQ-00001"
    city.crm.made.clear()  # the CRM numbers again from 1: it answers REQ-00001 a second time

    forward_once(forwarder, city.clock)

    # Two cases on one id: a sync would read the CRM's word on case #4's request as case #1's
    # (`_apply` takes the first row with the id) and tell #1's reporters something of #4's.
    sent = [r.service_request_id for r in city.rows() if r.service_request_id is not None]
    assert sent == ["REQ-00001"]
    assert city.row(4).state is CrmState.REJECTED
    assert "REQ-00001" in (city.row(4).last_error or "")
    assert "case #1" in (city.row(4).last_error or "")


def test_a_sent_case_merged_into_one_not_sent_yet_makes_no_second_request(city: City) -> None:
    forwarder = city.forwarder()
    enqueue_due(forwarder, city.clock)
    forward_once(forwarder, city.clock)  # #1 and #4 go; #2 waits for its location
    city.service.staff.act(
        Request(4, Action.CLOSE, "ana", reason=CloseReason.DUPLICATE, duplicate_of=2),
        city.clock(),
    )
    with transaction(city.engine) as session:
        case = session.get(Case, 2)
        assert case is not None
        case.lat, case.lon = 42.3520, -71.06  # #2 is located where #4 was

    enqueue_due(forwarder, city.clock)
    forward_once(forwarder, city.clock)

    assert len(city.crm.posts) == 2  # #1 and #4: #4's request is #2's


def test_a_crm_echoing_our_form_does_not_leak_a_key_that_form_encoding_changes() -> None:
    key = "s3cr3t+k3y/2026=="
    with responses.RequestsMock() as mock:
        mock.add_callback(
            responses.POST,
            f"{ENDPOINT}/requests.json",
            callback=lambda request: (
                400,
                {},
                f'[{{"code": 400, "description": "cannot read {request.body}"}}]',
            ),
        )
        client = Open311Client(
            ENDPOINT, api_key=key, jurisdiction_id=None, fmt="json", timeouts=Timeouts()
        )
        with pytest.raises(CrmRejected) as refused:
            client.post_request([("api_key", key), ("service_code", "001")])

    said = str(refused.value) + " ".join(e.description for e in refused.value.errors)
    assert "s3cr3t" not in said
    assert "service_code=001" in said  # the rest of what the CRM said is kept


def test_a_post_still_in_flight_in_one_process_is_not_sent_again_by_another(
    city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_case_1(city)
    enqueue_due(city.forwarder(), city.clock)
    first, other = city.forwarder(), city.forwarder(fresh_engine=True)
    post = Open311Client.post_request

    def slow_post(client: Open311Client, form: list[tuple[str, str]]) -> Accepted:
        if client is first.client:  # the CRM is slow to take it: `open311 sync --once` runs
            city.clock.advance(minutes=6)
            forward_once(other, city.clock)
        return post(client, form)

    monkeypatch.setattr(Open311Client, "post_request", slow_post)
    forward_once(first, city.clock)

    assert len(city.crm.posts) == 1
