"""`socialbot serve` as operators start it: a process on a loopback port that answers HTTP, sends
its security headers with every answer and stops cleanly on SIGTERM."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.web.server import Served, serve


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


def test_serve_tells_systemd_it_is_ready_once_it_listens_and_when_it_stops(
    demo_database: Path, tmp_path: Path
) -> None:
    """socialbot-web.service is Type=notify: READY=1 after the port is bound, STOPPING=1 on
    SIGTERM (sd_notify(3) over $NOTIFY_SOCKET, a unix datagram socket)."""
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(path))
        systemd.settimeout(30)
        with serve(demo_database, tmp_path / "serve.log", {"NOTIFY_SOCKET": str(path)}) as served:
            assert systemd.recv(4096) == b"READY=1"
            assert served.get("/healthz").status_code in (200, 503)  # listening when it said so
        assert systemd.recv(4096) == b"STOPPING=1"
