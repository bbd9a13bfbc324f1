"""`/healthz`: the verdict from plain facts (`web.health.decide`), the facts from a real database
(`web.health_reads`), and a real `socialbot serve` turning unhealthy when the poll stalls."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from socialbot.config import INTAKE_ACCOUNT, load_settings
from socialbot.store.db import make_engine, transaction
from socialbot.store.models import Account, OutboxMessage, OutboxState, RateHold
from socialbot.web.health import HealthFacts, NetworkFacts, decide
from socialbot.web.health_reads import read_health_facts
from tests.web.server import Served, copy_database, serve

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
STALE = timedelta(minutes=10)
NEW_YORK = ZoneInfo("America/New_York")


def network(name: str = "x", **facts: object) -> NetworkFacts:
    values: dict[str, object] = {
        "network": name,
        "polled": True,
        "last_poll": NOW - timedelta(minutes=1),
        "last_send": None,
        "due": 0,
        "oldest_due": None,
        "held_until": None,
    }
    return NetworkFacts(**{**values, **facts})  # type: ignore[arg-type]


def test_a_fresh_poll_and_an_empty_queue_is_healthy() -> None:
    health = decide(HealthFacts(None, (network("x"), network("mastodon"))), NOW, STALE)

    assert health.healthy
    body = health.to_json()
    assert body["status"] == "ok"
    assert body["checks"]["poll:x"] == {  # type: ignore[index]
        "state": "ok",
        "detail": "last successful poll 60 s ago (2026-11-23 11:59:00 UTC)",
        "network": "x",
        "at": "2026-11-23T11:59:00+00:00",
    }


def test_a_poll_older_than_the_threshold_is_unhealthy_and_says_when_in_the_citys_zone() -> None:
    stalled = network("mastodon", last_poll=NOW - timedelta(minutes=11))
    health = decide(HealthFacts(None, (network("x"), stalled)), NOW, STALE, NEW_YORK)

    assert not health.healthy
    check = next(c for c in health.checks if c.name == "poll:mastodon")
    assert check.state == "stale"
    assert "last successful poll of mastodon 11 min ago (2026-11-23 06:49:00 EST)" in check.detail
    assert [c.name for c in health.checks if not c.ok] == ["poll:mastodon"]


def test_a_held_poll_past_the_threshold_is_still_unhealthy_and_names_the_hold() -> None:
    held = network(last_poll=NOW - timedelta(minutes=30), held_until=NOW + timedelta(minutes=5))
    [_, poll, _] = decide(HealthFacts(None, (held,)), NOW, STALE).checks
    assert poll.state == "stale"
    assert "a rate limit holds it until 2026-11-23 12:05:00 UTC" in poll.detail


def test_a_due_post_waiting_past_the_threshold_is_unhealthy() -> None:
    waiting = network(due=3, oldest_due=NOW - timedelta(minutes=12))
    health = decide(HealthFacts(None, (waiting,)), NOW, STALE)
    send = next(c for c in health.checks if c.name == "send:x")
    assert (send.state, send.at) == ("waiting", NOW - timedelta(minutes=12))
    assert send.detail.startswith("3 post(s) due on x, the oldest since 12 min ago")
    # Due, but not for long: the sender is at it.
    assert decide(
        HealthFacts(None, (network(due=3, oldest_due=NOW - timedelta(minutes=2)),)), NOW, STALE
    ).healthy


def test_before_the_first_poll_ever_it_is_unhealthy_and_says_so() -> None:
    health = decide(HealthFacts(None, ()), NOW, STALE)
    assert not health.healthy
    [_, poll] = health.checks
    assert poll.state == "never" and "no network has been polled yet" in poll.detail


def test_an_unreachable_database_is_the_only_check() -> None:
    health = decide(HealthFacts("database sqlite:///x.db: cannot read it (...)"), NOW, STALE)
    assert health.to_json() == {
        "status": "unhealthy",
        "at": "2026-11-23T12:00:00+00:00",
        "stale_after_seconds": 600,
        "checks": {
            "database": {
                "state": "failing",
                "detail": "database sqlite:///x.db: cannot read it (...)",
            }
        },
        "networks": {},
    }


moments = st.none() | st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(
    st.lists(
        st.builds(
            NetworkFacts,
            network=st.text(min_size=1, max_size=12),
            polled=st.booleans(),
            last_poll=moments,
            last_send=moments,
            due=st.integers(0, 10**6),
            oldest_due=moments,
            held_until=moments,
        ),
        max_size=4,
        unique_by=lambda n: n.network,  # as the reads give them: one a network
    ),
    st.floats(min_value=0.01, max_value=10**6),
)
def test_any_facts_get_a_verdict_that_agrees_with_its_checks(
    networks: list[NetworkFacts], minutes: float
) -> None:
    health = decide(HealthFacts(None, tuple(networks)), NOW, timedelta(minutes=minutes))
    body = health.to_json()
    failing = [name for name, c in body["checks"].items() if c["state"] != "ok"]  # type: ignore[attr-defined]
    assert (body["status"] == "ok") == (not failing) == health.healthy


# --- The facts, from a real database -------------------------------------------------------------


def _outbox(
    n: int, network: str, state: OutboxState, due: datetime, **more: object
) -> OutboxMessage:
    return OutboxMessage(
        platform=network,
        account=more.pop("account", INTAKE_ACCOUNT),  # type: ignore[arg-type]
        dedupe_key=f"test:{network}:{n}",
        template=more.pop("template", "filed"),  # type: ignore[arg-type]
        lang="en",
        text="Thanks",
        state=state,
        next_attempt_at=due,
        created_at=due - timedelta(minutes=1),
        **more,
    )


def test_the_facts_read_polls_sends_and_the_due_posts_not_held(engine: Engine) -> None:
    with transaction(engine) as session:
        session.add(
            Account(platform="x", name=INTAKE_ACCOUNT, polled_at=NOW - timedelta(minutes=3))
        )
        session.add(Account(platform="mastodon", name=INTAKE_ACCOUNT))  # never polled
        session.add(Account(platform="x", name="notify"))  # not an intake account
        session.add_all(
            [
                _outbox(
                    1,
                    "x",
                    OutboxState.SENT,
                    NOW - timedelta(hours=2),
                    sent_at=NOW - timedelta(hours=1),
                ),
                _outbox(2, "x", OutboxState.PENDING, NOW - timedelta(minutes=20)),
                _outbox(3, "x", OutboxState.PENDING, NOW - timedelta(minutes=5)),
                _outbox(4, "x", OutboxState.PENDING, NOW + timedelta(minutes=5)),  # not due yet
                _outbox(5, "x", OutboxState.SENDING, NOW - timedelta(hours=1)),  # being sent
                # The notify account is held by X's limit: its due post waits, as it should.
                _outbox(6, "x", OutboxState.PENDING, NOW - timedelta(hours=3), account="notify"),
                _outbox(7, "mastodon", OutboxState.PENDING, NOW - timedelta(minutes=1)),
            ]
        )
        session.add(
            RateHold(
                platform="x",
                account="notify",
                endpoint="POST /2/tweets",
                until=NOW + timedelta(minutes=9),
                set_at=NOW - timedelta(hours=3),
            )
        )
    facts = read_health_facts(engine, load_settings(database_url=str(engine.url)), NOW)

    assert facts.database_problem is None
    mastodon, x = facts.networks
    assert mastodon == NetworkFacts(
        "mastodon", True, None, None, 1, NOW - timedelta(minutes=1), None
    )
    assert x == NetworkFacts(
        "x",
        True,
        NOW - timedelta(minutes=3),
        NOW - timedelta(hours=1),
        2,
        NOW - timedelta(minutes=20),
        NOW + timedelta(minutes=9),
    )


def test_a_database_without_tables_says_what_to_run(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "empty.db").close()
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}", create=False)
    try:
        facts = read_health_facts(engine, load_settings(), NOW)
    finally:
        engine.dispose()
    assert facts.database_problem is not None
    assert "has no socialbot tables yet" in facts.database_problem
    assert "`socialbot db upgrade`" in facts.database_problem


def test_a_schema_behind_says_to_upgrade(tmp_path: Path, demo_database: Path) -> None:
    database = copy_database(demo_database, tmp_path / "old.db")
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0001'")
    engine = make_engine(f"sqlite:///{database}", create=False)
    try:
        facts = read_health_facts(engine, load_settings(), NOW)
    finally:
        engine.dispose()
    assert facts.database_problem is not None
    assert "schema is behind this version" in facts.database_problem


# --- A real server --------------------------------------------------------------------------------


def _polled(database: Path, at: datetime) -> None:
    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE accounts SET polled_at = ? WHERE name = ?",
            (at.strftime("%Y-%m-%d %H:%M:%S.%f"), INTAKE_ACCOUNT),
        )


def test_healthz_turns_unhealthy_when_the_poll_stalls(tmp_path: Path, demo_database: Path) -> None:
    database = copy_database(demo_database, tmp_path / "live.db")
    _polled(database, datetime.now(UTC) - timedelta(minutes=1))
    env = {"SOCIALBOT_WEB_STALE_MINUTES": "10"}
    with serve(database, tmp_path / "serve.log", env) as served:
        live = served.get("/healthz")
        assert live.status_code == 200, live.text
        assert live.json()["status"] == "ok"
        assert live.headers["cache-control"] == "no-store"
        assert set(live.json()["networks"]) == {"bluesky", "mastodon", "x"}

        # The bot stops polling: eleven minutes later, the same question.
        _polled(database, datetime.now(UTC) - timedelta(minutes=11))
        stalled = served.get("/healthz")
        assert stalled.status_code == 503
        body = stalled.json()
        assert body["status"] == "unhealthy"
        assert {name for name, c in body["checks"].items() if c["state"] == "stale"} == {
            "poll:bluesky",
            "poll:mastodon",
            "poll:x",
        }


def test_healthz_shows_no_resident_data(served: Served, demo_database: Path) -> None:
    answer = served.get("/healthz")
    with sqlite3.connect(demo_database) as connection:
        handles = [h for (h,) in connection.execute("SELECT author_username FROM mentions") if h]
        words = [t for (t,) in connection.execute("SELECT text FROM mentions") if t]
    assert handles and words
    assert not any(h in answer.text for h in handles)
    assert not any(w[:20] in answer.text for w in words)
