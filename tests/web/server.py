"""A real `socialbot serve` process on a loopback port, over a database the demo filled.

The demo (`socialbot demo`) runs the real pipeline over its shipped mentions on X, Mastodon and
Bluesky and a week of staff work: 14 cases in every status, one of them (#11) from a Mastodon
status that was not public. Tests start the server as operators do, with settings in the
environment, and talk to it over HTTP.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

STARTUP_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Served:
    """A running `socialbot serve`: where it answers, and the database it reads."""

    base_url: str  # http://127.0.0.1:<port>
    database: Path
    log: Path  # its stdout and stderr

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return httpx.get(self.base_url + path, timeout=10.0, **kwargs)  # type: ignore[arg-type]


def make_demo_database(path: Path) -> Path:
    """`path`, made by `socialbot demo --db` (about 5 seconds)."""
    subprocess.run(
        [sys.executable, "-m", "socialbot", "demo", "--db", str(path)],
        check=True,
        capture_output=True,
        env=_env({}),
    )
    return path


def copy_database(source: Path, target: Path) -> Path:
    """A copy of a demo database a test may change (its WAL checkpointed by the demo's exit)."""
    shutil.copyfile(source, target)
    return target


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(database: Path, log: Path, env: Mapping[str, str] | None = None) -> Iterator[Served]:
    """`socialbot serve` on a free loopback port over `database`, with `env` (SOCIALBOT_*
    settings) added; stopped with SIGTERM at the end, as systemd stops it."""
    port = free_port()
    environment = _env({"SOCIALBOT_DATABASE_URL": f"sqlite:///{database}", **(env or {})})
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "socialbot", "serve", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    served = Served(f"http://127.0.0.1:{port}", database, log)
    try:
        _wait_until_up(served, process)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(served: Served, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"socialbot serve exited {process.returncode}: {served.log.read_text()[-2000:]}"
            )
        try:
            served.get("/openapi.json")
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"socialbot serve did not answer in {STARTUP_SECONDS:.0f} s")


def _env(extra: Mapping[str, str]) -> dict[str, str]:
    """This environment without any SOCIALBOT_* setting of the machine's, plus `extra`."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALBOT_")}
    return {**kept, "SOCIALBOT_LOG_LEVEL": "WARNING", **extra}
