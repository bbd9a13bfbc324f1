"""The encoded answers of the costliest reads, kept while the cases have not changed.

A list of up to 1,000 cases (Open311's `requests.json`, its 90-day default window) costs tens of
milliseconds to read and encode; integrators poll it, and with a bounded number of pages the same
few answers are asked for again and again. An answer is kept under its request (path and query,
the parameters in order) with the database's change mark when it was made (`reads.change_mark`:
the newest case event, which every change to a case writes) and is served again while the mark is
the same and the answer is younger than `max_age` (a list's window moves with the clock). At most
`entries` answers are kept, the least recently used dropped first.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

ENTRIES = 32  # 32 lists of 1,000 cases: about 20 MB
PAGE_ENTRIES = 1024  # status pages of about 2 KB: about 2 MB
MAX_AGE_SECONDS = 30.0

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class _Kept(Generic[V]):
    mark: Hashable
    made_at: float
    body: V


class AnswerCache(Generic[V]):
    """Answers by request, valid while the change mark is the same. Safe across the threads
    FastAPI runs sync routes in: two requests that miss together both make the answer (the same
    bytes), and the later one is kept."""

    def __init__(
        self,
        entries: int = ENTRIES,
        max_age: float = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._entries = entries
        self._max_age = max_age
        self._clock = clock
        self._kept: OrderedDict[Hashable, _Kept[V]] = OrderedDict()
        self._lock = threading.Lock()

    def answer(self, key: Hashable, mark: Hashable, make: Callable[[], V]) -> V:
        """The answer kept for `key` if it was made at `mark` and is fresh, else `make()`'s."""
        body = self.kept(key, mark)
        if body is None:
            body = make()
            self.keep(key, mark, body)
        return body

    def kept(self, key: Hashable, mark: Hashable) -> V | None:
        """The answer kept for `key` if it was made at `mark` and is fresh; None otherwise."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is None or kept.mark != mark or self._clock() - kept.made_at >= self._max_age:
                return None
            self._kept.move_to_end(key)
            return kept.body

    def keep(self, key: Hashable, mark: Hashable, body: V) -> None:
        """`body` is the answer for `key` at `mark`, from now."""
        with self._lock:
            self._kept[key] = _Kept(mark, self._clock(), body)
            self._kept.move_to_end(key)
            while len(self._kept) > self._entries:
                self._kept.popitem(last=False)
