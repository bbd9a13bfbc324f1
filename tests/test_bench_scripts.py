"""The benchmark scripts still run, end to end, on tiny sizes. No timing is asserted here: the
figures are for `scripts/bench_*.py` to print, on a quiet machine."""

from __future__ import annotations

import json
import re
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
    args = ["--network", "x", "--n", "300", "--per-poll", "100", "--history", "20", "60"]
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
def test_the_intake_benchmark_runs_mastodon_and_bluesky_under_the_profiler(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bench = load("bench_intake")
    args = ["--network", "mastodon", "--network", "bluesky", "--n", "1200", "--per-poll", "300"]

    assert bench.main([*args, "--profile", "--json"]) == 0

    printed = results(capsys)
    measured = printed["results"]
    assert set(measured) == {
        f"{network}_{row}"
        for network in ("mastodon", "bluesky")
        for row in ("sqlite_rate", "floor_rate", "floor_ratio")
    }  # no X rows, and the history and memory rows are X's
    assert all(m["value"] > 0 for m in measured.values())
    mastodon, bluesky = printed["notes"][:2]
    for note in (mastodon, bluesky):
        # every kind of outcome the X storm has, follow-ups to our replies of an earlier poll too
        for outcome in ("case_opened", "duplicate", "follow_up", "needs_location"):
            assert f"{outcome} " in note, note
        assert "malformed 0" in note
    assert "Mastodon: 1,200 mentions, 300 a poll" in mastodon
    profiles = printed["profiles"]
    assert set(profiles) == {"Mastodon, SQLite", "Bluesky, SQLite"}
    for profile in profiles.values():
        shares = profile["shares_percent"]
        assert sum(shares.values()) == pytest.approx(100, abs=0.1)
        assert shares["decide (socialbot.intake)"] > 0
        assert shares["SQLAlchemy (statements, ORM, rows)"] > 0
        assert profile["statements_per_100_mentions"] > 0
        assert profile["top_functions"][0]["function"] == "socialbot.poller.poll_once"


@pytest.mark.usefixtures("scripts")
def test_the_profile_gives_each_frame_to_the_innermost_group_a_rule_names() -> None:
    profile = load("_bench_profile")
    own = str(profile.SOCIALBOT)
    lib = "/venv/lib/python3.12/site-packages"

    def frame(path: str, function: str, *children: Any, time: float = 1.0) -> Any:
        return _Frame(path, function, None, list(children), time)

    # poll_once (glue) → decide → location (a helper: decide's) → the SQLAlchemy layer →
    # do_execute (the driver's C call shows as its self time)
    tree = frame(
        f"{own}/poller.py",
        "poll_once",
        frame(
            f"{own}/intake.py",
            "decide",
            frame(f"{own}/location.py", "best_location", time=2.0),
            time=3.0,
        ),
        frame(
            f"{lib}/sqlalchemy/orm/session.py",
            "execute",
            frame(f"{lib}/sqlalchemy/engine/default.py", "do_execute", time=4.0),
            time=5.0,
        ),
        frame(f"{lib}/tweepy/client.py", "_make_request", time=1.0),
        time=10.0,
    )

    found = profile.walk(tree)

    assert found.groups[profile.GLUE] == 1.0  # poll_once's own time
    assert found.groups[profile.DECIDE] == 3.0  # decide's own, and location's in it
    assert found.groups[profile.SQL] == 1.0
    assert found.groups[profile.DRIVER] == 4.0
    assert found.groups[profile.HTTP] == 1.0
    assert found.total == 10.0
    assert found.functions["socialbot.location.best_location"] == 2.0


class _Frame:
    """What `_bench_profile.walk` reads of a pyinstrument frame."""

    def __init__(
        self, path: str, function: str, class_name: str | None, children: list[Any], time: float
    ) -> None:
        self.file_path, self.function, self.class_name = path, function, class_name
        self.children, self.time, self.is_synthetic = children, time, False


@pytest.mark.usefixtures("scripts")
def test_mastodon_pages_forward_by_link_and_bluesky_back_by_cursor() -> None:
    networks = load("_bench_networks")
    common = load("_bench_common")
    storm = common.Storm.for_size(2_000)

    mastodon = networks.MastodonStorm(storm)
    mastodon.arrive(0, 100)
    with mastodon.serving():
        import requests

        first = requests.get(f"{networks.MASTODON_URL}/api/v1/notifications?types[]=mention")
        assert [n["id"] for n in first.json()][:1] == ["1000099"]  # the newest 40, newest first
        assert len(first.json()) == 40 and 'rel="prev"' in first.headers["Link"]
        after = requests.get(
            f"{networks.MASTODON_URL}/api/v1/notifications?types[]=mention&min_id=1000009"
        )
        ids = [int(n["id"]) for n in after.json()]
        assert ids == list(range(1_000_049, 1_000_009, -1))  # just newer than min_id
        assert int(after.headers["X-RateLimit-Remaining"]) < 300
        assert len(mastodon.polled()) == 2
    status = mastodon.notification(2)["status"]  # a map link: the link itself, in the HTML
    assert 'rel="nofollow noopener"' in status["content"] and "t.co" not in status["content"]

    bluesky = networks.BlueskyStorm(storm)
    bluesky.arrive(0, 250)
    with bluesky.serving():
        import httpx

        url = f"https://{networks.BLUESKY_PDS}/xrpc/app.bsky.notification.listNotifications"
        query = "limit=100&reasons=mention&reasons=reply"
        pages = [httpx.get(f"{url}?{query}").json()]
        while "cursor" in pages[-1]:
            pages.append(httpx.get(f"{url}?{query}&cursor={pages[-1]['cursor']}").json())
    assert [len(p["notifications"]) for p in pages] == [100, 100, 50, 0]
    times = [n["indexedAt"] for p in pages for n in p["notifications"]]
    assert times == sorted(times, reverse=True)
    photo = bluesky.notification(0)[0]["record"]  # exact geo: typed in as coordinates
    assert photo["embed"]["$type"] == "app.bsky.embed.images"
    assert re.search(r"\d{2}\.\d{5}, -\d{2}\.\d{5}$", photo["text"])


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


@pytest.mark.usefixtures("scripts")
def test_the_alert_benchmark_fans_out_a_small_city(capsys: pytest.CaptureFixture[str]) -> None:
    bench = load("bench_alerts")

    assert bench.main(["--subscribers", "300", "--json"]) == 0

    measured = results(capsys)["results"]
    assert set(measured) == {
        "sqlite_rows_per_second",
        "sqlite_fan_out_seconds",
        "sqlite_count_seconds",
    }
    assert all(m["value"] > 0 for m in measured.values())
    assert measured["sqlite_fan_out_seconds"]["label"] == "fan-out of 297, SQLite"
