"""Engine, sessions and migrations.

SQLite gets WAL (readers never block the writer), a busy timeout (a second process waits instead of
failing) and ``BEGIN IMMEDIATE`` for every transaction: a deferred transaction that reads and then
writes can fail with SQLITE_BUSY at once when another writer committed in between, and a busy
timeout does not cover that case.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlmodel import Session

from socialbot.errors import ConfigError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str) -> Engine:
    """An engine for `url`; for SQLite files the parent directory is created."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        # Not echoed: a URL that fails to parse may still hold a password.
        raise ConfigError(
            "SOCIALBOT_DATABASE_URL: not a database URL; expected e.g. "
            "sqlite:////var/lib/socialbot/socialbot.db or postgresql+psycopg://user@host/db"
        ) from None
    shown = parsed.render_as_string(hide_password=True)
    try:
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_on_begin)
            return engine
        return create_engine(parsed, pool_pre_ping=True)
    except (NoSuchModuleError, ArgumentError, ImportError) as exc:
        hint = (
            " (for PostgreSQL write postgresql+psycopg://…)"
            if parsed.drivername == "postgres"
            else ""
        )
        raise ConfigError(f"SOCIALBOT_DATABASE_URL: cannot use {shown}: {exc}{hint}") from None
    except OSError as exc:
        raise ConfigError(
            f"SOCIALBOT_DATABASE_URL: cannot create {shown}: {exc.strerror}"
        ) from None


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand transaction control to SQLAlchemy's "begin" event (pysqlite's own is deferred).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    # NORMAL is durable across application crashes in WAL mode; only a power cut may lose the
    # last transactions, and those are re-fetched because the cursor moved with them.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_on_begin(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def transaction(engine: Engine, *, commit: bool = True) -> Iterator[Session]:
    """One unit of work: committed on success (unless `commit` is false), rolled back on error."""
    with Session(engine, expire_on_commit=False) as session:
        session.begin()
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        if commit:
            session.commit()
        else:
            session.rollback()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration; a no-op when it is already there."""
    try:
        command.upgrade(alembic_config(engine), "head")
    except DBAPIError as exc:
        reason = " ".join(str(exc.orig).split())  # the driver's message may span lines
        raise ConfigError(
            f"database {engine.url.render_as_string(hide_password=True)}: cannot migrate ({reason})"
        ) from None


def pending_migrations(engine: Engine) -> list[str]:
    """The revisions `upgrade` would apply, oldest first; [] when the schema is current. Reads
    only: a ConfigError when the database is at a revision this version does not know (a newer
    socialbot migrated it)."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    try:
        newest_first = [r.revision for r in script.iterate_revisions("heads", current)]
    except RevisionError:
        raise ConfigError(
            f"database {engine.url.render_as_string(hide_password=True)}: at schema revision "
            f"{current}, which this version of socialbot does not know (was it migrated by a "
            "newer one?)"
        ) from None
    return newest_first[::-1]


def schema_is_current(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head
