"""texts Twilio posted: sms_inbound

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-12 10:00:00

Each inbound text the web service's webhook (`POST /sms/twilio`) accepted, its signature checked,
one row a Twilio `MessageSid` (unique: Twilio retries a webhook it got no answer from): the sender
and our number (E.164), the body, the media (`MediaUrl{N}` and `MediaContentType{N}`, JSON) and the
whole form as posted (JSON text). A new table: nothing already there is altered. Going down, the
table is dropped, and the texts recorded in it with it: nothing else refers to them yet.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialbot.store.types

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_UTC = socialbot.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "sms_inbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_sid", sa.String(length=34), nullable=False),
        sa.Column("sender", sa.String(length=16), nullable=False),
        sa.Column("recipient", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("media", sa.JSON(), server_default="[]", nullable=False),
        sa.Column("form", sa.Text(), nullable=False),
        sa.Column("received_at", _UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_sid"),
    )


def downgrade() -> None:
    op.drop_table("sms_inbound")
