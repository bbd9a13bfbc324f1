"""A last review of Open311: what a 311 operator and an attacker would try on the sync."""

from __future__ import annotations

from datetime import UTC

import responses

from socialbot.config import Settings
from socialbot.domain import CaseStatus
from socialbot.open311.forwarder import enqueue_due, forward_once
from socialbot.open311.sync import SyncReport, sync_once
from socialbot.store.db import transaction
from socialbot.store.models import Case, CrmState
from tests.conftest import Clock
from tests.open311.city import City, build_city
from tests.open311.test_sync import forwarded


def sync_updates(city: City) -> SyncReport:
    return sync_once(city.engine, city.client(), city.service.staff, city.clock, updates=True)


def status_of(city: City, case_id: int) -> CaseStatus:
    with transaction(city.engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.status


def crm_update(city: City, service_request_id: str, status: str) -> None:
    """An update the CRM stamps now, as FixMyStreet's extension lists it."""
    city.crm.updates.append(
        {
            "update_id": str(len(city.crm.updates) + 1),
            "service_request_id": service_request_id,
            "status": status,
            "description": None,
            "updated_datetime": city.clock().astimezone(UTC).isoformat(),
        }
    )


def test_a_reopen_then_fixed_read_again_in_the_overlap_is_no_news(city: City) -> None:
    city.crm.offers_updates = True
    forwarded(city)
    sync_updates(city)  # the first: every state, and the mark
    city.clock.advance(minutes=5)
    city.crm.close("REQ-00001", extended="FIXED")
    city.clock.advance(minutes=1)
    assert sync_updates(city).closed == 1
    told = len([r for r in city.status_replies() if r.template == "resolved"])

    city.clock.advance(minutes=1)
    crm_update(city, "REQ-00001", "REOPEN")  # the resident called: not fixed after all
    city.clock.advance(minutes=1)
    city.crm.close("REQ-00001", extended="FIXED")  # the crew went back the same hour
    city.clock.advance(minutes=1)
    sync_updates(city)  # one batch: REOPEN, then FIXED
    assert status_of(city, 1) is CaseStatus.RESOLVED
    after_batch = len([r for r in city.status_replies() if r.template == "resolved"])

    city.clock.advance(minutes=5)  # the next fetch reaches 10 minutes back: the same two again
    sync_updates(city)
    assert status_of(city, 1) is CaseStatus.RESOLVED
    assert len([r for r in city.status_replies() if r.template == "resolved"]) == after_batch
    assert after_batch >= told


def test_a_token_resolved_to_an_id_another_case_holds_is_not_recorded(
    settings: Settings, clock: Clock, crm_mock: responses.RequestsMock
) -> None:
    city = build_city(settings, clock, crm_mock, tokens=True)
    forwarder = city.forwarder()
    enqueue_due(forwarder, clock)
    forward_once(forwarder, clock)
    city.crm.issue_ids()
    city.crm.made[1].service_request_id = "REQ-00001"  # the CRM's back office erred
    sync_once(city.engine, city.client(), city.service.staff, clock)

    holding = [r.case_id for r in city.rows() if r.service_request_id == "REQ-00001"]
    assert holding == [1]
    second = city.rows()[1]
    assert second.state is CrmState.REJECTED and "REQ-00001" in (second.last_error or "")
    city.close()
