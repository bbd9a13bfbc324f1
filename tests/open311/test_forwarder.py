"""Forwarding cases to the city's CRM: each located case of a mapped category once, whatever
fails and whenever the process dies."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from sqlmodel import select

from socialbot.config import Settings
from socialbot.lifecycle import Action, CloseReason
from socialbot.open311.forwarder import ForwardReport, enqueue_due, forward_once
from socialbot.open311.sync import sync_once
from socialbot.open311.wire import Format
from socialbot.staff import Request
from socialbot.store.db import transaction
from socialbot.store.models import Case, CrmState
from tests.conftest import Clock
from tests.open311.city import City, build_city
from tests.open311.crm import API_KEY, POTHOLE


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no except clause catches it."""


def only_case_1(city: City) -> None:
    """Case #4 closed first, so each round tries case #1 alone."""
    city.service.staff.act(
        Request(4, Action.CLOSE, "ana", reason=CloseReason.INVALID), city.clock()
    )


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_located_case_goes_once_as_the_crm_expects_it(
    settings: Settings, clock: Clock, crm_mock: responses.RequestsMock, fmt: Format
) -> None:
    city = build_city(settings, clock, crm_mock, fmt=fmt)
    forwarder = city.forwarder()

    # #2 has no location yet, #3 is graffiti (not mapped); the second report of #1 is #1's.
    assert enqueue_due(forwarder, clock) == 2
    assert enqueue_due(forwarder, clock) == 0
    assert forward_once(forwarder, clock) == ForwardReport(sent=2)
    assert forward_once(forwarder, clock) == ForwardReport()

    first = dict(city.crm.posts[0])
    assert {k: v for k, v in first.items() if k != "description"} == {
        "api_key": API_KEY,
        "service_code": POTHOLE,
        "lat": "42.35",
        "long": "-71.06",
        "media_url": "https://pbs.twimg.com/media/p1.jpg",
        "attribute[source]": "x",
        "attribute[priority]": "normal",
    }
    description = first["description"]
    assert description.startswith("socialbot case #1")
    assert "Pothole" in description and "deep one in front of the bakery" in description
    assert "https://pbs.twimg.com/media/p2.jpg" in description  # the photo media_url cannot take
    assert "resident2001" not in repr(city.crm.posts)  # the handle only if the city opts in
    assert len(city.crm.posts) == 2
    assert [(r.case_id, r.state, r.service_request_id) for r in city.rows()] == [
        (1, CrmState.SENT, "REQ-00001"),
        (4, CrmState.SENT, "REQ-00002"),
    ]
    city.close()


def test_a_case_waiting_for_its_location_goes_once_it_has_one(city: City) -> None:
    forwarder = city.forwarder()
    enqueue_due(forwarder, city.clock)
    with transaction(city.engine) as session:
        case = session.get(Case, 2)
        assert case is not None
        case.lat, case.lon = 42.351, -71.061

    assert enqueue_due(forwarder, city.clock) == 1
    forward_once(forwarder, city.clock)
    assert [r.case_id for r in city.rows() if r.state is CrmState.SENT] == [1, 2, 4]


def test_a_case_with_an_address_and_no_point_goes_as_address_string(city: City) -> None:
    forwarder = city.forwarder()
    enqueue_due(forwarder, city.clock)
    with transaction(city.engine) as session:
        case = session.get(Case, 2)  # waiting for a location: not queued
        assert case is not None and case.lat is None
        case.lat = case.lon = None
        case.address = "Main St & 5th Ave"

    assert enqueue_due(forwarder, city.clock) == 1
    forward_once(forwarder, city.clock)
    sent = {row.case_id for row in city.rows() if row.state is CrmState.SENT}
    assert sent == {1, 2, 4}
    [by_address] = [dict(p) for p in city.crm.posts if "address_string" in dict(p)]
    assert by_address["address_string"] == "Main St & 5th Ave"
    assert "lat" not in by_address and by_address["description"].startswith("socialbot case #2")


def test_a_token_answer_does_not_hold_the_queue_and_becomes_an_id_later(
    settings: Settings, clock: Clock, crm_mock: responses.RequestsMock
) -> None:
    city = build_city(settings, clock, crm_mock, tokens=True)
    forwarder = city.forwarder()
    enqueue_due(forwarder, clock)

    assert forward_once(forwarder, clock) == ForwardReport(token=2)
    sync_once(city.engine, city.client(), city.service.staff, clock)
    assert [(r.state, r.token) for r in city.rows()] == [
        (CrmState.TOKEN, "tok-00001"),
        (CrmState.TOKEN, "tok-00002"),
    ]

    city.crm.issue_ids()
    sync_once(city.engine, city.client(), city.service.staff, clock)
    assert [(r.state, r.service_request_id) for r in city.rows()] == [
        (CrmState.SENT, "REQ-00001"),
        (CrmState.SENT, "REQ-00002"),
    ]
    assert city.crm.token_calls == ["tok-00001", "tok-00002"] * 2
    assert len(city.crm.posts) == 2
    city.close()


def test_a_refusal_marks_the_case_with_the_crms_words_and_is_never_retried(city: City) -> None:
    forwarder = city.forwarder()
    enqueue_due(forwarder, city.clock)
    city.crm.script = ["reject"]

    assert forward_once(forwarder, city.clock) == ForwardReport(sent=1, rejected=1)
    refused = city.row(1)
    assert (refused.state, refused.last_error) == (
        CrmState.REJECTED,
        "lat/long outside the city's service area",
    )
    city.clock.advance(days=2)
    forward_once(forwarder, city.clock)
    assert len(city.crm.posts) == 2  # #1 once (refused), #4 once (sent)


def test_a_wrong_key_is_no_refusal_of_the_case_the_queue_waits(city: City) -> None:
    forwarder = city.forwarder()
    enqueue_due(forwarder, city.clock)
    city.crm.api_key = "the-key-the-city-changed-to"

    report = forward_once(forwarder, city.clock)

    assert (report.retrying, report.rejected, report.stopped_by) == (1, 0, "CrmRejected")
    assert [(r.state, r.attempts) for r in city.rows()] == [(CrmState.PENDING, 0)] * 2
    assert {r.next_attempt_at for r in city.rows()} == {city.clock() + timedelta(minutes=30)}
    assert len(city.crm.posts) == 1  # the rest of the batch was not knocked on the same door


def test_failures_retry_after_5_then_every_30_minutes_across_restarts(city: City) -> None:
    only_case_1(city)
    start = city.clock()
    enqueue_due(city.forwarder(), city.clock)
    # A 5xx or a timeout may have made the request: each is looked up before the next POST.
    city.crm.script = ["500", "timeout", "refused", "500"]
    posted_at = []
    for _ in range(24 * 12):  # a round every 5 minutes, each by a new process, for a day
        before = len(city.crm.posts)
        forward_once(city.forwarder(fresh_engine=True), city.clock)
        if len(city.crm.posts) > before:
            posted_at.append(city.clock() - start)
        city.clock.advance(minutes=1)
        if city.row(1).state is CrmState.SENT:
            break

    assert posted_at == [timedelta(minutes=m) for m in (0, 5, 35, 65, 95)]
    assert (city.row(1).state, city.row(1).service_request_id) == (CrmState.SENT, "REQ-00001")
    assert len(city.crm.made) == 1


def test_an_outage_of_a_day_loses_nothing(city: City) -> None:
    only_case_1(city)
    enqueue_due(city.forwarder(), city.clock)
    city.crm.script = ["500"] * 60
    for _ in range(26 * 2):  # every half hour, for 26 hours
        forward_once(city.forwarder(), city.clock)
        city.clock.advance(minutes=30)
    assert city.crm.script  # still failing a day later: the row still waits its turn
    assert city.row(1).state in (CrmState.PENDING, CrmState.SENDING)

    city.crm.script = []
    for _ in range(3):
        forward_once(city.forwarder(), city.clock)
        city.clock.advance(minutes=30)
    assert city.row(1).state is CrmState.SENT
    assert len(city.crm.made) == 1


def test_a_crash_after_the_post_is_healed_by_the_reference_not_a_second_post(
    city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_case_1(city)
    enqueue_due(city.forwarder(), city.clock)
    with monkeypatch.context() as patch:
        patch.setattr(
            "socialbot.open311.forwarder._accepted",
            lambda *a: (_ for _ in ()).throw(Killed()),
        )
        with pytest.raises(Killed):
            forward_once(city.forwarder(), city.clock)
    assert city.row(1).state is CrmState.SENDING

    forward_once(city.forwarder(fresh_engine=True), city.clock)  # too soon: may be in flight
    assert city.row(1).state is CrmState.SENDING
    city.clock.advance(minutes=3)
    report = forward_once(city.forwarder(fresh_engine=True), city.clock)

    assert report.recovered == 1
    assert (city.row(1).state, city.row(1).service_request_id) == (CrmState.SENT, "REQ-00001")
    assert len(city.crm.posts) == 1
    (search,) = city.crm.searches
    assert search["service_code"] == POTHOLE


def test_a_lost_answer_is_found_by_the_reference_and_not_posted_twice(city: City) -> None:
    only_case_1(city)
    enqueue_due(city.forwarder(), city.clock)
    city.crm.script = ["lost"]

    assert forward_once(city.forwarder(), city.clock).unverified == 1
    city.clock.advance(minutes=3)
    assert forward_once(city.forwarder(), city.clock).recovered == 1

    assert city.row(1).service_request_id == "REQ-00001"
    assert len(city.crm.posts) == len(city.crm.made) == 1


def test_a_case_merged_before_it_went_is_never_sent_and_after_sends_nothing(city: City) -> None:
    forwarder = city.forwarder()
    enqueue_due(forwarder, city.clock)
    city.service.staff.act(
        Request(4, Action.CLOSE, "ana", reason=CloseReason.DUPLICATE, duplicate_of=1),
        city.clock(),
    )

    assert forward_once(forwarder, city.clock) == ForwardReport(sent=1, dropped=1)
    assert [(r.case_id, r.state) for r in city.rows()] == [
        (1, CrmState.SENT),
        (4, CrmState.DROPPED),
    ]
    assert city.row(4).last_error == (
        "not sent: merged into case #1 before it went (that case is the CRM's request)"
    )
    city.service.staff.act(Request(4, Action.REOPEN, "ana", unmerge=True), city.clock())
    assert enqueue_due(forwarder, city.clock) == 0  # its row stands: sent at most once
    assert len(city.crm.posts) == 1


def test_merged_cases_are_not_queued(city: City) -> None:
    city.service.staff.act(
        Request(4, Action.CLOSE, "ana", reason=CloseReason.DUPLICATE, duplicate_of=1),
        city.clock(),
    )
    assert enqueue_due(city.forwarder(), city.clock) == 1
    forward_once(city.forwarder(), city.clock)
    assert [r.case_id for r in city.rows()] == [1]


def test_a_dry_run_sends_nothing_and_changes_nothing(city: City) -> None:
    forwarder = city.forwarder()
    enqueue_due(forwarder, city.clock)
    assert forward_once(forwarder, city.clock, dry_run=True) == ForwardReport(due=2)
    assert city.crm.posts == []
    assert {r.state for r in city.rows()} == {CrmState.PENDING}


def test_a_dry_run_counts_the_cases_a_real_run_would_queue_and_queues_none(city: City) -> None:
    forwarder = city.forwarder()
    # #1 and #4: located potholes; #2 has no location yet, #3 is graffiti (not mapped).
    assert enqueue_due(forwarder, city.clock, dry_run=True) == 2
    assert city.rows() == []
    assert enqueue_due(forwarder, city.clock, dry_run=True) == 2  # still nothing written
    assert enqueue_due(forwarder, city.clock) == 2
    assert enqueue_due(forwarder, city.clock, dry_run=True) == 0


def test_no_rules_no_queue(city: City) -> None:
    forwarder = city.forwarder()
    unmapped = type(forwarder)(
        engine=forwarder.engine, client=forwarder.client, rules={}, catalog=forwarder.catalog
    )
    assert enqueue_due(unmapped, city.clock) == 0
    with transaction(city.engine) as session:
        assert len(session.exec(select(Case)).all()) == 4


def test_a_case_finished_here_before_it_went_is_not_sent(city: City) -> None:
    forwarder = city.forwarder()
    enqueue_due(forwarder, city.clock)
    city.service.staff.act(Request(1, Action.RESOLVE, "ana"), city.clock())

    assert forward_once(forwarder, city.clock) == ForwardReport(sent=1, dropped=1)
    assert city.row(1).last_error == "not sent: the case was resolved before it went"
    assert [dict(p)["description"].split(" ")[2] for p in city.crm.posts] == ["#4"]
