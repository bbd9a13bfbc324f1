"""The Bluesky adapter against a PDS in memory (`server.py`, served with respx at the HTTP
level): the session it signs in, keeps, restores and refreshes; what it asks for and makes of
the notifications; the records it posts (reply refs, facets, images) under the record key it
names; the errors of the PDS as ours."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from atproto_client.models.string_formats import LANG_RE
from hypothesis import given, settings
from hypothesis import strategies as st

from socialbot.errors import AuthFailed, PlatformError, RateLimited, Rejected, Unavailable
from socialbot.networks.base import Draft
from socialbot.networks.bluesky import tid, wire
from socialbot.networks.bluesky.adapter import (
    BlueskyCredentials,
    BlueskyNetwork,
    SessionCheck,
)
from socialbot.networks.sessions import MemorySessions
from socialbot.usage import ApiCall
from tests.conftest import Clock
from tests.networks.bluesky import server as pds_server
from tests.networks.bluesky.server import (
    APP_PASSWORD,
    CITY_DID,
    CITY_HANDLE,
    PDS_HOST,
    BlueskyServer,
)

RESET = datetime(2026, 11, 23, 12, 15, tzinfo=UTC)
REPORT = "@City #pothole on Boylston St 42.35048, -71.07496"


class Calls:
    """A meter that keeps what it is told."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []

    def record(self, call: ApiCall) -> None:
        self.calls.append(call)

    @property
    def endpoints(self) -> list[str]:
        return [c.endpoint for c in self.calls]


@pytest.fixture
def pds(clock: Clock) -> Iterator[BlueskyServer]:
    server = BlueskyServer(reset=RESET, clock=clock)
    with respx.mock(assert_all_called=False) as router:
        server.serve(router)
        yield server


@pytest.fixture
def meter() -> Calls:
    return Calls()


def bluesky(
    clock: Clock,
    sessions: MemorySessions | None = None,
    *,
    meter: Calls | None = None,
    secrets: list[str] | None = None,
    account: str = "intake",
    password: str = APP_PASSWORD,
) -> BlueskyNetwork:
    return BlueskyNetwork(
        BlueskyCredentials(CITY_HANDLE, password),
        account=account,
        meter=meter,
        clock=clock,
        sessions=sessions,
        secrets=secrets.extend if secrets is not None else None,
    )


def draft(key: str, text: str, clock: Clock, **kw: Any) -> Draft:
    return Draft(key=key, text=text, created_at=clock() - timedelta(minutes=1), **kw)


def expire_access_tokens(pds: BlueskyServer, clock: Clock) -> None:
    """The PDS no longer takes the access tokens it gave (revoked, or our clock is behind)."""
    for token in pds.access:
        pds.access[token] = clock() - timedelta(seconds=1)


# --- the session ---------------------------------------------------------------------------


def test_a_session_is_signed_in_once_saved_restored_and_refreshed_across_adapters(
    pds: BlueskyServer, clock: Clock
) -> None:
    store = MemorySessions()
    first = bluesky(clock, store)
    assert first.own_user_id() == CITY_DID
    assert (pds.sessions_created, store.saves) == (1, 1)
    saved = store.session
    assert saved is not None and (saved.user_id, saved.handle) == (CITY_DID, CITY_HANDLE)

    pds.mention(1, REPORT)
    second = bluesky(clock, store)  # a restart: the saved session, no sign-in
    [page] = second.fetch_mentions(CITY_DID, None)
    assert len(page.mentions) == 1
    assert pds.sessions_created == 1

    clock.advance(hours=2)  # past the access token's two hours
    second.fetch_mentions(CITY_DID, None)
    assert (pds.sessions_created, pds.refreshes, store.saves) == (1, 1, 2)
    assert store.session is not None and store.session.secret != saved.secret
    assert store.session.created_at == saved.created_at  # a refresh is no sign-in
    assert store.session.refreshed_at == clock()

    clock.advance(hours=3)  # the first adapter's refresh token was rotated, its grace is over
    first.fetch_mentions(CITY_DID, None)  # it takes up the session the second one saved
    assert pds.sessions_created == 1

    # bsky.social is the entryway: after the sign-in everything goes to the account's PDS
    assert [c for c in pds.calls if not c.startswith(PDS_HOST)] == [
        "bsky.social com.atproto.server.createSession"
    ]


def test_a_saved_session_of_another_handle_is_not_acted_with(
    pds: BlueskyServer, clock: Clock
) -> None:
    store = MemorySessions()
    bluesky(clock, store).own_user_id()
    assert store.session is not None
    store.session = dataclasses.replace(store.session, handle="old-city.bsky.social")

    assert bluesky(clock, store).own_user_id() == CITY_DID
    assert pds.sessions_created == 2  # signed in as the handle configured
    assert store.session.handle == CITY_HANDLE


def test_an_unreadable_saved_session_is_replaced_by_a_sign_in(
    pds: BlueskyServer, clock: Clock
) -> None:
    store = MemorySessions()
    bluesky(clock, store).own_user_id()
    assert store.session is not None
    store.session = dataclasses.replace(store.session, secret="not:::a session")

    assert bluesky(clock, store).own_user_id() == CITY_DID
    assert pds.sessions_created == 2


def test_a_token_the_pds_no_longer_takes_is_refreshed_and_the_call_made_again(
    pds: BlueskyServer, clock: Clock, meter: Calls
) -> None:
    network = bluesky(clock, meter=meter)
    network.own_user_id()
    expire_access_tokens(pds, clock)  # though its `exp` says it is good for two hours more
    pds.mention(1, REPORT)

    [page] = network.fetch_mentions(CITY_DID, None)

    assert len(page.mentions) == 1
    assert meter.endpoints[-4:-1] == [
        "GET app.bsky.notification.listNotifications",
        "POST com.atproto.server.refreshSession",
        "GET app.bsky.notification.listNotifications",
    ]
    refused = meter.calls[-4]
    assert refused.status == 400 and refused.error and "ExpiredToken" in refused.error
    assert pds.sessions_created == 1


def test_a_session_that_cannot_be_refreshed_is_signed_in_again_but_not_twice_in_ten_minutes(
    pds: BlueskyServer, clock: Clock
) -> None:
    network = bluesky(clock)
    network.own_user_id()
    clock.advance(minutes=11)
    pds.refresh_tokens.clear()  # the app password's sessions were revoked
    expire_access_tokens(pds, clock)

    network.fetch_mentions(CITY_DID, None)
    assert pds.sessions_created == 2

    pds.refresh_tokens.clear()
    expire_access_tokens(pds, clock)
    with pytest.raises(RateLimited) as held:
        network.fetch_mentions(CITY_DID, None)
    assert "10 minutes" in str(held.value)
    assert held.value.reset_at == clock() + timedelta(minutes=10)
    assert pds.sessions_created == 2


def test_a_sign_in_refused_names_the_app_password_setting(pds: BlueskyServer, clock: Clock) -> None:
    with pytest.raises(AuthFailed, match="SOCIALBOT_BLUESKY_APP_PASSWORD"):
        bluesky(clock, password="wrong-pass-word-xxxx").own_user_id()
    with pytest.raises(AuthFailed, match="SOCIALBOT_ACCOUNTS__ALERTS__BLUESKY_APP_PASSWORD"):
        bluesky(clock, password="wrong-pass-word-xxxx", account="alerts").own_user_id()


def test_a_rate_limited_sign_in_is_held_until_its_reset(pds: BlueskyServer, clock: Clock) -> None:
    pds.session_failures.append("limited")
    with pytest.raises(RateLimited) as held:
        bluesky(clock).own_user_id()
    assert held.value.reset_at == RESET


def test_every_token_held_is_told_to_the_log_masking(pds: BlueskyServer, clock: Clock) -> None:
    told: list[str] = []
    store = MemorySessions()
    bluesky(clock, store, secrets=told).own_user_id()
    created = store.session
    assert created is not None
    _handle, _did, access, refresh, _pds = created.secret.split(":::")
    assert {access, refresh} <= set(told)

    restored: list[str] = []
    clock.advance(hours=2)
    bluesky(clock, store, secrets=restored).own_user_id()  # restored, then refreshed
    assert {access, refresh} <= set(restored)
    assert store.session is not None
    _, _, new_access, new_refresh, _ = store.session.secret.split(":::")
    assert {new_access, new_refresh} <= set(restored)


def test_the_credentials_never_show_the_password() -> None:
    assert APP_PASSWORD not in repr(BlueskyCredentials(CITY_HANDLE, APP_PASSWORD))


def test_check_session_says_how_the_session_was_had(pds: BlueskyServer, clock: Clock) -> None:
    store = MemorySessions()
    assert bluesky(clock, store).check_session() == SessionCheck(CITY_DID, CITY_HANDLE, "created")
    assert bluesky(clock, store).check_session().how == "saved"
    clock.advance(hours=2)
    assert bluesky(clock, store).check_session().how == "refreshed"
    assert pds.sessions_created == 1


# --- mentions ------------------------------------------------------------------------------


def test_mentions_are_asked_for_by_reason_and_read_from_the_raw_answer(
    pds: BlueskyServer, clock: Clock, meter: Calls
) -> None:
    post = pds.mention(1, REPORT)
    pds.notify("like", 2)

    [page] = bluesky(clock, meter=meter).fetch_mentions(CITY_DID, None)

    [mention] = page.mentions
    assert (mention.post_id, mention.author_username) == (post, pds_server.resident_handle(1))
    assert mention.hashtags == ("pothole",)
    assert page.cursor == wire.parse_cursor(page.cursor or "").encode()
    [asked] = pds.asked("app.bsky.notification.listNotifications")
    query = parse_qs(asked.url.query.decode())
    assert query["reasons"] == ["mention", "reply"] and query["limit"] == ["100"]
    call = next(
        c for c in meter.calls if c.endpoint == "GET app.bsky.notification.listNotifications"
    )
    assert (call.network, call.status, call.units, call.charge) == ("bluesky", 200, 1, None)


def test_later_polls_page_back_to_the_cursor_and_return_the_newest_page_first(
    pds: BlueskyServer, clock: Clock
) -> None:
    network = bluesky(clock)
    pds.mention(1, REPORT)
    [first] = network.fetch_mentions(CITY_DID, None)
    for n in range(2, 152):
        pds.mention(n, f"@City the light on Elm St is out, crew {n}")

    pages = network.fetch_mentions(CITY_DID, first.cursor)

    assert [len(p.mentions) for p in pages] == [100, 50]
    newest = wire.parse_cursor(pages[0].cursor or "")
    older = wire.parse_cursor(pages[1].cursor or "")
    assert older < newest
    ids = [m.post_id for p in pages for m in p.mentions]
    assert len(set(ids)) == 150 and pds_server.post_id(first.mentions[0].post_id) not in ids
    # The next poll reads the last quarter hour again (a post indexed late is listed among what
    # was read: wire.LOOKBACK); nothing in it is new, and the poller records each post once.
    again = [
        m.post_id for p in network.fetch_mentions(CITY_DID, pages[0].cursor) for m in p.mentions
    ]
    assert set(again) <= set(ids) and len(again) < len(ids)


def test_the_cursor_never_moves_back_when_its_notification_is_gone(
    pds: BlueskyServer, clock: Clock
) -> None:
    network = bluesky(clock)
    pds.mention(1, REPORT)
    pds.mention(2, "@City #graffiti on the library wall")
    [page] = network.fetch_mentions(CITY_DID, None)
    pds.notifications.pop()  # its post was deleted, and its notification with it

    [again] = network.fetch_mentions(CITY_DID, page.cursor)

    # Only what was read already comes again (the look-back), and the cursor stays.
    assert {m.post_id for m in again.mentions} <= {m.post_id for m in page.mentions}
    assert again.cursor == page.cursor


def test_the_first_poll_reads_the_newest_page_only(pds: BlueskyServer, clock: Clock) -> None:
    for n in range(1, 151):
        pds.mention(n, f"@City pothole {n}")
    pages = bluesky(clock).fetch_mentions(CITY_DID, None)
    assert [len(p.mentions) for p in pages] == [100]


def test_a_mention_whose_author_closed_replies_is_left_out(
    pds: BlueskyServer, clock: Clock
) -> None:
    open_post = pds.mention(1, REPORT)
    closed = pds.mention(2, "@City #graffiti on the library wall")
    pds.close_replies(closed)

    [page] = bluesky(clock).fetch_mentions(CITY_DID, None)

    assert [m.post_id for m in page.mentions] == [open_post]
    assert page.cursor is not None  # the closed one is passed over, never fetched again
    [asked] = pds.asked("app.bsky.feed.getPosts")
    assert len(parse_qs(asked.url.query.decode())["uris"]) == 2


def test_a_residents_photos_arrive_with_their_alt_text(pds: BlueskyServer, clock: Clock) -> None:
    image = {
        "alt": "the pothole, a shoe beside it",
        "image": {
            "$type": "blob",
            "ref": {"$link": pds_server.cid("photo", blob=True)},
            "mimeType": "image/jpeg",
            "size": 402113,
        },
        "aspectRatio": {"width": 4032, "height": 3024},
    }
    pds.mention(1, REPORT, images=[image])

    [page] = bluesky(clock).fetch_mentions(CITY_DID, None)

    [media] = page.mentions[0].media
    assert media.alt_text == "the pothole, a shoe beside it"
    assert pds_server.resident_did(1) in (media.url or "")


def test_one_unreadable_notification_does_not_fail_its_page(
    pds: BlueskyServer, clock: Clock
) -> None:
    good = pds.mention(1, REPORT)
    pds.mention(2, "@City broken")
    pds.notifications[-1]["record"] = {"$type": "app.bsky.feed.post", "text": 42}

    [page] = bluesky(clock).fetch_mentions(CITY_DID, None)

    assert [m.post_id for m in page.mentions] == [good]
    [bad] = page.malformed
    assert bad.post_id == pds_server.post_id(pds.notifications[-1]["uri"])


# --- posting -------------------------------------------------------------------------------


def test_a_reply_to_a_reply_threads_under_the_thread_root(pds: BlueskyServer, clock: Clock) -> None:
    root = pds.mention(1, "#pothole on Elm St, any news?")
    root_uri = wire.uri_of(root)
    reply = pds.mention(2, "@City same here, deeper every day", reply_to=root_uri)
    network = bluesky(clock)
    [page] = network.fetch_mentions(CITY_DID, None)
    mention = next(m for m in page.mentions if m.post_id == reply)

    receipt = network.publish(
        draft("outbox:1", "Thanks, case #12 is open.", clock, reply_to=mention.ref)
    )

    record = pds.record(receipt.ref.id)["value"]
    assert record["reply"]["parent"]["uri"] == wire.uri_of(reply)
    assert record["reply"]["root"]["uri"] == root_uri
    assert record["reply"]["root"]["cid"] == pds.resident_posts[root_uri]["cid"]
    assert pds.posted == [("Thanks, case #12 is open.", reply)]

    # A resident answers our reply: ours answers theirs, still under the same root.
    follow_up = pds.mention(3, "thanks! when?", reply_to=wire.uri_of(receipt.ref.id), author=2)
    [page] = network.fetch_mentions(CITY_DID, page.cursor)
    again = next(m for m in page.mentions if m.post_id == follow_up)  # and the look-back's
    second = network.publish(draft("outbox:2", "Within a week.", clock, reply_to=again.ref))
    assert pds.record(second.ref.id)["value"]["reply"]["root"]["uri"] == root_uri
    assert wire.read_reply_context(second.ref.context).root_uri == root_uri


def test_a_post_carries_its_links_and_hashtags_as_facets_in_utf8_bytes(
    pds: BlueskyServer, clock: Clock
) -> None:
    text = "Café closed ☕ #RoadWork until 6 pm: https://city.example.gov/alerts/7"
    receipt = bluesky(clock).publish(draft("outbox:3", text, clock, lang="en"))

    record = pds.record(receipt.ref.id)["value"]
    assert record["langs"] == ["en"]
    encoded = text.encode()
    spans = {
        encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(): f["features"][0]
        for f in record["facets"]
    }
    assert spans["#RoadWork"] == {"$type": "app.bsky.richtext.facet#tag", "tag": "RoadWork"}
    assert spans["https://city.example.gov/alerts/7"]["uri"] == "https://city.example.gov/alerts/7"


def test_a_post_in_two_languages_names_each_as_a_language_tag_the_pds_takes(
    pds: BlueskyServer, clock: Clock
) -> None:
    # A broadcast whose English and Spanish fit one post is one outbox row of lang "en+es"
    # (broadcasts.compose); the PDS validates `langs` as BCP 47 tags and refuses the record.
    text = "Main St closed today.\n\nCalle Main cerrada hoy."
    receipt = bluesky(clock).publish(draft("outbox:5", text, clock, lang="en+es"))

    langs = pds.record(receipt.ref.id)["value"]["langs"]
    assert langs == ["en", "es"]
    assert all(LANG_RE.match(lang) for lang in langs)


def test_the_post_is_named_by_the_draft_and_its_budget_read_from_the_headers(
    pds: BlueskyServer, clock: Clock
) -> None:
    post = draft("outbox:4", "Crews are out on Elm St.", clock)
    receipt = bluesky(clock).publish(post)

    assert receipt.ref.id == f"{CITY_DID}/{tid.record_key(post.key, post.created_at or clock())}"
    assert receipt.budget is not None
    assert receipt.budget.remaining == (5000 - 3) // 3
    assert receipt.cost is None


def test_a_post_whose_answer_was_lost_is_found_and_never_posted_twice(
    pds: BlueskyServer, clock: Clock
) -> None:
    network = bluesky(clock)
    post = draft("outbox:5", "Boylston St is closed until 6 pm.", clock)
    pds.failures.append("lost")
    with pytest.raises(Unavailable) as lost:
        network.publish(post)
    assert lost.value.maybe_done

    restarted = bluesky(clock)  # after a crash: found by its record key alone
    found = restarted.published(CITY_DID, [post], clock() - timedelta(hours=1))
    [ref] = found[post.key]
    assert restarted.publish(post).ref == ref  # the PDS refuses the key; the record is read back
    assert len(pds.posted) == 1


def test_a_draft_never_posted_is_not_found(pds: BlueskyServer, clock: Clock) -> None:
    post = draft("outbox:6", "Nothing yet.", clock)
    assert bluesky(clock).published(CITY_DID, [post], clock() - timedelta(hours=1)) == {}


def test_a_post_the_pds_failed_is_unavailable_and_may_be_done(
    pds: BlueskyServer, clock: Clock
) -> None:
    pds.failures.append("down")
    with pytest.raises(Unavailable) as down:
        bluesky(clock).publish(draft("outbox:7", "hello", clock))
    assert down.value.maybe_done and "503" in str(down.value)
    assert pds.posted == []


def test_a_record_key_taken_by_another_text_is_rejected(pds: BlueskyServer, clock: Clock) -> None:
    network = bluesky(clock)
    first = draft("outbox:8", "The first text.", clock)
    network.publish(first)
    with pytest.raises(Rejected, match="another post"):
        network.publish(Draft(first.key, "Another text.", created_at=first.created_at))
    assert len(pds.posted) == 1


def test_a_rate_limited_post_is_held_until_the_reset(pds: BlueskyServer, clock: Clock) -> None:
    pds.failures.append("limited")
    with pytest.raises(RateLimited) as held:
        bluesky(clock).publish(draft("outbox:9", "hello", clock))
    assert held.value.reset_at == RESET
    assert pds.posted == []


def test_a_reply_without_its_context_is_rejected_before_any_post(
    pds: BlueskyServer, clock: Clock
) -> None:
    from socialbot.domain import PostRef

    with pytest.raises(Rejected):
        bluesky(clock).publish(
            draft("outbox:10", "hi", clock, reply_to=PostRef(f"{CITY_DID}/3abc", "{}"))
        )
    assert pds.posted == []


# --- photos --------------------------------------------------------------------------------


def test_a_photo_is_uploaded_and_embedded_with_its_alt_text(
    pds: BlueskyServer, clock: Clock, tmp_path: Path, meter: Calls
) -> None:
    photo = tmp_path / "pothole.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    network = bluesky(clock, meter=meter)

    media = network.upload_media(photo, "A deep pothole on Elm St")
    receipt = network.publish(draft("outbox:11", "Filed: #pothole", clock, media_ids=(media,)))

    [upload] = pds.asked("com.atproto.repo.uploadBlob")
    assert upload.headers["Content-Type"] == "image/png"
    [image] = pds.record(receipt.ref.id)["value"]["embed"]["images"]
    assert image["alt"] == "A deep pothole on Elm St"
    assert image["image"]["ref"]["$link"] in pds.blobs
    assert "POST com.atproto.repo.uploadBlob" in meter.endpoints


def test_a_photo_over_a_million_bytes_is_refused_before_the_upload(
    pds: BlueskyServer, clock: Clock, tmp_path: Path
) -> None:
    photo = tmp_path / "huge.jpg"
    photo.write_bytes(b"\xff" * 1_000_001)
    with pytest.raises(Rejected, match="1,000,000 bytes"):
        bluesky(clock).upload_media(photo, "alt")
    assert not any("uploadBlob" in c for c in pds.calls)


# --- anything the PDS may answer -----------------------------------------------------------

ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                ["notifications", "cursor", "uri", "cid", "reason", "record", "indexedAt", "x"]
            ),
            inner,
        )
    ),
    max_leaves=12,
)
STATUSES = st.sampled_from([200, 400, 401, 403, 404, 409, 413, 429, 500, 502, 503])


def served(
    nsid: str, status: int, body: Any, clock: Clock, host: str = PDS_HOST
) -> tuple[respx.MockRouter, BlueskyServer]:
    """The PDS, with `nsid` at `host` answering `status` and `body` whatever it is asked."""
    router = respx.mock(assert_all_called=False)
    router.route(host=host, path=f"/xrpc/{nsid}").mock(
        return_value=httpx.Response(status, json=body)
    )
    server = BlueskyServer(reset=RESET, clock=clock)
    server.serve(router)
    return router, server


@settings(max_examples=60, deadline=None)
@given(status=STATUSES, body=ANY_JSON)
def test_any_notifications_answer_is_a_page_or_one_of_our_errors(status: int, body: Any) -> None:
    clock = Clock()
    router, _ = served("app.bsky.notification.listNotifications", status, body, clock)
    with router:
        try:
            pages = bluesky(clock).fetch_mentions(CITY_DID, None)
        except PlatformError:
            return
    assert len(pages) == 1


@settings(max_examples=60, deadline=None)
@given(status=STATUSES, body=ANY_JSON)
def test_any_create_record_answer_is_a_receipt_or_one_of_our_errors(status: int, body: Any) -> None:
    clock = Clock()
    router, _ = served("com.atproto.repo.createRecord", status, body, clock)
    with router:
        try:
            receipt = bluesky(clock).publish(draft("outbox:1", "hello", clock))
        except PlatformError:
            return
    assert receipt.ref.id


@settings(max_examples=60, deadline=None)
@given(status=STATUSES, body=ANY_JSON)
def test_any_sign_in_answer_is_a_session_or_one_of_our_errors(status: int, body: Any) -> None:
    clock = Clock()
    router, _ = served("com.atproto.server.createSession", status, body, clock, "bsky.social")
    with router:
        try:
            bluesky(clock).own_user_id()
        except PlatformError:
            return


@settings(max_examples=60, deadline=None)
@given(status=STATUSES, body=ANY_JSON)
def test_any_get_record_answer_is_found_not_found_or_one_of_our_errors(
    status: int, body: Any
) -> None:
    clock = Clock()
    router, _ = served("com.atproto.repo.getRecord", status, body, clock)
    with router:
        try:
            found = bluesky(clock).published(
                CITY_DID, [draft("outbox:1", "hello", clock)], clock() - timedelta(hours=1)
            )
        except PlatformError:
            return
    assert set(found) <= {"outbox:1"}


def _photo(network: BlueskyNetwork, clock: Clock, tmp: Path) -> object:
    photo = tmp / "p.jpg"
    photo.write_bytes(b"\xff\xd8\xff" + b"\x00" * 16)
    return network.upload_media(photo, "alt")


def _refreshed(network: BlueskyNetwork, clock: Clock, _tmp: Path) -> object:
    network.own_user_id()
    clock.advance(hours=2)
    return network.own_user_id()


def _posts(network: BlueskyNetwork, clock: Clock, _tmp: Path) -> object:
    return network.fetch_mentions(CITY_DID, None)


ENTRY_POINTS = {
    "com.atproto.repo.uploadBlob": _photo,
    "com.atproto.server.refreshSession": _refreshed,
    "com.atproto.server.getSession": lambda network, _clock, _tmp: network.check_session(),
    "app.bsky.feed.getPosts": _posts,
}


@pytest.mark.parametrize("nsid", sorted(ENTRY_POINTS))
@settings(max_examples=40, deadline=None)
@given(status=STATUSES, body=ANY_JSON)
def test_any_answer_of_the_other_calls_is_one_of_our_errors_at_worst(
    nsid: str, status: int, body: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    clock = Clock()
    router, server = served(nsid, status, body, clock)
    server.mention(1, REPORT)  # so that getPosts is asked
    with router:
        try:
            ENTRY_POINTS[nsid](bluesky(clock), clock, tmp_path_factory.mktemp("photo"))
        except PlatformError:
            return


def test_the_saved_session_text_is_the_sdk_s_own(pds: BlueskyServer, clock: Clock) -> None:
    store = MemorySessions()
    bluesky(clock, store).own_user_id()
    assert store.session is not None
    fields = store.session.secret.split(":::")
    assert fields[:2] == [CITY_HANDLE, CITY_DID]
    assert fields[4] == pds_server.PDS_URL
    assert pds_server.jwt_payload(fields[2])["sub"] == CITY_DID
