"""routing, SLA and duplicates: a case's district, grid cell, due time, resolve/close times and
how many people reported it

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 13:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialbot.store.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("district", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("cell", sa.String(length=12), nullable=True))
        batch_op.add_column(
            sa.Column("due_at", socialbot.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "resolved_at", socialbot.store.types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column("closed_at", socialbot.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        # Existing cases were each reported once, as far as anyone recorded.
        batch_op.add_column(
            sa.Column("reporter_count", sa.Integer(), nullable=False, server_default="1")
        )
        batch_op.create_index("ix_cases_nearby", ["category", "cell", "created_at"], unique=False)
        batch_op.create_index("ix_cases_due_at", ["due_at"], unique=False)
        batch_op.create_index("ix_cases_district", ["district"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.alter_column("reporter_count", server_default=None)
    # Reports over past months need when each finished case finished: its history knows.
    for status, column in (("resolved", "resolved_at"), ("closed", "closed_at")):
        op.execute(
            f"UPDATE cases SET {column} = (SELECT max(e.at) FROM case_events e "
            f"WHERE e.case_id = cases.id AND e.to_status = '{status}') WHERE status = '{status}'"
        )
    # District, grid cell and due time need the city's files and calendar: new cases get them;
    # older ones stay without (never overdue, not matched as duplicates).


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_district")
        batch_op.drop_index("ix_cases_due_at")
        batch_op.drop_index("ix_cases_nearby")
        batch_op.drop_column("reporter_count")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("due_at")
        batch_op.drop_column("cell")
        batch_op.drop_column("district")
