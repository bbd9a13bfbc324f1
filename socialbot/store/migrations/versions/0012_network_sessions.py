"""a network that signs in keeps its session: network_sessions; outbox.media_id as text

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 15:00:00

Bluesky signs in with a password a few dozen times a day at most: its session (the tokens, a
secret) is kept in `network_sessions`, one row a (network, account), so a restart spends no
sign-in. `outbox.media_id` becomes text: Bluesky's "media id" is the uploaded blob's reference
with its alt text, longer than the 64 characters an X or Mastodon media id needs.

Going down, the sessions are dropped (the next start signs in again) and a media id longer than
64 characters is forgotten (that reply uploads its photo again), as 0011's column cannot hold it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import socialbot.store.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_UTC = socialbot.store.types.UTCDateTime
_MEDIA_ID = 64  # what 0004 made outbox.media_id


def upgrade() -> None:
    op.create_table(
        "network_sessions",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("handle", sa.String(length=256), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", _UTC(timezone=True), nullable=False),
        sa.Column("refreshed_at", _UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "account"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column(
            "media_id",
            existing_type=sa.String(length=_MEDIA_ID),
            type_=sa.Text(),
            existing_nullable=True,
        )


def downgrade() -> None:
    # PostgreSQL would refuse to narrow a column holding a longer value (SQLite would keep it,
    # over its declared length); a media id is only a cache of an upload, so it is let go.
    op.execute(f"UPDATE outbox SET media_id = NULL WHERE length(media_id) > {_MEDIA_ID}")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column(
            "media_id",
            existing_type=sa.Text(),
            type_=sa.String(length=_MEDIA_ID),
            existing_nullable=True,
        )
    op.drop_table("network_sessions")
