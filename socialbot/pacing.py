"""A queue that may send only so fast: a carrier's rate (SMS: about one segment a second from a
long code) as `Pace`, and `Pacer`, which spaces one (network, account)'s sends by it.

The pace is kept in memory, as the next moment the sender is free (`Pacer.free_at`): a send
reserves its text's units (SMS: segments) from then, and waits until its turn. Nothing is
written to the database for it, so a queue of ten thousand alerts costs one claim and one mark
a text, as any other, and no row's `next_attempt_at` is moved while it waits. A restart starts
free: at most one text's worth early. The wait is an injected `sleep`, which says whether it
slept to the end or was asked to stop (SIGTERM), so a sender stops between two texts at once,
and tests pass simulated time.

Network-neutral: the units are whatever the network's `TextRules.measure` counts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

Clock = Callable[[], datetime]
# Sleeps the seconds given; False when asked to stop before the end (the sender then stops).
Sleep = Callable[[float], bool]


@dataclass(frozen=True, slots=True)
class Pace:
    """How fast a network's account may send: `per_second` of its text units, each text
    `measure`d in them (SMS: segments, `sms.segments.measure`)."""

    per_second: float
    measure: Callable[[str], int]
    unit: str  # as messages name them: "segments"

    def units(self, text: str) -> int:
        """What `text` costs of the rate: never less than one (an empty text is one message)."""
        return max(1, self.measure(text))

    def duration(self, units: int) -> timedelta:
        """How long `units` take at this pace."""
        return timedelta(seconds=units / self.per_second)

    def describe(self) -> str:
        """ "1 segment a second", as `status` and the expiry reasons say it."""
        unit = self.unit.removesuffix("s") if self.per_second == 1 else self.unit
        return f"{self.per_second:g} {unit} a second"


def interruptible(stopping: threading.Event) -> Sleep:
    """A sleep that `stopping` ends at once: a sender waiting its turn when SIGTERM comes stops
    then, not a text's worth later."""
    return lambda seconds: not stopping.wait(seconds)


class Pacer:
    """Spaces the sends of one (network, account) by its `pace`, for every thread of the process
    that sends from it: reserving a turn is atomic, so two jobs sending the same queue share
    the rate instead of each taking all of it."""

    def __init__(self, pace: Pace, clock: Clock, sleep: Sleep) -> None:
        self.pace = pace
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._free_at: datetime | None = None

    @property
    def free_at(self) -> datetime | None:
        """When the sender is next free: the end of the last reserved turn."""
        return self._free_at

    def turn(self, text: str) -> bool:
        """Wait for `text`'s turn and reserve it; False when the wait was stopped (SIGTERM), and
        nothing should be sent. A sender idle for a while starts at once: an idle spell is no
        credit for a burst."""
        units = self.pace.units(text)
        with self._lock:
            now = self._clock()
            start = now if self._free_at is None or self._free_at < now else self._free_at
            self._free_at = start + self.pace.duration(units)
        wait = (start - self._clock()).total_seconds()
        return wait <= 0 or self._sleep(wait)
