"""outbox media: a photo to attach to a reply

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("media_path", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("media_alt", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("media_id", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("media_id")
        batch_op.drop_column("media_alt")
        batch_op.drop_column("media_path")
