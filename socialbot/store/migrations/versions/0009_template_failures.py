"""template_failures: replies sent as the built-in fallback because their template failed

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialbot.store.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "template_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", socialbot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("template_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_template_failures_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("template_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_template_failures_at"))
    op.drop_table("template_failures")
