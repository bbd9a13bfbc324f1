"""A fake X for `socialbot run` subprocesses: its state in a SQLite file, its API v2 through
`responses` in the real wire format.

The state file is the one thing the test and every `socialbot run` it starts share. It is
written with stdlib sqlite3 in WAL mode, each change committed before X answers, so it survives
a SIGKILL of any process at any point (a post exists once X answered, as on the real X) and
several processes can use it at once. Every request is recorded with the pid that made it.

    FakeX.create(path, page_size=3)     the test: the file, and how many mentions a page serves
                                        (and `post_seconds`: how long X takes to answer a post)
    fake_x.add_mention(tweet)           the test: a mention X will serve
    with fake_x.mock(): …               the child (`fake_x_run`): X answers from the file
    fake_x.posts(), fake_x.requests()   the test: what the bots posted and asked

Served: GET /2/users/me; GET /2/users/:id/mentions (newer than `since_id`, newest first, paged
with `next_token`); POST /2/tweets (201, the new id); GET /2/users/:id/tweets (our posts since
`start_time`, newest first, each reply with its `replied_to` reference). Anything else is a
connection error, as `responses` answers an unregistered URL: nothing reaches the network.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import responses
from requests import PreparedRequest

from tests import xapi
from tests.crash.state_file import StateFile

_SCHEMA = """
CREATE TABLE IF NOT EXISTS config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mentions (
    id INTEGER PRIMARY KEY,   -- the post id: 19 digits fit in SQLite's 64-bit integer
    tweet TEXT NOT NULL,      -- the item of `data`, as X serves it
    includes TEXT NOT NULL    -- what it needs of `includes`: users, media, places
);
CREATE TABLE IF NOT EXISTS posts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE,
    text TEXT NOT NULL,
    in_reply_to TEXT,
    media_ids TEXT NOT NULL,
    created_at REAL NOT NULL, -- epoch seconds
    pid INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    pid INTEGER NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    query TEXT NOT NULL,
    status INTEGER NOT NULL
);
"""
# Our posts' ids: newer than any mention `xapi.post_id` makes, and unique across processes.
POST_ID_BASE = 1_869_000_000_000_000_000
_MENTIONS = re.compile(r"https://api\.twitter\.com/2/users/\d+/mentions(\?.*)?$")
_OWN_TWEETS = re.compile(r"https://api\.twitter\.com/2/users/\d+/tweets(\?.*)?$")
_ME = re.compile(r"https://api\.twitter\.com/2/users/me(\?.*)?$")
_TWEETS = re.compile(r"https://api\.twitter\.com/2/tweets$")
_JSON = {"content-type": "application/json"}
Answer = tuple[int, Mapping[str, str], str]


@dataclass(frozen=True, slots=True)
class Post:
    """A post X accepted from a bot."""

    id: str
    text: str
    in_reply_to: str | None
    media_ids: tuple[str, ...]
    created_at: float
    pid: int


@dataclass(frozen=True, slots=True)
class Request:
    """A request X received (an unregistered URL never gets here)."""

    at: float
    pid: int
    method: str
    path: str
    query: dict[str, str]
    status: int


@dataclass(frozen=True, slots=True)
class FakeX(StateFile):
    @classmethod
    def create(cls, path: Path, *, page_size: int = 100, post_seconds: float = 0.0) -> FakeX:
        fake = cls(path)
        with fake._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            db.execute("INSERT OR REPLACE INTO config VALUES ('page_size', ?)", (str(page_size),))
            db.execute(
                "INSERT OR REPLACE INTO config VALUES ('post_seconds', ?)", (str(post_seconds),)
            )
        return fake

    # The test's side.

    def add_mention(
        self, tweet: Mapping[str, Any], includes: Mapping[str, Any] | None = None
    ) -> None:
        """A mention X serves from now on. `includes` default: its author as `resident<id>`."""
        if includes is None:
            author = str(tweet["author_id"])
            includes = {"users": [xapi.user(author, f"resident{author}")]}
        with self._write() as db:
            db.execute(
                "INSERT INTO mentions VALUES (?, ?, ?)",
                (int(tweet["id"]), json.dumps(tweet), json.dumps(includes)),
            )

    def posts(self) -> list[Post]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, text, in_reply_to, media_ids, created_at, pid FROM posts ORDER BY seq"
            ).fetchall()
        return [Post(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], r[5]) for r in rows]

    def requests(self, *, pid: int | None = None) -> list[Request]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT at, pid, method, path, query, status FROM requests ORDER BY seq"
            ).fetchall()
        found = [Request(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5]) for r in rows]
        return [r for r in found if pid is None or r.pid == pid]

    # The child's side.

    @contextmanager
    def mock(self) -> Iterator[responses.RequestsMock]:
        """X's API answered from the state file, for as long as the block runs."""
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            mock.add_callback(responses.GET, _ME, callback=self._me)
            mock.add_callback(responses.GET, _MENTIONS, callback=self._mentions)
            mock.add_callback(responses.GET, _OWN_TWEETS, callback=self._own_tweets)
            mock.add_callback(responses.POST, _TWEETS, callback=self._post)
            yield mock

    def _me(self, request: PreparedRequest) -> Answer:
        return self._answer(request, 200, xapi.me())

    def _mentions(self, request: PreparedRequest) -> Answer:
        query = _query(request)
        since = int(query.get("since_id", "0"))
        before = _token(query, "m")
        with self._connect() as db:
            size = min(int(query.get("max_results", "100")), self._page_size(db))
            rows = db.execute(
                "SELECT id, tweet, includes FROM mentions WHERE id > ? AND id < ? "
                "ORDER BY id DESC LIMIT ?",
                (since, before, size + 1),
            ).fetchall()
        more, rows = len(rows) > size, rows[:size]
        tweets = [json.loads(r[1]) for r in rows]
        includes: dict[str, dict[str, Any]] = {"users": {}, "media": {}, "places": {}}
        keys = {"users": "id", "media": "media_key", "places": "id"}
        for row in rows:
            for kind, items in json.loads(row[2]).items():
                for item in items:
                    includes[kind][item[keys[kind]]] = item
        body = xapi.page(
            tweets,
            users=list(includes["users"].values()),
            media=list(includes["media"].values()) or None,
            places=list(includes["places"].values()) or None,
            next_token=f"m{rows[-1][0]}" if more else None,
        )
        return self._answer(request, 200, body)

    def _own_tweets(self, request: PreparedRequest) -> Answer:
        query = _query(request)
        start = datetime.strptime(query["start_time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        before = _token(query, "t")
        size = int(query.get("max_results", "100"))
        with self._connect() as db:
            rows = db.execute(
                "SELECT seq, id, text, in_reply_to, created_at FROM posts "
                "WHERE created_at >= ? AND seq < ? ORDER BY seq DESC LIMIT ?",
                (start.timestamp(), before, size + 1),
            ).fetchall()
        more, rows = len(rows) > size, rows[:size]
        data = []
        for _, post_id, text, in_reply_to, created_at in rows:
            item: dict[str, Any] = {
                "id": post_id,
                "text": text,
                "created_at": _iso(created_at),
                "edit_history_tweet_ids": [post_id],
            }
            if in_reply_to is not None:
                item["referenced_tweets"] = [{"type": "replied_to", "id": in_reply_to}]
            data.append(item)
        meta: dict[str, Any] = {"result_count": len(data)}
        if data:
            meta |= {"newest_id": data[0]["id"], "oldest_id": data[-1]["id"]}
        if more:
            meta["next_token"] = f"t{rows[-1][0]}"
        return self._answer(request, 200, {"data": data, "meta": meta} if data else {"meta": meta})

    def _post(self, request: PreparedRequest) -> Answer:
        assert isinstance(request.body, bytes | str), "tweepy sends the post as JSON"
        body = json.loads(request.body)
        text = body["text"]
        in_reply_to = body.get("reply", {}).get("in_reply_to_tweet_id")
        media_ids = body.get("media", {}).get("media_ids", [])
        with self._connect() as db:
            latency = db.execute("SELECT value FROM config WHERE key = 'post_seconds'").fetchone()
        if latency is not None and float(latency[0]) > 0:
            time.sleep(float(latency[0]))  # X at work on the post; nothing exists yet
        # The post and the record of the request, committed together before X answers: once a
        # bot has the answer, the post exists whatever happens to the bot next.
        with self._write() as db:
            seq = db.execute(
                "INSERT INTO posts (text, in_reply_to, media_ids, created_at, pid) "
                "VALUES (?, ?, ?, ?, ?)",
                (text, in_reply_to, json.dumps(media_ids), time.time(), os.getpid()),
            ).lastrowid
            assert seq is not None
            post_id = str(POST_ID_BASE + seq)
            db.execute("UPDATE posts SET id = ? WHERE seq = ?", (post_id, seq))
            self._record(db, request, 201)
        return 201, _JSON, json.dumps(xapi.posted(post_id, text))

    def _answer(self, request: PreparedRequest, status: int, body: Any) -> Answer:
        with self._write() as db:
            self._record(db, request, status)
        return status, _JSON, json.dumps(body)

    @staticmethod
    def _record(db: sqlite3.Connection, request: PreparedRequest, status: int) -> None:
        url = urlparse(request.url or "")
        db.execute(
            "INSERT INTO requests (at, pid, method, path, query, status) VALUES (?, ?, ?, ?, ?, ?)",
            (
                time.time(),
                os.getpid(),
                request.method or "",
                url.path,
                json.dumps(_query(request)),
                status,
            ),
        )

    @staticmethod
    def _page_size(db: sqlite3.Connection) -> int:
        return int(db.execute("SELECT value FROM config WHERE key = 'page_size'").fetchone()[0])


def _query(request: PreparedRequest) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(request.url or "").query).items()}


def _token(query: Mapping[str, str], prefix: str) -> int:
    """Where the page `pagination_token` asks for starts: below this id (or seq)."""
    token = query.get("pagination_token")
    return int(token.removeprefix(prefix)) if token else 2**63 - 1


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
