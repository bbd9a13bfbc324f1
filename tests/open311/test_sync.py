"""The CRM's word brought back: a request closed there is a case resolved here, every reporter
told once in their own thread, the CRM's notes kept for staff only."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import col, select

from socialbot.config import Settings
from socialbot.domain import CaseStatus
from socialbot.lifecycle import Action, CloseReason
from socialbot.open311.forwarder import enqueue_due, forward_once
from socialbot.open311.sync import SyncReport, sync_once
from socialbot.open311.wire import Format
from socialbot.reports import summary
from socialbot.staff import Request
from socialbot.store.db import transaction
from socialbot.store.models import Case, CaseEvent, CrmRequest, CrmState
from socialbot.store.queries import case_facts
from tests import xapi
from tests.conftest import Clock
from tests.open311.city import City, build_city
from tests.open311.crm import POTHOLE

NOTES = "Crew 7 patched it at 14:10. Caller was rude on the phone, see ticket 5521."


def forwarded(city: City) -> None:
    forwarder = city.forwarder()
    enqueue_due(forwarder, city.clock)
    forward_once(forwarder, city.clock)


def sync(city: City, batch: int = 50) -> SyncReport:
    return sync_once(city.engine, city.client(), city.service.staff, city.clock, batch=batch)


def status_of(city: City, case_id: int) -> CaseStatus:
    with transaction(city.engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.status


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_closed_request_is_one_resolved_reply_per_reporter_in_their_own_thread(
    settings: Settings, clock: Clock, crm_mock: responses.RequestsMock, fmt: Format
) -> None:
    city = build_city(settings, clock, crm_mock, fmt=fmt)
    forwarded(city)
    # #4 was the same pothole after all: merged after both went, it is #1's reporter now.
    city.service.staff.act(
        Request(4, Action.CLOSE, "ana", reason=CloseReason.DUPLICATE, duplicate_of=1),
        city.clock(),
    )
    city.clock.advance(hours=5)
    city.crm.close("REQ-00001", extended="FIXED", notes=NOTES)

    assert sync(city) == SyncReport(checked=2, closed=1, changed=1)
    assert sync(city) == SyncReport(checked=1)  # #4's request is open, #1 is done: no news

    assert status_of(city, 1) is CaseStatus.RESOLVED
    resolved = [r for r in city.status_replies() if r.template == "resolved"]
    assert sorted(r.in_reply_to_post_id or "" for r in resolved) == sorted(
        xapi.post_id(n)
        for n in (1, 2, 5)  # the opener, the linked report, the merged case
    )
    assert all(r.case_id == 1 for r in resolved)
    assert all("Crew 7" not in r.text and "rude" not in r.text for r in city.status_replies())
    with transaction(city.engine) as session:
        (event,) = session.exec(
            select(CaseEvent).where(CaseEvent.case_id == 1, CaseEvent.to_status == "resolved")
        ).all()
        row = session.exec(select(CrmRequest).where(CrmRequest.case_id == 1)).one()
    assert (event.actor, event.note) == ("open311", f"the CRM says FIXED: {NOTES}")
    assert (row.crm_status, row.crm_extended_status, row.crm_status_notes) == (
        "closed",
        "FIXED",
        NOTES,
    )
    city.close()


@pytest.mark.parametrize(
    ("extended", "status", "template"),
    [
        ("NOT_COUNCILS_RESPONSIBILITY", CaseStatus.CLOSED, "closed_not_city_property"),
        ("INTERNAL_REFERRAL", CaseStatus.CLOSED, "closed_referred"),
        ("DUPLICATE", CaseStatus.CLOSED, "closed"),  # of a request we may never have made
        (None, CaseStatus.RESOLVED, "resolved"),  # plain GeoReport v2: closed is done
    ],
)
def test_each_way_the_crm_closes_a_request_has_its_reply(
    city: City, extended: str | None, status: CaseStatus, template: str
) -> None:
    forwarded(city)
    city.crm.close("REQ-00001", extended=extended)
    assert sync(city).closed == 1
    assert status_of(city, 1) is status
    replies = [r for r in city.status_replies() if r.case_id == 1]
    assert {r.template for r in replies} == {template}
    assert len(replies) == 2  # the opener and the linked report


def test_work_under_way_moves_the_case_without_closing_it(city: City) -> None:
    forwarded(city)
    request = city.crm.by_id("REQ-00001")
    request.extended_status = "IN_PROGRESS"

    assert sync(city) == SyncReport(checked=2, changed=1)
    assert status_of(city, 1) is CaseStatus.IN_PROGRESS


def test_a_change_made_here_stands_until_the_crm_says_something_new(city: City) -> None:
    forwarded(city)
    city.crm.close("REQ-00001", extended="FIXED")
    sync(city)
    city.service.staff.act(Request(1, Action.REOPEN, "ana"), city.clock())

    sync(city)
    assert status_of(city, 1) is CaseStatus.IN_PROGRESS  # the CRM said nothing new

    city.crm.close("REQ-00001", extended="CLOSED", notes="checked again")
    sync(city)
    assert status_of(city, 1) is CaseStatus.RESOLVED  # it did: the CRM wins


def test_an_outage_changes_nothing_and_is_counted(city: City) -> None:
    forwarded(city)
    city.crm.close("REQ-00001", extended="FIXED")
    city.crm.down = True

    assert sync(city) == SyncReport(failed=2)
    assert status_of(city, 1) is CaseStatus.NEW


def test_a_batch_of_120_requests_is_asked_in_batches(city: City) -> None:
    at = city.clock()
    with transaction(city.engine) as session:
        for n in range(120):
            case = Case(
                category="pothole",
                department="Public Works – Highway",
                priority="normal",
                status=CaseStatus.NEW,
                lat=42.35,
                lon=-71.06,
                location_source="post",
                lang="en",
                platform="x",
                mention_post_id=str(9_000_000 + n),
                author_id="2001",
                created_at=at,
                updated_at=at,
            )
            session.add(case)
            session.flush()
            assert case.id is not None
            session.add(
                CrmRequest(
                    case_id=case.id,
                    state=CrmState.SENT,
                    service_code=POTHOLE,
                    service_request_id=f"B-{n:03d}",
                    next_attempt_at=at,
                    created_at=at,
                )
            )

    sync(city)

    assert [len(ids) for ids in city.crm.asked] == [50, 50, 20]
    asked = [i for ids in city.crm.asked for i in ids]
    assert sorted(asked) == [f"B-{n:03d}" for n in range(120)]


def test_only_requests_with_something_left_to_learn_are_asked(city: City) -> None:
    forwarded(city)
    city.crm.close("REQ-00001")
    sync(city)
    city.crm.asked.clear()
    city.clock.advance(minutes=5)
    sync(city)
    assert city.crm.asked == [["REQ-00002"]]


WORDS = st.sampled_from(
    [None, "FIXED", "IN_PROGRESS", "REOPEN", "DUPLICATE", "INVESTIGATING", "WHATEVER", "OPEN"]
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(["open", "closed"]), WORDS, st.text(max_size=40)),
        min_size=1,
        max_size=4,
    )
)
def test_whatever_the_crm_says_its_notes_are_never_posted(
    city: City, steps: list[tuple[str, str | None, str]]
) -> None:
    if not city.rows():
        forwarded(city)
    request = city.crm.by_id("REQ-00001")
    for status, extended, notes in steps:
        request.status, request.extended_status = status, extended
        request.status_notes = f"STAFF-ONLY {notes}"
        city.clock.advance(minutes=5)
        sync(city)
    with transaction(city.engine) as session:
        rows = session.exec(select(CrmRequest).where(col(CrmRequest.case_id) == 1)).all()
    assert all(r.synced_at is not None for r in rows)
    assert all("STAFF-ONLY" not in r.text for r in city.status_replies())


def time_to_resolve(city: City) -> timedelta | None:
    """`socialbot report`'s median time to resolve, over the case rows as the command reads them."""
    now = city.clock() + timedelta(minutes=1)  # the window excludes its end: a case just closed
    facts = case_facts(city.engine)
    return summary(
        facts, since=now - timedelta(days=30), until=now, now=now
    ).total.median_to_resolve


def test_report_counts_the_crews_time_to_close_not_the_syncs_delay(city: City) -> None:
    forwarded(city)
    city.clock.advance(days=2)
    city.crm.close("REQ-00001", extended="FIXED")  # the crew closed it two days after the report
    city.clock.advance(days=1)  # and the sync only heard of it a day later
    sync(city)

    assert status_of(city, 1) is CaseStatus.RESOLVED
    assert time_to_resolve(city) == timedelta(days=2)


@pytest.mark.parametrize("off", [timedelta(days=-3), timedelta(days=5)])
def test_a_crm_date_that_cannot_be_true_is_taken_as_now(city: City, off: timedelta) -> None:
    forwarded(city)
    city.clock.advance(days=1)
    city.crm.close("REQ-00001")
    request = city.crm.by_id("REQ-00001")
    assert request.updated_at is not None
    request.updated_at += off  # before the case was opened, or in the future
    sync(city)

    assert time_to_resolve(city) == timedelta(days=1)


def sync_updates(city: City) -> SyncReport:
    return sync_once(city.engine, city.client(), city.service.staff, city.clock, updates=True)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_with_the_updates_extension_a_sync_asks_only_what_changed_since_the_last(
    settings: Settings, clock: Clock, crm_mock: responses.RequestsMock, fmt: Format
) -> None:
    city = build_city(settings, clock, crm_mock, fmt=fmt)
    city.crm.offers_updates = True
    forwarded(city)
    assert sync_updates(city) == SyncReport(checked=2)  # the first: every state, once
    assert city.crm.asked == [["REQ-00001", "REQ-00002"]] and city.crm.updates_asked == []

    city.clock.advance(days=2)
    city.crm.close("REQ-00001", extended="FIXED", notes=NOTES)
    city.clock.advance(hours=6)
    assert sync_updates(city) == SyncReport(checked=1, closed=1, changed=1)
    assert len(city.crm.asked) == 1  # no batch of states: the updates stood in for it
    (asked,) = city.crm.updates_asked
    assert "start_date" in asked and "end_date" in asked

    assert status_of(city, 1) is CaseStatus.RESOLVED
    resolved = [r for r in city.status_replies() if r.template == "resolved"]
    assert len(resolved) == 2  # the opener and the linked report, once each
    assert all("Crew 7" not in r.text for r in resolved)
    assert time_to_resolve(city) == timedelta(days=2)  # the CRM's time, not the sync's

    city.clock.advance(minutes=5)  # the next fetch asks from the last one's end: nothing new
    assert sync_updates(city) == SyncReport()
    assert len(city.crm.updates_asked) == 2
    assert len([r for r in city.status_replies() if r.template == "resolved"]) == 2
    city.close()


def test_an_endpoint_that_refuses_the_updates_call_is_synced_by_states(city: City) -> None:
    forwarded(city)
    sync_updates(city)
    city.crm.close("REQ-00001", extended="FIXED")
    city.clock.advance(minutes=5)

    assert sync_updates(city) == SyncReport(checked=2, closed=1, changed=1, failed=1)
    assert status_of(city, 1) is CaseStatus.RESOLVED


def test_updates_missed_in_an_outage_are_read_when_the_crm_is_back(city: City) -> None:
    city.crm.offers_updates = True
    forwarded(city)
    sync_updates(city)
    city.clock.advance(minutes=5)
    city.crm.close("REQ-00001", extended="FIXED")
    city.crm.down = True
    city.clock.advance(minutes=5)
    assert sync_updates(city) == SyncReport(failed=1)

    city.crm.down = False
    city.clock.advance(hours=3)  # far past the overlap: the mark stayed where the outage began
    assert sync_updates(city).closed == 1
    assert status_of(city, 1) is CaseStatus.RESOLVED
