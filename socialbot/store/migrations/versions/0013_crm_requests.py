"""cases forwarded to the city's Open311 CRM: crm_requests

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 15:00:00

One row a case (`case_id` unique: a case is sent at most once), its send queue (`state`,
`attempts`, `next_attempt_at`, `claimed_at`, as the reply outbox's) and the CRM's word at the last
sync (`crm_*`). Going down, the table is dropped: the CRM keeps its requests, and a later upgrade
starts a queue from the cases as they are then (a case already in the CRM would be sent again, so
do not go down and up again while forwarding is on).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialbot.store.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_UTC = socialbot.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "crm_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "sending",
                "token",
                "sent",
                "rejected",
                "dropped",
                name="crmstate",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("service_code", sa.String(length=128), nullable=False),
        sa.Column("service_request_id", sa.String(length=128), nullable=True),
        sa.Column("token", sa.String(length=128), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _UTC(timezone=True), nullable=False),
        sa.Column("claimed_at", _UTC(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("crm_status", sa.String(length=32), nullable=True),
        sa.Column("crm_extended_status", sa.String(length=64), nullable=True),
        sa.Column("crm_status_notes", sa.Text(), nullable=True),
        sa.Column("crm_updated_at", _UTC(timezone=True), nullable=True),
        sa.Column("created_at", _UTC(timezone=True), nullable=False),
        sa.Column("sent_at", _UTC(timezone=True), nullable=True),
        sa.Column("synced_at", _UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    with op.batch_alter_table("crm_requests", schema=None) as batch_op:
        batch_op.create_index("ix_crm_requests_queue", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index(
            "ix_crm_requests_service_request_id", ["service_request_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("crm_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_crm_requests_service_request_id")
        batch_op.drop_index("ix_crm_requests_queue")
    op.drop_table("crm_requests")
