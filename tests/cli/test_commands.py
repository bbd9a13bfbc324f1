"""The `socialbot` command as staff and operators use it (Typer's CliRunner, real SQLite files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses

from socialbot.cli import app
from tests import xapi
from tests.cli.run import invoke, runner


@pytest.fixture
def demo_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "demo.db"
    code, _ = invoke("demo", "--db", str(db), "--no-week")
    assert code == 0
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", f"sqlite:///{db}")
    return db


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET"):
        monkeypatch.setenv(f"SOCIALBOT_X_{name}", f"{name.lower()}-SECRET")
    monkeypatch.setenv("SOCIALBOT_X_USER_ID", xapi.CITY_ID)
    monkeypatch.setenv("SOCIALBOT_BACKFILL_HOURS", str(24 * 365 * 100))  # fixed-date sample posts
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'city.db'}")


def test_demo_runs_the_pipeline_without_credentials(tmp_path: Path) -> None:
    code, out = invoke("demo", "--db", str(tmp_path / "demo.db"))

    assert code == 0
    # Reports arrive on X and on Mastodon, each in its network's wire format, each answered in
    # its own thread on its own network (Mastodon's replies name their resident).
    assert "X: polled 17 mentions in 2 pages" in out
    assert "Mastodon: polled 4 mentions in 2 pages" in out
    assert "Bluesky: polled 3 mentions in 1 page" in out
    assert "@ana@mastodon.social Thanks! Your report is filed as case #10" in out
    outcomes = ("case_opened", "needs_location", "unclassified", "outside_city", "ignored")
    for outcome in (*outcomes, "duplicate"):
        assert outcome in out
    assert "This was already reported as case #1 (Pothole)" in out  # a neighbour's, merged
    assert "Polled again: 0 new mention(s)" in out
    assert "nothing is filed or answered twice" in out
    assert "case #1's three reporters each hear it is fixed" in out
    assert "The week in figures (socialbot report)" in out


def test_the_demo_week_reports_figures_by_district(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "week.db"
    assert invoke("demo", "--db", str(db))[0] == 0
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", f"sqlite:///{db}")
    code, out = invoke("report", "--since", "8d", "--by", "district", "--format", "json")
    assert code == 0
    rows = {row["key"]: row for row in json.loads(out)["rows"]}
    # Nine cases from X, three from Mastodon, two from Bluesky: one city's figures, whatever the
    # network.
    assert rows["total"]["opened"] == 14 and rows["total"]["reports"] == 16
    assert rows["total"]["resolved"] == 6 and rows["total"]["within_sla"] == 1.0
    assert rows[None]["opened"] == 3  # the reports still without a location have no district yet
    assert sum(r["opened"] for key, r in rows.items() if key != "total") == 14


def test_demo_refuses_to_reuse_a_database(demo_db: Path) -> None:
    result = runner.invoke(app, ["demo", "--db", str(demo_db)])
    assert result.exit_code == 2 and "starts from a fresh database" in result.output


def test_cases_list_as_json(demo_db: Path) -> None:
    code, out = invoke("cases", "list", "--json")

    assert code == 0
    cases = json.loads(out)
    assert {
        "id",
        "category",
        "status",
        "lat",
        "lon",
        "location_source",
        "photo_urls",
        "mention_id",
        "author",
        "created_at",
    } <= set(cases[0])
    first = cases[0]
    assert (first["id"], first["category"], first["status"], first["location_source"]) == (
        1,
        "pothole",
        "new",
        "exact",
    )
    assert first["author"] == "maria_dorchester"


def test_cases_list_filters(demo_db: Path) -> None:
    _, out = invoke("cases", "list", "--status", "needs_location", "--json")
    assert {c["status"] for c in json.loads(out)} == {"needs_location"}
    _, out = invoke("cases", "list", "--category", "pothole", "--json")
    assert {c["category"] for c in json.loads(out)} == {"pothole"}


def test_cases_list_as_a_table(demo_db: Path) -> None:
    code, out = invoke("cases", "list")
    assert code == 0 and "#1" in out and "pothole" in out and "needs_location" in out


def test_cases_show_has_history_and_replies(demo_db: Path) -> None:
    code, out = invoke("cases", "show", "1", "--json")
    case = json.loads(out)
    assert code == 0
    assert case["history"][0]["to"] == "new"
    assert case["replies"][0]["state"] == "sent"
    code, out = invoke("cases", "show", "1")
    assert code == 0 and "openstreetmap.org" in out and "history" in out


def test_an_unknown_case_is_one_line_and_exit_1(demo_db: Path) -> None:
    result = runner.invoke(app, ["cases", "show", "999"])
    assert (result.exit_code, result.stderr) == (1, "socialbot: case #999 does not exist\n")


def test_a_bad_setting_is_one_line_and_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_POLL_SECONDS", "soon")
    result = runner.invoke(app, ["cases", "list"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(
        "socialbot: SOCIALBOT_POLL_SECONDS:"
    )


def test_poll_without_credentials_says_which_are_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'city.db'}")
    result = runner.invoke(app, ["poll", "--once"])
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "socialbot: no network configured: set SOCIALBOT_X_CONSUMER_KEY, "
        "SOCIALBOT_X_CONSUMER_SECRET,"
    )
    assert "SOCIALBOT_MASTODON_ACCESS_TOKEN" in result.stderr


def test_half_set_credentials_are_named_not_taken_for_no_network(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'city.db'}")
    monkeypatch.setenv("SOCIALBOT_MASTODON_API_BASE_URL", "https://social.example.gov")
    result = runner.invoke(app, ["poll", "--once"])
    assert result.exit_code == 1
    assert "SOCIALBOT_MASTODON_ACCESS_TOKEN" in result.stderr
    assert "no network configured" not in result.stderr


@responses.activate
def test_poll_dry_run_then_poll_then_send(credentials: None) -> None:
    page = xapi.page([xapi.tweet(1, "@DemoCity311 #pothole on Main", coordinates=(42.35, -71.06))])
    responses.get(xapi.MENTIONS_URL, json=page)
    responses.get(xapi.MENTIONS_URL, json=page)
    responses.post(xapi.TWEETS_URL, json=xapi.posted("1859200000000000001", "Thanks!"))

    code, out = invoke("poll", "--once", "--dry-run")
    assert code == 0 and "dry run, nothing saved" in out and "case_opened" in out
    assert json.loads(invoke("cases", "list", "--json")[1]) == []

    code, out = invoke("poll", "--once")
    assert code == 0 and "case #1" in out

    code, out = invoke("send", "--once", "--dry-run")
    assert code == 0 and "1 pending repl(ies)" in out
    assert [c.request.method for c in responses.calls].count("POST") == 0

    code, out = invoke("send", "--once")
    assert code == 0 and out.startswith("intake: sent 1,")
    assert "SECRET" not in out


def test_db_upgrade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    assert runner.invoke(app, ["db", "check"]).exit_code == 1
    code, out = invoke("db", "upgrade")
    assert code == 0 and "newest schema" in out
    assert invoke("db", "check") == (0, "schema is current\n")


@responses.activate
def test_no_secret_reaches_the_output_even_at_debug(
    credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCIALBOT_LOG_LEVEL", "DEBUG")
    responses.get(
        xapi.MENTIONS_URL,
        json=xapi.page([xapi.tweet(1, "@DemoCity311 #pothole", coordinates=(42.35, -71.06))]),
    )
    responses.post(
        xapi.TWEETS_URL,
        status=401,
        json={"title": "Unauthorized", "status": 401, "detail": "Unauthorized"},
    )

    poll = runner.invoke(app, ["poll", "--once"])
    send = runner.invoke(app, ["send", "--once"])

    assert poll.exit_code == 0 and send.exit_code == 0
    assert "event=auth_failed" in send.stderr
    everything = poll.stdout + poll.stderr + send.stdout + send.stderr
    assert "SECRET" not in everything


def test_staff_work_cases_from_the_command_line(demo_db: Path) -> None:
    assert invoke("cases", "ack", "1", "--as", "J. Rivera") == (0, "case #1: new → acknowledged\n")
    code, out = invoke("cases", "note", "1", "crew 4 on Tuesday", "--as", "J. Rivera")
    assert (code, out) == (0, "case #1: note added\n")
    code, out = invoke("cases", "resolve", "1", "--as", "J. Rivera")
    assert code == 0 and out.startswith("case #1: acknowledged → resolved; reply queued: Good news")
    history = json.loads(invoke("cases", "show", "1", "--json")[1])["history"]
    # in the thread: a thank-you, kept on the case and for no one in the inbox
    assert history[1]["note"] == "a thank-you: @DemoCity311 thank you, that was fast!"
    # Two neighbours reported the same pothole: linked to case #1, not cases of their own.
    assert [h["note"][:45] for h in history[2:4]] == [
        "also reported by @li_backbay, 17 m away (2 re",
        "also reported by @carlos_fenway, 21 m away (3",
    ]
    assert [(h["actor"], h["to"], h["note"]) for h in history[4:]] == [
        ("J. Rivera", "acknowledged", ""),
        ("J. Rivera", "acknowledged", "crew 4 on Tuesday"),
        ("J. Rivera", "resolved", ""),
    ]


def test_merge_and_unmerge_show_who_and_why_in_both_histories(demo_db: Path) -> None:
    code, out = invoke("cases", "merge", "14", "--into", "1", "--as", "J. Rivera", "--note", "same")
    assert code == 0 and out.startswith("case #14: new → closed; reply queued: ")
    code, out = invoke("cases", "unmerge", "14", "--as", "A. Chen", "--note", "other hole")
    assert (code, out) == (0, "case #14: closed → in_progress\n")

    merged = json.loads(invoke("cases", "show", "14", "--json")[1])["history"]
    assert [(h["actor"], h["note"]) for h in merged[-2:]] == [
        ("J. Rivera", "merged into #1: same"),
        ("A. Chen", "unmerged from #1: other hole"),
    ]
    into = json.loads(invoke("cases", "show", "1", "--json")[1])["history"]
    assert [(h["actor"], h["note"]) for h in into[-2:]] == [
        ("J. Rivera", "#14 merged into this case (reporters 3 → 4): same"),
        ("A. Chen", "#14 unmerged from this case (reporters 4 → 3): other hole"),
    ]
    code, out = invoke("cases", "show", "14")
    assert " A. Chen: closed → in_progress — unmerged from #1: other hole" in out


def test_bulk_resolve_reports_each_failure_and_exits_1(demo_db: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "done.csv"
    sheet.write_text("id,note\n2,scrubbed\nseven,typo\n", encoding="utf-8")

    result = runner.invoke(app, ["cases", "resolve", "7", "99", "--from-csv", str(sheet)])

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("case #7: new → resolved; reply queued:")
    assert lines[1] == "refused: case #99 does not exist"
    assert lines[2].startswith("case #2: new → resolved")
    assert lines[3] == f"refused: {sheet}:3: id 'seven' is not a case number"
    assert lines[4] == "2 done, 2 refused"


def test_close_needs_a_known_reason(demo_db: Path) -> None:
    result = runner.invoke(app, ["cases", "close", "4", "--reason", "boring"])
    assert result.exit_code == 2 and "boring" in result.stderr
    assert invoke("cases", "close", "4", "--reason", "duplicate", "--of", "1")[1].startswith(
        "case #4: new → closed; reply queued: Thanks! Case #4"
    )


def test_resolve_needs_cases_or_a_csv(demo_db: Path) -> None:
    result = runner.invoke(app, ["cases", "resolve"])
    assert result.exit_code == 2 and "name case numbers or --from-csv FILE" in result.stderr


def test_numbers_no_case_can_have_are_refused_in_one_line(demo_db: Path) -> None:
    acted = runner.invoke(app, ["cases", "ack", "99999999999999999999"])
    assert (acted.exit_code, acted.stdout) == (
        1,
        "refused: case #99999999999999999999 does not exist\n",
    )
    shown = runner.invoke(app, ["cases", "show", "99999999999999999999"])
    assert (shown.exit_code, shown.stderr) == (
        1,
        "socialbot: case #99999999999999999999 does not exist\n",
    )


def test_a_csv_saved_by_excel_on_windows_is_read(demo_db: Path, tmp_path: Path) -> None:
    sheet = tmp_path / "done.csv"
    sheet.write_bytes("id,note\n2,reparé\n²,typo\n".encode("cp1252", errors="replace"))

    result = runner.invoke(app, ["cases", "resolve", "--from-csv", str(sheet)])

    assert result.exit_code == 1  # the bad row, reported; no traceback
    assert result.stdout.splitlines()[0].startswith("case #2: new → resolved")
    assert result.stdout.splitlines()[1] == f"refused: {sheet}:3: id '²' is not a case number"
    history = json.loads(invoke("cases", "show", "2", "--json")[1])["history"]
    assert history[-1]["note"] == "reparé"
