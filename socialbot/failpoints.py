"""Named kill points for the crash-safety suite (`tests/crash/`), after etcd's gofail and TiKV's
fail-rs: the suite SIGKILLs a real `socialbot run` at exact spots of the poll and send cycles,
restarts it, and checks that nothing was lost or answered twice.

`hit("send.after_post")` does nothing unless the environment variable `SOCIALBOT_FAILPOINTS`
names that point. Then it logs one line, flushes the logs and kills its own process with SIGKILL:
no `finally`, no `atexit`, no rollback, as an OOM kill or a power cut would.

    SOCIALBOT_FAILPOINTS=send.after_post           the first hit kills
    SOCIALBOT_FAILPOINTS=poll.mid_page@2           the 2nd hit kills (counted per point)
    SOCIALBOT_FAILPOINTS=poll.after_fetch,send.after_post@3    several points

The points (the suite's `FAILPOINTS` lists them too):

    poll.after_fetch    poller: X returned the pages, nothing written yet
    poll.mid_page       poller: a page's rows written in its transaction, not committed
    poll.after_commit   poller: a page's transaction committed
    send.after_claim    outbox: the row claimed (`sending`, committed), not posted yet
    send.after_post     outbox: X answered the post, the row not yet marked `sent`

Inert in production: the variable is read once, at import, and is never set outside the suite;
unset, `hit` is one lookup in an empty dict (the poller is benchmarked).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

ENV = "SOCIALBOT_FAILPOINTS"

log = logging.getLogger(__name__)


def parse(spec: str) -> dict[str, int]:
    """`"a,b@2"` → `{"a": 1, "b": 2}`: each armed point and the hit that fires it."""
    armed: dict[str, int] = {}
    for item in spec.split(","):
        name, _, nth = item.strip().partition("@")
        if not name:
            continue
        if nth and not (nth.isdigit() and int(nth) >= 1):
            raise ValueError(f"{ENV}: {item.strip()!r}: the hit after '@' must be 1 or more")
        armed[name] = int(nth) if nth else 1
    return armed


_armed: dict[str, int] = parse(os.environ.get(ENV, ""))
_hits: dict[str, int] = {}
_lock = threading.Lock()


def hit(name: str) -> None:
    """Kill this process here if `name` is armed and this is the hit it waits for."""
    if name not in _armed:
        return
    with _lock:
        count = _hits[name] = _hits.get(name, 0) + 1
    if count != _armed[name]:
        return
    log.warning("event=failpoint name=%s hit=%d pid=%d", name, count, os.getpid())
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)
