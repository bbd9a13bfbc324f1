"""`/metrics`: Prometheus' text format as prometheus-client itself parses it, the numbers the
tables hold, a scrape's cost independent of the number of cases, and only for WEB_METRICS_ALLOW
(the client's address as uvicorn leaves it: X-Forwarded-For believed from trusted proxies only)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event

from socialbot.config import load_settings
from socialbot.domain import InboxReason, InboxState, MentionOutcome
from socialbot.store.db import make_engine, transaction, upgrade
from socialbot.store.models import InboxItem, MentionRecord
from socialbot.web import metrics
from socialbot.web.access import allowed_networks, may_read_metrics
from tests import engagement_city
from tests.web.server import Served, copy_database, serve


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def rows(database: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(database) as connection:
        return list(connection.execute(query))


def test_metrics_parse_and_hold_the_tables_numbers(served: Served) -> None:
    answer = served.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == CONTENT_TYPE_LATEST
    found = samples(answer.text)

    assert found[("socialbot_database_up", ())] == 1
    for network, outcome, count in rows(
        served.database, "SELECT platform, outcome, count(*) FROM mentions GROUP BY 1, 2"
    ):
        labels = (("network", network), ("outcome", outcome))
        assert found[("socialbot_mentions_total", labels)] == count
    for network, count in rows(served.database, "SELECT platform, count(*) FROM cases GROUP BY 1"):
        assert found[("socialbot_cases_opened_total", (("network", network),))] == count
    for status, count in rows(served.database, "SELECT status, count(*) FROM cases GROUP BY 1"):
        assert found[("socialbot_cases", (("status", status),))] == count
    for network, account, state, count in rows(
        served.database, "SELECT platform, account, state, count(*) FROM outbox GROUP BY 1, 2, 3"
    ):
        labels = (("account", account), ("network", network))
        if state in ("sent", "failed"):
            assert found[("socialbot_replies_total", (*labels, ("outcome", state)))] == count
        else:
            assert found[("socialbot_queue_posts", (*labels, ("state", state)))] == count
    polled = {n: at for n, at in rows(served.database, "SELECT platform, polled_at FROM accounts")}
    for network, at in polled.items():
        lag = found[("socialbot_poll_lag_seconds", (("network", network),))]
        since = datetime.now(UTC) - datetime.fromisoformat(str(at)).replace(tzinfo=UTC)
        assert 0 < lag <= since.total_seconds()
    names = {name for name, _ in found}
    assert "socialbot_oldest_waiting_reply_age_seconds" in names


def test_metrics_hold_no_resident_data(served: Served) -> None:
    text = served.get("/metrics").text
    handles = [h for (h,) in rows(served.database, "SELECT author_username FROM mentions") if h]
    assert handles and not any(str(h) in text for h in handles)


def _statements(database: Path) -> int:
    engine = make_engine(f"sqlite:///{database}", create=False)
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    try:
        metrics.render(engine, load_settings(), lambda: datetime.now(UTC))
    finally:
        engine.dispose()
    return len(seen)


def test_a_scrape_costs_the_same_statements_whatever_the_number_of_cases(
    tmp_path: Path, demo_database: Path
) -> None:
    small = copy_database(demo_database, tmp_path / "small.db")
    large = copy_database(demo_database, tmp_path / "large.db")
    with sqlite3.connect(large) as connection:
        for _ in range(4):  # 14 → 224 cases, with their mentions and replies
            connection.execute(
                "INSERT INTO cases (category, department, priority, status, lat, lon, "
                "location_source, place_name, photo_urls, lang, platform, mention_post_id, "
                "author_id, author_username, description, created_at, updated_at, reporter_count, "
                "public) SELECT category, department, priority, status, lat, lon, location_source, "
                "place_name, photo_urls, lang, platform, mention_post_id, author_id, "
                "author_username, description, created_at, updated_at, reporter_count, public "
                "FROM cases"
            )
    assert rows(large, "SELECT count(*) FROM cases") == [(224,)]
    assert _statements(large) == _statements(small)


def _messages_city(path: Path, now: datetime) -> Path:
    """`tests/engagement_city.py`: a storm post and a question wait, the question 50 d."""
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        engagement_city.build(engine, now)
    finally:
        engine.dispose()
    return path


def test_the_inbox_gauges_say_what_waits_by_reason_and_for_how_long(tmp_path: Path) -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    engine = make_engine(f"sqlite:///{_messages_city(tmp_path / 'city.db', now)}", create=False)
    try:
        found = samples(metrics.render(engine, load_settings(), lambda: now).decode())
    finally:
        engine.dispose()
    waiting = {
        dict(labels)["reason"]: value
        for (name, labels), value in found.items()
        if name == "socialbot_inbox_waiting"
    }
    assert waiting == {
        "unclassified": 0,
        "question": 1,
        "comment": 0,
        "storm": 1,
        "more": 0,
        "menu": 0,
    }
    assert found[("socialbot_inbox_oldest_seconds", ())] == 50 * 24 * 3600


def test_a_scrape_costs_the_same_statements_whatever_the_inbox_holds(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    small = _messages_city(tmp_path / "small.db", now)
    large = copy_database(small, tmp_path / "large.db")
    engine = make_engine(f"sqlite:///{large}", create=False)
    states = list(InboxState)
    try:
        with transaction(engine) as session:
            for n in range(217):  # 7 → 224 inbox items, open and closed, each with its mention
                mention = MentionRecord(
                    platform="x",
                    account="intake",
                    post_id=f"more-{n}",
                    author_id="2001",
                    text="@City a question",
                    created_at=now,
                    received_at=now,
                    outcome=MentionOutcome.UNCLASSIFIED,
                    raw="{}",
                )
                session.add(mention)
                session.flush()
                assert mention.id is not None
                state = states[n % len(states)]
                session.add(
                    InboxItem(
                        mention_id=mention.id,
                        platform="x",
                        account="intake",
                        reason=list(InboxReason)[n % len(InboxReason)],
                        state=state,
                        created_at=now,
                        closed_at=None if state is InboxState.OPEN else now,
                    )
                )
    finally:
        engine.dispose()
    assert rows(large, "SELECT count(*) FROM inbox") == [(224,)]
    assert _statements(large) == _statements(small)


# --- Who may read it ------------------------------------------------------------------------------


@pytest.fixture(scope="session")  # one server a worker, however xdist orders the tests
def behind_a_proxy(
    demo_database: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """Loopback is the trusted proxy (a CIDR network), the monitor lives in 10.0.0.0/8."""
    env = {
        "SOCIALBOT_WEB_TRUSTED_PROXIES": "127.0.0.0/8,::1",
        "SOCIALBOT_WEB_METRICS_ALLOW": "10.0.0.0/8",
    }
    log = tmp_path_factory.mktemp("proxy") / "serve.log"
    with serve(demo_database, log, env) as server:
        yield server


@pytest.fixture(scope="session")  # one server a worker, however xdist orders the tests
def proxy_elsewhere(
    demo_database: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """The proxy is some other machine: loopback's X-Forwarded-For is not believed."""
    env = {
        "SOCIALBOT_WEB_TRUSTED_PROXIES": "192.0.2.10",
        "SOCIALBOT_WEB_METRICS_ALLOW": "10.0.0.0/8",
    }
    log = tmp_path_factory.mktemp("elsewhere") / "serve.log"
    with serve(demo_database, log, env) as server:
        yield server


def test_a_client_the_trusted_proxy_forwards_is_judged_by_its_own_address(
    behind_a_proxy: Served,
) -> None:
    monitor = behind_a_proxy.get("/metrics", headers={"X-Forwarded-For": "10.20.30.40"})
    assert monitor.status_code == 200
    assert "socialbot_database_up 1.0" in monitor.text

    stranger = behind_a_proxy.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert stranger.status_code == 403
    assert stranger.json() == {"error": "metrics are served only to WEB_METRICS_ALLOW"}
    # A client's own X-Forwarded-For claim in front of the proxy's is passed over.
    spoofed = behind_a_proxy.get(
        "/metrics", headers={"X-Forwarded-For": "10.20.30.40, 203.0.113.9"}
    )
    assert spoofed.status_code == 403
    # The proxy itself (loopback) is not the monitor.
    assert behind_a_proxy.get("/metrics").status_code == 403


def test_an_untrusted_peers_x_forwarded_for_is_ignored(proxy_elsewhere: Served) -> None:
    claimed = proxy_elsewhere.get("/metrics", headers={"X-Forwarded-For": "10.20.30.40"})
    assert claimed.status_code == 403
    # /healthz answers anyone: a load balancer's probe.
    assert proxy_elsewhere.get("/healthz").status_code in (200, 503)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=80))
def test_any_x_forwarded_for_is_a_200_or_a_403(behind_a_proxy: Served, forwarded: str) -> None:
    try:
        answer = behind_a_proxy.get("/metrics", headers={"X-Forwarded-For": forwarded})
    except httpx.LocalProtocolError:
        return  # not a header httpx will send
    assert answer.status_code in (200, 403)
    if answer.status_code == 200:  # only a forwarded monitor's address opens it
        assert "10." in forwarded


@given(st.text(max_size=60))
def test_any_client_text_is_judged_without_a_crash(client: str) -> None:
    assert may_read_metrics(client, allowed_networks("0.0.0.0/0,::/0")) in (True, False)


@pytest.mark.parametrize(
    ("client", "allowed"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),  # IPv4 on a dual-stack socket
        ("10.1.2.3", True),
        ("10.1.2.3:80", False),  # not an address
        ("11.0.0.1", False),
        ("unknown", False),
        ("", False),
        (None, False),
    ],
)
def test_who_may_read_metrics(client: str | None, allowed: bool) -> None:
    allow = allowed_networks("127.0.0.1/32,::1/128,10.0.0.0/8")
    assert may_read_metrics(client, allow) is allowed
