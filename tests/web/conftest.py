"""The web service's fixtures: one demo database a test session (read-only for every test that
takes `demo_database`), and a `socialbot serve` over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.web.server import Served, make_demo_database, serve


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's database: made once a test process, never written by a test."""
    return make_demo_database(tmp_path_factory.mktemp("web") / "demo.db")


@pytest.fixture(scope="session")
def served(demo_database: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`socialbot serve` with the default settings over the demo's database."""
    with serve(demo_database, tmp_path_factory.mktemp("serve") / "serve.log") as server:
        yield server
