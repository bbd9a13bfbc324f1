"""Going back to 0010, whose sender picks rows by account alone (not by network)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, text

from socialbot.store.db import alembic_config


def test_a_downgrade_leaves_no_pending_mastodon_row_for_the_x_only_sender(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO outbox (platform, account, dedupe_key, in_reply_to_post_id,"
                " reply_context, template, lang, text, state, attempts, next_attempt_at,"
                " posted_context, created_at) VALUES ('mastodon', 'intake', :key,"
                " '113500000000000012', '', 'filed', 'en', '@ana@mastodon.social case #1',"
                " 'pending', 0, '2026-11-23 12:00:00', '', '2026-11-23 12:00:00')"
            ),
            {"key": "reply:mastodon:113500000000000012"},
        )

    command.downgrade(alembic_config(engine), "0010")

    with engine.connect() as connection:
        # 0010's `send` queries `outbox.account == 'intake'` only: a pending Mastodon row would
        # be posted on X, as a reply to a Mastodon status id.
        pending_elsewhere = connection.execute(
            text("SELECT count(*) FROM outbox WHERE platform <> 'x' AND state = 'pending'")
        ).scalar()
    assert pending_elsewhere == 0
