"""A network's saved session in the database (`DatabaseSessions`), and migration 0012 both ways:
`network_sessions`, and `outbox.media_id` wide enough for a Bluesky image reference."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session

from socialbot.errors import DataError
from socialbot.networks.sessions import SavedSession
from socialbot.store.db import alembic_config, make_engine, schema_is_current, transaction
from socialbot.store.models import NetworkSession
from socialbot.store.sessions import DatabaseSessions

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SECRET = "eyJhbGciOiJFUzI1NksifQ.access-SECRET.sig:::eyJhbGciOiJFUzI1NksifQ.refresh-SECRET.sig"
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"


def session(secret: str = SECRET, *, refreshed: timedelta = timedelta()) -> SavedSession:
    return SavedSession(
        user_id=DID,
        handle="city.bsky.social",
        secret=secret,
        created_at=T0,
        refreshed_at=T0 + refreshed,
    )


def test_a_saved_session_is_loaded_as_it_was_saved(engine: Engine) -> None:
    store = DatabaseSessions(engine, "bluesky", "intake")
    assert store.load() is None

    store.save(session())

    loaded = DatabaseSessions(engine, "bluesky", "intake").load()  # another process, say
    assert loaded == session()
    assert loaded is not None and loaded.refreshed_at.tzinfo is not None


def test_a_refresh_replaces_the_session_of_its_account_alone(engine: Engine) -> None:
    intake = DatabaseSessions(engine, "bluesky", "intake")
    notify = DatabaseSessions(engine, "bluesky", "notify")
    other_network = DatabaseSessions(engine, "fake", "intake")
    intake.save(session())
    notify.save(session("notify-session-SECRET"))
    other_network.save(session("fake-session-SECRET"))

    intake.save(session("refreshed-SECRET", refreshed=timedelta(hours=2)))

    assert intake.load() == session("refreshed-SECRET", refreshed=timedelta(hours=2))
    assert notify.load() == session("notify-session-SECRET")
    assert other_network.load() == session("fake-session-SECRET")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM network_sessions")).scalar() == 3


def test_a_first_save_racing_another_process_replaces_its_row(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DatabaseSessions(engine, "bluesky", "intake")
    store.save(session("the-other-process-SECRET"))
    real_get = Session.get
    misses: list[Any] = []

    def not_there_yet(self: Session, entity: Any, ident: Any, **kwargs: Any) -> Any:
        # Our read ran before the other process committed its row: we insert, and collide.
        if entity is NetworkSession and not misses:
            misses.append(ident)
            return None
        return real_get(self, entity, ident, **kwargs)

    monkeypatch.setattr(Session, "get", not_there_yet)
    store.save(session("ours-SECRET", refreshed=timedelta(minutes=1)))

    assert misses == [("bluesky", "intake")]
    assert store.load() == session("ours-SECRET", refreshed=timedelta(minutes=1))


def test_the_secret_is_in_no_repr_and_no_log_line(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = DatabaseSessions(engine, "bluesky", "intake")
    store.save(session())
    loaded = store.load()

    with transaction(engine, commit=False) as tx:
        row = tx.get(NetworkSession, ("bluesky", "intake"))
        shown = repr(row) + str(row)
    shown += repr(store) + repr(loaded) + str(loaded)
    assert "access-SECRET" not in shown and "refresh-SECRET" not in shown
    assert store.network in repr(store) and "intake" in repr(store)
    assert caplog.records, "the save is logged"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "event=session_saved network=bluesky account=intake" in logged
    assert "SECRET" not in logged


@pytest.mark.parametrize(
    ("saved", "message"),
    [
        (
            SavedSession("did:web:" + "a" * 70, "a.b", "s", T0, T0),
            "bluesky session: its user id 'did:web:aaaa",
        ),
        (
            SavedSession(DID, "h" * 300, "s", T0, T0),
            "is 300 characters, over the 256 the database holds",
        ),
        (SavedSession(DID, "city\x00.bsky.social", "s", T0, T0), "holds a NUL"),
        (
            SavedSession(DID, "a.b", "access-SECRET\x00", T0, T0),
            "bluesky session: its session holds a NUL or a lone surrogate",
        ),
        (
            SavedSession(DID, "a.b", "s", T0, datetime(2026, 11, 23)),
            "refreshed_at is a naive time",
        ),
    ],
)
def test_a_session_the_database_cannot_hold_is_a_data_error(
    engine: Engine, saved: SavedSession, message: str
) -> None:
    store = DatabaseSessions(engine, "bluesky", "intake")
    with pytest.raises(DataError) as err:
        store.save(saved)
    assert message in str(err.value)
    assert "SECRET" not in str(err.value) and "\n" not in str(err.value)
    assert store.load() is None


TEXT = st.text(st.characters(codec="utf-8"), max_size=300)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    user_id=TEXT,
    handle=TEXT,
    secret=st.one_of(TEXT, st.text(max_size=3000)),
    offset=st.integers(min_value=-(10**9), max_value=10**9),
)
def test_any_session_is_stored_as_it_is_or_refused_whole(
    engine: Engine, user_id: str, handle: str, secret: str, offset: int
) -> None:
    store = DatabaseSessions(engine, "bluesky", "fuzz")
    when = T0 + timedelta(seconds=offset)
    saved = SavedSession(user_id, handle, secret, when, when + timedelta(hours=2))
    before = store.load()
    try:
        store.save(saved)
    except DataError as err:
        assert "\n" not in str(err)
        if len(secret) >= 8:
            assert secret not in str(err)
        assert store.load() == before
        return
    assert store.load() == saved


# --- migration 0012 ---------------------------------------------------------------------------

# What Bluesky's adapter keeps as a photo's "media id": the uploaded blob and its alt text.
IMAGE_REF = json.dumps(
    {
        "blob": {
            "$type": "blob",
            "ref": {"$link": "bafkreibabalobzn6cd366ukcsjycp4yymjymgfxcv6xczmlgpemzkz3cfa"},
            "mimeType": "image/jpeg",
            "size": 401234,
        },
        "alt": "A pothole on Elm Street, about a metre across, next to the bus stop",
    },
    separators=(",", ":"),
)


def _outbox_row(engine: Engine, key: str, media_id: str | None) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO outbox (platform, account, dedupe_key, reply_context, template, lang,"
                " text, state, attempts, next_attempt_at, posted_context, created_at, media_path,"
                " media_alt, media_id) VALUES ('bluesky', 'intake', :key, '', 'resolved', 'en',"
                " 'Fixed.', 'pending', 1, '2026-11-23 12:00:00', '', '2026-11-23 12:00:00',"
                " '/var/lib/socialbot/media/elm.jpg', 'Elm St', :media_id)"
            ),
            {"key": key, "media_id": media_id},
        )


def _media_ids(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT dedupe_key, media_id FROM outbox")).all()
    return {key: media_id for key, media_id in rows}


def test_0012_up_keeps_media_ids_and_takes_a_bluesky_image_reference(database_url: str) -> None:
    engine = make_engine(database_url)
    config = alembic_config(engine)
    command.upgrade(config, "0011")
    _outbox_row(engine, "reply:x:1", "1859000000000000042")

    command.upgrade(config, "0012")

    _outbox_row(engine, "reply:bluesky:2", IMAGE_REF)
    assert _media_ids(engine) == {"reply:x:1": "1859000000000000042", "reply:bluesky:2": IMAGE_REF}
    assert "network_sessions" in inspect(engine).get_table_names()
    DatabaseSessions(engine, "bluesky", "intake").save(session())
    assert DatabaseSessions(engine, "bluesky", "intake").load() == session()
    engine.dispose()


def test_0012_down_forgets_what_0011_cannot_hold_and_comes_back_up(engine: Engine) -> None:
    _outbox_row(engine, "reply:x:1", "1859000000000000042")
    _outbox_row(engine, "reply:bluesky:2", IMAGE_REF)
    DatabaseSessions(engine, "bluesky", "intake").save(session())
    config = alembic_config(engine)

    command.downgrade(config, "0011")

    # The long id is only a cache of the upload: that reply uploads its photo again.
    assert _media_ids(engine) == {"reply:x:1": "1859000000000000042", "reply:bluesky:2": None}
    assert "network_sessions" not in inspect(engine).get_table_names()
    media_id = next(c for c in inspect(engine).get_columns("outbox") if c["name"] == "media_id")
    assert getattr(media_id["type"], "length", None) == 64

    command.upgrade(config, "head")

    assert schema_is_current(engine)
    assert DatabaseSessions(engine, "bluesky", "intake").load() is None  # signs in again
    _outbox_row(engine, "reply:bluesky:3", IMAGE_REF)
    assert _media_ids(engine)["reply:bluesky:3"] == IMAGE_REF
