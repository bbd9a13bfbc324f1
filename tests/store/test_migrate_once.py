"""The suite's replayed migration (tests/migrate_once.py) builds the very schema Alembic builds,
on SQLite and PostgreSQL: every table, column, type, default, key, index and constraint, and the
revision it is at."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.sql import ClauseElement

from socialbot.config import load_settings
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.store.db import alembic_config, make_engine, schema_is_current, upgrade
from socialbot.store.queries import list_cases
from tests import migrate_once, xapi
from tests.city import filed
from tests.conftest import POSTGRES_URL, Clock

AT = (42.3601, -71.0589)


@pytest.fixture
def new_engine(database_url: str, tmp_path: Path) -> Iterator[Callable[[], Engine]]:
    """Engines on empty databases of `database_url`'s backend, each its own file or schema."""
    made: list[Engine] = []
    schemas: list[str] = []
    url = make_url(database_url)
    admin = create_engine(url.set(query={})) if url.get_backend_name() == "postgresql" else None

    def new() -> Engine:
        if admin is None:
            engine = make_engine(f"sqlite:///{tmp_path / uuid.uuid4().hex}.db")
        else:
            schema = f"t_{uuid.uuid4().hex[:12]}"
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            schemas.append(schema)
            options = {"options": f"-csearch_path={schema}"}
            engine = make_engine(url.update_query_dict(options).render_as_string(False))
        made.append(engine)
        return engine

    yield new
    for engine in made:
        engine.dispose()
    if admin is not None:
        with admin.begin() as connection:
            for schema in schemas:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def schema_of(engine: Engine) -> dict[str, object]:
    """Everything the inspector tells about every table, and on SQLite the DDL itself."""
    inspector = inspect(engine)
    tables: dict[str, object] = {}
    for name in sorted(inspector.get_table_names()):
        tables[name] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in inspector.get_columns(name)
            ],
            "primary key": inspector.get_pk_constraint(name)["constrained_columns"],
            "foreign keys": sorted(
                str(sorted((k, str(v)) for k, v in fk.items() if k != "referred_schema"))
                for fk in inspector.get_foreign_keys(name)
            ),
            "indexes": _each(inspector.get_indexes(name)),
            "unique": _each(inspector.get_unique_constraints(name)),
            "checks": _each(inspector.get_check_constraints(name)),
        }
    with engine.connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        sqlite = engine.dialect.name == "sqlite"
        ddl = (
            # The planner's statistics (sqlite_stat1, written by `upgrade`'s ANALYZE) are data,
            # not schema: a database migrated by Alembic alone has none.
            connection.execute(
                text("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%'")
            )
            if sqlite
            else []
        )
        # Alembic's batch copies list a table's constraints in no fixed order: compared as sets.
        statements = sorted((kind, name, _lines(sql)) for kind, name, sql in ddl)
    return {"tables": tables, "revision": revision, "ddl": statements}


def _each(items: list[Any]) -> list[str]:
    return sorted(str(_plain(item)) for item in items)


def _plain(value: Any) -> Any:
    """`value` with a partial index's condition as its text, not its object's address."""
    if isinstance(value, dict):
        return sorted((key, _plain(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, ClauseElement):
        return str(value)
    return value


def _lines(sql: str | None) -> tuple[str, ...]:
    return tuple(sorted(line.strip().rstrip(",").strip() for line in (sql or "").splitlines()))


def test_a_replayed_migration_builds_the_schema_alembic_builds(
    new_engine: Callable[[], Engine],
) -> None:
    migrated = new_engine()
    migrate_once.REAL_UPGRADE(alembic_config(migrated), "head")

    first, replayed = new_engine(), new_engine()
    upgrade(first)  # recorded, unless an earlier test of this process recorded it already
    upgrade(replayed)  # replayed
    assert migrate_once.recorded(migrated.url.get_backend_name())

    expected = schema_of(migrated)
    assert expected["tables"], "the real migration built nothing"
    assert schema_of(first) == expected
    assert schema_of(replayed) == expected
    assert schema_is_current(replayed)


def test_a_database_with_tables_is_migrated_by_alembic_itself(
    new_engine: Callable[[], Engine],
) -> None:
    engine = new_engine()
    migrate_once.REAL_UPGRADE(alembic_config(engine), "0014")
    upgrade(engine)
    assert schema_is_current(engine)
    reference = new_engine()
    migrate_once.REAL_UPGRADE(alembic_config(reference), "head")
    assert schema_of(engine)["tables"] == schema_of(reference)["tables"]


@pytest.mark.skipif(POSTGRES_URL is None, reason="needs SOCIALBOT_TEST_POSTGRES_URL")
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_kept_postgres_schema_is_as_new_once_a_test_takes_it(
    new_engine: Callable[[], Engine], clock: Clock
) -> None:
    """A schema a test filed cases in, kept (tests/postgres_schemas.py), then taken by the next
    test's migration: empty until then, afterwards Alembic's schema with no row and case #1
    first again."""
    schemas = migrate_once.POSTGRES_SCHEMAS
    assert schemas is not None and POSTGRES_URL is not None

    def url(schema: str) -> str:
        options = {"options": f"-csearch_path={schema}"}
        return make_url(POSTGRES_URL).update_query_dict(options).render_as_string(False)

    def city(schema: str) -> int:
        platform = ReplayPlatform(
            xapi.CITY_ID,
            [
                xapi.page(
                    [
                        xapi.tweet(1, "@DemoCity311 #pothole", coordinates=AT),
                        xapi.tweet(2, "@DemoCity311 #graffiti", coordinates=AT),
                    ]
                )
            ],
        )
        service = filed(load_settings(database_url=url(schema)), clock, platform)
        numbers = [case.id for case in list_cases(service.engine)]
        service.close()
        assert len(numbers) == 2
        return min(n for n in numbers if n is not None)

    used = schemas.new()
    city(used)
    kept = schemas.kept
    schemas.done(used)
    assert schemas.kept == kept + 1, "a schema as migrated, with rows, is kept"

    fresh = schemas.new()
    engine = make_engine(url(fresh))
    assert not schema_is_current(engine), "a new schema is empty until it is migrated"
    taken = schemas.taken
    upgrade(engine)
    assert schemas.taken == taken + 1
    reference = new_engine()
    migrate_once.REAL_UPGRADE(alembic_config(reference), "head")
    assert schema_of(engine) == schema_of(reference)
    with engine.connect() as connection:
        rows = {
            table: connection.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar()
            for table in inspect(engine).get_table_names()
            if table != "alembic_version"
        }
    engine.dispose()
    assert set(rows.values()) == {0}, rows
    assert city(fresh) == 1, "the sequences start again"
    schemas.done(fresh)
