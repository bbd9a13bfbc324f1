"""`/healthz` over a sender that fails every try: the network takes our reads but refuses our
posts (a 503 on X's post endpoint, an expired Mastodon token's scope), and the reply is tried
again with back-off (up to an hour between tries, for two days). Between two tries it is not
due, so "no post due has waited past its time" holds, while no resident has heard from the
city for hours: an operator's monitor must see it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from socialbot.config import INTAKE_ACCOUNT, load_settings
from socialbot.store.db import transaction
from socialbot.store.models import Account, OutboxMessage, OutboxState
from socialbot.web.health import decide
from socialbot.web.health_reads import read_health_facts

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
STALE = timedelta(minutes=10)


def test_a_reply_failing_every_try_for_hours_is_unhealthy(engine: Engine) -> None:
    with transaction(engine) as session:
        session.add(
            Account(platform="x", name=INTAKE_ACCOUNT, polled_at=NOW - timedelta(minutes=1))
        )
        session.add(
            OutboxMessage(
                platform="x",
                account=INTAKE_ACCOUNT,
                dedupe_key="reply:x:1",
                template="filed",
                lang="en",
                text="Thanks! Case #1 (Pothole) is filed.",
                state=OutboxState.PENDING,
                attempts=9,
                last_error="Unavailable: X answered 503",
                created_at=NOW - timedelta(hours=3),
                next_attempt_at=NOW + timedelta(minutes=20),  # the back-off's next try
            )
        )
    facts = read_health_facts(engine, load_settings(database_url=str(engine.url)), NOW)

    health = decide(facts, NOW, STALE)

    assert not health.healthy
    assert next(c for c in health.checks if c.name == "send:x").state == "waiting"
