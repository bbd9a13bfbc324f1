"""Failed runs of the service's jobs, counted where `socialbot status` can see them.

A job run that fails (the poll, the send, the broadcasts; a database error as much as X's) is
counted in the running service and written to `job_failures`, in a transaction of its own. When
the database is what fails (a full disk, PostgreSQL gone), that write fails too: the failures
are then kept in memory, written when the database takes writes again, and meanwhile also to a
small file beside the database (`fallback_path`), which `status` reads as well. That file is
reserved at its full size when the service starts, and rewritten in place: on a full disk an
overwrite needs no new block, where a new file or a database page would.

`JobHealth.flush` doubles as the question "does the database take writes?": the scheduler asks
it before a job runs, and a job does not call X while the answer is no (see `scheduler.Jobs`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import platformdirs
from sqlalchemy import Engine, delete, func
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from sqlmodel import col, select

from socialbot.store.db import transaction
from socialbot.store.models import JobFailure

log = logging.getLogger(__name__)

FAILURES_KEPT = timedelta(days=30)
# Failures kept in memory while the database refuses them (the newest; older ones are counted).
UNWRITTEN_KEPT = 500
# The fallback file's reserved size: room for well over a hundred failures.
FALLBACK_BYTES = 64 * 1024
ERROR_CHARS = 300


@dataclass(frozen=True, slots=True)
class Failure:
    job: str
    at: datetime
    error: str  # one line: "OperationalError: database or disk is full"


@dataclass(frozen=True, slots=True)
class JobStatus:
    """One job as `status` shows it."""

    job: str
    failures_last_hour: int
    failures_last_day: int
    last_error: str | None
    last_error_at: datetime | None


def one_line(exc: BaseException) -> str:
    """`exc` as its type and message on one line; a database error in the driver's own words
    (SQLAlchemy's message adds the statement and its parameters, resident text included)."""
    orig = getattr(exc, "orig", None)
    shown = orig if isinstance(orig, BaseException) else exc
    text = " ".join(str(shown).split())
    return f"{type(shown).__name__}: {text}"[:ERROR_CHARS]


def fallback_path(database_url: str) -> Path:
    """Where failures go while the database refuses them: beside a SQLite file, else in the
    state directory (`$STATE_DIRECTORY` under systemd)."""
    try:
        parsed = make_url(database_url)
    except ArgumentError:
        parsed = None
    if (
        parsed is not None
        and parsed.get_backend_name() == "sqlite"
        and parsed.database
        and parsed.database != ":memory:"
        and not parsed.database.startswith("file:")
    ):
        database = Path(parsed.database).expanduser()
        return database.with_name(database.name + "-job-failures.json")
    state = os.environ.get("STATE_DIRECTORY")
    base = Path(state.split(":")[0]) if state else Path(platformdirs.user_data_dir("socialbot"))
    return base / "job-failures.json"


class JobHealth:
    """The running service's count of failed job runs, and their way into the database."""

    def __init__(
        self, engine: Engine, clock: Callable[[], datetime], fallback: Path | None = None
    ) -> None:
        self.engine, self.clock = engine, clock
        self.total: Counter[str] = Counter()  # since start
        self.in_a_row: Counter[str] = Counter()
        self.last: dict[str, Failure] = {}
        self._unwritten: deque[Failure] = deque(maxlen=UNWRITTEN_KEPT)
        self._lock = threading.Lock()  # the jobs run in threads of their own
        self._flushing = threading.Lock()
        self.fallback: Path | None = None
        self.write_error: str | None = None  # why the database last refused them
        if fallback is not None:
            self.keep_file(fallback)

    def keep_file(self, path: Path) -> None:
        """Keep the failures the database refuses in `path` too (see the module docstring);
        the file is reserved now, while the disk has room."""
        self.fallback = path
        self._reserve(path)

    def failed(self, job: str, exc: BaseException) -> int:
        """Count a failed run of `job`; returns its failures in a row."""
        failure = Failure(job, self.clock(), one_line(exc))
        with self._lock:
            self.total[job] += 1
            self.in_a_row[job] += 1
            self.last[job] = failure
            self._unwritten.append(failure)
            in_a_row = self.in_a_row[job]
        self.flush()
        return in_a_row

    def succeeded(self, job: str) -> None:
        with self._lock:
            self.in_a_row[job] = 0

    @property
    def unwritten(self) -> int:
        with self._lock:
            return len(self._unwritten)

    def flush(self) -> bool:
        """Write the failures the database has not taken yet; True when it took them (or there
        were none): the database takes writes."""
        with self._flushing:
            with self._lock:
                batch = list(self._unwritten)
            if not batch:
                return True
            try:
                with transaction(self.engine) as session:
                    session.add_all(JobFailure(at=f.at, job=f.job, error=f.error) for f in batch)
                    session.execute(
                        delete(JobFailure).where(col(JobFailure.at) < batch[-1].at - FAILURES_KEPT)
                    )
            except Exception as exc:  # whatever the database says, the job goes on being counted
                self.write_error = one_line(exc)
                log.warning(
                    "event=job_failures_not_saved count=%d error=%r", len(batch), self.write_error
                )
                self._write_fallback()
                return False
            with self._lock:
                written = set(batch)
                self._unwritten = deque(
                    (f for f in self._unwritten if f not in written), maxlen=UNWRITTEN_KEPT
                )
            self._write_fallback()
            return True

    def _reserve(self, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.stat().st_size < FALLBACK_BYTES:
                with path.open("wb") as handle:
                    handle.write(_padded(b"[]"))
        except OSError as exc:
            log.warning("event=job_failures_file_unusable path=%s error=%r", path, str(exc))
            self.fallback = None

    def _write_fallback(self) -> None:
        if self.fallback is None:
            return
        with self._lock:
            kept = list(self._unwritten)
        body = _encode(kept)
        while len(body) > FALLBACK_BYTES and kept:
            kept = kept[len(kept) // 4 + 1 :]  # the newest that fit
            body = _encode(kept)
        try:
            with self.fallback.open("r+b") as handle:  # in place: no new block on a full disk
                handle.write(_padded(body))
        except OSError as exc:
            log.warning("event=job_failures_file_not_written error=%r", str(exc))


def _encode(failures: list[Failure]) -> bytes:
    return json.dumps(
        [{"job": f.job, "at": f.at.isoformat(), "error": f.error} for f in failures],
        ensure_ascii=True,
    ).encode("ascii")


def _padded(body: bytes) -> bytes:
    return body + b" " * (FALLBACK_BYTES - len(body))


def read_unsaved(path: Path) -> list[Failure]:
    """The failures a running service could not write to the database, from its file; [] when
    there is none or it cannot be read."""
    try:
        entries = json.loads(path.read_bytes().decode("ascii"))
    except (OSError, ValueError):
        return []
    found = []
    for entry in entries if isinstance(entries, list) else ():
        try:
            found.append(
                Failure(str(entry["job"]), datetime.fromisoformat(entry["at"]), str(entry["error"]))
            )
        except (KeyError, TypeError, ValueError):
            continue
    return found


def read_jobs(engine: Engine, now: datetime, unsaved: Sequence[Failure] = ()) -> list[JobStatus]:
    """Each job that failed in the last day: how often, and its last error (from the database,
    and the failures a running service holds back in `unsaved`)."""
    day_ago, hour_ago = now - timedelta(days=1), now - timedelta(hours=1)
    with transaction(engine, commit=False) as session:
        counts = session.exec(
            select(JobFailure.job, func.count(), func.max(JobFailure.at))
            .where(col(JobFailure.at) >= day_ago)
            .group_by(col(JobFailure.job))
        ).all()
        hourly = dict(
            session.exec(
                select(JobFailure.job, func.count())
                .where(col(JobFailure.at) >= hour_ago)
                .group_by(col(JobFailure.job))
            ).all()
        )
        last: dict[str, Failure] = {}
        for job, _count, at in counts:
            row = session.exec(
                select(JobFailure)
                .where(JobFailure.job == job, JobFailure.at == at)
                .order_by(col(JobFailure.id).desc())
            ).first()
            if row is not None:
                last[job] = Failure(row.job, row.at, row.error)
    daily = {job: count for job, count, _at in counts}
    for failure in unsaved:
        if failure.at < day_ago:
            continue
        daily[failure.job] = daily.get(failure.job, 0) + 1
        if failure.at >= hour_ago:
            hourly[failure.job] = hourly.get(failure.job, 0) + 1
        if failure.job not in last or last[failure.job].at <= failure.at:
            last[failure.job] = failure
    return [
        JobStatus(
            job=job,
            failures_last_hour=hourly.get(job, 0),
            failures_last_day=daily[job],
            last_error=last[job].error if job in last else None,
            last_error_at=last[job].at if job in last else None,
        )
        for job in sorted(daily)
    ]
