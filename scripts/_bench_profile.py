"""Where the time inside `poll_once` goes: `bench_intake.py --profile`.

pyinstrument samples the polls (and nothing between them); its frame tree is then walked and each
frame's self time given to the group of the innermost frame, itself or an ancestor, that a rule
of `GROUPS` matches. The DBAPI's calls are C functions pyinstrument does not see: they show as
the self time of SQLAlchemy's `do_execute*` (engine/default.py), which counts as the driver's.
Statements are counted with SQLAlchemy's `before_cursor_execute` event during the polls (an
`executemany` is one statement).
"""

from __future__ import annotations

import sys
import textwrap
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event

import socialbot

SOCIALBOT = Path(socialbot.__file__).resolve().parent  # the one imported, so the one profiled
HTTP_PACKAGES = frozenset(
    {
        "requests",
        "responses",
        "urllib3",
        "httpx",
        "httpcore",
        "respx",
        "tweepy",
        "mastodon",  # Mastodon.py
        "atproto_client",
        "atproto_core",
        "requests_oauthlib",
        "oauthlib",
    }
)
DRIVER_PACKAGES = frozenset({"psycopg", "psycopg_binary", "psycopg_pool", "sqlite3"})
SQL_PACKAGES = frozenset({"sqlalchemy", "sqlmodel"})
REPLY_PACKAGES = frozenset({"jinja2", "markupsafe"})
JSON_PACKAGES = frozenset({"json"})
DRIVER_CALLS = frozenset({"do_execute", "do_executemany", "do_execute_no_params"})

# The groups, in the order printed.
GROUPS = (
    "SQLAlchemy (statements, ORM, rows)",
    "driver (DBAPI execute, server waits)",
    "decide (socialbot.intake)",
    "duplicate look-up",
    "replies (templates, text length)",
    "wire + JSON",
    "HTTP (clients and mocks)",
    "metering",
    "poller glue (the rest of socialbot)",
    "other",
)
SQL, DRIVER, DECIDE, DUPLICATES, REPLIES, WIRE, HTTP, METERING, GLUE, OTHER = GROUPS

# socialbot's modules (paths under socialbot/) and functions, by group. A module not named here
# works for its caller (text.py's length inside a reply, location.py inside decide): it takes the
# caller's group, and is glue when called from the poller's own code or from a library.
_DUPLICATE_FUNCTIONS = {
    "ingest/prereads.py": {"nearby_cases", "cells_near"},
    "intake.py": {"link_duplicate", "duplicate_search"},
}
_DUPLICATE_CLASS_FUNCTIONS = {("ingest/prereads.py", "_Nearby", "load")}
_MODULE_GROUPS = {
    "intake.py": DECIDE,
    "geocell.py": DUPLICATES,
    "replies.py": REPLIES,
    "templating.py": REPLIES,
    "ingest/reply.py": REPLIES,
    "storable.py": WIRE,
    "networks/json_values.py": WIRE,
    "metering.py": METERING,
    "usage.py": METERING,
    "networks/metering.py": METERING,
}
_GLUE_MODULES = ("poller.py", "ingest/", "store/", "threads.py")
# The groups a helper module takes from its caller; under the others it is glue.
_LENT = frozenset({DECIDE, DUPLICATES, REPLIES, WIRE, METERING})
_HELPER = "helper"  # group_of's answer for a socialbot module that works for its caller


@dataclass(frozen=True, slots=True)
class Where:
    """A frame's place: the socialbot module (path under socialbot/) or the top-level package."""

    module: str | None  # "intake.py", "networks/x/wire.py": socialbot's own
    package: str | None  # "sqlalchemy", "json", "requests": anyone else's


def where(path: str) -> Where:
    resolved = path.replace("\\", "/")
    own = str(SOCIALBOT).replace("\\", "/") + "/"
    if resolved.startswith(own):
        return Where(resolved[len(own) :], None)
    if "/site-packages/" in resolved:
        rest = resolved.rsplit("/site-packages/", 1)[1]
        return Where(None, rest.split("/", 1)[0].removesuffix(".py"))
    for prefix in {sys.base_prefix, sys.prefix}:
        lib = f"{prefix}/lib/python{sys.version_info.major}.{sys.version_info.minor}/"
        if resolved.startswith(lib):
            return Where(None, resolved[len(lib) :].split("/", 1)[0].removesuffix(".py"))
    return Where(None, None)


def group_of(path: str, function: str, class_name: str | None) -> str | None:
    """The group a frame's own code belongs to; None when its caller's group is its own."""
    at = where(path)
    if at.module is not None:
        module = at.module
        if function in _DUPLICATE_FUNCTIONS.get(module, ()):
            return DUPLICATES
        if (module, class_name, function) in _DUPLICATE_CLASS_FUNCTIONS:
            return DUPLICATES
        if module.startswith("networks/") and module.endswith("/wire.py"):
            return WIRE
        if module in _MODULE_GROUPS:
            return _MODULE_GROUPS[module]
        return GLUE if module.startswith(_GLUE_MODULES) else _HELPER
    package = at.package
    if package in SQL_PACKAGES:
        return DRIVER if function in DRIVER_CALLS else SQL
    if package in DRIVER_PACKAGES:
        return DRIVER
    if package in REPLY_PACKAGES:
        return REPLIES
    if package in JSON_PACKAGES:
        return WIRE
    if package in HTTP_PACKAGES:
        return HTTP
    return None


@dataclass(slots=True)
class Breakdown:
    """A profiled run: seconds by group, socialbot's functions by cumulative seconds, statements."""

    groups: Counter[str] = field(default_factory=Counter)
    functions: Counter[str] = field(default_factory=Counter)
    statements: int = 0
    mentions: int = 0

    @property
    def total(self) -> float:
        return sum(self.groups.values())

    def shares(self) -> list[tuple[str, float]]:
        total = self.total or 1.0
        return [(name, 100 * self.groups[name] / total) for name in GROUPS]


def walk(root: Any) -> Breakdown:
    """The groups' self times and socialbot's cumulative times in pyinstrument's frame tree."""
    found = Breakdown()
    stack: list[tuple[Any, str, frozenset[str]]] = [(root, OTHER, frozenset())]
    while stack:
        frame, inherited, open_functions = stack.pop()
        mine = group_of(frame.file_path or "", frame.function or "", frame.class_name)
        if mine == _HELPER:
            group = inherited if inherited in _LENT else GLUE
        else:
            group = mine or inherited
        real = [c for c in frame.children if not c.is_synthetic]
        found.groups[group] += frame.time - sum(c.time for c in real)
        name = _own_name(frame)
        if name is not None and name not in open_functions:  # recursion counted once
            found.functions[name] += frame.time
            open_functions = open_functions | {name}
        stack.extend((child, group, open_functions) for child in real)
    return found


def _own_name(frame: Any) -> str | None:
    at = where(frame.file_path or "")
    if at.module is None:
        return None
    module = "socialbot." + at.module.removesuffix(".py").replace("/", ".")
    qualified = f"{frame.class_name}.{frame.function}" if frame.class_name else frame.function
    return f"{module}.{qualified}"


class PollProfiler:
    """Samples only inside `with profiler.poll():` and counts the statements run there."""

    def __init__(self, interval: float = 0.0005) -> None:
        from pyinstrument import Profiler

        self._profiler = Profiler(interval=interval)
        self._inside = False
        self.statements = 0
        self.mentions = 0
        self._engines: list[tuple[Engine, Callable[..., None]]] = []

    def attach(self, engine: Engine) -> None:
        def counted(*_args: Any, **_kwargs: Any) -> None:
            if self._inside:
                self.statements += 1

        event.listen(engine, "before_cursor_execute", counted)
        self._engines.append((engine, counted))

    @contextmanager
    def poll(self) -> Iterator[None]:
        self._inside = True
        self._profiler.start()
        try:
            yield
        finally:
            self._profiler.stop()
            self._inside = False

    def breakdown(self) -> Breakdown:
        for engine, counted in self._engines:
            event.remove(engine, "before_cursor_execute", counted)
        self._engines.clear()
        session = self._profiler.last_session
        root = session.root_frame(trim_stem=False) if session is not None else None
        found = walk(root) if root is not None else Breakdown()
        found.statements, found.mentions = self.statements, self.mentions
        return found


def print_breakdown(title: str, found: Breakdown, top: int = 12) -> None:
    print(textwrap.fill(title, 80))
    width = max(len(name) for name in GROUPS)
    for name, share in found.shares():
        print(f"  {name.ljust(width)}  {share:5.1f} %  {found.groups[name]:7.2f} s")
    print(f"  {'total sampled'.ljust(width)}  100.0 %  {found.total:7.2f} s")
    per_100 = 100 * found.statements / found.mentions if found.mentions else 0.0
    print(f"  SQL statements per 100 mentions: {per_100:.1f} ({found.statements:,} in all)")
    print(f"  the {top} socialbot functions with the most time (their socialbot. left out):")
    total = found.total or 1.0
    for name, seconds in found.functions.most_common(top):
        short = name.removeprefix("socialbot.")  # 80 columns: every one is socialbot's
        print(f"    {100 * seconds / total:5.1f} %  {seconds:6.2f} s  {short}")


def as_dict(found: Breakdown, top: int = 12) -> dict[str, Any]:
    return {
        "shares_percent": {name: round(share, 2) for name, share in found.shares()},
        "sampled_seconds": round(found.total, 3),
        "statements_per_100_mentions": (
            round(100 * found.statements / found.mentions, 2) if found.mentions else None
        ),
        "top_functions": [
            {"function": name, "seconds": round(seconds, 3)}
            for name, seconds in found.functions.most_common(top)
        ],
    }
