"""A request the service cannot answer is still answered in its part's own form, with the
security headers: Open311's errors body in JSON or XML, a page for a person; never Starlette's
bare text. The database unreadable (the bot's first migration not run yet, PostgreSQL down) is a
503, which clients retry; anything else (a bug) a 500."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from socialbot.config import load_settings
from socialbot.web import georeport, reads
from socialbot.web.app import SECURITY_HEADERS, create_app
from socialbot.web.server import build_web
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
        assert answer.status_code == 503, path
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get(name) == value, (path, name)
    assert "text/html" in answers["/cases/1"].headers["content-type"]
    assert "</html>" in answers["/cases/1"].text
    assert json.loads(answers["/open311/v2/requests.json"].text)[0]["code"] == 503
    error = ET.fromstring(answers["/open311/v2/requests/1.xml"].content)
    assert error.tag == "errors" and error.findtext("error/code") == "503"


def test_a_bug_is_a_500_in_its_parts_form_with_the_security_headers(
    demo_database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    for module in (reads, georeport):
        monkeypatch.setattr(module, "read_case", broken)
    web = build_web(load_settings(database_url=f"sqlite:///{demo_database}"))

    async def ask() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=create_app(web), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/cases/1"), await client.get("/open311/v2/requests/1.xml")

    try:
        page, listed = asyncio.run(ask())
    finally:
        web.engine.dispose()

    for answer in (page, listed):
        assert answer.status_code == 500
        for name, value in SECURITY_HEADERS.items():
            assert answer.headers.get(name) == value, name
    assert "</html>" in page.text and "a bug" not in page.text
    assert ET.fromstring(listed.content).findtext("error/code") == "500"
