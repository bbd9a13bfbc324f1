"""what X was asked, answered and billed: api_usage, api_endpoints, api_failures

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialbot.store.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("charge", sa.String(length=32), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day", "account", "endpoint", "charge"),
    )
    op.create_table(
        "api_endpoints",
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("last_ok_at", socialbot.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", socialbot.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rate_limit", sa.Integer(), nullable=True),
        sa.Column("rate_remaining", sa.Integer(), nullable=True),
        sa.Column("rate_reset_at", socialbot.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("account", "endpoint"),
    )
    op.create_table(
        "api_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", socialbot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("api_failures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_failures_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("api_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_failures_at"))
    op.drop_table("api_failures")
    op.drop_table("api_endpoints")
    op.drop_table("api_usage")
