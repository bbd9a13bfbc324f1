"""failed job runs and X's rate-limit holds: job_failures, rate_holds

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialbot.store.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", socialbot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("job_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_failures_at"), ["at"], unique=False)
    op.create_table(
        "rate_holds",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("until", socialbot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("set_at", socialbot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account", "endpoint"),
    )


def downgrade() -> None:
    op.drop_table("rate_holds")
    with op.batch_alter_table("job_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_failures_at"))
    op.drop_table("job_failures")
