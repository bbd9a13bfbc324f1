"""`socialbot run` with an Open311 endpoint: two jobs of their own (`open311:send`,
`open311:sync`), none without one; the send job files the located cases in the fake CRM, the
sync job brings a crew's closure back, and a CRM outage is the forwarder's to retry, not a
failed run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from sqlmodel import select

from socialbot.app import build_service
from socialbot.config import load_settings
from socialbot.health import read_jobs
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.scheduler import Jobs, build_scheduler
from socialbot.store.db import transaction
from socialbot.store.models import Case, CrmRequest
from tests import xapi
from tests.cli.run import invoke
from tests.cli.test_open311 import mapped_catalog
from tests.conftest import Clock
from tests.open311.crm import API_KEY, ENDPOINT, POTHOLE, STREETLIGHT, FakeCrm


@pytest.fixture
def demo_url(tmp_path: Path) -> str:
    db = tmp_path / "demo.db"
    code, _ = invoke("demo", "--db", str(db), "--no-week")
    assert code == 0
    return f"sqlite:///{db}"


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield mocked


def job_ids(url: str, tmp_path: Path, **open311: object) -> list[str]:
    settings = load_settings(database_url=url, **open311)
    service = build_service(settings, platform=ReplayPlatform(xapi.CITY_ID))
    try:
        return sorted(job.id for job in build_scheduler(service).get_jobs())
    finally:
        service.close()


def test_the_two_jobs_come_with_the_endpoint_alone(demo_url: str, tmp_path: Path) -> None:
    without = job_ids(demo_url, tmp_path)
    assert not [name for name in without if name.startswith("open311")]
    with_crm = job_ids(demo_url, tmp_path, open311_endpoint=ENDPOINT)
    assert sorted(set(with_crm) - set(without)) == ["open311:send", "open311:sync"]


def test_send_then_sync_through_the_services_jobs(
    demo_url: str, tmp_path: Path, mock: responses.RequestsMock, clock: Clock
) -> None:
    crm = FakeCrm(mock, clock=clock, fmt="xml")
    settings = load_settings(
        database_url=demo_url,
        hashtags=mapped_catalog(tmp_path, pothole=POTHOLE, streetlight=STREETLIGHT),
        open311_endpoint=ENDPOINT,
        open311_api_key=API_KEY,
        open311_format="xml",
    )
    service = build_service(settings, platform=ReplayPlatform(xapi.CITY_ID), clock=clock)
    try:
        assert service.open311 is not None
        assert sorted(service.open311.rules) == ["pothole", "streetlight"]
        jobs = Jobs(service)
        crm.script = ["500"]  # the CRM is down
        jobs.open311_send()
        assert crm.made == [] and len(crm.posts) == 1  # one try; the rest wait with it
        jobs.open311_send()
        # The others go at the next run; the one that met the 500 may have reached the CRM:
        # it is looked up by its reference before it is ever posted again.
        assert len(crm.made) == 4 and len(crm.posts) == 5
        clock.advance(minutes=5, seconds=1)
        jobs.open311_send()
        clock.advance(minutes=5, seconds=1)
        jobs.open311_send()
        assert len(crm.made) == 5 and len(crm.posts) == 6 and len(crm.searches) >= 1
        with transaction(service.engine) as session:
            row = session.exec(select(CrmRequest).where(CrmRequest.case_id == 1)).one()
        assert row.service_request_id is not None
        crm.close(row.service_request_id, extended="FIXED", notes="crew 7")
        clock.advance(minutes=5)
        jobs.open311_sync()
        with transaction(service.engine) as session:
            case = session.get(Case, 1)
            assert case is not None and case.status.value == "resolved"
        # Neither job failed a run: the outage was the forwarder's to retry.
        assert list(read_jobs(service.engine, clock())) == []
    finally:
        service.close()
