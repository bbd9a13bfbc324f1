"""`POST /sms/twilio` on a real `socialbot serve` on loopback, as Twilio reaches it through the
city's proxy: the signature is for the public URL, not the loopback one the process is called
at; one row for a text and its retry; the log shows the sender masked and never the token."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx

from tests.web.server import copy_database, serve
from tests.web.sms import EMPTY_TWIML, PUBLIC_URL, SENDER, SID, TOKEN, inbound_form, signed


def test_a_served_webhook_records_a_text_once(demo_database: Path, tmp_path: Path) -> None:
    database = copy_database(demo_database, tmp_path / "socialbot.db")
    env = {
        "SOCIALBOT_TWILIO_AUTH_TOKEN": TOKEN,
        "SOCIALBOT_WEB_PUBLIC_URL": PUBLIC_URL,
        "SOCIALBOT_LOG_LEVEL": "INFO",
    }
    body, headers = signed(inbound_form())
    with serve(database, tmp_path / "serve.log", env) as served:
        url = served.base_url + "/sms/twilio"
        answers = [httpx.post(url, content=body, headers=headers, timeout=10.0) for _ in "12"]
        forged = httpx.post(url, content=body.replace(b"Main", b"Elm"), headers=headers)

    assert [a.status_code for a in answers] == [200, 200]
    assert {a.text for a in answers} == {EMPTY_TWIML}
    assert forged.status_code == 403
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT message_sid, sender FROM sms_inbound").fetchall()
    connection.close()
    assert rows == [(SID, SENDER)]
    log = served.log.read_text(encoding="utf-8")
    assert "event=sms_inbound" in log and "from=+•••••••••23" in log
    assert SENDER[2:] not in log and TOKEN not in log
