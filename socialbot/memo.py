"""Start-up checks remembered by what they read.

Every command and every service checks its content before it does anything: the catalog parsed
and validated, every reply template rendered for every category, status and network the city
runs (thousands of renders, about 0.3 s). A process that builds the service again over the same
files (a test suite, `doctor` after a build, the web service beside the checks) would repeat
the same work for the same answer. `Memo` keeps a result under a key that names everything it
was computed from, the files by their bytes (`files_key`), so a changed file is a new key and is
checked again; nothing is remembered when the check fails, so a broken file fails every time. The
key is read before the check and again after it: a file saved meanwhile (the check may have read
either version) leaves nothing remembered.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Generic, TypeVar

V = TypeVar("V")


class Memo(Generic[V]):
    """The `size` newest results by key; `get` computes a missing one (outside the lock: two
    threads may both compute it, and either answer is right)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(
        self, key: Hashable, compute: Callable[[], V], *, still: Callable[[], bool] | None = None
    ) -> V:
        """The result kept for `key`, else `compute()`'s, kept unless `still` (asked after the
        computation) says that what the key names has changed since it was made."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        if still is not None and not still():
            return value
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def files_key(paths: Iterable[Path]) -> str | None:
    """A digest of each path (a file, or every file under a directory) by name and bytes; None
    when one cannot be read, so the caller does the real work and reports the problem itself."""
    digest = hashlib.blake2b(digest_size=20)
    try:
        for path in paths:
            resolved = path.resolve()
            files = _files_under(resolved) if resolved.is_dir() else [resolved]
            digest.update(f"\0{resolved}\0{len(files)}".encode())
            for file in files:
                data = file.read_bytes()
                digest.update(f"\0{file}\0{len(data)}\0".encode(errors="surrogateescape"))
                digest.update(data)
    except OSError:
        return None
    return digest.hexdigest()


def _files_under(top: Path) -> list[Path]:
    """Every file under `top`, through linked folders too (a template in one is read as any
    other), each real folder once (a link back up is not walked round)."""
    found: list[Path] = []
    seen: set[str] = set()

    def refuse(error: OSError) -> None:
        raise error

    for folder, dirs, names in os.walk(top, followlinks=True, onerror=refuse):
        real = os.path.realpath(folder)
        if real in seen:
            dirs.clear()
            continue
        seen.add(real)
        dirs.sort()
        found.extend(Path(folder, name) for name in names if Path(folder, name).is_file())
    return sorted(found)
