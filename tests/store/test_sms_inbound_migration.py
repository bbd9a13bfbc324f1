"""0020 adds `sms_inbound`: one row a Twilio MessageSid; going down to 0019 drops the texts and
leaves everything else as it was."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from socialbot.store.db import alembic_config
from tests.store.test_crm_requests_migration import CASE

TEXT = (
    "INSERT INTO sms_inbound (message_sid, sender, recipient, body, media, form, received_at) "
    "VALUES ('SM0123456789abcdef0123456789abcdef', '+16175550123', '+16175550100', 'pothole', "
    "'[]', '{}', '2026-12-12 10:00:00')"
)


def test_one_row_a_message_sid_and_a_downgrade_drops_the_texts_only(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text(CASE))
        connection.execute(text(TEXT))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text(TEXT))  # Twilio's retry of the same message

    command.downgrade(alembic_config(engine), "0019")
    assert "sms_inbound" not in inspect(engine).get_table_names()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM cases")).scalar() == 1

    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM sms_inbound")).scalar() == 0
