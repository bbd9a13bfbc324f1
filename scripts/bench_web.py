"""The web service under load, measured against a floor.

    .venv/bin/python scripts/bench_web.py [--cases N] [--seconds S] [--postgres URL] [--json]

A database of N cases (100,000) is seeded in bulk, as a city's two years of them: created evenly
over 730 days (so the default 90-day window holds about an eighth of them, of which Open311's
`requests.json` returns the newest 1,000), every status, one in ten from a private message
(`public` false), a third with the resident's photo, each with the mention that opened it, its
events (intake; acknowledged, in progress, resolved or closed as far as it got) and its replies,
staff's after-photo on a quarter of the resolved ones.

The real `socialbot serve` runs as a process over it. Each measured URL is fetched once, and a
floor server is started: a bare FastAPI app under uvicorn with the same settings
(`server.uvicorn_config`), whose routes return, as constants, the exact bytes and headers our
server answered. Each row is then loaded by `wrk` (`--latency`; -t1 -c16, 10 s a row by default)
against our server, then against the floor; without wrk, by a small asyncio keep-alive client in a
process of its own, whose figures are lower bounds (it spends more CPU a request than wrk, on the
same two cores as the server).

It prints a table (row, req/s, p50, p99, the floor's req/s, the ratio floor / ours, the target,
met?), or JSON with `--json`. A route the server does not answer yet (a 404) is left out, with a
note.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.client
import json
import multiprocessing
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from _bench_common import bulk_insert, postgres_url, progress
from sqlalchemy import Engine, func, select
from sqlmodel import col

from socialbot.catalog import load_catalog
from socialbot.config import SHIPPED_HASHTAGS
from socialbot.domain import GeoPoint
from socialbot.geocell import cell_of
from socialbot.store.db import make_engine, upgrade
from socialbot.store.models import Case
from socialbot.store.statistics import analyze

SCRIPT = Path(__file__).resolve()
CASES = 100_000
SECONDS = 10.0
CONNECTIONS = 16
THREADS = 1
YEARS_OF_CASES = 730  # days the seeded cases are spread over
WINDOW_DAYS = 90  # Open311's default window for requests.json
STARTUP_SECONDS = 60.0
WARM_UP = 20  # requests to each URL before it is measured (caches, the first connection)

# ---------------------------------------------------------------------------------------------
# What is measured, and the targets


@dataclass(frozen=True, slots=True)
class Target:
    """What a row must reach; None: no such target."""

    rps: float | None = None
    p99_ms: float | None = None
    ratio: float | None = None  # at most this many times slower than its floor

    def describe(self) -> str:
        parts = []
        if self.rps is not None:
            parts.append(f"≥ {self.rps:,.0f}/s")
        if self.p99_ms is not None:
            parts.append(f"p99 < {self.p99_ms:,.0f} ms")
        if self.ratio is not None:
            parts.append(f"≤ {self.ratio:g}x floor")
        return ", ".join(parts)

    def met(self, rps: float, p99_ms: float, ratio: float) -> bool | None:
        if self.rps is None and self.p99_ms is None and self.ratio is None:
            return None
        return (
            (self.rps is None or rps >= self.rps)
            and (self.p99_ms is None or p99_ms < self.p99_ms)
            and (self.ratio is None or ratio <= self.ratio)
        )


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A row of the table: the URL (`{number}`: the case measured) and its target."""

    key: str
    label: str
    path: str
    target: Target
    connections: int | None = None  # None: --connections


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "requests_json",
        "requests.json (90 days, first 1,000)",
        "/open311/v2/requests.json",
        Target(rps=100, ratio=3),
    ),
    Endpoint(
        "request",
        "one request by id",
        "/open311/v2/requests/{number}.json",
        Target(rps=1000, p99_ms=50, ratio=3),
    ),
    Endpoint("status_page", "status page", "/cases/{number}", Target(rps=1000, p99_ms=50, ratio=3)),
    # Extra rows: what a load balancer asks every few seconds, and one Prometheus scrape at a time
    # ("well under a second" at 100k cases).
    Endpoint("healthz", "/healthz", "/healthz", Target()),
    Endpoint("metrics", "/metrics (one scrape at a time)", "/metrics", Target(p99_ms=250), 1),
    # The frame itself: FastAPI's cached schema, through every middleware of ours.
    Endpoint("openapi", "/openapi.json (the frame)", "/openapi.json", Target()),
)


# ---------------------------------------------------------------------------------------------
# Seeding

STATUS_CYCLE = (
    ("new",) * 2
    + ("needs_location",)
    + ("acknowledged",) * 2
    + ("in_progress",) * 3
    + ("resolved",) * 9
    + ("closed",) * 3
)
CLOSE_REASONS = ("duplicate", "invalid", "referred", "not_city_property")
NETWORKS = ("x", "mastodon", "bluesky")
MEDIA_DIR = "/var/lib/socialbot/media"


def is_public(k: int) -> bool:
    return k % 10 != 3  # one case in ten came from a private message


def has_after_photo(k: int) -> bool:
    return STATUS_CYCLE[k % len(STATUS_CYCLE)] == "resolved" and k % 4 == 0


@dataclass(frozen=True, slots=True)
class Seeded:
    """The database measured: how many cases, how many in the default window, and the case the
    single-case rows ask for (the newest public resolved one with every part: events, photo,
    after-photo)."""

    url: str
    cases: int
    in_window: int
    number: int


def seed_cases(engine: Engine, n: int, now: datetime, batch: int = 25_000) -> None:
    """N cases over two years, each with its mention, events and replies, inserted in bulk."""
    categories = load_catalog(SHIPPED_HASHTAGS).categories
    span = timedelta(days=YEARS_OF_CASES)
    sqlite = engine.dialect.name == "sqlite"

    def stored(at: datetime) -> datetime:
        at = min(at, now)
        return at.replace(tzinfo=None) if sqlite else at

    event_id = outbox_id = 0
    for start in range(1, n + 1, batch):
        cases: list[tuple[Any, ...]] = []
        mentions: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        outbox: list[tuple[Any, ...]] = []
        for k in range(start, min(n, start + batch - 1) + 1):
            created = now - span + span * k / (n + 1)
            status = STATUS_CYCLE[k % len(STATUS_CYCLE)]
            category = categories[k % len(categories)]
            network = NETWORKS[k % len(NETWORKS)]
            post, author = str(10**15 + k), str(4_000_000 + k * 7 % 30_011)
            lat = 42.25 + (k * 7_919 % 13_000) / 100_000
            lon = -71.15 + (k * 104_729 % 15_000) / 100_000
            text = f"@DemoCity311 #{category.key} by the bus stop on Centre St, case {k}"
            acknowledged = created + timedelta(hours=3)
            started = created + timedelta(days=1)
            resolved = created + timedelta(days=2) if status == "resolved" else None
            closed = created + timedelta(hours=5) if status == "closed" else None
            reason = CLOSE_REASONS[k % len(CLOSE_REASONS)] if closed else None
            photos = [f"https://files.example.social/media/{k}.jpg"] if k % 3 == 0 else []
            updated = resolved or closed or created
            cases.append(
                (
                    k,
                    category.key,
                    category.department,
                    "normal",
                    status,
                    None if status == "needs_location" else lat,
                    None if status == "needs_location" else lon,
                    "needs_location" if status == "needs_location" else "exact",
                    json.dumps(photos),
                    "es" if k % 7 == 0 else "en",
                    network,
                    post,
                    author,
                    f"resident{author}",
                    text,
                    reason,
                    k - 1 if reason == "duplicate" and k > 1 else None,
                    stored(created),
                    stored(updated),
                    None if status == "needs_location" else cell_of(GeoPoint(lat, lon)),
                    stored(created + timedelta(days=3)),
                    stored(resolved) if resolved else None,
                    stored(closed) if closed else None,
                    is_public(k),
                )
            )
            mentions.append(
                (
                    k,
                    network,
                    "intake",
                    post,
                    author,
                    f"resident{author}",
                    text,
                    "en",
                    post,
                    stored(created),
                    stored(created),
                    "needs_location" if status == "needs_location" else "case_opened",
                    f"#{category.key}",
                    k,
                    json.dumps({"id": post, "text": text}),
                )
            )
            moves: list[tuple[datetime, str, str | None, str]] = [
                (
                    created,
                    "socialbot",
                    None,
                    "needs_location" if status == "needs_location" else "new",
                )
            ]
            if status in ("acknowledged", "in_progress", "resolved"):
                moves.append((acknowledged, "staff", "new", "acknowledged"))
            if status in ("in_progress", "resolved"):
                moves.append((started, "staff", "acknowledged", "in_progress"))
            if resolved:
                moves.append((resolved, "staff", "in_progress", "resolved"))
            if closed:
                moves.append((closed, "staff", "new", "closed"))
            for at, actor, before, after in moves:
                event_id += 1
                events.append((event_id, k, stored(at), actor, before, after, ""))
            replies: list[tuple[str, datetime, str | None]] = [("filed", created, None)]
            if resolved:
                photo = f"{MEDIA_DIR}/after-{k}.jpg" if has_after_photo(k) else None
                replies.append(("resolved", resolved, photo))
            for template, at, photo in replies:
                outbox_id += 1
                outbox.append(
                    (
                        outbox_id,
                        network,
                        "intake",
                        f"{template}:{network}:{post}",
                        post,
                        k,
                        k,
                        template,
                        "en",
                        f"Case #{k}: {template}.",
                        "sent",
                        1,
                        stored(at),
                        stored(at),
                        str(2 * 10**15 + outbox_id),
                        stored(at),
                        stored(at),
                        photo,
                    )
                )
        bulk_insert(
            engine,
            "cases",
            "id, category, department, priority, status, lat, lon, location_source, "
            "photo_urls, lang, platform, mention_post_id, author_id, author_username, "
            "description, close_reason, duplicate_of, created_at, updated_at, cell, due_at, "
            "resolved_at, closed_at, public",
            cases,
        )
        bulk_insert(
            engine,
            "mentions",
            "id, platform, account, post_id, author_id, author_username, text, lang, "
            "conversation_id, created_at, received_at, outcome, detail, case_id, raw",
            mentions,
        )
        bulk_insert(
            engine, "case_events", "id, case_id, at, actor, from_status, to_status, note", events
        )
        bulk_insert(
            engine,
            "outbox",
            "id, platform, account, dedupe_key, in_reply_to_post_id, mention_id, case_id, "
            "template, lang, text, state, attempts, next_attempt_at, claimed_at, posted_id, "
            "created_at, sent_at, media_path",
            outbox,
        )
    _after_seeding(engine)


def _after_seeding(engine: Engine) -> None:
    """Sequences past the seeded ids; then the statistics production keeps: SQLite's from the
    hourly `db:optimize` job of `socialbot run` (the function it calls), PostgreSQL's from
    autovacuum's analyze after a bulk load."""
    from sqlalchemy import text

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            for table in ("cases", "mentions", "case_events", "outbox"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    analyze(engine)


def prepare(url: str, n: int, say: Any) -> Seeded:
    """The database at `url`, migrated and seeded with N cases unless it already holds them."""
    engine = make_engine(url, create=True)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            held = conn.execute(select(func.count()).select_from(Case)).scalar_one()
        if held == 0:
            say(f"seeding {n:,} cases")
            started = time.perf_counter()
            seed_cases(engine, n, datetime.now(UTC))
            say(f"  seeded in {time.perf_counter() - started:.1f} s")
        cutoff = datetime.now(UTC) - timedelta(days=WINDOW_DAYS)
        with engine.connect() as conn:
            held = conn.execute(select(func.count()).select_from(Case)).scalar_one()
            in_window = conn.execute(
                select(func.count()).where(col(Case.created_at) >= cutoff)
            ).scalar_one()
    finally:
        engine.dispose()
    number = next(k for k in range(held, 0, -1) if has_after_photo(k) and is_public(k))
    return Seeded(url, held, in_window, number)


# ---------------------------------------------------------------------------------------------
# Servers


@dataclass(frozen=True, slots=True)
class Answer:
    """What a server answered to one GET: what the floor serves back as a constant."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


# Headers the floor's uvicorn writes itself (or that describe one connection only).
_OWN_HEADERS = {"date", "content-length", "server", "transfer-encoding", "connection"}


def get(base_url: str, path: str) -> Answer:
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        headers = [(k.lower(), v) for k, v in response.getheaders()]
        return Answer(response.status, [h for h in headers if h[0] not in _OWN_HEADERS], body)
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment without the machine's SOCIALBOT_* settings, plus `extra`."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALBOT_")}
    return {**kept, "SOCIALBOT_LOG_LEVEL": "WARNING", **extra}


@contextmanager
def running(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """`command` as a process answering on `port`; its base URL until the block ends (SIGTERM)."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{command[2:4]} exited: {log.read_text()[-2000:]}")
            try:
                get(base, "/openapi.json")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{command[2:4]} did not answer in {STARTUP_SECONDS} s"
                    ) from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve_ours(url: str, log: Path) -> Any:
    port = free_port()
    command = [sys.executable, "-m", "socialbot", "serve", "--port", str(port)]
    return running(command, clean_env({"SOCIALBOT_DATABASE_URL": url}), port, log)


def serve_floor(answers: dict[str, Answer], workdir: Path, log: Path) -> Any:
    port = free_port()
    constants = workdir / "floor.json"
    constants.write_text(
        json.dumps(
            {
                path: {
                    "status": a.status,
                    "headers": a.headers,
                    "body": base64.b64encode(a.body).decode(),
                }
                for path, a in answers.items()
            }
        )
    )
    command = [sys.executable, str(SCRIPT), "--floor-child", str(constants), "--port", str(port)]
    return running(command, clean_env({}), port, log)


def floor_child(constants: Path, port: int) -> None:
    """The floor: a bare FastAPI app under uvicorn as `socialbot serve` runs it, each route
    answering the constant bytes our server answered."""
    import uvicorn
    from fastapi import FastAPI

    from socialbot.config import load_settings
    from socialbot.web.server import uvicorn_config

    app = FastAPI(docs_url=None, redoc_url=None)
    for path, answer in json.loads(constants.read_text()).items():
        app.add_api_route(
            urlsplit(path).path,
            _constant(base64.b64decode(answer["body"]), answer["status"], dict(answer["headers"])),
            include_in_schema=False,
        )
    uvicorn.Server(uvicorn_config(app, load_settings(), "127.0.0.1", port)).run()


def _constant(body: bytes, status: int, headers: dict[str, str]) -> Any:
    """A route answering these bytes: the least any route of the framework does."""
    from fastapi import Response

    async def endpoint() -> Response:
        return Response(body, status_code=status, headers=headers)

    return endpoint


# ---------------------------------------------------------------------------------------------
# Load


@dataclass(frozen=True, slots=True)
class Load:
    """One load run: throughput, latency percentiles, and what went wrong."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # connect, read, write errors and timeouts
    unexpected: int  # answers whose status class differs from the one measured

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass(frozen=True, slots=True)
class Client:
    """How load is made: wrk (`threads`, `connections`) or the Python client."""

    wrk: str | None
    seconds: float
    connections: int
    threads: int

    def describe(self) -> str:
        if self.wrk:
            return f"wrk -t{self.threads} -c{self.connections} -d{self.seconds:g}s --latency"
        return (
            f"the Python asyncio client, {self.connections} keep-alive connections, "
            f"{self.seconds:g} s a row (no wrk: lower bounds, the client spending more CPU a "
            "request than wrk on the cores the server runs on)"
        )

    def load(self, url: str, connections: int, ok: bool) -> Load:
        """`url` under load; `ok`: it answers 2xx or 3xx (else: every answer is expected not to)."""
        if self.wrk:
            return run_wrk(self.wrk, url, self.seconds, connections, self.threads, ok)
        # A process of its own, forked: no interpreter start and imports a row.
        context = multiprocessing.get_context("fork")
        receiving, sending = context.Pipe(duplex=False)
        child = context.Process(
            target=_client_process, args=(sending, url, self.seconds, connections, ok)
        )
        child.start()
        sending.close()
        measured: Load = receiving.recv()
        child.join()
        return measured


def _client_process(out: Any, url: str, seconds: float, connections: int, ok: bool) -> None:
    out.send(asyncio.run(_client(url, seconds, connections, ok)))
    out.close()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(figure: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", figure).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def run_wrk(wrk: str, url: str, seconds: float, connections: int, threads: int, ok: bool) -> Load:
    threads = min(threads, connections)
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    done = subprocess.run(
        [*command, "--timeout", "10s", url], check=True, capture_output=True, text=True
    )
    return parse_wrk(done.stdout, ok)


def parse_wrk(output: str, ok: bool) -> Load:
    """wrk's `--latency` report → a Load."""
    percentiles = dict(re.findall(r"^\s+(50|99)(?:\.0+)?%\s+(\S+)\s*$", output, re.MULTILINE))
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    if total is None or set(percentiles) != {"50", "99"}:
        raise RuntimeError(f"wrk's report not understood:\n{output}")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    requests = int(total.group(1))
    bad = int(non_2xx.group(1)) if non_2xx else 0
    return Load(
        requests=requests,
        seconds=_ms(total.group(2) + total.group(3)) / 1000,
        p50_ms=_ms(percentiles["50"]),
        p99_ms=_ms(percentiles["99"]),
        errors=errors,
        unexpected=bad if ok else requests - bad,
    )


async def _client(url: str, seconds: float, connections: int, ok: bool) -> Load:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    latencies: list[float] = []
    counts = {"errors": 0, "unexpected": 0}
    deadline = time.perf_counter() + seconds

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            try:
                writer.write(request)
                status, close = await _answer(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                counts["errors"] += 1
                close, status = True, 0
            else:
                latencies.append(time.perf_counter() - sent)
                if (200 <= status < 400) != ok:
                    counts["unexpected"] += 1
            if close:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def percentile(q: float) -> float:
        return 1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))]

    return Load(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=percentile(0.50) if latencies else 0.0,
        p99_ms=percentile(0.99) if latencies else 0.0,
        **counts,
    )


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Reads one HTTP/1.1 answer; its status, and whether the server closes the connection."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ", 2)[1])
    headers = dict(
        (name.strip().lower(), value.strip())
        for name, _, value in (line.partition(":") for line in head[1:] if line)
    )
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while size := int((await reader.readline()).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readline()
    return status, headers.get("connection", "").lower() == "close"


# ---------------------------------------------------------------------------------------------
# The run


@dataclass(frozen=True, slots=True)
class Result:
    """A row measured: ours and its floor."""

    endpoint: Endpoint
    database: str
    path: str
    status: int
    bytes: int
    ours: Load
    floor: Load

    @property
    def key(self) -> str:
        return self.endpoint.key + ("" if self.database == "sqlite" else f"_{self.database}")

    @property
    def label(self) -> str:
        return self.endpoint.label + ("" if self.database == "sqlite" else f" ({self.database})")

    @property
    def ratio(self) -> float:
        return self.floor.rps / self.ours.rps if self.ours.rps else float("inf")

    @property
    def met(self) -> bool | None:
        return self.endpoint.target.met(self.ours.rps, self.ours.p99_ms, self.ratio)


def measure(
    seeded: Seeded,
    database: str,
    endpoints: Sequence[Endpoint],
    client: Client,
    workdir: Path,
    notes: list[str],
    say: Any,
) -> list[Result]:
    """Every endpoint, on our server over `seeded` and on its floor."""
    results: list[Result] = []
    with ExitStack() as stack:
        ours = stack.enter_context(serve_ours(seeded.url, workdir / f"serve-{database}.log"))
        answers: dict[str, Answer] = {}
        measured: list[tuple[Endpoint, str]] = []
        for endpoint in endpoints:
            path = endpoint.path.format(number=seeded.number)
            for _ in range(WARM_UP):
                answer = get(ours, path)
            if answer.status in (404, 405):
                notes.append(f"{endpoint.label}: {path} answered {answer.status}; not served yet")
                continue
            if answer.status != 200:
                notes.append(
                    f"{endpoint.label} ({database}): measured as it answered, {answer.status}"
                )
            answers[path] = answer
            measured.append((endpoint, path))
        if not measured:
            return results
        floor = stack.enter_context(serve_floor(answers, workdir, workdir / "floor.log"))
        for endpoint, path in measured:
            answer = answers[path]
            ok = 200 <= answer.status < 400
            connections = endpoint.connections or client.connections
            say(f"{database}: {path} ({len(answer.body):,} bytes)")
            mine = client.load(ours + path, connections, ok)
            bare = client.load(floor + path, connections, ok)
            for who, load in (("ours", mine), ("floor", bare)):
                if load.errors or load.unexpected:
                    notes.append(
                        f"{endpoint.label} ({database}, {who}): {load.errors} errors, "
                        f"{load.unexpected} answers of another status than {answer.status}"
                    )
            results.append(
                Result(endpoint, database, path, answer.status, len(answer.body), mine, bare)
            )
            say(
                f"  {mine.rps:,.0f}/s p50 {mine.p50_ms:.1f} ms p99 {mine.p99_ms:.1f} ms; "
                f"floor {bare.rps:,.0f}/s"
            )
    return results


def print_grid(results: Sequence[Result], notes: Sequence[str]) -> None:
    header = ("row", "req/s", "p50 ms", "p99 ms", "floor req/s", "ratio", "target", "met?")
    lines = [
        (
            r.label,
            f"{r.ours.rps:,.0f}",
            f"{r.ours.p50_ms:.1f}",
            f"{r.ours.p99_ms:.1f}",
            f"{r.floor.rps:,.0f}",
            f"{r.ratio:.2f}x",
            r.endpoint.target.describe(),
            "" if r.met is None else ("met" if r.met else "MISSED"),
        )
        for r in results
    ]
    widths = [max(len(line[c]) for line in [header, *lines]) for c in range(len(header))]
    numeric = {1, 2, 3, 4, 5}
    print("socialbot web benchmark")
    for line in [header, tuple("-" * w for w in widths), *lines]:
        cells = [
            cell.rjust(w) if c in numeric else cell.ljust(w)
            for c, (cell, w) in enumerate(zip(line, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
    for note in notes:
        print(note)


def as_json(results: Sequence[Result], notes: Sequence[str], **context: Any) -> str:
    return json.dumps(
        {
            "benchmark": "web",
            **context,
            "rows": {
                r.key: {
                    "label": r.label,
                    "path": r.path,
                    "status": r.status,
                    "bytes": r.bytes,
                    "rps": round(r.ours.rps, 2),
                    "p50_ms": round(r.ours.p50_ms, 3),
                    "p99_ms": round(r.ours.p99_ms, 3),
                    "floor_rps": round(r.floor.rps, 2),
                    "floor_p99_ms": round(r.floor.p99_ms, 3),
                    "ratio": round(r.ratio, 3),
                    "target": r.endpoint.target.describe() or None,
                    "met": r.met,
                }
                for r in results
            },
            "notes": list(notes),
        },
        indent=2,
        ensure_ascii=False,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=CASES, help="cases seeded (100,000)")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="load a row (10)")
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help="open at once (16)")
    parser.add_argument("--threads", type=int, default=THREADS, help="wrk's threads (1)")
    parser.add_argument("--client", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--rows", nargs="+", choices=[e.key for e in ENDPOINTS])
    parser.add_argument("--postgres", metavar="URL", help="also over this PostgreSQL database")
    parser.add_argument(
        "--keep", type=Path, metavar="FILE", help="the SQLite file: seeded once, then reused"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--floor-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.floor_child is not None:
        floor_child(args.floor_child, args.port)
        return 0

    wrk = shutil.which("wrk") if args.client != "python" else None
    if args.client == "wrk" and wrk is None:
        parser.error("--client wrk: wrk is not installed (apt-get install wrk)")
    client = Client(wrk, args.seconds, args.connections, args.threads)
    endpoints = [e for e in ENDPOINTS if args.rows is None or e.key in args.rows]
    say = progress(not args.json)
    load_before = os.getloadavg()[0]
    notes: list[str] = []
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="socialbot-bench-web-") as tmp:
        workdir = Path(tmp)
        sqlite_file = args.keep or workdir / "bench.db"
        seeded = prepare(f"sqlite:///{sqlite_file}", args.cases, say)
        results += measure(seeded, "sqlite", endpoints, client, workdir, notes, say)
        described = [f"SQLite: {seeded.cases:,} cases, {seeded.in_window:,} in the 90-day window"]
        if args.postgres:
            with postgres_url(args.postgres) as url:
                pg = prepare(url, args.cases, say)
                results += measure(pg, "postgresql", endpoints, client, workdir, notes, say)
            described.append(f"PostgreSQL: {pg.cases:,} cases")
    notes[:0] = [
        "; ".join(described) + f"; single-case rows ask for case #{seeded.number}",
        f"load: {client.describe()}; ratio = floor req/s / ours",
        f"load average before: {load_before:.2f} on {os.cpu_count()} cores; uvicorn's HTTP: "
        + _http_implementation(),
    ]
    if args.json:
        print(as_json(results, notes, cases=seeded.cases, client=client.describe()))
    else:
        print_grid(results, notes)
    return 0


def _http_implementation() -> str:
    try:
        import httptools  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return "h11 (httptools not installed)"
    return "httptools"


if __name__ == "__main__":
    sys.exit(main())
