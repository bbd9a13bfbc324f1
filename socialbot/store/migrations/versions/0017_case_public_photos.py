"""the photos of a case anyone may see: cases.public_photo_urls

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 12:00:00

Intake adds the photos of every report linked to a case to `photo_urls`, for staff, whatever that
report's visibility: a direct message linked as a duplicate of a public case brought its photo
into the list the web service showed. `public_photo_urls` holds only those of public posts. The
upgrade copies `photo_urls` for a public case none of whose mentions is a Mastodon status that was
not public (X and Bluesky posts are public); any other case starts with none shown, as nobody can
now tell which of its photos came from where.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place, not in Alembic's batch mode, which on SQLite would copy `cases` and drop the
    # original, refused by the rows that refer to a case.
    op.add_column(
        "cases",
        sa.Column("public_photo_urls", sa.JSON(), nullable=False, server_default="[]"),
    )
    op.execute(
        sa.text(
            """
            UPDATE cases SET public_photo_urls = photo_urls
            WHERE public = :public AND NOT EXISTS (
                SELECT 1 FROM mentions m
                WHERE m.case_id = cases.id AND m.platform = 'mastodon'
                  AND NOT (m.reply_context LIKE '%"visibility":"public"%'
                           OR m.reply_context LIKE '%"visibility":"unlisted"%')
            )
            """
        ).bindparams(public=True)
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE cases DROP COLUMN public_photo_urls")
    else:
        op.drop_column("cases", "public_photo_urls")
