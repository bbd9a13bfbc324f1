"""`socialbot serve` as operators start it: a process on a loopback port that answers HTTP, sends
its security headers with every answer and stops cleanly on SIGTERM."""

from __future__ import annotations

from tests.web.server import Served


def test_serve_answers_on_loopback_with_its_security_headers(served: Served) -> None:
    answer = served.get("/openapi.json")

    assert answer.status_code == 200
    assert answer.json()["info"]["title"] == "socialbot"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in answer.headers["content-security-policy"]
    assert "server" not in answer.headers  # no software version handed to a scanner


def test_an_error_page_carries_the_security_headers_too(served: Served) -> None:
    answer = served.get("/no-such-page")

    assert answer.status_code == 404
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "no-referrer"
