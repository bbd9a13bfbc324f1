"""an index on mentions (platform, outcome), so /metrics counts them without reading the table

`socialbot_mentions_total{network,outcome}` is a GROUP BY over every mention ever handled; without
it a scrape read the whole table, raw JSON included (1.4 s at 190,000 mentions on SQLite).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 17:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.create_index("ix_mentions_outcome", ["platform", "outcome"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_index("ix_mentions_outcome")
