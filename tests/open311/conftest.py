"""The Open311 tests' city (`city.build_city`), its CRM served by `responses`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from socialbot.config import Settings
from tests.conftest import Clock
from tests.open311.city import City, build_city


@pytest.fixture
def crm_mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def city(settings: Settings, clock: Clock, crm_mock: responses.RequestsMock) -> Iterator[City]:
    built = build_city(settings, clock, crm_mock)
    yield built
    built.close()
