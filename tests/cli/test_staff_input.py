"""What staff type is checked where it comes in: the same input gets the same one-line answer on
SQLite and PostgreSQL (which, unlike SQLite, refuses over-long VARCHARs and NUL bytes), before
anything is written; and a database the command cannot reach is one line, never a traceback."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func
from sqlalchemy.engine import make_url
from sqlmodel import select
from typer.testing import Result

from socialbot.cli import app
from socialbot.domain import CaseStatus
from socialbot.store.db import transaction
from socialbot.store.models import Broadcast, Case, CaseEvent
from tests.cli.run import runner
from tests.conftest import POSTGRES_URL
from tests.networks.x.test_x_media import tiny_png

AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def cases(engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """Three new pothole cases, #1 to #3, on the test's database."""
    with transaction(engine) as session:
        for n in range(1, 4):
            session.add(
                Case(
                    category="pothole",
                    department="Public Works",
                    priority="normal",
                    status=CaseStatus.NEW,
                    location_source="none",
                    lang="en",
                    platform="x",
                    mention_post_id=str(1000 + n),
                    author_id="42",
                    author_username="maria",
                    created_at=AT,
                    updated_at=AT,
                )
            )
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", database_url)
    yield engine


def run(*args: str) -> Result:
    return runner.invoke(app, list(args), catch_exceptions=False)


def one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("socialbot: ")
    return result.stderr.removeprefix("socialbot: ").rstrip("\n")


def events(engine: Engine) -> int:
    with transaction(engine) as session:
        return session.exec(select(func.count()).select_from(CaseEvent)).one()


def test_a_department_longer_than_its_column_is_one_line_on_every_database(cases: Engine) -> None:
    result = run("cases", "assign", "1", "2", "--to", "D" * 129)
    assert one_line_error(result) == "--to: 129 characters; at most 128 fit"
    assert events(cases) == 0
    assert run("cases", "assign", "1", "--to", "D" * 128, "--force").exit_code == 0


def test_an_actor_longer_than_its_column_is_one_line_for_every_command(cases: Engine) -> None:
    long = "A" * 129
    for args in (
        ("cases", "ack", "1"),
        ("cases", "note", "1", "text"),
        ("cases", "assign", "1", "--to", "Parks", "--force"),
        ("block", "@spammer"),
        ("storm", "start", "--name", "Sandy", "--hashtag", "BoSandy"),
        ("broadcast", "cancel", "1"),
    ):
        result = run(*args, "--as", long)
        assert one_line_error(result) == "--as: 129 characters; at most 128 fit", args
    assert events(cases) == 0


def test_a_byte_that_is_not_utf8_in_an_argument_is_one_line(cases: Engine) -> None:
    # What Python makes of `--note $'\xff'` typed in a Latin-1 terminal: a lone surrogate, which
    # neither database can store.
    result = run("cases", "ack", "1", "--note", "bad \udcff byte")
    assert one_line_error(result).startswith("--note: is not valid UTF-8 text")
    result = run("cases", "note", "1", "bad \udcff byte")
    assert one_line_error(result).startswith("TEXT: is not valid UTF-8 text")
    assert events(cases) == 0


def test_a_csv_note_with_a_nul_byte_is_refused_on_its_line_and_the_rest_go_through(
    cases: Engine, tmp_path: Path
) -> None:
    sheet = tmp_path / "done.csv"
    sheet.write_text("id,note\n1,filled\n2,bad\x00note\n3,ok\n", encoding="utf-8")
    result = run("cases", "resolve", "--from-csv", str(sheet))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("case #1: new → resolved")
    assert lines[1] == f"refused: {sheet}:3: the note contains a NUL character (\\x00); remove it"
    assert lines[2].startswith("case #3: new → resolved")
    assert lines[3] == "2 done, 1 refused"


def test_a_csv_cell_over_the_csv_limit_is_refused_on_its_line_and_the_rest_go_through(
    cases: Engine, tmp_path: Path
) -> None:
    sheet = tmp_path / "done.csv"
    huge = "x" * (csv.field_size_limit() + 1)
    sheet.write_text(f"id,note\n1,filled\n2,{huge}\n3,ok,extra cell\n", encoding="utf-8")
    result = run("cases", "resolve", "--from-csv", str(sheet))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("case #1: new → resolved")
    assert lines[1] == (
        f"refused: {sheet}:3: a cell is longer than 131,072 characters; keep each note shorter "
        "(this row was skipped)"
    )
    assert lines[2].startswith("case #3: new → resolved")  # a cell beyond the header is ignored


def test_a_photo_note_longer_than_xs_alt_text_is_refused_before_anything_changes(
    cases: Engine, tmp_path: Path
) -> None:
    photo = tmp_path / "after.png"
    photo.write_bytes(tiny_png())
    result = run("cases", "resolve", "1", "--photo", str(photo), "--note", "n" * 1001)
    assert result.exit_code == 1
    assert result.stdout == (
        "refused: case #1: --note: 1,001 characters; with --photo it is the photo's alt text, "
        "and X takes at most 1000\n"
    )
    assert events(cases) == 0


def test_broadcast_values_longer_than_their_columns_are_one_line(
    cases: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET"):
        monkeypatch.setenv(f"SOCIALBOT_X_{name}", f"{name.lower()}-SECRET")
    for args, error in (
        (("--text", "hi", "--lang", "english-us"), "--lang 'english-us': 10 characters; at most 8"),
        (
            ("--text", "hi", "--cron", "0 7 * * * " + " " * 130),
            "--cron '0 7 * * * ",
        ),
    ):
        result = run("broadcast", "send", *args, "--yes", "--account", "intake", "--as", "c")
        assert one_line_error(result).startswith(error), result.stderr
    with transaction(cases) as session:
        assert session.exec(select(func.count()).select_from(Broadcast)).one() == 0


# --- connecting ------------------------------------------------------------------------------


def test_a_port_that_is_not_a_number_is_one_line_for_every_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", "postgresql+psycopg://staff:s3cret@db:54x2/city")
    for args in (("db", "check"), ("db", "upgrade"), ("cases", "list"), ("status",)):
        message = one_line_error(run(*args))
        assert message.startswith("SOCIALBOT_DATABASE_URL: not a database URL (is the port a"), args
        assert "s3cret" not in message


def test_db_check_on_a_database_it_cannot_open_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "is-a-folder.db"
    folder.mkdir()  # SQLite cannot open a folder: OperationalError on connect
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", f"sqlite:///{folder}")
    for args in (("db", "check"), ("cases", "list"), ("cases", "show", "1")):
        message = one_line_error(run(*args))
        assert "unable to open database file" in message, args
    assert one_line_error(run("db", "check")) == (
        "database cannot connect: unable to open database file; check SOCIALBOT_DATABASE_URL "
        "and that the database is up (`socialbot doctor` checks both)"
    )


@pytest.mark.skipif(POSTGRES_URL is None, reason="needs SOCIALBOT_TEST_POSTGRES_URL")
def test_db_check_with_credentials_postgresql_refuses_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert POSTGRES_URL is not None
    url = make_url(POSTGRES_URL).set(username="no_such_staff", password="s3cret")
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", url.render_as_string(hide_password=False))
    for args in (("db", "check"), ("db", "upgrade"), ("cases", "list")):
        message = one_line_error(run(*args))
        assert 'role "no_such_staff" does not exist' in message, args
        assert "s3cret" not in message


EXAMPLES = int(os.environ.get("SOCIALBOT_FUZZ_EXAMPLES", "30"))
_CELLS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["1", "2", "3", "0", "-1", "²", "99999999999999999999", "", "\x00"]),
    st.sampled_from(["\r", "\n", '"', ",", '""', "=cmd()", "[/]", "\x1b[31m"]),
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 100,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    header=st.lists(st.sampled_from(["id", "note", "photo", "", "x"]), min_size=0, max_size=3),
    rows=st.lists(st.lists(_CELLS, max_size=4), max_size=5),
    raw=st.binary(max_size=40),
)
def test_any_csv_sheet_is_answered_line_by_line_never_with_a_traceback(
    cases: Engine, tmp_path: Path, header: list[str], rows: list[list[str]], raw: bytes
) -> None:
    """A sheet staff exported from a spreadsheet is outside input: whatever it holds (odd ids,
    NUL, quotes, bytes that are not UTF-8), `--from-csv` answers with lines and exit 0 or 1 (2:
    a sheet with nothing to do, refused as a usage error)."""
    sheet = tmp_path / "sheet.csv"
    text = "\n".join(",".join(cells) for cells in [header, *rows])
    sheet.write_bytes(text.encode("utf-8") + raw)

    result = runner.invoke(app, ["cases", "resolve", "--from-csv", str(sheet)])

    assert result.exit_code in (0, 1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


def test_assign_takes_a_catalog_department_however_typed_and_stores_its_spelling(
    cases: Engine,
) -> None:
    result = run("cases", "assign", "1", "--to", "public works - highway", "--as", "ana")
    assert result.exit_code == 0, result.output
    with transaction(cases) as session:
        case = session.get(Case, 1)
        assert case is not None and case.department == "Public Works – Highway"


def test_assign_to_no_department_of_the_catalog_is_one_line_with_the_nearest(
    cases: Engine,
) -> None:
    result = run("cases", "assign", "1", "2", "--to", "Parks")
    assert one_line_error(result) == (
        "--to 'Parks': no department of the catalog or districts is called that; did you mean "
        "'Parks and Recreation – Maintenance', 'Parks and Recreation – Urban Forestry'? "
        "(--force assigns to a new department)"
    )
    assert events(cases) == 0
    # On purpose: a department the catalog does not name yet.
    assert run("cases", "assign", "1", "--to", "Parks", "--force").exit_code == 0
    with transaction(cases) as session:
        case = session.get(Case, 1)
        assert case is not None and case.department == "Parks"
