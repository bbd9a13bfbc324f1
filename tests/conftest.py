"""Shared fixtures. The database is real: a SQLite file, and PostgreSQL too when
SOCIALBOT_TEST_POSTGRES_URL is set (each test then gets a new schema of its own; see
tests/postgres_schemas.py for how migrated ones are reused).
No test reaches the network: a connection to anything but loopback fails loudly."""

from __future__ import annotations

import os

# Tables as on a wide terminal, decided before any console exists: a test process may have no
# terminal at all (pytest-xdist's workers), and rich would then fold every table at 80 columns.
# A test of narrow output sets COLUMNS itself.
os.environ.setdefault("COLUMNS", "200")
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from socialbot.config import Settings, load_settings
from socialbot.store.db import make_engine, upgrade

# Each backend's first migration is recorded and replayed for every later empty database.
pytest_plugins = ["tests.migrate_once"]

POSTGRES_URL = os.environ.get("SOCIALBOT_TEST_POSTGRES_URL")
DATABASES = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and host not in ("127.0.0.1", "::1", "localhost")
            and self.family != socket.AF_UNIX
        ):
            raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests see no SOCIALBOT_* setting of the developer's shell, and never their data dir."""
    for name in list(os.environ):
        if name.startswith("SOCIALBOT_") and not name.startswith("SOCIALBOT_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'socialbot.db'}"
        return
    from tests import migrate_once  # a plugin (pytest_plugins): imported by pytest first

    assert POSTGRES_URL is not None and migrate_once.POSTGRES_SCHEMAS is not None
    schemas = migrate_once.POSTGRES_SCHEMAS
    schema = schemas.new()
    url = make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        schemas.done(schema)  # kept for a later test if it is still as migrated, else dropped


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(database_url=database_url)


class Clock:
    """A clock tests move by hand: no sleeping, no freezing hacks."""

    def __init__(self, start: datetime = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A long fuzz run (SOCIALBOT_FUZZ_EXAMPLES set) takes minutes per test: no hang timeout."""
    if os.environ.get("SOCIALBOT_FUZZ_EXAMPLES"):
        for item in items:
            item.add_marker(pytest.mark.timeout(0))
