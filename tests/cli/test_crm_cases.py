"""What staff see of the city's Open311 CRM: `cases list --crm-failed`, the CRM's lines in
`cases show`, and `status`'s queue, failures and last sync. The rows are written as the
forwarder and the sync leave them; the demo database holds the cases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from socialbot.store.db import make_engine, transaction
from socialbot.store.models import CrmRequest, CrmState
from tests.cli.run import invoke
from tests.cli.test_cases_list import demo_db, demo_template, ids

__all__ = ["demo_db", "demo_template"]  # the fixtures, used by name


def add_requests(db: Path, *rows: CrmRequest) -> None:
    engine = make_engine(f"sqlite:///{db}")
    with transaction(engine) as session:
        for row in rows:
            session.add(row)
    engine.dispose()


def crm_row(case_id: int, state: CrmState, **fields: object) -> CrmRequest:
    now = datetime.now(UTC)
    values: dict[str, object] = {
        "case_id": case_id,
        "state": state,
        "service_code": "4fd3b167e750846744000005",
        "next_attempt_at": now,
        "created_at": now - timedelta(minutes=40),
    }
    values.update(fields)
    return CrmRequest.model_validate(values)


REFUSED = "400: lat/long outside the city's service area"


def city(db: Path) -> None:
    """Case #1 sent and closed by the crew, #2 refused, #4 waiting after an outage, #6 with a
    token, #9 refused too. Times are now's, as `status` reads them at once after."""
    now = datetime.now(UTC)
    add_requests(
        db,
        crm_row(
            1,
            CrmState.SENT,
            service_request_id="REQ-00001",
            attempts=1,
            sent_at=now - timedelta(minutes=39),
            crm_status="closed",
            crm_extended_status="FIXED",
            crm_status_notes="Crew 14 filled it; asphalt cold patch",
            crm_updated_at=now - timedelta(minutes=5),
            synced_at=now - timedelta(minutes=3),
        ),
        crm_row(2, CrmState.REJECTED, attempts=1, last_error=REFUSED),
        crm_row(
            4,
            CrmState.PENDING,
            attempts=2,
            last_error="503 Service Unavailable",
            created_at=now - timedelta(hours=3),
            next_attempt_at=now + timedelta(minutes=30),
        ),
        crm_row(6, CrmState.TOKEN, token="tok-00006", attempts=1),
        crm_row(9, CrmState.REJECTED, attempts=1, last_error="403: Invalid api_key"),
    )


def test_crm_failed_lists_the_refused_cases(demo_db: Path) -> None:
    assert ids("--crm-failed") == []
    city(demo_db)
    assert ids("--crm-failed") == [2, 9]
    assert ids("--crm-failed", "--category", "graffiti") == [2, 9]
    assert ids("--crm-failed", "--category", "pothole") == []
    code, out = invoke("cases", "list", "--crm-failed")
    assert code == 0 and "2 case(s)" in out


def test_show_says_where_the_request_stands_and_what_the_crm_said(demo_db: Path) -> None:
    city(demo_db)
    shown = {n: invoke("cases", "show", str(n))[1] for n in (1, 2, 4, 6)}
    assert "request REQ-00001 (service 4fd3b167e750846744000005)" in shown[1]
    assert "closed (FIXED) at" in shown[1]
    assert "Crew 14 filled it; asphalt cold patch" in shown[1]
    assert f"NOT ACCEPTED by the CRM (service 4fd3b167e750846744000005): {REFUSED}" in shown[2]
    assert "queued (service 4fd3b167e750846744000005), 2 attempt(s)" in shown[4]
    assert "last try: 503 Service Unavailable" in shown[4]
    assert "accepted, token tok-00006, its request id not given yet" in shown[6]
    # A case never queued for the CRM shows no CRM line at all, as before.
    assert "crm" not in invoke("cases", "show", "3")[1]


def test_show_json_carries_the_crm_request(demo_db: Path) -> None:
    city(demo_db)
    code, out = invoke("cases", "show", "1", "--json")
    assert code == 0
    crm = json.loads(out)["crm"]
    assert crm["state"] == "sent" and crm["service_request_id"] == "REQ-00001"
    assert (crm["status"], crm["extended_status"]) == ("closed", "FIXED")
    assert crm["status_notes"] == "Crew 14 filled it; asphalt cold patch"
    assert json.loads(invoke("cases", "show", "3", "--json")[1])["crm"] is None


def test_status_shows_the_crm_queue_failures_and_last_sync(demo_db: Path) -> None:
    code, out = invoke("status")
    assert code == 0 and "crm queue:" not in out  # nothing ever queued: no CRM lines
    city(demo_db)
    code, out = invoke("status")
    assert code == 0
    assert "crm queue:    1 unsent, 1 awaiting the CRM's id, oldest unsent 3 h ago" in out
    assert "crm failed:   2 not accepted by the CRM (`socialbot cases list --crm-failed`)" in out
    assert "crm sync:     last read 3 min ago" in out
    crm = json.loads(invoke("status", "--json")[1])["crm"]
    assert (crm["queued"], crm["awaiting_id"], crm["failed"]) == (1, 1, 2)
    assert crm["last_sync"] is not None and crm["oldest_unsent"] is not None
