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
from urllib.parse import quote

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlmodel import Session

from socialbot.errors import ConfigError
from socialbot.store.statistics import analyze, keeps_statistics

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def make_engine(url: str, *, create: bool = True, read_only: bool = False) -> Engine:
    """An engine for `url`. With `create` (the commands that may create the database: `run`,
    `poll`, `demo`, `db upgrade`) a SQLite file's parent directory is made and the file appears on
    the first connection; without it a missing SQLite file is a ConfigError and no connection,
    however late, creates one.

    `read_only` (the web service): the database refuses every write, and on SQLite a transaction
    starts deferred, not `BEGIN IMMEDIATE`, so that a reader hit every few seconds (a load
    balancer's /healthz) never takes the writer's lock from the bot."""
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
            path = _sqlite_file(parsed.database, parsed.query)
            if path is not None and create:
                path.parent.mkdir(parents=True, exist_ok=True)
            elif path is not None and not path.exists() and not read_only:
                # A reader (the web service) starts without it and says so at each request
                # (`/healthz`: 503): the bot makes it when it first starts.
                raise ConfigError(
                    f"database {shown} does not exist: check SOCIALBOT_DATABASE_URL, or run "
                    "`socialbot db upgrade` to create it"
                )
            engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
            if path is not None and not create:
                # Checking first is not enough: a file removed later would be created empty by
                # the pool's next connection. mode=rw opens an existing file or fails.
                event.listen(engine, "do_connect", _sqlite_open_existing(path))
            event.listen(engine, "connect", _sqlite_on_connect)
            if read_only:  # after the connection's pragmas: WAL is set before writes are refused
                event.listen(engine, "connect", _sqlite_query_only)
            event.listen(engine, "begin", _sqlite_on_read if read_only else _sqlite_on_begin)
            return engine
        engine = create_engine(parsed, pool_pre_ping=True)
        if read_only:
            # Per connection, not as the URL's `options`, which a city's URL may use itself.
            event.listen(engine, "connect", _postgres_read_only)
        return engine
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


def _sqlite_file(database: str | None, query: Any) -> Path | None:
    """The file a SQLite URL names; None for an in-memory database or a URI the URL spells out
    itself (`file:…?uri=true`, whose mode is then its own)."""
    if not database or database == ":memory:" or "uri" in query:
        return None
    return Path(database).expanduser()


def _sqlite_open_existing(path: Path) -> Any:
    uri = f"file:{quote(str(path.resolve()))}?mode=rw"

    def do_connect(_dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
        cargs[:1] = [uri]
        cparams["uri"] = True

    return do_connect


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


def _sqlite_on_read(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


def _postgres_read_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    cursor.close()
    dbapi_connection.commit()  # a SET is transactional: rolled back, it would be undone


def _sqlite_query_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA query_only=ON")
    cursor.close()


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
    """Bring the schema to the newest migration; a no-op when it is already there. After a
    migration, on SQLite, fresh statistics (`statistics.analyze`): nothing else gathers them.
    PostgreSQL is left to autovacuum: an ANALYZE of a new database's empty tables would tell
    its planner they stay empty until autovacuum looks again (measured: intake 10–15 % slower
    for the first minutes of a storm)."""
    try:
        before = _revision(engine)
        command.upgrade(alembic_config(engine), "head")
        if keeps_statistics(engine) and _revision(engine) != before:
            analyze(engine)
    except DBAPIError as exc:
        raise ConfigError(
            f"database {engine.url.render_as_string(hide_password=True)}: cannot migrate "
            f"({driver_reason(exc, engine)})"
        ) from None


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


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


def require_current(engine: Engine) -> None:
    """A ConfigError, one line naming the database and what to run, unless its schema is the
    newest this version knows. Reads only: for every command that may not migrate."""
    shown = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        pending = pending_migrations(engine)
    except SQLAlchemyError as exc:
        raise ConfigError(
            f"database {shown}: cannot connect ({driver_reason(exc, engine)}); check "
            "SOCIALBOT_DATABASE_URL and that the database server is running"
        ) from None
    if current is None:
        raise ConfigError(
            f"database {shown} has no socialbot tables yet: check SOCIALBOT_DATABASE_URL, or run "
            "`socialbot db upgrade` to create them"
        )
    if pending:
        raise ConfigError(
            f"database {shown}: schema is {len(pending)} migration(s) behind (pending: "
            f"{', '.join(pending)}); run `socialbot db upgrade` (`socialbot run` does it too)"
        )


def driver_reason(exc: BaseException, engine: Engine | None = None) -> str:
    """A database error as the driver said it, on one line (SQLAlchemy's own message adds the
    statement and its parameters, resident text included), without `engine`'s password should
    it quote the URL."""
    orig = getattr(exc, "orig", None)
    reason = " ".join(str(orig if orig is not None else exc).split())
    password = engine.url.password if engine is not None else None
    return reason.replace(str(password), "***") if password else reason


def schema_is_current(engine: Engine) -> bool:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision() == head


def conflict_insert(dialect: str, table: Any) -> Any:
    """An INSERT into `table` (a model or a Table) that speaks `ON CONFLICT` on this database
    ("sqlite" or "postgresql", as `engine.dialect.name` says): both do, each in its SQLAlchemy
    dialect's own construct."""
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)
