"""broadcasts, their runs, storm campaigns; outbox threads and deadlines

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialbot.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=True),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("langs", sa.String(length=32), nullable=False),
        sa.Column("media_path", sa.Text(), nullable=True),
        sa.Column("media_alt", sa.Text(), nullable=True),
        sa.Column("at", socialbot.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cron", sa.String(length=128), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "scheduled",
                "done",
                "cancelled",
                name="broadcaststate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("next_due_at", socialbot.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", socialbot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("cancelled_at", socialbot.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.create_index("ix_broadcasts_due", ["state", "next_due_at"], unique=False)

    op.create_table(
        "storm_campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("hashtag", sa.String(length=64), nullable=False),
        sa.Column("started_at", socialbot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=128), nullable=False),
        sa.Column("stopped_at", socialbot.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("stopped_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("storm_campaigns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_storm_campaigns_stopped_at"), ["stopped_at"], unique=False
        )

    op.create_table(
        "broadcast_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=False),
        sa.Column("due_at", socialbot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("fired_at", socialbot.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "state",
            sa.Enum("queued", "missed", "failed", name="runstate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("campaign", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("broadcast_id", "due_at"),
    )
    with op.batch_alter_table("broadcast_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_broadcast_runs_broadcast_id"), ["broadcast_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_broadcast_runs_fired_at"), ["fired_at"], unique=False)

    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("broadcast_run_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("after_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("expires_at", socialbot.store.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_broadcast_run_id"), ["broadcast_run_id"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_outbox_broadcast_run_id", "broadcast_runs", ["broadcast_run_id"], ["id"]
        )
        batch_op.create_foreign_key("fk_outbox_after_id", "outbox", ["after_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("fk_outbox_after_id", type_="foreignkey")
        batch_op.drop_constraint("fk_outbox_broadcast_run_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_outbox_broadcast_run_id"))
        batch_op.drop_column("expires_at")
        batch_op.drop_column("after_id")
        batch_op.drop_column("broadcast_run_id")

    with op.batch_alter_table("broadcast_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broadcast_runs_fired_at"))
        batch_op.drop_index(batch_op.f("ix_broadcast_runs_broadcast_id"))

    op.drop_table("broadcast_runs")
    with op.batch_alter_table("storm_campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_storm_campaigns_stopped_at"))

    op.drop_table("storm_campaigns")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_index("ix_broadcasts_due")

    op.drop_table("broadcasts")
