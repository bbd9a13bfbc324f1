"""Test data made once a run, however many pytest-xdist workers ask for it.

The first worker to ask makes it, under a lock in the run's own temporary folder (the one all
workers' folders are in); the others wait for it, then share it. Only for data no test writes:
a test that changes it works on its own copy.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable
from pathlib import Path

import pytest


def run_folder(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The folder every worker of this run shares (this process's own, without workers)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


def made_once(folder: Path, name: str, make: Callable[[Path], Path]) -> Path:
    """`folder/name`, made by `make` the first time this run asks for it."""
    target = folder / name
    with (folder / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = folder / f"{name}.done"
        if not done.exists():
            make(target)
            done.touch()
    return target
