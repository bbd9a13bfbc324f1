"""An inbound text into `sms_inbound`, once: a retry of the same `MessageSid` (Twilio retries a
webhook it got no answer from in time) writes nothing and is told apart."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from socialbot.sms.inbound import InboundText
from socialbot.store.db import conflict_insert
from socialbot.store.models import SmsInbound


def record(engine: Engine, text: InboundText, received_at: datetime) -> bool:
    """Insert `text`, received at `received_at`, unless its `MessageSid` is recorded already
    (`INSERT … ON CONFLICT DO NOTHING`: two retries at once cannot both insert, nor either fail).
    True when this call recorded it."""
    statement = (
        conflict_insert(engine.dialect.name, SmsInbound.__table__)  # type: ignore[attr-defined]
        .values(
            message_sid=text.message_sid,
            sender=text.sender,
            recipient=text.recipient,
            body=text.body,
            media=[{"url": m.url, "content_type": m.content_type} for m in text.media],
            form=text.form,
            received_at=received_at,
        )
        .on_conflict_do_nothing(index_elements=["message_sid"])
        # The row's id when it was inserted, no row when it was there: rowcount is no answer
        # (psycopg gives -1 for an INSERT SQLAlchemy made RETURNING its key).
        .returning(SmsInbound.__table__.c.id)  # type: ignore[attr-defined]
    )
    with engine.begin() as connection:
        return connection.execute(statement).first() is not None
