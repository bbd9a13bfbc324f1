"""A fake Twilio for `socialbot run` subprocesses, as `fake_x.py` is X's: its state in a SQLite
file (WAL, each text committed before Twilio answers, so it survives a SIGKILL of any process),
its REST API through `responses` in the real wire format (`tests/networks/sms/server.py`'s
message resources).

    FakeTwilio.create(path)          the test: the file
    with fake_twilio.mock(): …       the child (`fake_twilio_run`): Twilio answers from the file
    fake_twilio.sent()               the test: every text a bot sent, oldest first

Served: POST Messages.json (201, the message resource, a new `SM…` SID); GET Messages.json
(`To`, `From` filters, newest first, one page). Anything else is a connection error.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import responses
from requests import PreparedRequest

from tests.crash.state_file import StateFile
from tests.networks.sms import server

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sent (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    sid TEXT UNIQUE,
    recipient TEXT NOT NULL,
    sender TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL, -- epoch seconds
    pid INTEGER NOT NULL
);
"""
_JSON = {"content-type": "application/json"}
Answer = tuple[int, Mapping[str, str], str]


@dataclass(frozen=True, slots=True)
class Text:
    """A text Twilio took from a bot."""

    sid: str
    to: str
    body: str
    pid: int


@dataclass(frozen=True, slots=True)
class FakeTwilio(StateFile):
    @classmethod
    def create(cls, path: Path) -> FakeTwilio:
        fake = cls(path)
        with fake._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
        return fake

    def sent(self) -> list[Text]:
        with self._connect() as db:
            rows = db.execute("SELECT sid, recipient, body, pid FROM sent ORDER BY seq").fetchall()
        return [Text(*row) for row in rows]

    @contextmanager
    def mock(self) -> Iterator[responses.RequestsMock]:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add_callback(responses.POST, server.MESSAGES_URL, callback=self._post)
            mock.add_callback(responses.GET, server.MESSAGES_URL, callback=self._list)
            yield mock

    def _post(self, request: PreparedRequest) -> Answer:
        body = request.body if isinstance(request.body, str) else (request.body or b"").decode()
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        # The text and its SID committed before Twilio answers: once a bot has the answer, the
        # text is taken whatever happens to the bot next.
        with self._write() as db:
            seq = db.execute(
                "INSERT INTO sent (recipient, sender, body, created_at, pid) "
                "VALUES (?, ?, ?, ?, ?)",
                (form["To"], form["From"], form["Body"], time.time(), os.getpid()),
            ).lastrowid
            assert seq is not None
            sid = f"SM{0xC0DE0000 + seq:032x}"
            db.execute("UPDATE sent SET sid = ? WHERE seq = ?", (sid, seq))
            row = db.execute(
                "SELECT sid, recipient, sender, body, created_at FROM sent WHERE seq = ?", (seq,)
            ).fetchone()
        return 201, _JSON, json.dumps(_resource(row))

    def _list(self, request: PreparedRequest) -> Answer:
        query = {k: v[0] for k, v in parse_qs(urlparse(request.url or "").query).items()}
        with self._connect() as db:
            rows = db.execute(
                "SELECT sid, recipient, sender, body, created_at FROM sent ORDER BY seq DESC"
            ).fetchall()
        found = [
            _resource(row)
            for row in rows
            if row[1] == query.get("To", row[1]) and row[2] == query.get("From", row[2])
        ]
        uri = f"/2010-04-01/Accounts/{server.ACCOUNT_SID}/Messages.json"
        page = {
            "messages": found,
            "next_page_uri": None,
            "page": 0,
            "page_size": 50,
            "uri": f"{uri}?PageSize=50&Page=0",
        }
        return 200, _JSON, json.dumps(page)


def _resource(row: tuple[str, str, str, str, float]) -> dict[str, object]:
    sid, to, sender, body, created_at = row
    return server.message(sid, to, body, datetime.fromtimestamp(created_at, UTC), sender=sender)
