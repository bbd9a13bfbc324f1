"""`socialbot open311 services` and `socialbot open311 sync --once`: the CRM's services beside our
categories (Chicago's real list), and a round of the sync end to end against the fake CRM (the
demo's cases sent, a crew's closure brought back as a resolved reply)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from socialbot.cli import app as cli_app
from socialbot.config import SHIPPED_HASHTAGS
from socialbot.store.db import make_engine, transaction
from socialbot.store.models import Case, CrmRequest, CrmState, OutboxMessage
from tests.cli.run import invoke, runner
from tests.cli.test_cases_list import demo_db, demo_template
from tests.open311.crm import API_KEY, ENDPOINT, POTHOLE, STREETLIGHT, FakeCrm
from tests.recorded import recorded

__all__ = ["demo_db", "demo_template"]  # the fixtures, used by name


def mapped_catalog(tmp_path: Path, **codes: str) -> Path:
    """The shipped catalog with `codes` (category key → service code) added, as a city would."""
    text = SHIPPED_HASHTAGS.read_text(encoding="utf-8")
    for key, code in codes.items():
        head = f"  - key: {key}\n"
        assert head in text
        text = text.replace(head, f"{head}    open311_service_code: {json.dumps(code)}\n", 1)
    path = tmp_path / "hashtags.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_OPEN311_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("SOCIALBOT_OPEN311_API_KEY", API_KEY)


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield mocked


# --- services --------------------------------------------------------------------------------

# A definition as the spec's example writes it: one required attribute, one informational.
CURB_DEFINITION = {
    "service_code": "003",
    "attributes": [
        {
            "variable": True,
            "code": "WHISHETN",
            "datatype": "singlevaluelist",
            "required": True,
            "datatype_description": None,
            "order": 1,
            "description": "What is the ticket/tag/DL number?",
            "values": [{"key": "123", "name": "Ford"}],
        },
        {
            "variable": False,
            "code": "NOTE",
            "datatype": "text",
            "required": True,
            "order": 2,
            "description": "Crews come within a week.",
        },
    ],
}


def chicago(mock: responses.RequestsMock, definition: object = CURB_DEFINITION) -> None:
    body = recorded("open311/service_list.json").read_bytes()
    mock.get(f"{ENDPOINT}/services.json", body=body, content_type="application/json")
    for code in ("001", "002", "003"):
        mock.get(
            f"{ENDPOINT}/services/{code}.json",
            body=json.dumps(definition).replace('"003"', json.dumps(code)),
            content_type="application/json",
        )


@pytest.mark.usefixtures("endpoint")
def test_services_beside_our_categories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mock: responses.RequestsMock
) -> None:
    chicago(mock)
    monkeypatch.setenv(
        "SOCIALBOT_HASHTAGS",
        str(mapped_catalog(tmp_path, sidewalk="003", missed_trash="001", pothole="999")),
    )
    code, out = invoke("open311", "services")
    assert code == 0, out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert "Curb or curb ramp defect" in rows["003"] and "sidewalk" in rows["003"]
    assert "WHISHETN" in rows["003"] and "NOTE" not in rows["003"]  # information only
    assert "missed_trash" in rows["001"] and "Construction plate shifted" in rows["002"]
    assert re.search(r"not sent \(no open311_service_code\): streetlight, .*graffiti", out)
    assert (
        "problem: category 'pothole': open311_service_code '999' is not among the CRM's "
        "services (see `socialbot open311 services`)" in out
    )
    assert (
        "problem: category 'sidewalk': service '003' requires attribute 'WHISHETN'; give it a "
        "value in its open311_attributes" in out
    )
    # Only the mapped services with attributes are asked for their definition.
    asked = [call.request.url for call in mock.calls]
    assert asked == [
        f"{ENDPOINT}/services.json",
        f"{ENDPOINT}/services/001.json",
        f"{ENDPOINT}/services/003.json",
    ]


@pytest.mark.usefixtures("endpoint")
def test_services_json_and_a_rule_that_fills_the_attribute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mock: responses.RequestsMock
) -> None:
    chicago(mock)
    catalog = mapped_catalog(tmp_path, sidewalk="003")
    text = catalog.read_text(encoding="utf-8").replace(
        '    open311_service_code: "003"\n',
        "    open311_service_code: \"003\"\n    open311_attributes: {WHISHETN: '{district}'}\n",
    )
    catalog.write_text(text, encoding="utf-8")
    monkeypatch.setenv("SOCIALBOT_HASHTAGS", str(catalog))
    code, out = invoke("open311", "services", "--json")
    assert code == 0, out
    found = json.loads(out)
    assert found["problems"] == []
    assert [s["service_code"] for s in found["services"]] == ["001", "002", "003"]
    assert found["services"][2]["categories"] == ["sidewalk"]
    assert "pothole" in found["unmapped_categories"]


def test_services_without_an_endpoint_is_one_line() -> None:
    result = runner.invoke(cli_app, ["open311", "services"])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("socialbot: SOCIALBOT_OPEN311_ENDPOINT: not set;")


@pytest.mark.usefixtures("endpoint")
def test_services_of_an_xml_crm(
    monkeypatch: pytest.MonkeyPatch, mock: responses.RequestsMock
) -> None:
    monkeypatch.setenv("SOCIALBOT_OPEN311_FORMAT", "xml")
    FakeCrm(mock, clock=lambda: datetime.now(UTC), fmt="xml")
    code, out = invoke("open311", "services")
    assert code == 0, out
    assert POTHOLE in out and "Pothole in Street" in out and STREETLIGHT in out


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_any_answer_to_services_is_a_table_or_one_line(
    monkeypatch: pytest.MonkeyPatch, body: bytes
) -> None:
    monkeypatch.setenv("SOCIALBOT_OPEN311_ENDPOINT", ENDPOINT)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.get(f"{ENDPOINT}/services.json", body=body)
        result = runner.invoke(cli_app, ["open311", "services"])
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        (line,) = result.stderr.splitlines()
        assert line.startswith("socialbot: ")


# --- sync --once -----------------------------------------------------------------------------


def crm_rows(db: Path) -> dict[int, CrmRequest]:
    engine = make_engine(f"sqlite:///{db}")
    with transaction(engine) as session:
        rows = {row.case_id: row for row in session.exec(select(CrmRequest)).all()}
    engine.dispose()
    return rows


@pytest.mark.usefixtures("endpoint")
def test_sync_once_sends_the_located_cases_and_brings_a_closure_back(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mock: responses.RequestsMock
) -> None:
    monkeypatch.setenv(
        "SOCIALBOT_HASHTAGS",
        str(mapped_catalog(tmp_path, pothole=POTHOLE, streetlight=STREETLIGHT)),
    )
    crm = FakeCrm(mock, clock=lambda: datetime.now(UTC))

    code, out = invoke("open311", "sync", "--once", "--dry-run")
    assert code == 0 and "nothing queued, sent or read back" in out
    # What the real run below queues and sends: counted, not written.
    assert "would queue 5 case(s); 5 request(s) due to be sent (0 queued before)" in out
    assert crm.posts == [] and crm_rows(demo_db) == {}

    code, out = invoke("open311", "sync", "--once")
    assert code == 0, out
    # The demo's located potholes (#1, #6 on X, #14 on Bluesky) and streetlights (#11 on
    # Mastodon, #13 on Bluesky); its streetlight #3 has no location yet: it waits.
    assert "send: queued 5, sent 5, token 0, rejected 0" in out
    rows = crm_rows(demo_db)
    assert sorted(rows) == [1, 6, 11, 13, 14]
    assert {r.state for r in rows.values()} == {CrmState.SENT}
    assert sorted(dict(form)["service_code"] for form in crm.posts) == sorted(
        [POTHOLE] * 3 + [STREETLIGHT] * 2
    )
    assert all("socialbot case #" in dict(form)["description"] for form in crm.posts)

    request_id = rows[1].service_request_id
    assert request_id is not None
    crm.close(request_id, extended="FIXED", notes="Crew 14: cold patch, internal")
    code, out = invoke("open311", "sync", "--once")
    assert code == 0, out
    assert "send: queued 0, sent 0" in out and "closed 1" in out
    assert len(crm.posts) == 5  # nothing sent twice

    engine = make_engine(f"sqlite:///{demo_db}")
    with transaction(engine) as session:
        case = session.get(Case, 1)
        assert case is not None and case.status.value == "resolved"
        replies = session.exec(select(OutboxMessage).where(OutboxMessage.case_id == 1)).all()
    engine.dispose()
    resolved = [r for r in replies if r.template.startswith("resolved")]
    assert len(resolved) >= 1
    assert all("Crew 14" not in r.text for r in replies)  # the CRM's notes are for staff

    code, shown = invoke("cases", "show", "1")
    assert f"request {request_id}" in shown and "closed (FIXED)" in shown
    assert "Crew 14: cold patch, internal" in shown


def test_sync_needs_once() -> None:
    result = runner.invoke(cli_app, ["open311", "sync"])
    assert result.exit_code == 2 and "--once" in result.output
