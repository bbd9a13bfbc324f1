"""whether the post that opened a case was public: cases.public

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 10:00:00

The web service (`socialbot serve`) shows a case's words and photos to anyone, on its status page
and in its Open311 answers, only when the resident posted them where anyone could read them. A
case opened by a Mastodon status that was direct or followers-only is private: the visibility is
in the opening mention's reply context, and the upgrade reads it there; a context it cannot read
counts as private, as the Mastodon adapter reads it. X and Bluesky posts are public.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place, not in Alembic's batch mode: on SQLite that copies `cases` and drops the
    # original, which the rows that refer to a case (events, mentions, CRM requests) forbid.
    op.add_column(
        "cases", sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.execute(
        sa.text(
            """
            UPDATE cases SET public = :private
            WHERE platform = 'mastodon' AND NOT EXISTS (
                SELECT 1 FROM mentions m
                WHERE m.platform = cases.platform AND m.post_id = cases.mention_post_id
                  AND (m.reply_context LIKE '%"visibility":"public"%'
                       OR m.reply_context LIKE '%"visibility":"unlisted"%')
            )
            """
        ).bindparams(private=False)
    )


def downgrade() -> None:
    # In place too: SQLite (3.35 and newer) drops a plain column without copying the table.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE cases DROP COLUMN public")
    else:
        op.drop_column("cases", "public")
