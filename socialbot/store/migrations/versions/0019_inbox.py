"""the staff inbox: inbox

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 10:00:00

A message that is not a report, not a thank-you and not answered from answers.yaml waits for staff
here (`socialbot inbox`), one row a mention (unique `mention_id`), written in the mention's own
transaction, with what the message carried (its best location, photos, whether it was public) for
`inbox file`. A new table: nothing already there is altered. Going down, the table is dropped:
the mentions stay, and the replies staff queued stay in the outbox.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialbot.store.types

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_UTC = socialbot.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Boolean(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", _UTC(timezone=True), nullable=False),
        sa.Column("assigned_to", sa.String(length=128), nullable=True),
        sa.Column("closed_at", _UTC(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=128), nullable=True),
        sa.Column("answer_key", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("filed_case_id", sa.Integer(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("location_source", sa.String(length=16), nullable=True),
        sa.Column("photo_urls", sa.JSON(), server_default="[]", nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"]),
        sa.ForeignKeyConstraint(["filed_case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mention_id"),
    )
    op.create_index("ix_inbox_queue", "inbox", ["state", "created_at"])
    op.create_index("ix_inbox_case_id", "inbox", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_inbox_case_id", table_name="inbox")
    op.drop_index("ix_inbox_queue", table_name="inbox")
    op.drop_table("inbox")
