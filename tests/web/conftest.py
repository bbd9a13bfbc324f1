"""The web service's fixtures: one demo database a test run (read-only for every test that
takes `demo_database`), and a `socialbot serve` over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.made_once import made_once, run_folder
from tests.web.server import Served, make_demo_database, serve


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The demo's database: made once a test run (for every worker), never written by a test."""
    return made_once(run_folder(tmp_path_factory, worker_id), "demo.db", make_demo_database)


@pytest.fixture(scope="session")
def served(demo_database: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`socialbot serve` with the default settings over the demo's database."""
    with serve(demo_database, tmp_path_factory.mktemp("serve") / "serve.log") as server:
        yield server
