"""/healthz answers anyone (a load balancer's probe), so what it says of a failing database
names no file path, host or user: those are for the operator's journal and `socialbot doctor`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.web.server import serve


def test_an_unready_database_is_reported_without_its_address(tmp_path: Path) -> None:
    database = tmp_path / "secret-place" / "not-yet.db"
    database.parent.mkdir()
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE unrelated (a)")
    connection.close()

    with serve(database, tmp_path / "serve.log") as served:
        answer = served.get("/healthz")

    assert answer.status_code == 503
    assert answer.json()["checks"]["database"]["state"] == "failing"
    assert "secret-place" not in answer.text
