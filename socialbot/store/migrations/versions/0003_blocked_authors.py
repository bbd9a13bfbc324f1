"""blocked authors, and indexes for counting an author's reports

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 11:31:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialbot.store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blocked_authors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("blocked_at", socialbot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("blocked_by", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "username"),
    )
    with op.batch_alter_table("blocked_authors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blocked_authors_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_author", ["platform", "author_id", "created_at"])
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.create_index("ix_mentions_author", ["platform", "author_id", "received_at"])


def downgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_index("ix_mentions_author")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_author")
    with op.batch_alter_table("blocked_authors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blocked_authors_user_id"))
    op.drop_table("blocked_authors")
