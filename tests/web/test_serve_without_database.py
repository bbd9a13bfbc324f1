"""`socialbot serve` before the bot has made its SQLite database (a fresh install whose bot has
not started, a wrong SOCIALBOT_DATABASE_URL): the service answers, and says so. `/healthz` is
a 503 naming the database, not a refused connection from a unit restarting every 5 s; the
answers that need the database are each part's own error, never a bare "Internal Server
Error"."""

from __future__ import annotations

from pathlib import Path

from tests.web.server import serve


def test_healthz_says_the_database_is_missing(tmp_path: Path) -> None:
    missing = tmp_path / "state" / "socialbot.db"
    with serve(missing, tmp_path / "serve.log") as served:
        health = served.get("/healthz")
        services = served.get("/open311/v2/services.json")
        requests_json = served.get("/open311/v2/requests.json")
        requests_xml = served.get("/open311/v2/requests/1.xml")
        page = served.get("/cases/1?lang=es")

    assert health.status_code == 503
    database = health.json()["checks"]["database"]
    assert database["state"] == "failing"
    # Named for the operator in the journal, not to whoever asks /healthz.
    assert str(missing) not in health.text and "SOCIALBOT_DATABASE_URL" in database["detail"]
    assert str(missing) in (tmp_path / "serve.log").read_text()
    assert services.status_code == 200  # the catalog needs no database
    assert requests_json.status_code == 503
    assert requests_json.json()[0]["code"] == 503
    assert requests_xml.status_code == 503
    assert requests_xml.headers["content-type"] == "text/xml; charset=utf-8"
    assert "<errors><error><code>503</code>" in requests_xml.text
    assert page.status_code == 503
    assert page.headers["content-language"] == "es"
    assert "Algo salió mal" in page.text
    assert not missing.exists()  # answering never creates it
