"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from socialbot.errors import ConfigError
from socialbot.store.db import alembic_config, make_engine, schema_is_current, upgrade
from tests.migrate_once import REAL_UPGRADE


def test_migrations_match_the_models(database_url: str) -> None:
    # Alembic itself, not the suite's replay of it (tests/migrate_once.py).
    engine = make_engine(database_url)
    REAL_UPGRADE(alembic_config(engine), "head")
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_upgrade_is_idempotent_and_leaves_the_schema_current(engine: Engine) -> None:
    upgrade(engine)
    assert schema_is_current(engine)


def test_a_new_database_is_behind_until_upgraded(database_url: str) -> None:
    engine = make_engine(database_url)
    assert not schema_is_current(engine)
    upgrade(engine)
    assert schema_is_current(engine)
    engine.dispose()


def test_sqlite_runs_in_wal_with_a_busy_timeout(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/deep/er/socialbot.db")  # directories are created
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


def test_every_migration_downgrades_and_upgrades_again(engine: Engine) -> None:
    config = alembic_config(engine)
    command.downgrade(config, "base")
    assert not schema_is_current(engine)
    command.upgrade(config, "head")
    assert schema_is_current(engine)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "postgres://u:s3cret@localhost/db",
            "SOCIALBOT_DATABASE_URL: cannot use postgres://u:***@localhost/db: Can't load plugin: "
            "sqlalchemy.dialects:postgres (for PostgreSQL write postgresql+psycopg://…)",
        ),
        (
            "u:s3cret@host/db",
            "SOCIALBOT_DATABASE_URL: not a database URL; expected e.g. "
            "sqlite:////var/lib/socialbot/socialbot.db or postgresql+psycopg://user@host/db",
        ),
    ],
)
def test_a_bad_database_url_is_one_line_without_the_password(url: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_engine(url)
    assert str(err.value) == message


def test_an_unreachable_database_is_one_line() -> None:
    engine = make_engine("postgresql+psycopg://u:s3cret@127.0.0.1:1/db")
    with pytest.raises(ConfigError) as err:
        upgrade(engine)
    assert "\n" not in str(err.value) and "s3cret" not in str(err.value)
    assert str(err.value).startswith(
        "database postgresql+psycopg://u:***@127.0.0.1:1/db: cannot migrate ("
    )
