"""A request the service cannot answer (the database unreadable: the bot's first migration not
run yet, PostgreSQL down) is still answered in its part's own form, with the security headers:
Open311's errors body in JSON or XML, a page for a person; never Starlette's bare text."""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

from socialbot.web.app import SECURITY_HEADERS
from tests.web.server import serve


def test_a_server_error_is_answered_in_its_parts_form_with_the_security_headers(
    tmp_path: Path,
) -> None:
    database = tmp_path / "not-yet.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE unrelated (a)")
    connection.close()

    with serve(database, tmp_path / "serve.log") as served:
        answers = {
            path: served.get(path)
            for path in (
                "/cases/1",
                "/cases/1/after-photo",
                "/open311/v2/requests.json",
                "/open311/v2/requests/1.xml",
            )
        }

    for path, answer in answers.items():
        assert answer.status_code == 500, path
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get(name) == value, (path, name)
    assert "text/html" in answers["/cases/1"].headers["content-type"]
    assert "</html>" in answers["/cases/1"].text
    assert json.loads(answers["/open311/v2/requests.json"].text)[0]["code"] == 500
    error = ET.fromstring(answers["/open311/v2/requests/1.xml"].content)
    assert error.tag == "errors" and error.findtext("error/code") == "500"
