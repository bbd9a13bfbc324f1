"""how far the sync has read an endpoint's servicerequestupdates: crm_update_marks

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 10:00:00

Where the endpoint offers FixMyStreet's `servicerequestupdates` (`[open311] updates = true`), the
sync asks only what changed since its last fetch; `fetched_until` is that time, one row an
endpoint. Going down, the marks are dropped: the next sync after an upgrade reads every forwarded
case's state once, as a first sync does, and nothing the CRM said is lost.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialbot.store.types

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_UTC = socialbot.store.types.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "crm_update_marks",
        sa.Column("endpoint", sa.String(length=512), nullable=False),
        sa.Column("fetched_until", _UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("endpoint"),
    )


def downgrade() -> None:
    op.drop_table("crm_update_marks")
