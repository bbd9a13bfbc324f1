"""The crash suite's fakes keep their state in a SQLite file, which outlives the bot processes
the tests kill: what X or Twilio was sent is read by the test after the last restart."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class StateFile:
    path: Path

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection of its own per use: callbacks run in the bots' worker threads."""
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA busy_timeout = 30000")
            yield db
        finally:
            db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once: two processes never interleave a change."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
