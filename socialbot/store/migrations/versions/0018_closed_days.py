"""the city's own closures, a snow day: closed_days

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 10:00:00

SLA business days skip weekends and public holidays; `socialbot calendar close` adds the days the
city closes besides (a snow day, a strike), one row a day, with who closed it and why. Opening a
day again fills `opened_at` and `opened_by` and keeps the row; at most one row a day is closed at
a time (a partial unique index, which SQLite and PostgreSQL both have). A new table: nothing
already there is altered, so neither database copies a table. Going down, the table is dropped:
due times already moved by a closure stay as they are, and days closed are business days again
for the cases opened after.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialbot.store.types

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_UTC = socialbot.store.types.UTCDateTime
_CLOSED = sa.text("opened_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "closed_days",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("closed_at", _UTC(timezone=True), nullable=False),
        sa.Column("closed_by", sa.String(length=128), nullable=False),
        sa.Column("opened_at", _UTC(timezone=True), nullable=True),
        sa.Column("opened_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_closed_days_closed",
        "closed_days",
        ["day"],
        unique=True,
        sqlite_where=_CLOSED,
        postgresql_where=_CLOSED,
    )


def downgrade() -> None:
    op.drop_index("ix_closed_days_closed", table_name="closed_days")
    op.drop_table("closed_days")
