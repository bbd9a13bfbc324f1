"""The benchmark scripts still run, end to end, on tiny sizes. No timing is asserted here: the
figures are for `scripts/bench_*.py` to print, on a quiet machine."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

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
