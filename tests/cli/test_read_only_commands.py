"""Only `run`, `poll`, `demo` and `db upgrade` create or migrate the database; every other command
stops with one line on a missing or out-of-date one, and checks the content it depends on (catalog,
bounds, districts) before it prints or writes anything."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from socialbot.cli import app
from socialbot.store.db import alembic_config, make_engine, upgrade
from tests import xapi
from tests.cli.run import runner

OLD = "0006"  # a release behind the newest schema

# Every command but run, poll, demo and db upgrade, as staff and operators type them.
READING = [
    ("status",),
    ("status", "--json"),
    ("cases", "list"),
    ("cases", "show", "1"),
    ("report",),
    ("report", "hotspots"),
    ("report", "reporters"),
    ("export", "cases"),
    ("usage",),
    ("broadcast", "list"),
    ("broadcast", "show", "1"),
    ("broadcast", "log"),
    ("blocked",),
    ("db", "check"),
]
WRITING = [
    ("cases", "ack", "1"),
    ("cases", "assign", "1", "--to", "Parks and Recreation – Maintenance"),
    ("cases", "note", "1", "seen it"),
    ("cases", "resolve", "1"),
    ("cases", "close", "1", "--reason", "invalid"),
    ("block", "@someone"),
    ("unblock", "@someone"),
    ("broadcast", "send", "--text", "Main St is closed.", "--yes"),
    ("broadcast", "cancel", "1"),
    ("storm", "start", "--name", "Sandy", "--hashtag", "BoSandy"),
    ("storm", "stop"),
    ("send", "--once"),
]


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials set, so that a command stops at the database and not before."""
    for name in ("CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET"):
        monkeypatch.setenv(f"SOCIALBOT_X_{name}", f"{name.lower()}-SECRET")
    monkeypatch.setenv("SOCIALBOT_X_USER_ID", xapi.CITY_ID)


def one_line_failure(*args: str) -> str:
    """The command's standard error, once it exited 1 with exactly one line there."""
    result = runner.invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(make_engine("sqlite://")))


def head() -> str | None:
    return script().get_current_head()


@pytest.fixture
def old_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The service's database as the previous release left it."""
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), OLD)
    engine.dispose()
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", database_url)
    yield database_url


def shown(url: str) -> str:
    engine = make_engine(url)
    engine.dispose()
    return engine.url.render_as_string(hide_password=True)


# --- a missing database is not created ------------------------------------------------------


@pytest.mark.parametrize("args", READING + WRITING, ids=" ".join)
def test_a_mistyped_sqlite_path_is_one_line_and_creates_nothing(
    args: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    typo = tmp_path / "socilbot" / "socialbot.db"
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", f"sqlite:///{typo}")

    line = one_line_failure(*args)

    assert line == (
        f"socialbot: database sqlite:///{typo} does not exist: check SOCIALBOT_DATABASE_URL, or "
        "run `socialbot db upgrade` to create it\n"
    )
    assert not typo.parent.exists()


def test_a_missing_file_in_an_existing_folder_is_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'city.db'}")

    assert "does not exist" in one_line_failure("cases", "list")
    assert list(tmp_path.iterdir()) == []


def test_an_empty_database_gets_no_tables(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PostgreSQL database (or SQLite file) that exists but was never migrated: said, not
    filled with tables."""
    engine = make_engine(database_url)
    with engine.connect():  # the SQLite file exists, empty
        pass
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", database_url)

    line = one_line_failure("cases", "list")

    assert line == (
        f"socialbot: database {shown(database_url)} has no socialbot tables yet: check "
        "SOCIALBOT_DATABASE_URL, or run `socialbot db upgrade` to create them\n"
    )
    assert inspect(engine).get_table_names() == []
    engine.dispose()


def test_the_password_is_masked_when_the_database_cannot_be_reached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", "postgresql+psycopg://u:s3cret@127.0.0.1:1/db")

    line = one_line_failure("cases", "list")

    assert line.startswith(
        "socialbot: database postgresql+psycopg://u:***@127.0.0.1:1/db: cannot connect ("
    )
    assert "s3cret" not in line


def test_a_file_removed_after_the_start_is_not_created_again(tmp_path: Path) -> None:
    """The existence check alone would not do: the pool's next connection would make the file."""
    db = tmp_path / "city.db"
    upgrade(make_engine(f"sqlite:///{db}"))
    engine = make_engine(f"sqlite:///{db}", create=False)
    db.unlink()
    for extra in tmp_path.iterdir():  # the WAL's -wal and -shm files
        extra.unlink()

    with pytest.raises(Exception, match="unable to open database file"), engine.connect():
        pass

    engine.dispose()
    assert list(tmp_path.iterdir()) == []


# --- an out-of-date database is not migrated --------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("status",),
        ("cases", "list"),
        ("cases", "show", "1"),
        ("report",),
        ("usage",),
        ("broadcast", "log"),
        ("cases", "ack", "1"),
        ("block", "@someone"),
        ("storm", "start", "--name", "Sandy", "--hashtag", "BoSandy"),
        ("send", "--once"),
    ],
    ids=" ".join,
)
def test_an_old_schema_is_one_line_and_is_not_migrated(
    args: tuple[str, ...], old_database: str
) -> None:
    line = one_line_failure(*args)

    assert line.startswith(
        f"socialbot: database {shown(old_database)}: schema is "
        f"{len(list(script().iterate_revisions('heads', OLD)))} migration(s) behind (pending: 0007"
    )
    assert line.endswith("; run `socialbot db upgrade` (`socialbot run` does it too)\n")
    assert revision(old_database) == OLD


def test_db_check_reports_an_old_schema_and_leaves_it(old_database: str) -> None:
    result = runner.invoke(app, ["db", "check"], catch_exceptions=False)
    assert result.exit_code == 1 and "migrations pending" in result.stdout
    assert revision(old_database) == OLD


# --- run, poll, demo and db upgrade create and migrate ----------------------------------------


def test_db_upgrade_migrates_an_old_schema(old_database: str) -> None:
    result = runner.invoke(app, ["db", "upgrade"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert revision(old_database) == head()


@responses.activate
def test_poll_migrates_an_old_schema(old_database: str) -> None:
    responses.get(xapi.MENTIONS_URL, json=xapi.page([]))

    result = runner.invoke(app, ["poll", "--once"], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    assert revision(old_database) == head()


def test_run_migrates_an_old_schema(old_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[object] = []
    monkeypatch.setattr("socialbot.cli.jobs.run_forever", started.append)  # no jobs: no X

    result = runner.invoke(app, ["run"], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    assert len(started) == 1
    assert revision(old_database) == head()


@responses.activate
def test_poll_creates_a_missing_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "new" / "socialbot.db"
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", f"sqlite:///{db}")
    responses.get(xapi.MENTIONS_URL, json=xapi.page([]))

    result = runner.invoke(app, ["poll", "--once", "--dry-run"], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    assert revision(f"sqlite:///{db}") == head()


def test_demo_creates_its_database(tmp_path: Path) -> None:
    db = tmp_path / "new" / "demo.db"
    result = runner.invoke(app, ["demo", "--db", str(db), "--no-week"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert revision(f"sqlite:///{db}") == head()


# --- the content a command depends on is checked at its start ---------------------------------


@pytest.fixture
def city_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A current database: what is left to fail is the content."""
    url = f"sqlite:///{tmp_path / 'city.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", url)
    return url


CASE_COMMANDS = [
    ("cases", "list"),
    ("cases", "show", "1"),
    ("report",),
    ("report", "hotspots"),
    ("report", "reporters"),
    ("export", "cases"),
    ("cases", "ack", "1"),
]


@pytest.mark.usefixtures("city_db")
@pytest.mark.parametrize("args", CASE_COMMANDS, ids=" ".join)
def test_a_broken_bounds_file_stops_every_case_command_at_the_start(
    args: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bounds = tmp_path / "bounds.geojson"
    bounds.write_text('{"type": "Point", "coordinates": [-71.06, 42.35]}', encoding="utf-8")
    monkeypatch.setenv("SOCIALBOT_CITY_BOUNDS", str(bounds))

    result = runner.invoke(app, list(args), catch_exceptions=False)

    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"socialbot: SOCIALBOT_CITY_BOUNDS: {bounds}")


@pytest.mark.usefixtures("city_db")
@pytest.mark.parametrize("args", CASE_COMMANDS, ids=" ".join)
def test_a_broken_districts_file_stops_every_case_command_at_the_start(
    args: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    districts = tmp_path / "districts.geojson"
    districts.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    monkeypatch.setenv("SOCIALBOT_DISTRICTS", str(districts))

    result = runner.invoke(app, list(args), catch_exceptions=False)

    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"socialbot: SOCIALBOT_DISTRICTS: {districts}: ")


@pytest.mark.usefixtures("city_db")
def test_a_broken_catalog_stops_a_report_before_its_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`report --chart` read the catalog only after printing the table; now every report checks it
    first."""
    catalog = tmp_path / "hashtags.yaml"
    catalog.write_text("categories: [", encoding="utf-8")
    monkeypatch.setenv("SOCIALBOT_HASHTAGS", str(catalog))

    for args in (["report"], ["report", "--chart", str(tmp_path / "chart.png")], ["cases", "list"]):
        result = runner.invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 1, result.output
        assert result.stdout == ""
        assert result.stderr.count("\n") == 1 and str(catalog) in result.stderr


@pytest.mark.usefixtures("city_db")
def test_storm_mode_and_status_need_only_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In an emergency a broken file must not keep storm mode from being switched, nor hide the
    service's state."""
    bounds = tmp_path / "bounds.geojson"
    bounds.write_text("not json", encoding="utf-8")
    monkeypatch.setenv("SOCIALBOT_CITY_BOUNDS", str(bounds))

    for args in (["storm", "start", "--name", "Sandy", "--hashtag", "BoSandy"], ["status"]):
        result = runner.invoke(app, args, catch_exceptions=False)
        assert result.exit_code == 0, result.output
