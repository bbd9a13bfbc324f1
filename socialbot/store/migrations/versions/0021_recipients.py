"""one person's say in what they are sent: outbox.recipient, consent_events, subscriptions; the
address a case was reported at: cases.address, inbox.address

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-20 10:00:00

SMS (issue 18) sends to people, not to a timeline, and must honour what each said:
- `outbox.recipient`: the person a row is sent to (a reply's resident, an alert's subscriber:
  SMS's phone number), None for a post anyone reads. What a STOP is checked against before a send.
- `consent_events`: every STOP and START as it came (a keyword texted, the carrier's own block
  reported as Twilio's 21610), one row each, never updated nor deleted: the record carriers and
  the law ask a sender to keep. A recipient's standing is their newest row.
- `subscriptions`: who asked for the city's alerts ("ALERTS [district]"), in which language and
  for which district (None: all), one row a subscribing; `ended_at` set by STOP or a new one.
- `cases.address`, `inbox.address`: the address as the resident wrote it ("123 Main St",
  "Main and 5th"), kept whether or not it could be geocoded.
New tables and nullable columns only: nothing already there changes. Going down, they are dropped.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialbot.store.types

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_UTC = socialbot.store.types.UTCDateTime


def upgrade() -> None:
    # In place, not in Alembic's batch mode, which on SQLite would copy each table and drop the
    # original, refused by the rows that refer to it.
    op.add_column("outbox", sa.Column("recipient", sa.String(length=64), nullable=True))
    op.add_column("cases", sa.Column("address", sa.Text(), nullable=True))
    op.add_column("inbox", sa.Column("address", sa.Text(), nullable=True))
    op.create_table(
        "consent_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("word", sa.String(length=32), nullable=True),
        sa.Column("mention_id", sa.Integer(), nullable=True),
        sa.Column("at", _UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mention_id"),
    )
    op.create_index("ix_consent_events_address", "consent_events", ["platform", "address", "id"])
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("district", sa.String(length=128), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _UTC(timezone=True), nullable=False),
        sa.Column("ended_at", _UTC(timezone=True), nullable=True),
        sa.Column("ended_reason", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_subscriptions_address", "subscriptions", ["platform", "address"])
    op.create_index(
        "ix_subscriptions_active", "subscriptions", ["platform", "ended_at", "district"]
    )


def downgrade() -> None:
    op.drop_index("ix_subscriptions_active", table_name="subscriptions")
    op.drop_index("ix_subscriptions_address", table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_index("ix_consent_events_address", table_name="consent_events")
    op.drop_table("consent_events")
    for table, column in (("inbox", "address"), ("cases", "address"), ("outbox", "recipient")):
        if op.get_bind().dialect.name == "sqlite":  # in place, as 0017 explains
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_column(table, column)
