"""`socialbot inbox …` as staff type it, on a real database, at 80 columns."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from typer.testing import Result

from socialbot.cli import app
from socialbot.domain import InboxReason
from socialbot.store.db import transaction
from socialbot.store.models import OutboxMessage
from tests.cli.run import runner
from tests.inbox.made import RECEIVED, add_case, add_message


@pytest.fixture
def city(engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", database_url)
    monkeypatch.setenv("SOCIALBOT_TIMEZONE", "America/New_York")
    monkeypatch.setenv("SOCIALBOT_CITY_BOUNDS", "-71.191155,42.227926,-70.986078,42.399974")
    monkeypatch.setenv("COLUMNS", "80")
    yield engine


def run(*args: str, input: str | None = None) -> Result:
    return runner.invoke(app, ["inbox", *args], input=input, catch_exceptions=False)


def one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr.removeprefix("socialbot: ").rstrip("\n")


def queued(engine: Engine) -> list[str]:
    with transaction(engine) as session:
        return list(session.exec(select(OutboxMessage.text)).all())


def fits_80(output: str) -> None:
    assert output.strip()
    assert max(len(line) for line in output.splitlines()) <= 80, output


def test_an_empty_inbox_says_so(city: Engine) -> None:
    result = run("list")
    assert result.exit_code == 0
    assert result.stdout == "The inbox is empty: nothing waits for staff.\n"


def test_the_list_reads_well_at_80_columns(city: Engine) -> None:
    add_message(
        city,
        "@City when is the next council meeting about the new bike lanes on Massachusetts "
        "Avenue? I could not find it anywhere on the website",
        received=RECEIVED - timedelta(days=2),
    )
    add_message(city, "#BoSandy help", reason=InboxReason.STORM, priority=True)
    result = run("list")
    assert result.exit_code == 0, result.output
    fits_80(result.stdout)
    lines = result.stdout.splitlines()
    assert "America/New_York" in result.stdout
    assert lines.index(next(x for x in lines if "#2" in x)) < lines.index(
        next(x for x in lines if "#1 " in x)
    )  # the storm post first
    assert "@maria" in result.stdout and "Massachusetts" in result.stdout


def test_the_list_as_json_has_times_with_the_citys_offset(city: Engine) -> None:
    item = add_message(city, "@City ?")
    (row,) = json.loads(run("list", "--json").stdout)
    assert row["id"] == item and row["received_at"] == "2026-11-23T07:00:00-05:00"
    assert (row["state"], row["reason"], row["author"]) == ("open", "unclassified", "maria")


def test_all_shows_the_closed_with_their_state(city: Engine) -> None:
    item = add_message(city, "@City lol")
    assert run("done", str(item), "--note", "a joke", "--as", "maria").exit_code == 0
    assert run("list").stdout == "The inbox is empty: nothing waits for staff.\n"
    result = run("list", "--all")
    fits_80(result.stdout)
    assert "done" in result.stdout and "maria" in result.stdout


def test_show_reads_well_at_80_columns(city: Engine) -> None:
    case_id = add_case(city)
    item = add_message(
        city,
        "@City can you also fix the sidewalk?\x1b[2J",
        reason=InboxReason.COMMENT,
        case_id=case_id,
    )
    result = run("show", str(item))
    assert result.exit_code == 0, result.output
    fits_80(result.stdout)
    assert "\\x1b[2J" in result.stdout and "\x1b" not in result.stdout  # shown, never run
    assert f"#{case_id} pothole (new)" in result.stdout


def test_reply_previews_asks_and_queues(city: Engine) -> None:
    item = add_message(city, "@City why no plow?")
    declined = run("reply", str(item), "A plow is on its way.", "--as", "maria", input="n\n")
    assert declined.exit_code == 1 and "Nothing sent." in declined.stdout
    assert "21 of 280 weighted characters on X" in declined.stdout
    fits_80(declined.stdout)
    assert queued(city) == []

    result = run("reply", str(item), "A plow is on its way.", "--as", "maria", "--yes")
    assert result.exit_code == 0, result.output
    assert f"inbox #{item}: replied; queued as outbox #1" in result.stdout
    assert queued(city) == ["A plow is on its way."]

    again = run("reply", str(item), "A plow is on its way.", "--as", "li", "--yes")
    assert re.fullmatch(
        rf"inbox #{item} was replied to by maria at \d\d:\d\d EST; nothing sent",
        one_line_error(again),
    )
    assert queued(city) == ["A plow is on its way."]


def test_a_reply_too_long_is_one_line_and_nothing_is_queued(city: Engine) -> None:
    item = add_message(city, "@City ?")
    result = run("reply", str(item), "y" * 300, "--yes")
    assert one_line_error(result) == (
        f"inbox #{item}: the reply is 300 of 280 weighted characters on X; "
        "shorten it (nothing queued)"
    )
    assert queued(city) == []


def test_answer_sends_an_entry_of_answers_yaml(city: Engine) -> None:
    item = add_message(city, "@City when is trash day in Dorchester", lang="en")
    result = run("answer", str(item), "trash_day", "--as", "maria", "--yes")
    assert result.exit_code == 0, result.output
    fits_80(result.stdout)
    (text,) = queued(city)
    assert text.startswith("Trash and recycling are picked up once a week")
    unknown = run("answer", str(item), "trahs_day", "--yes")
    assert "no such entry" in one_line_error(unknown)


def test_assign_says_who_had_it(city: Engine) -> None:
    item = add_message(city, "@City ?")
    assert run("assign", str(item), "--to", "Parks").stdout == f"inbox #{item}: assigned to Parks\n"
    assert run("assign", str(item), "--to", "Ana").stdout == (
        f"inbox #{item}: assigned to Ana (was Parks)\n"
    )


def test_file_previews_the_case_and_tells_the_resident(city: Engine) -> None:
    item = add_message(city, "@City big hole here https://maps.google.com/?q=42.3601,-71.0589")
    result = run("file", str(item), "--category", "pothole", "--as", "maria", "--yes")
    assert result.exit_code == 0, result.output
    fits_80(result.stdout)
    assert "Public Works – Highway" in result.stdout and "map_link" in result.stdout
    assert f"inbox #{item}: filed as case #1 (new); reply queued as outbox #1" in result.stdout
    (text,) = queued(city)
    assert text.startswith("Thanks! Your report is filed as case #1 (Pothole).")


def test_file_outside_the_city_is_one_line(city: Engine) -> None:
    item = add_message(city, "@City hole")
    result = run("file", str(item), "--category", "pothole", "--at", "40.7128,-74.006", "--yes")
    assert "outside the city bounds" in one_line_error(result)
    assert queued(city) == []


@pytest.mark.parametrize(
    "args",
    [
        ("show", "9"),
        ("reply", "9", "hi", "--yes"),
        ("answer", "9", "trash_day", "--yes"),
        ("done", "9"),
        ("assign", "9", "--to", "Parks"),
        ("file", "9", "--category", "pothole", "--yes"),
    ],
)
def test_an_unknown_number_is_one_line_for_every_command(
    city: Engine, args: tuple[str, ...]
) -> None:
    assert one_line_error(run(*args)).startswith("inbox #9 does not exist")
