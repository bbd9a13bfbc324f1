"""0021 adds what SMS needs to honour each person's say (outbox.recipient, consent_events,
subscriptions) and the address as written (cases.address, inbox.address); going down to 0020
drops them and leaves everything else as it was."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from socialbot.store.db import alembic_config
from tests.store.test_crm_requests_migration import CASE

MENTION = (
    "INSERT INTO mentions (platform, account, post_id, author_id, text, created_at, received_at, "
    "outcome, detail, raw, reply_context) VALUES ('sms', 'intake', "
    "'SM0123456789abcdef0123456789abcdef', '+16175550123', 'STOP', '2026-12-20 10:00:00', "
    "'2026-12-20 10:00:00', 'ignored', '', '{}', '+16175550123')"
)
STOP = (
    "INSERT INTO consent_events (platform, address, action, source, word, mention_id, at) "
    "VALUES ('sms', '+16175550123', 'stop', 'keyword', 'STOP', {mention}, '2026-12-20 10:00:00')"
)


def test_a_text_records_one_consent_and_a_downgrade_drops_only_the_new(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text(CASE))
        connection.execute(text("UPDATE cases SET address = '123 Main St'"))
        connection.execute(text(MENTION))
        mention = connection.execute(text("SELECT id FROM mentions")).scalar()
        connection.execute(text(STOP.format(mention=mention)))
        connection.execute(
            text(
                "INSERT INTO subscriptions (platform, address, district, lang, created_at) "
                "VALUES ('sms', '+16175550123', 'Dorchester', 'es', '2026-12-20 10:00:00')"
            )
        )
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(STOP.format(mention=mention)))  # the same text read again

    command.downgrade(alembic_config(engine), "0020")
    names = inspect(engine).get_table_names()
    assert "consent_events" not in names and "subscriptions" not in names
    assert "address" not in {c["name"] for c in inspect(engine).get_columns("cases")}
    assert "recipient" not in {c["name"] for c in inspect(engine).get_columns("outbox")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM cases")).scalar() == 1
        assert connection.execute(text("SELECT count(*) FROM mentions")).scalar() == 1

    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT address FROM cases")).scalar() is None
