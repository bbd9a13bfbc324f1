"""The web service's engine (`make_engine(read_only=True)`): it reads while the bot holds the
write lock, and refuses to write, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from socialbot.store.db import make_engine


def test_a_reader_reads_while_the_bot_holds_the_write_lock(engine: Engine) -> None:
    reader = make_engine(engine.url.render_as_string(hide_password=False), read_only=True)
    try:
        with engine.begin() as writer:  # BEGIN IMMEDIATE on SQLite: the writer's lock
            writer.execute(text("UPDATE cases SET department = department"))
            with reader.connect() as connection:
                assert connection.execute(text("SELECT count(*) FROM cases")).scalar() == 0
    finally:
        reader.dispose()


def test_a_reader_cannot_write(engine: Engine) -> None:
    reader = make_engine(engine.url.render_as_string(hide_password=False), read_only=True)
    try:
        with pytest.raises(DBAPIError), reader.begin() as connection:
            connection.execute(text("DELETE FROM cases"))
    finally:
        reader.dispose()
