"""0015 adds `cases.public`: a case opened by a Mastodon status that was direct or followers-only
is private (no words, no photo on the web service); every other case is public. Going down drops
the column and keeps the cases."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import Engine, inspect, text

from socialbot.store.db import alembic_config

CASE = (
    "INSERT INTO cases (id, category, department, priority, status, location_source, photo_urls,"
    " lang, platform, mention_post_id, author_id, description, created_at, updated_at,"
    " reporter_count) VALUES (:id, 'pothole', 'Streets', 'normal', 'new', 'post', '[]', 'en',"
    " :platform, :post, '2001', '', '2026-11-23 12:00:00', '2026-11-23 12:00:00', 1)"
)
MENTION = (
    "INSERT INTO mentions (platform, account, post_id, author_id, text, created_at, received_at,"
    " outcome, detail, case_id, raw, reply_context) VALUES (:platform, 'intake', :post, '2001',"
    " '#pothole', '2026-11-23 12:00:00', '2026-11-23 12:00:00', 'case_opened', '', :id, '{}',"
    " :context)"
)


def _context(visibility: str) -> str:
    return json.dumps(
        {"visibility": visibility, "spoiler_text": "", "acct": "maria"}, separators=(",", ":")
    )


def test_direct_and_followers_only_statuses_make_private_cases(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "0014")
    opened = [
        (1, "x", "1001", ""),
        (2, "mastodon", "m-public", _context("public")),
        (3, "mastodon", "m-unlisted", _context("unlisted")),
        (4, "mastodon", "m-private", _context("private")),
        (5, "mastodon", "m-direct", _context("direct")),
        (6, "mastodon", "m-unreadable", "not json"),
        (7, "bluesky", "did:plc:abc/3kx", '{"uri":"at://x","cid":"c"}'),
    ]
    with engine.begin() as connection:
        for case_id, platform, post, context in opened:
            values = {"id": case_id, "platform": platform, "post": post, "context": context}
            connection.execute(text(CASE), values)
            connection.execute(text(MENTION), values)

    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        public = dict(connection.execute(text("SELECT id, public FROM cases")).all())
    assert {k: bool(v) for k, v in public.items()} == {
        1: True,
        2: True,
        3: True,
        4: False,
        5: False,
        6: False,
        7: True,
    }

    command.downgrade(alembic_config(engine), "0014")
    assert "public" not in {c["name"] for c in inspect(engine).get_columns("cases")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM cases")).scalar() == 7
    command.upgrade(alembic_config(engine), "head")


def test_0017_shows_the_photos_of_cases_no_private_message_was_linked_to(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "0016")
    opened = [
        (1, "x", "1001", ""),  # a public case, its own photo
        (2, "x", "1002", ""),  # a public case a direct message was linked to
        (3, "mastodon", "m-direct", _context("direct")),  # a private case
    ]
    with engine.begin() as connection:
        for case_id, platform, post, context in opened:
            values = {"id": case_id, "platform": platform, "post": post, "context": context}
            connection.execute(text(CASE), values)
            connection.execute(text(MENTION), values)
        linked = {"id": 2, "platform": "mastodon", "post": "m-dm", "context": _context("direct")}
        connection.execute(text(MENTION), linked)
        connection.execute(text("UPDATE cases SET photo_urls = '[\"https://p/1.jpg\"]'"))

    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        shown = dict(connection.execute(text("SELECT id, public_photo_urls FROM cases")).all())
    as_lists = {k: json.loads(v) if isinstance(v, str) else v for k, v in shown.items()}
    assert as_lists == {1: ["https://p/1.jpg"], 2: [], 3: []}

    command.downgrade(alembic_config(engine), "0016")
    assert "public_photo_urls" not in {c["name"] for c in inspect(engine).get_columns("cases")}
    command.upgrade(alembic_config(engine), "head")
