"""What an independent review of the Bluesky adapter proved wrong, kept as tests: the replies of
one poll page each under a record key of its own, a post the AppView lists behind our cursor
still read, and an uploaded photo's reference fitting the outbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import respx

from socialbot.networks.base import Draft
from socialbot.networks.bluesky import tid, wire
from socialbot.networks.bluesky.adapter import BlueskyCredentials, BlueskyNetwork
from socialbot.store.models import OutboxMessage
from tests.conftest import Clock
from tests.networks.bluesky.server import (
    APP_PASSWORD,
    CITY_DID,
    CITY_HANDLE,
    BlueskyServer,
    iso,
)

RESET = datetime(2026, 11, 23, 12, 15, tzinfo=UTC)


@pytest.fixture
def pds(clock: Clock) -> Iterator[BlueskyServer]:
    server = BlueskyServer(reset=RESET, clock=clock)
    with respx.mock(assert_all_called=False) as router:
        server.serve(router)
        yield server


def bluesky(clock: Clock) -> BlueskyNetwork:
    return BlueskyNetwork(BlueskyCredentials(CITY_HANDLE, APP_PASSWORD), clock=clock)


# --- record keys of rows queued together ---------------------------------------------------


def test_the_rows_of_one_poll_page_get_record_keys_of_their_own() -> None:
    queued = datetime(2026, 11, 23, 7, 5, 0, 123456, tzinfo=UTC)  # the page's one `now`
    keys = [tid.record_key(f"outbox:{n}", queued) for n in range(1, 101)]
    assert len(set(keys)) == len(keys)


def test_two_replies_queued_in_one_page_are_both_posted(pds: BlueskyServer, clock: Clock) -> None:
    network = bluesky(clock)
    queued = clock() - timedelta(minutes=1)
    first = Draft("outbox:2", "Thanks! Case #41 is filed.", created_at=queued)
    second = Draft("outbox:7", "Thanks! Case #42 is filed.", created_at=queued)

    refs = [network.publish(first).ref, network.publish(second).ref]

    assert refs[0].id != refs[1].id
    assert [text for text, _ in pds.posted] == [first.text, second.text]


# --- the notifications' order -------------------------------------------------------------


def test_a_mention_listed_behind_the_stored_cursor_is_not_lost(
    pds: BlueskyServer, clock: Clock
) -> None:
    network = bluesky(clock)
    pds.mention(1, "@City #pothole on Boylston St 42.35048, -71.07496")
    [first] = network.fetch_mentions(CITY_DID, None)
    handled = wire.parse_cursor(first.cursor or "")
    late = pds.mention(2, "@City #graffiti on the library wall, 42.3503, -71.0810")
    # Its author's PDS reached the AppView late: listed at its createdAt, a minute before.
    early = handled.indexed_at - timedelta(minutes=1)
    pds.notifications[-1]["indexedAt"] = iso(early)
    pds.notifications[-1]["record"]["createdAt"] = iso(early)

    pages = network.fetch_mentions(CITY_DID, first.cursor)

    assert late in [m.post_id for page in pages for m in page.mentions]


# --- the media id the outbox keeps ----------------------------------------------------------


def test_an_uploaded_photos_media_id_fits_the_outbox_column(
    pds: BlueskyServer, clock: Clock, tmp_path: Path
) -> None:
    photo = tmp_path / "pothole.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)

    media_id = bluesky(clock).upload_media(photo, "A deep pothole on Elm St")

    assert json.loads(media_id)["alt"] == "A deep pothole on Elm St"
    column = OutboxMessage.__table__.c.media_id  # type: ignore[attr-defined]
    length = getattr(column.type, "length", None)
    assert length is None or len(media_id) <= length
