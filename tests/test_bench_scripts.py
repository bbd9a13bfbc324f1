"""The benchmark scripts still run, end to end, on tiny sizes. No timing is asserted here: the
figures are for `scripts/bench_*.py` to print, on a quiet machine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

# The benchmark scripts run for real, a small size each (`-m "not slow"` leaves them out).
pytestmark = pytest.mark.slow

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


@pytest.fixture
def scripts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.syspath_prepend(str(SCRIPTS))
    yield


def results(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    printed: dict[str, Any] = json.loads(capsys.readouterr().out)
    return printed


def load(name: str) -> ModuleType:
    import importlib

    return importlib.import_module(name)


@pytest.mark.usefixtures("scripts")
def test_the_intake_benchmark_runs_a_small_storm(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load("bench_intake")
    args = ["--n", "300", "--per-poll", "100", "--history", "20", "60"]
    args += ["--history-batch", "100", "--rss", "100", "150", "--json"]

    assert bench.main(args) == 0

    printed = results(capsys)
    measured = printed["results"]
    assert set(measured) >= {
        "sqlite_rate",
        "floor_rate",
        "floor_ratio",
        "cost_small_history",
        "cost_large_history",
        "history_ratio",
        "rss_small",
        "rss_large",
    }
    assert all(m["value"] > 0 for m in measured.values())
    assert "malformed 0" in printed["notes"][0]


@pytest.mark.usefixtures("scripts")
def test_the_storm_is_every_kind_of_mention_and_pages_like_x(
    capsys: pytest.CaptureFixture[str],
) -> None:
    common = load("_bench_common")
    storm = common.Storm.for_size(2_000)
    server = common.MentionsServer(storm)
    bodies = [json.loads(b) for b in server.arrive(1_000, 1_250)]

    assert [len(b["data"]) for b in bodies] == [100, 100, 50]
    newest = [int(b["meta"]["newest_id"]) for b in bodies]
    assert newest == sorted(newest, reverse=True)  # the newest page first
    assert [b["meta"].get("next_token") for b in bodies] == ["b1000p1", "b1000p2", None]
    assert {storm.kind(i) for i in range(1_000, 1_250)} == set(common.CYCLE)


@pytest.mark.usefixtures("scripts")
def test_the_outbox_benchmark_uses_the_quota_without_a_429(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bench = load("bench_outbox")

    assert bench.main(["--replies", "120", "--limit", "50", "--without-pacing", "--json"]) == 0

    measured = results(capsys)["results"]
    assert measured["posted"]["value"] == 120
    assert measured["too_many"]["value"] == 0
    assert measured["unpaced_too_many"]["value"] > 0


@pytest.mark.usefixtures("scripts")
def test_the_web_benchmark_loads_each_route_and_its_floor(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bench = load("bench_web")
    args = ["--cases", "300", "--seconds", "1", "--connections", "2", "--client", "python"]

    assert bench.main([*args, "--json"]) == 0

    printed = results(capsys)
    rows = printed["rows"]
    assert set(rows) == {e.key for e in bench.ENDPOINTS}
    for key, row in rows.items():
        # A seeded database has no poll on record: /healthz says so, as it would in production.
        assert row["status"] == (503 if key == "healthz" else 200)
        assert row["bytes"] > 0
        assert all(row[f] > 0 for f in ("rps", "p50_ms", "p99_ms", "floor_rps", "ratio"))
    assert printed["notes"][0].startswith("SQLite: 300 cases, ")


@pytest.mark.usefixtures("scripts")
def test_the_web_benchmark_reads_wrks_latency_report() -> None:
    bench = load("bench_web")
    report = """Running 10s test @ http://127.0.0.1:8311/cases/99996
  1 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    11.19ms    2.31ms  41.02ms   89.11%
    Req/Sec     1.44k    95.21     1.60k    79.00%
  Latency Distribution
     50%   10.75ms
     75%   11.63ms
     90%   13.12ms
     99%   20.51ms
  14332 requests in 10.01s, 62.79MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   1432.06
Transfer/sec:      6.27MB
"""

    run = bench.parse_wrk(report, ok=True)

    assert (run.requests, run.seconds) == (14332, 10.01)
    assert (run.p50_ms, run.p99_ms) == (10.75, 20.51)
    assert (run.errors, run.unexpected) == (3, 4)
    # wrk pads a figure in seconds to the width of one in ms
    assert bench.parse_wrk(report.replace("20.51ms", "1.20s "), ok=False).p99_ms == 1200.0
    assert bench.parse_wrk(report, ok=False).unexpected == 14332 - 4


@pytest.mark.usefixtures("scripts")
def test_the_replies_benchmark_gives_the_same_texts_both_ways(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bench = load("bench_replies")
    args = ["--replies", "400", "--repeat", "1", "--case-url", "https://x.example/{case}"]
    assert bench.main([*args, "--storm", "--json"]) == 0
    printed = results(capsys)
    assert printed["replies"] == 400
    # Far fewer renders than replies: the fast path was taken.
    assert 0 < printed["results"]["renders"]["value"] < 200
