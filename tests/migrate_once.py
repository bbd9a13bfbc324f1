"""Migrations run once per test process, then replayed.

Nearly every test starts from a new database that the service migrates (`store.db.upgrade`):
Alembic loads its 17 revision files and builds each table's batch copy again, about 0.2 s a
test on SQLite and more on PostgreSQL, for the same schema every time. So the first migration of
an empty database on each backend runs for real and is recorded: on PostgreSQL every statement
Alembic sent, on SQLite the schema it left (`final_sqlite_schema`). Every later migration of an
empty database to `head` on that backend replays the recording in one transaction. Anything
else (an upgrade of a database that has tables, to a revision other than head, a downgrade,
`--sql`) runs Alembic itself. `tests/store/test_migrate_once.py` proves the replayed schema is
the migrated one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import alembic.command
import pytest
import regex
from alembic.config import Config
from sqlalchemy import Engine, event, inspect

from tests.postgres_schemas import SchemaPool

REAL_UPGRADE = alembic.command.upgrade
# The engine's own transaction control (store.db issues BEGIN IMMEDIATE on SQLite): the replay
# runs in a transaction of its own.
_TRANSACTION = regex.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK)\b", regex.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Statement:
    sql: str
    parameters: Any
    many: bool


_RECORDED: dict[str, tuple[Statement, ...]] = {}
# This process's PostgreSQL schemas (tests/postgres_schemas.py), when it runs PostgreSQL tests: a
# migration of an empty one takes a kept migrated schema before it replays anything.
POSTGRES_SCHEMAS: SchemaPool | None = None


def upgrade(config: Config, revision: str, sql: bool = False, tag: str | None = None) -> None:
    """`alembic.command.upgrade`, replayed for an empty database migrated to head."""
    engine = config.attributes.get("engine")
    if revision != "head" or sql or tag is not None or not isinstance(engine, Engine):
        REAL_UPGRADE(config, revision, sql=sql, tag=tag)
        return
    if inspect(engine).get_table_names():
        REAL_UPGRADE(config, revision)
        return
    backend = engine.url.get_backend_name()
    recorded = _RECORDED.get(backend)
    if recorded is None:
        _RECORDED[backend] = record(config, engine)
        if backend == "postgresql" and POSTGRES_SCHEMAS is not None:
            POSTGRES_SCHEMAS.migrated(engine)
    elif backend != "postgresql" or POSTGRES_SCHEMAS is None or not POSTGRES_SCHEMAS.take(engine):
        replay(engine, recorded)


def recorded(backend: str) -> bool:
    """Whether this process has recorded `backend`'s migration (and replays it from now on)."""
    return backend in _RECORDED


def record(config: Config, engine: Engine) -> tuple[Statement, ...]:
    """Migrate for real, keeping every statement Alembic sent."""
    statements: list[Statement] = []

    def keep(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, many: bool) -> None:
        if not _TRANSACTION.match(sql):
            statements.append(Statement(sql, parameters, many))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        REAL_UPGRADE(config, "head")
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    if engine.dialect.name == "sqlite":
        return final_sqlite_schema(engine)
    return tuple(statements)


def final_sqlite_schema(engine: Engine) -> tuple[Statement, ...]:
    """On SQLite the schema Alembic built is its own text: each table's, index's and trigger's
    statement as `sqlite_master` keeps it, and the revision. A few dozen statements instead of
    the thousands of the batch copies that led to it (0.06 s a database)."""
    order = "CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, rowid"
    with engine.connect() as connection:
        ddl = connection.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
            f"ORDER BY {order}"
        ).scalars()
        revisions = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        return (
            *(Statement(sql, None, False) for sql in ddl),
            *(
                Statement("INSERT INTO alembic_version (version_num) VALUES (?)", tuple(row), False)
                for row in revisions
            ),
        )


def replay(engine: Engine, statements: tuple[Statement, ...]) -> None:
    with engine.begin() as connection:
        for statement in statements:
            if statement.parameters in (None, (), {}):
                connection.exec_driver_sql(statement.sql)
            else:
                connection.exec_driver_sql(statement.sql, statement.parameters)


@pytest.fixture(autouse=True, scope="session")
def _migrate_once() -> Iterator[None]:
    global POSTGRES_SCHEMAS
    url = os.environ.get("SOCIALBOT_TEST_POSTGRES_URL")
    POSTGRES_SCHEMAS = SchemaPool(url) if url else None
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(alembic.command, "upgrade", upgrade)
        yield
    if POSTGRES_SCHEMAS is not None:
        POSTGRES_SCHEMAS.close()
        POSTGRES_SCHEMAS = None
