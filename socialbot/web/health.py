"""Is the bot alive? `/healthz`'s verdict from plain facts and the time. Pure.

The facts come from the database alone (`web.health_reads`): the web service runs beside the bot,
and the bot being down is what a monitor asks about. Healthy means all of:

- the database answers and its schema is the one this version knows;
- every network the bot polls (an `intake` account row) had a successful poll within
  `stale` (`WEB_STALE_MINUTES`): a failed poll, or one skipped for a rate limit, does not move
  `accounts.polled_at`, so a bot that is up but cannot read a network shows here too;
- no post that is due (pending, its time come, not held by a rate limit or the budget) has
  waited longer than `stale`: the sender is stuck, or not running.

Before the bot's first poll ever (no intake account yet) the answer is unhealthy, and says so:
a web service answering "ok" over a database no bot has ever polled would hide an installation
whose bot was never started, the very thing a monitor is there to catch; the bot polls within
seconds of its start, so a fresh install is unhealthy for that long only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal

State = Literal["ok", "failing", "stale", "never", "waiting"]


@dataclass(frozen=True, slots=True)
class NetworkFacts:
    """What the database says of one network."""

    network: str
    polled: bool  # it has an intake account: the bot polls it
    last_poll: datetime | None  # the intake account's last successful poll
    last_send: datetime | None  # the newest post sent by any of its accounts
    due: int  # posts due now that nothing holds back
    oldest_due: datetime | None  # since when the oldest of them is due
    held_until: datetime | None  # the furthest rate-limit hold in force on its accounts


@dataclass(frozen=True, slots=True)
class HealthFacts:
    """The database's answer, or why there is none (`database_problem`: one line saying what to
    run or check). One `NetworkFacts` a network."""

    database_problem: str | None
    networks: tuple[NetworkFacts, ...] = ()


@dataclass(frozen=True, slots=True)
class Check:
    """One thing checked: its state, a line for a person, and the time it is about."""

    name: str  # "database", "poll:x", "send:mastodon"
    state: State
    detail: str
    network: str | None = None
    at: datetime | None = None  # the last poll, or since when the oldest due post waits

    @property
    def ok(self) -> bool:
        return self.state == "ok"


@dataclass(frozen=True, slots=True)
class Health:
    at: datetime
    stale: timedelta
    checks: tuple[Check, ...]
    networks: tuple[NetworkFacts, ...]

    @property
    def healthy(self) -> bool:
        return all(check.ok for check in self.checks)

    def to_json(self) -> dict[str, object]:
        """The body of `/healthz`: times in ISO 8601, UTC; no secret, nothing of a resident."""
        return {
            "status": "ok" if self.healthy else "unhealthy",
            "at": _iso(self.at),
            "stale_after_seconds": round(self.stale.total_seconds()),
            "checks": {
                check.name: {
                    "state": check.state,
                    "detail": check.detail,
                    **({"network": check.network} if check.network else {}),
                    **({"at": _iso(check.at)} if check.at else {}),
                }
                for check in self.checks
            },
            "networks": {
                n.network: {
                    "polled": n.polled,
                    "last_poll": _iso(n.last_poll),
                    "last_send": _iso(n.last_send),
                    "due_posts": n.due,
                    "oldest_due": _iso(n.oldest_due),
                    "held_until": _iso(n.held_until),
                }
                for n in self.networks
            },
        }


def decide(facts: HealthFacts, now: datetime, stale: timedelta, zone: tzinfo = UTC) -> Health:
    """The verdict on `facts` at `now`; a check's words give times in `zone` (the city's)."""
    if facts.database_problem is not None:
        check = Check("database", "failing", facts.database_problem)
        return Health(now, stale, (check,), ())
    checks = [Check("database", "ok", "reachable, schema current")]
    polled = [n for n in facts.networks if n.polled]
    if not polled:
        checks.append(
            Check(
                "poll",
                "never",
                "no network has been polled yet: is the bot (`socialbot run`, the socialbot "
                "unit) started with a network's credentials?",
            )
        )
    for network in polled:
        checks.append(_poll_check(network, now, stale, zone))
    for network in facts.networks:
        checks.append(_send_check(network, now, stale, zone))
    return Health(now, stale, tuple(checks), facts.networks)


def _poll_check(network: NetworkFacts, now: datetime, stale: timedelta, zone: tzinfo) -> Check:
    name, last = f"poll:{network.network}", network.last_poll
    if last is None:
        return Check(name, "never", f"{network.network} has never been polled successfully",
                     network.network)  # fmt: skip
    age = now - last
    when = f"{_ago(age)} ({_local(last, zone)})"
    if age > stale:
        held = (
            f"; a rate limit holds it until {_local(network.held_until, zone)}"
            if network.held_until is not None
            else ""
        )
        return Check(
            name,
            "stale",
            f"last successful poll of {network.network} {when}, more than {_ago(stale, suffix='')} "
            f"(WEB_STALE_MINUTES){held}: see `socialbot status` and `journalctl -u socialbot`",
            network.network,
            last,
        )
    return Check(name, "ok", f"last successful poll {when}", network.network, last)


def _send_check(network: NetworkFacts, now: datetime, stale: timedelta, zone: tzinfo) -> Check:
    name, oldest = f"send:{network.network}", network.oldest_due
    if oldest is None or network.due == 0:
        return Check(name, "ok", "no post waits past its time", network.network)
    age = max(now - oldest, timedelta(0))
    words = (
        f"{network.due} post(s) due on {network.network}, the oldest since {_ago(age)} "
        f"({_local(oldest, zone)})"
    )
    if age > stale:
        return Check(
            name,
            "waiting",
            f"{words}: the sender is stuck or not running; see `socialbot status`",
            network.network,
            oldest,
        )
    return Check(name, "ok", words, network.network, oldest)


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat(timespec="seconds") if at is not None else None


def _local(at: datetime | None, zone: tzinfo) -> str:
    if at is None:
        return "never"
    local = at.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()}"


def _ago(age: timedelta, suffix: str = " ago") -> str:
    seconds = max(int(age.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s{suffix}"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min{suffix}"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h{suffix}"
    return f"{seconds // 86400} days{suffix}"
