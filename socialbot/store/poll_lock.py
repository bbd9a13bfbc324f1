"""One poller per account, however many `socialbot run` processes share the database.

Two processes polling one account would fetch the same mentions and race on the cursor; the unique
(platform, post id) index keeps that from filing anything twice, but every poll would be paid for
twice and half the transactions would fail. So the poll job first asks `PollLock.acquire_or_check`
and skips the poll unless this process holds the account's lock:

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`), taken on a connection of its
  own, kept open and idle, never the work pool's. When the holder dies, its connection closes and
  PostgreSQL frees the lock at once; another process takes it at its next poll tick. The holder
  checks at every tick that its lock connection still holds the lock (after a database restart it
  does not) and, if not, reconnects and tries again like anyone else. Server and client TCP
  keepalives are set on that connection so a holder whose machine vanished (no FIN, no RST) is
  dropped by the server within about half a minute instead of two hours.
- SQLite file: an exclusive, non-blocking `flock` on a file beside the database, one per network
  account (`lock_file`).
  The kernel frees it when the holder's process dies, however it dies. The file is never removed
  (removing a lock file lets two processes lock two different files); a holder that finds the path
  no longer names its file has lost the lock.
- In-memory SQLite, or any other database: no other process can share it; always the holder.

The key of the advisory lock is fixed: 64 bits of BLAKE2b over "socialbot.poll", the platform,
the account and the schema the tables live in (`current_schema()`), so two deployments that share
a PostgreSQL database in different schemas do not stop each other (advisory locks are per database,
not per schema). It is logged with `event=poll_leader` and visible in `pg_locks`.

The lock's own state changes are logged once each, not at every tick: `event=poll_leader` when this
process becomes the poller, `event=poll_skipped reason=another_instance_polls` when it finds another
one polling, `event=poll_lock_lost` when the lock went away under it.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from contextlib import suppress
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# The holder's machine gone without a word: the server drops its lock connection after
# idle + interval * count seconds of silence, and the lock with it.
KEEPALIVE_IDLE_S = 15
KEEPALIVE_INTERVAL_S = 5
KEEPALIVE_COUNT = 3
# A connection attempt to a server that does not answer gives up after this many seconds.
CONNECT_TIMEOUT_S = 10
_LIBPQ_DRIVERS = ("psycopg", "psycopg2")


def poll_lock_key(platform: str, account: str, schema: str) -> int:
    """The advisory lock key (a signed 64-bit integer, as PostgreSQL's bigint) for polling
    `account` on `platform` with the tables in `schema`."""
    seed = "\0".join(("socialbot.poll", platform, account, schema)).encode()
    return int.from_bytes(hashlib.blake2b(seed, digest_size=8).digest(), "big", signed=True)


class _Backend(Protocol):
    def try_acquire(self) -> bool: ...
    def still_held(self) -> bool: ...
    def release(self) -> None: ...
    def describe(self) -> str: ...


class PollLock:
    """The right to poll one account. Thread-safe; cheap to create (nothing happens until the
    first `acquire_or_check`). Released by `release`, and also when the work engine it was made
    for is disposed (`Service.close`), so no code path leaves it held after the service is done."""

    def __init__(self, engine: Engine, *, platform: str, account: str) -> None:
        self._engine = engine
        self._backend = _backend_for(engine, platform, account)
        self._mutex = threading.Lock()
        self._held = False
        self._role: bool | None = None  # the last role logged: poller, standby, not yet known
        self._listening = False

    @property
    def held(self) -> bool:
        """Whether this process held the lock at the last `acquire_or_check`."""
        return self._held

    def describe(self) -> str:
        """What the lock is, for logs: the advisory key or the lock file."""
        return self._backend.describe()

    def acquire_or_check(self) -> bool:
        """True when this process may poll: it holds the lock, checked still alive, or has just
        taken it (one try, never waiting). Database errors while taking it propagate: then
        nobody knows who polls, and this process does not."""
        with self._mutex:
            if not self._listening:
                # Never removed: SQLAlchemy runs these listeners from a deque, which a removal
                # from inside one (release on dispose) would break. Release is idempotent.
                event.listen(self._engine, "engine_disposed", self._on_disposed)
                self._listening = True
            if self._held:
                if self._backend.still_held():
                    return True
                self._held = False
                log.warning("event=poll_lock_lost %s", self._backend.describe())
            self._held = self._backend.try_acquire()
            if self._held != self._role:
                self._role = self._held
                if self._held:
                    log.info("event=poll_leader %s", self._backend.describe())
                else:
                    log.info("event=poll_skipped reason=another_instance_polls")
            return self._held

    def release(self) -> None:
        """Give the lock up (if held) and close what holds it. Idempotent; a later
        `acquire_or_check` tries afresh."""
        with self._mutex:
            if self._held:
                log.info("event=poll_lock_released %s", self._backend.describe())
            self._backend.release()
            self._held = False
            self._role = None

    def _on_disposed(self, _engine: Engine) -> None:
        self.release()


def _backend_for(engine: Engine, platform: str, account: str) -> _Backend:
    url = engine.url
    if url.get_backend_name() == "postgresql":
        return _AdvisoryLock(engine, platform, account)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return _FileLock(lock_file(url.database, platform, account))
    return _AlwaysHeld()


def lock_file(database: str, platform: str, account: str) -> Path:
    """The lock file of one account's poll beside a SQLite database: `<database>.poll.lock` for
    X's intake account (the name it always had, so an older process still excludes a newer one
    during a restart), `<database>.poll.<network>.<account>.lock` for every other."""
    if (platform, account) == ("x", "intake"):
        return Path(f"{database}.poll.lock")
    return Path(f"{database}.poll.{platform}.{account}.lock")


class _AdvisoryLock:
    """PostgreSQL: `pg_try_advisory_lock` on a connection of its own, in autocommit (an idle
    session holds no snapshot and no transaction, only the lock)."""

    def __init__(self, engine: Engine, platform: str, account: str) -> None:
        connect_args: dict[str, Any] = {}
        if engine.url.get_driver_name() in _LIBPQ_DRIVERS:
            connect_args = {
                "keepalives": 1,
                "keepalives_idle": KEEPALIVE_IDLE_S,
                "keepalives_interval": KEEPALIVE_INTERVAL_S,
                "keepalives_count": KEEPALIVE_COUNT,
                "connect_timeout": CONNECT_TIMEOUT_S,
            }
        # NullPool: the connection is opened and closed by us alone, never handed to a job.
        self._engine = create_engine(engine.url, poolclass=NullPool, connect_args=connect_args)
        self._platform, self._account = platform, account
        self._connection: Connection | None = None
        self.key: int | None = None  # known once connected: it depends on the schema

    def describe(self) -> str:
        return f"lock=advisory key={self.key}"

    def try_acquire(self) -> bool:
        fresh = self._connection is None
        connection = self._connect()
        try:
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            ).scalar_one()
        except DBAPIError:
            self._close()
            if fresh:
                raise
            # The idle connection broke while we were not polling (a restart): one fresh try.
            connection = self._connect()
            got = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            ).scalar_one()
        return bool(got)

    def still_held(self) -> bool:
        if self._connection is None or self.key is None:
            return False
        # In pg_locks a bigint key is split: classid the high 32 bits, objid the low, objsubid 1.
        # Asking there (not just `SELECT 1`) also catches a pooler that moved us to a backend
        # without the lock.
        try:
            held = self._connection.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
                    " AND pid = pg_backend_pid() AND granted AND objsubid = 1"
                    " AND classid = CAST(:high AS oid) AND objid = CAST(:low AS oid))"
                ),
                {"high": (self.key >> 32) & 0xFFFFFFFF, "low": self.key & 0xFFFFFFFF},
            ).scalar_one()
        except DBAPIError as exc:
            log.warning("event=poll_lock_connection_broken error=%r", str(exc.orig))
            held = False
        if not held:
            self._close()  # whatever it still holds goes with it
        return bool(held)

    def release(self) -> None:
        if self._connection is not None and self.key is not None:
            with suppress(SQLAlchemyError):  # closing the connection below frees it anyway
                self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        self._close()
        self._engine.dispose()

    def _connect(self) -> Connection:
        if self._connection is None:
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                for setting, value in (
                    ("tcp_keepalives_idle", KEEPALIVE_IDLE_S),
                    ("tcp_keepalives_interval", KEEPALIVE_INTERVAL_S),
                    ("tcp_keepalives_count", KEEPALIVE_COUNT),
                ):
                    connection.execute(text(f"SET {setting} = {int(value)}"))
                schema = connection.execute(text("SELECT current_schema()")).scalar_one()
            except BaseException:
                connection.close()
                raise
            self.key = poll_lock_key(self._platform, self._account, schema or "")
            self._connection = connection
        return self._connection

    def _close(self) -> None:
        if self._connection is not None:
            with suppress(SQLAlchemyError):
                self._connection.close()
            self._connection = None


class _FileLock:
    """SQLite: `flock(LOCK_EX | LOCK_NB)` on a file beside the database, held by an open file
    descriptor. flock (unlike fcntl's record locks) also excludes a second descriptor in the same
    process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def describe(self) -> str:
        return f"lock=file path={self.path}"

    def try_acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return self.still_held()  # false when the file was replaced between our open and lock

    def still_held(self) -> bool:
        if self._fd is None:
            return False
        try:
            named = os.stat(self.path)
        except FileNotFoundError:
            named = None
        ours = os.fstat(self._fd)
        if named is not None and (named.st_dev, named.st_ino) == (ours.st_dev, ours.st_ino):
            return True
        self.release()  # a lock on a file no one else can open any more guards nothing
        return False

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # frees the flock
            self._fd = None


class _AlwaysHeld:
    """A database no other process can reach (in-memory SQLite), or one without a lock of ours."""

    def describe(self) -> str:
        return "lock=none"

    def try_acquire(self) -> bool:
        return True

    def still_held(self) -> bool:
        return True

    def release(self) -> None:
        pass
