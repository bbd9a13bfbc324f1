"""`status` reports the SMS queue: the texts due, their segments, how long they take at the send
rate, and the texts the rate made miss their deadline; in 80 columns, and as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.cells import cell_len
from sqlalchemy import Engine

from socialbot.app import paces
from socialbot.config import load_settings
from socialbot.outbox import EXPIRED
from socialbot.status import read_status
from socialbot.store.db import make_engine, transaction, upgrade
from socialbot.store.models import OutboxMessage, OutboxState
from tests.cli.run import invoke
from tests.networks.sms import server

SPANISH = (
    "Aviso: el corte de agua en la calle Olmo sigue hasta el viernes. Habrá camiones cisterna "
    "en la esquina de la avenida Central desde las 8:00. Más información en el ayuntamiento."
)


def fill(engine: Engine, now: datetime) -> None:
    """120 alerts of a 3-segment Spanish text and 3 one-segment replies due; 2 due later; 4
    alerts the rate made miss their deadline an hour ago, and one two days ago."""
    rows = []
    for n in range(120):
        rows.append((n, SPANISH, now - timedelta(minutes=1), OutboxState.PENDING, None))
    for n in range(120, 123):
        rows.append((n, "Case #1 is filed.", now, OutboxState.PENDING, None))
    for n in range(123, 125):
        rows.append((n, "Later.", now + timedelta(hours=1), OutboxState.PENDING, None))
    for n in range(125, 129):
        rows.append(
            (n, SPANISH, now - timedelta(hours=2), OutboxState.FAILED, now - timedelta(hours=1))
        )
    rows.append(
        (129, SPANISH, now - timedelta(days=3), OutboxState.FAILED, now - timedelta(days=2))
    )
    with transaction(engine) as session:
        for n, text, at, state, expired in rows:
            session.add(
                OutboxMessage(
                    platform="sms",
                    account="intake",
                    dedupe_key=f"test:{n}",
                    template="broadcast",
                    lang="es",
                    text=text,
                    recipient=server.resident(n),
                    next_attempt_at=at,
                    created_at=at,
                    state=state,
                    expires_at=expired,
                    last_error=f"{EXPIRED} … it waited longer than the send rate allowed"
                    if expired
                    else None,
                )
            )


def test_read_status_counts_the_sms_queue_in_segments(engine: Engine) -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    fill(engine, now)
    settings = load_settings(twilio_segments_per_second=2.0)
    [queue] = read_status(engine, now, paces=paces(settings)).paced
    assert (queue.network, queue.account, queue.due) == ("sms", "intake", 123)
    assert queue.units == 120 * 3 + 3
    assert queue.drain == timedelta(seconds=363 / 2)
    assert queue.expired_24h == 4
    # A network sent as fast as it answers has no such queue.
    assert read_status(engine, now, paces={}).paced == ()


@pytest.fixture
def city(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "sms.db"
    engine = make_engine(f"sqlite:///{db}")
    try:
        upgrade(engine)
        fill(engine, datetime.now(UTC))
    finally:
        engine.dispose()
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("SOCIALBOT_TIMEZONE", "America/New_York")
    monkeypatch.setenv("SOCIALBOT_TWILIO_SEGMENTS_PER_SECOND", "1")
    return db


def test_status_shows_the_sms_queue_in_80_columns(
    city: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out = invoke("status")
    assert code == 0, out
    assert max(cell_len(line) for line in out.splitlines() if "sqlite:" not in line) <= 80, out
    lines = out.splitlines()
    title = next(i for i, line in enumerate(lines) if "Paced sends" in line)
    row = next(line for line in lines[title:] if "intake" in line)
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    # 363 segments at 1 a second: 6 min; 4 alerts expired in the last day (not the older one).
    assert cells == ["intake", "123", "363 segments", "1 segment a second", "6 min", "4"], out


def test_status_json_has_the_sms_queue(city: Path) -> None:
    code, out = invoke("status", "--json")
    assert code == 0
    [paced] = json.loads(out)["paced"]
    assert paced == {
        "network": "sms",
        "account": "intake",
        "due": 123,
        "units": 363,
        "unit": "segments",
        "per_second": 1.0,
        "drain_seconds": 363.0,
        "expired_24h": 4,
    }
