"""the district an alert is for: broadcasts.district

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-21 10:00:00

`broadcast send --district NAME` (issue 18) texts that district's subscribers and the whole
city's; a scheduled or recurring alert must reach the same district when it fires, hours or
weeks later, so the district is stored on the broadcast (a name of SOCIALBOT_DISTRICTS, as
written there; None: the whole city). One nullable column: nothing already there changes.
Going down, it is dropped.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place, not in Alembic's batch mode (as 0021 explains).
    op.add_column("broadcasts", sa.Column("district", sa.String(length=128), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":  # in place, as 0017 explains
        op.execute("ALTER TABLE broadcasts DROP COLUMN district")
    else:
        op.drop_column("broadcasts", "district")
