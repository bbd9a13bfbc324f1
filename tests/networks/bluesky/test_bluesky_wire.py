"""Bluesky's JSON read into our dataclasses, and our posts written as records: notifications
built in the lexicons' shape (`records`), and the real records in ../shared/fixtures/bluesky/."""

from __future__ import annotations

import contextlib
import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from atproto_client.models import AppBskyFeedPost, get_or_create
from atproto_client.models.string_formats import LANG_RE
from hypothesis import given, settings
from hypothesis import strategies as st

from socialbot.catalog import load_catalog
from socialbot.config import SHIPPED_HASHTAGS
from socialbot.domain import MAX_RATE_WAIT, MediaType, Mention, MentionOutcome, ReferenceType
from socialbot.errors import DataError
from socialbot.intake import IntakeRules, decide
from socialbot.networks.base import Malformed
from socialbot.networks.bluesky import wire
from socialbot.networks.bluesky.facets import facets_of
from socialbot.networks.bluesky.rules import POINTS_PER_CREATE
from socialbot.storable import clean_text
from tests.networks.bluesky import records
from tests.networks.bluesky.records import CITY_DID, did, notification
from tests.recorded import recorded

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def fixture(name: str) -> Any:
    return json.loads(recorded(f"bluesky/{name}").read_text(encoding="utf-8"))


def parse(*items: dict[str, Any], since: wire.Cursor | None = None) -> wire.NotificationsPage:
    return wire.parse_notifications(records.page(*items), CITY_DID, since)


def one(item: dict[str, Any]) -> Mention:
    page = parse(item)
    assert page.malformed == ()
    (mention,) = page.mentions
    return mention


def context(mention: Mention) -> wire.ReplyContext:
    return wire.read_reply_context(mention.reply_context)


# ---------------------------------------------------------------------------------------------
# A mention, a reply, a reply to a reply


def test_a_mention_reads_as_the_resident_posted_it() -> None:
    item = notification(1, "Pothole on Main St #pothole https://city.example/report")

    mention = one(item)

    assert mention.platform == "bluesky"
    assert mention.post_id == f"{did(1)}/{records.rkey(1)}"
    assert wire.uri_of(mention.post_id) == item["uri"]
    assert mention.author_id == did(1)
    assert mention.author_username == "resident1.bsky.social"
    assert mention.text == "Pothole on Main St #pothole https://city.example/report"
    assert mention.created_at == datetime(2026, 3, 2, 9, 0, 1, tzinfo=UTC)
    assert mention.lang == "en"
    assert mention.conversation_id == mention.post_id  # a post of its own is its thread
    assert mention.in_reply_to_user_id is None
    assert mention.references == ()
    assert mention.hashtags == ("pothole",)
    assert mention.expanded_urls == ("https://city.example/report",)
    assert context(mention) == wire.ReplyContext(item["uri"], item["cid"], item["uri"], item["cid"])
    assert json.loads(mention.raw) == item


def test_a_reply_to_a_reply_threads_under_the_root_of_its_parent() -> None:
    first = notification(1, "#streetlight out on Elm")
    ours = notification(2, "Thanks, case 12 opened", author_did=CITY_DID, reply_to=first)
    reply = notification(3, "It is still out", reason="reply", reply_to=ours)
    assert reply["record"]["reply"]["root"] == records.ref(first)

    mention = one(reply)

    assert mention.conversation_id == wire.post_id(first["uri"])
    assert mention.in_reply_to_user_id == CITY_DID
    assert [(r.type, r.post_id) for r in mention.references] == [
        (ReferenceType.REPLIED_TO, wire.post_id(ours["uri"]))
    ]
    assert context(mention) == wire.ReplyContext(
        reply["uri"], reply["cid"], first["uri"], first["cid"]
    )


def test_a_reply_under_our_post_to_someone_else_is_talk_in_our_thread_not_a_help_request() -> None:
    # Bluesky notifies "reply" for any post up to five levels under one of ours, whether or not
    # it names us: here a neighbour answers a resident who answered our storm alert. The city
    # must not butt in with "to report a problem, use one of these hashtags".
    alert = notification(1, "Storm warning: stay off the roads tonight", author_did=CITY_DID)
    resident = notification(2, "Stay safe everyone", reason="reply", reply_to=alert)
    neighbour = notification(3, "You too, thanks!", reason="reply", reply_to=resident)
    rules = IntakeRules(catalog=load_catalog(SHIPPED_HASHTAGS), own_user_id=CITY_DID)

    decision = decide(one(neighbour), rules)

    assert decision.outcome is MentionOutcome.UNCLASSIFIED
    assert decision.reply is None


def test_the_root_is_the_records_own_root_not_the_parent() -> None:
    root = notification(1, "#graffiti on the bridge")
    parent = notification(2, "me too", reply_to=root)
    item = notification(3, "@city311.bsky.social please", reply_to=parent, root=root)

    ctx = context(one(item))

    assert (ctx.root_uri, ctx.root_cid) == (root["uri"], root["cid"])
    assert (ctx.uri, ctx.cid) == (item["uri"], item["cid"])


@pytest.mark.parametrize(
    "reason", ["like", "repost", "follow", "quote", "starterpack-joined", "verified", ""]
)
def test_reasons_other_than_mention_and_reply_are_left_out_but_move_the_cursor(
    reason: str,
) -> None:
    item = notification(5, "#pothole", reason=reason)

    page = parse(item, notification(4, "#pothole"))

    assert [m.post_id for m in page.mentions] == [wire.post_id(records.uri(4))]
    assert page.malformed == ()
    assert page.newest == wire.Cursor(datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC), item["uri"])


def test_a_like_is_left_out_whatever_its_record() -> None:
    ours = notification(1, "Case 4 is resolved", author_did=CITY_DID)
    page = parse(records.like(2, ours))
    assert page.mentions == () and page.malformed == ()
    assert page.newest is not None and page.newest.uri == records.like(2, ours)["uri"]


def test_our_own_posts_are_left_out() -> None:
    page = parse(notification(1, "#pothole fixed", author_did=CITY_DID))
    assert page.mentions == () and page.malformed == ()


def test_the_same_post_twice_on_a_page_is_one_mention() -> None:
    item = notification(1, "#pothole")
    page = parse(item, dict(item, reason="reply"))
    assert len(page.mentions) == 1


def test_a_client_clock_ahead_of_the_network_is_not_believed() -> None:
    item = notification(1, "#pothole")
    item["record"]["createdAt"] = "2099-01-01T00:00:00Z"
    assert one(item).created_at == datetime(2026, 3, 2, 9, 0, 1, tzinfo=UTC)


@pytest.mark.parametrize("created", ["yesterday", 17, None, "2026-03-02T09:00:00"])
def test_an_unreadable_or_zoneless_created_at_falls_back_sensibly(created: Any) -> None:
    item = notification(1, "#pothole")
    item["record"]["createdAt"] = created
    # No zone is read as UTC (older atproto clients wrote it so), else the network's time.
    expected = datetime(2026, 3, 2, 9, 0, 0 if created == "2026-03-02T09:00:00" else 1, tzinfo=UTC)
    assert one(item).created_at == expected


def test_a_label_that_hides_the_post_withholds_it() -> None:
    item = notification(1, "#pothole")
    item["labels"] = [{"src": "did:plc:mod", "uri": item["uri"], "val": "!hide", "cts": "x"}]
    assert one(item).withheld == "Bluesky's moderation labels it !hide"
    item["labels"][0]["neg"] = True
    assert one(item).withheld is None


def test_a_handle_too_long_for_our_columns_is_kept_as_none() -> None:
    long = "a" * 60 + ".bsky.social"
    assert one(notification(1, "#pothole", handle=long)).author_username is None
    assert one(notification(1, "#pothole", handle="handle.invalid")).author_username is None


# ---------------------------------------------------------------------------------------------
# Cursor


def cursor_of(item: dict[str, Any]) -> wire.Cursor:
    return wire.Cursor(
        wire.parse_cursor(f"{item['indexedAt']}|{item['uri']}").indexed_at, item["uri"]
    )


def test_a_page_that_reaches_the_stored_cursor_stops_there() -> None:
    # 1 was listed long before the cursor; 2 is the cursor; 3 is new; 1000 (a post its author's
    # server delivered late, listed by its earlier createdAt) lies within the look-back.
    handled = notification(1001, "#pothole handled")
    old = notification(1, "#pothole long ago")
    late = notification(1000, "#pothole late")
    new = notification(1002, "#pothole new")
    assert cursor_of(handled).indexed_at - wire.LOOKBACK > cursor_of(old).indexed_at

    page = parse(new, handled, late, old, since=cursor_of(handled))

    assert [m.post_id for m in page.mentions] == [
        wire.post_id(new["uri"]),
        wire.post_id(late["uri"]),
    ]
    assert page.reached is True
    assert page.newest == cursor_of(new)


def test_a_page_newer_than_the_cursor_has_not_reached_it() -> None:
    handled, new = notification(1, "#a"), notification(2, "#b")
    page = wire.parse_notifications(records.page(new, cursor="older"), CITY_DID, cursor_of(handled))
    assert page.reached is False
    assert page.next_cursor == "older"
    assert len(page.mentions) == 1


def test_the_cursors_own_uri_is_left_out_whatever_its_time() -> None:
    handled = notification(1, "#pothole")
    # The same post indexed again later (a re-index after an edit of its labels).
    again = dict(handled, indexedAt=records.time(50))
    page = parse(again, since=cursor_of(handled))
    assert page.mentions == ()
    assert page.reached is True


def test_another_post_of_the_same_instant_is_new() -> None:
    handled = notification(1, "#pothole")
    twin = notification(2, "#graffiti", indexed_at=handled["indexedAt"])

    page = parse(twin, since=cursor_of(handled))

    assert [m.post_id for m in page.mentions] == [wire.post_id(twin["uri"])]
    assert page.reached is False


def test_the_newest_on_a_page_older_than_the_cursor_is_still_the_pages() -> None:
    handled, old = notification(5, "#a"), notification(1, "#b")
    page = parse(old, since=cursor_of(handled))
    assert page.newest == cursor_of(old) < cursor_of(handled)
    assert max(page.newest, cursor_of(handled)) == cursor_of(handled)


def test_an_empty_page() -> None:
    page = parse()
    assert page == wire.NotificationsPage(mentions=())


def test_a_cursor_round_trips_and_garbage_is_a_data_error() -> None:
    cursor = cursor_of(notification(1, "#a"))
    assert wire.parse_cursor(cursor.encode()) == cursor
    assert cursor.encode() == f"2026-03-02T09:00:01.000Z|{records.uri(1)}"
    for text in ["", "2026-03-02T09:00:01Z", "nonsense|at://x", "2026-03-02T09:00:01Z|https://x"]:
        with pytest.raises(DataError):
            wire.parse_cursor(text)


def test_times_in_other_zones_order_as_instants() -> None:
    early = wire.parse_cursor(f"2026-03-02T10:00:00+02:00|{records.uri(1)}")
    late = wire.parse_cursor(f"2026-03-02T09:00:00Z|{records.uri(1)}")
    assert early < late


# ---------------------------------------------------------------------------------------------
# Hashtags, links, images, languages


def test_hashtags_come_from_facets_and_tags_deduplicated_without_the_hash() -> None:
    item = notification(1, "Broken #StreetLight and #pothole", tags=("#Pothole", "graffiti"))
    assert one(item).hashtags == ("streetlight", "pothole", "graffiti")


def test_a_tag_typed_but_not_marked_up_still_counts_after_the_marked_up_ones() -> None:
    item = notification(1, "no markup #pothole, #graffiti", tags=("graffiti", "streetlight"))
    item["record"]["facets"] = facets_of("no markup #pothole, #graffiti")[1:]
    assert one(item).hashtags == ("graffiti", "streetlight", "pothole")


@pytest.mark.parametrize(
    "text",
    ["Foto (#bache) en Calle 5 @city311.bsky.social", "@city311.bsky.social “#bache” aquí"],
)
def test_a_hashtag_the_app_did_not_mark_up_still_counts_beside_the_mention(text: str) -> None:
    # A mention notification exists only because its record marks up the mention, so such a
    # record always has facets. Bluesky's app makes a #tag facet only after a space: "(#bache)"
    # and "“#bache”" get none (facets_of, its port, agrees), though the resident typed the tag.
    start = text.index("@")
    end = start + len("@city311.bsky.social")
    prefix = len(text[:start].encode("utf-8"))
    mention_facet = {
        "$type": "app.bsky.richtext.facet",
        "index": {"byteStart": prefix, "byteEnd": prefix + end - start},
        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": CITY_DID}],
    }
    assert facets_of(text) == []  # the app marks up no tag here
    item = notification(1, text, facets=[mention_facet])
    assert one(item).hashtags == ("bache",)


def test_a_record_without_facets_or_tags_leaves_the_hashtags_to_the_core() -> None:
    item = notification(1, "typed by a bot #pothole")
    del item["record"]["facets"]
    assert one(item).hashtags is None


def test_links_come_from_link_facets_whole_not_as_shortened_in_the_text() -> None:
    full = "https://www.openstreetmap.org/?mlat=42.3601&mlon=-71.0589#map=19/42.3601/-71.0589"
    text = "Here: openstreetmap.org/?mlat=42.36... and https://city.example/x."
    shown = "openstreetmap.org/?mlat=42.36..."
    start = len(b"Here: ")
    facets = [
        {
            "$type": "app.bsky.richtext.facet",
            "index": {"byteStart": start, "byteEnd": start + len(shown)},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": full}],
        }
    ]
    item = notification(1, text, facets=facets)
    assert one(item).expanded_urls == (full, "https://city.example/x")


def test_a_typed_link_a_facet_covers_is_not_read_twice_from_the_text() -> None:
    text = "see https://city.example/a/b?c=d, please 🙏"
    item = notification(1, text)
    assert one(item).expanded_urls == ("https://city.example/a/b?c=d",)


def test_a_link_facet_after_multibyte_text_covers_its_bytes() -> None:
    text = "Straße kaputt 👨‍👩‍👧 https://stadt.example/meldung/7"
    assert facets_of(text)[0]["index"]["byteStart"] != text.index("https")
    assert one(notification(1, text)).expanded_urls == ("https://stadt.example/meldung/7",)


def test_a_facet_whose_bytes_are_not_the_texts_still_gives_its_link() -> None:
    facets = [
        {
            "index": {"byteStart": 1, "byteEnd": 9999},
            "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://a.example/"}],
        },
        {
            "index": {"byteStart": 1, "byteEnd": 3},  # inside the 🙏's four bytes
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "pothole"}],
        },
    ]
    mention = one(notification(1, "🙏 see https://b.example/", facets=facets))
    assert mention.expanded_urls == ("https://a.example/", "https://b.example/")
    assert mention.hashtags == ("pothole",)


def test_images_with_their_alt_text() -> None:
    item = notification(1, "#pothole", images=("A deep pothole", "  "))

    media = one(item).media

    blobs = [i["image"]["ref"]["$link"] for i in item["record"]["embed"]["images"]]
    assert [(m.key, m.type, m.alt_text) for m in media] == [
        (blobs[0], MediaType.PHOTO, "A deep pothole"),
        (blobs[1], MediaType.PHOTO, None),
    ]
    assert media[0].url == f"https://cdn.bsky.app/img/feed_fullsize/plain/{did(1)}/{blobs[0]}@jpeg"


def test_images_beside_a_quoted_post_and_the_quote_as_a_reference() -> None:
    record = fixture("thread_view_post_with_embed_media.json")["thread"]["post"]["record"]
    item = notification(1, "#pothole", embed=record["embed"])

    mention = one(item)

    assert [(m.key, m.alt_text) for m in mention.media] == [
        ("bafkreic3cp5ky525vsukjvrzxsc2h3jka2gud74l2hgeatw2rhj2qycnmq", None)
    ]
    assert mention.references[0].type is ReferenceType.QUOTED
    assert mention.references[0].post_id == "did:plc:kvwvcn5iqfooopmyzvb4qzba/3kahesw26il2z"


def test_a_gallery_embeds_photos_too() -> None:
    embed = {
        "$type": "app.bsky.embed.gallery",
        "media": [
            {
                "$type": "app.bsky.embed.gallery#image",
                "image": records.blob("g"),
                "alt": "Overflowing bin",
                "aspectRatio": {"width": 1, "height": 1},
            }
        ],
    }
    (photo,) = one(notification(1, "#litter", embed=embed)).media
    assert (photo.key, photo.alt_text) == (records.blob_cid("g"), "Overflowing bin")


def test_a_video_is_named_as_missing_and_a_link_card_is_no_photo() -> None:
    video = {"$type": "app.bsky.embed.video", "video": records.blob("v", "video/mp4")}
    mention = one(notification(1, "#flooding", embed=video))
    assert mention.media == () and mention.missing == ("a video (socialbot takes photos)",)
    card = {
        "$type": "app.bsky.embed.external",
        "external": {"uri": "https://a.example", "title": "", "description": ""},
    }
    assert one(notification(2, "#flooding", embed=card)).media == ()


def test_a_quote_of_a_feed_is_no_reference() -> None:
    embed = {
        "$type": "app.bsky.embed.record",
        "record": {"uri": "at://did:plc:x/app.bsky.feed.generator/news", "cid": records.cid(9)},
    }
    assert one(notification(1, "#pothole", embed=embed)).references == ()


@pytest.mark.parametrize(
    ("langs", "lang"),
    [(("pt-BR", "en"), "pt-BR"), ((), None), (("not a language", "de"), "de")],
)
def test_the_first_language_the_post_names(langs: tuple[str, ...], lang: str | None) -> None:
    assert one(notification(1, "#buraco", langs=langs)).lang == lang


# ---------------------------------------------------------------------------------------------
# Malformed items


def broken(change: Any) -> dict[str, Any]:
    item = notification(7, "#pothole")
    change(item)
    return item


MALFORMED = {
    "text is a number": lambda i: i["record"].update(text=42),
    "no cid": lambda i: i.pop("cid"),
    "cid a list": lambda i: i.update(cid=["bafy"]),
    "did too long": lambda i: i["author"].update(did="did:plc:" + "a" * 80),
    "author not an object": lambda i: i.update(author="someone"),
    "reason not a string": lambda i: i.update(reason=None),
    "record a string": lambda i: i.update(record="hello"),
    "record of another type": lambda i: i["record"].update({"$type": "app.bsky.feed.like"}),
    "facets an object": lambda i: i["record"].update(facets={}),
    "a facet without features": lambda i: i["record"].update(facets=[{"index": {}}]),
    "tags a string": lambda i: i["record"].update(tags="pothole"),
    "langs a string": lambda i: i["record"].update(langs="en"),
    "reply without root": lambda i: i["record"].update(reply={"parent": records.ref(i)}),
    "image without a blob": lambda i: i["record"].update(
        embed={"$type": "app.bsky.embed.images", "images": [{"alt": "x"}]}
    ),
    "images not a list": lambda i: i["record"].update(
        embed={"$type": "app.bsky.embed.images", "images": "x"}
    ),
    "no indexedAt": lambda i: i.pop("indexedAt"),
    "uri of another author": lambda i: i.update(uri=records.uri(7, did(8))),
}


@pytest.mark.parametrize("change", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_item_is_recorded_and_the_page_goes_on(change: Any) -> None:
    good = notification(8, "#graffiti")
    item = broken(change)

    page = parse(item, good)

    assert [m.post_id for m in page.mentions] == [wire.post_id(good["uri"])]
    (bad,) = page.malformed
    assert bad.problem
    assert json.loads(bad.raw) == item


def test_a_malformed_item_keeps_its_post_id_when_its_uri_is_readable() -> None:
    long_did = "did:plc:" + "a" * 80
    long = notification(8, "#pothole", author_did=long_did)
    page = parse(broken(MALFORMED["no cid"]), long, dict(long, cid=None))
    # The second and third are told apart by their JSON, having no id to be known by.
    assert [b.post_id for b in page.malformed] == [f"{did(7)}/{records.rkey(7)}", None, None]
    assert page.malformed[1].key != page.malformed[2].key


def test_an_item_that_is_no_object_is_malformed() -> None:
    page = wire.parse_notifications({"notifications": [3, None, "x"]}, CITY_DID, None)
    assert [b.post_id for b in page.malformed] == [None, None, None]


@pytest.mark.parametrize("payload", [[], None, "x", {"notifications": {}}, {"cursor": "c"}])
def test_a_page_that_is_not_one_is_a_data_error(payload: Any) -> None:
    with pytest.raises(DataError):
        wire.parse_notifications(payload, CITY_DID, None)


# ---------------------------------------------------------------------------------------------
# Post ids and contexts


def test_post_ids_and_uris() -> None:
    uri = "at://did:plc:kvwvcn5iqfooopmyzvb4qzba/app.bsky.feed.post/3k2yihcrp6f2c"
    assert wire.post_id(uri) == "did:plc:kvwvcn5iqfooopmyzvb4qzba/3k2yihcrp6f2c"
    assert wire.uri_of(wire.post_id(uri)) == uri
    for bad in [
        "at://did:plc:x/app.bsky.feed.like/3k2yihcrp6f2c",
        "at://alice.bsky.social/app.bsky.feed.post/3k2yihcrp6f2c",
        "https://bsky.app/profile/x/post/3k",
        "at://did:web:" + "a" * 50 + ".example/app.bsky.feed.post/3k2yihcrp6f2c",
        "at://did:plc:x/app.bsky.feed.post/..",
        "at://did:plc:x/app.bsky.feed.post/a/b",
    ]:
        with pytest.raises(DataError):
            wire.post_id(bad)
    for bad in ["", "3k2yihcrp6f2c", "did:plc:x/", "did:plc:x/a/b"]:
        with pytest.raises(DataError):
            wire.uri_of(bad)


def test_a_reply_context_round_trips_and_anything_else_is_a_data_error() -> None:
    ctx = wire.ReplyContext(records.uri(1), records.cid(1), records.uri(2), records.cid(2))
    assert wire.read_reply_context(ctx.encode()) == ctx
    assert not ctx.is_root
    encoded = json.loads(ctx.encode())
    for text in ["", "{}", '{"visibility":"public"}', json.dumps(encoded | {"cid": "no!"})]:
        with pytest.raises(DataError):
            wire.read_reply_context(text)


# ---------------------------------------------------------------------------------------------
# Post views


def test_post_views_name_the_posts_whose_author_disabled_replies() -> None:
    a, b = notification(1, "#a"), notification(2, "#b")
    answer = {
        "posts": [records.post_view(a, reply_disabled=True), records.post_view(b), "junk", {}]
    }
    assert wire.parse_post_views(answer) == frozenset({a["uri"]})
    with pytest.raises(DataError):
        wire.parse_post_views({"posts": None})


# ---------------------------------------------------------------------------------------------
# Our posts: records, and the answers to createRecord, getRecord, uploadBlob


def test_a_reply_record_threads_under_the_root_and_answers_the_parent() -> None:
    ctx = wire.ReplyContext(records.uri(2), records.cid(2), records.uri(1), records.cid(1))
    image = wire.ImageRef(wire.parse_blob(records.uploaded(1)), "The pothole", (4, 3))
    text = "Case 12 opened #pothole https://city.example/12"

    record = wire.post_record(
        text, datetime(2026, 3, 2, 9, 30, tzinfo=UTC), ("en",), ctx, [image], facets_of(text)
    )

    assert record["$type"] == "app.bsky.feed.post"
    assert record["createdAt"] == "2026-03-02T09:30:00.000Z"
    assert record["langs"] == ["en"]
    assert record["reply"] == {
        "root": {"uri": records.uri(1), "cid": records.cid(1)},
        "parent": {"uri": records.uri(2), "cid": records.cid(2)},
    }
    assert record["embed"] == {
        "$type": "app.bsky.embed.images",
        "images": [
            {
                "image": records.blob(1),
                "alt": "The pothole",
                "aspectRatio": {"width": 4, "height": 3},
            }
        ],
    }
    assert [f["features"][0]["$type"] for f in record["facets"]] == [
        "app.bsky.richtext.facet#tag",
        "app.bsky.richtext.facet#link",
    ]
    # The atproto SDK's own model of a post takes it as it is, strictly.
    model = get_or_create(record, AppBskyFeedPost.Record, strict=True)
    assert model is not None and model.reply.root.uri == records.uri(1)


def test_a_post_of_its_own_has_no_reply_embed_or_facets() -> None:
    record = wire.post_record("Road closed today", NOW, (), None, [], [])
    assert record == {
        "$type": "app.bsky.feed.post",
        "text": "Road closed today",
        "createdAt": "2026-03-02T12:00:00.000Z",
    }


def test_created_threads_under_the_root_of_what_it_answered() -> None:
    answer = records.created("outbox-1", NOW)
    resident = wire.ReplyContext(records.uri(2), records.cid(2), records.uri(1), records.cid(1))

    ref = wire.parse_created(answer, resident)

    assert ref.id == wire.post_id(answer["uri"])
    assert wire.read_reply_context(ref.context) == wire.ReplyContext(
        answer["uri"], answer["cid"], records.uri(1), records.cid(1)
    )
    own = wire.read_reply_context(wire.parse_created(answer, None).context)
    assert own.is_root and own.uri == answer["uri"]


@pytest.mark.parametrize("answer", [{}, {"uri": "x", "cid": "y"}, [], None])
def test_an_unreadable_created_answer_is_a_data_error(answer: Any) -> None:
    with pytest.raises(DataError):
        wire.parse_created(answer, None)


def test_a_record_read_back_is_our_post_with_its_context() -> None:
    answer = records.created("outbox-2", NOW)
    ctx = wire.ReplyContext(records.uri(2), records.cid(2), records.uri(1), records.cid(1))
    value = wire.post_record("Thanks", NOW, ("en",), ctx, [], [])

    own = wire.parse_record(records.got_record(answer, value))

    assert own.post_id == wire.post_id(answer["uri"])
    assert own.in_reply_to == wire.post_id(records.uri(2))
    assert own.text == "Thanks"
    assert wire.read_reply_context(own.context) == wire.ReplyContext(
        answer["uri"], answer["cid"], records.uri(1), records.cid(1)
    )


def test_the_real_post_records_parse() -> None:
    own = wire.parse_record(fixture("post_record.json"))
    assert own.post_id == "did:plc:kvwvcn5iqfooopmyzvb4qzba/3k2yihcrp6f2c"
    assert (own.in_reply_to, own.text) == (None, "new text114")
    assert wire.read_reply_context(own.context).is_root
    # A record with a field the lexicon does not know, and a time without its zone.
    extended = wire.parse_record(fixture("extended_post_record.json"))
    assert extended.text == "regress test"


def test_a_feed_generator_record_is_no_post_of_ours() -> None:
    with pytest.raises(DataError, match="not the uri of a post"):
        wire.parse_record(fixture("feed_record.json"))


def test_the_real_thread_posts_record_reads_as_a_post() -> None:
    post = fixture("thread_view_post_with_embed_media.json")["thread"]["post"]
    read = wire.read_post(post["record"], post["author"]["did"])
    assert read.langs == ("en",) and read.text == ""
    assert read.quoted == "did:plc:kvwvcn5iqfooopmyzvb4qzba/3kahesw26il2z"
    (photo,) = read.media
    # The CDN url we build is the one Bluesky's own view of the post gives.
    assert photo.url == post["embed"]["media"]["images"][0]["fullsize"]


def test_an_image_ref_round_trips() -> None:
    image = wire.ImageRef(wire.parse_blob(records.uploaded(3, "image/png", 999)), "A sign", (2, 1))
    assert wire.read_image_ref(image.encode()) == image
    plain = wire.ImageRef(records.blob(4), "")
    assert wire.read_image_ref(plain.encode()) == plain
    for text in ["", "{}", '{"blob":{},"alt":""}', '{"blob":null,"alt":"x"}']:
        with pytest.raises(DataError):
            wire.read_image_ref(text)


def test_an_uploaded_blob_and_a_legacy_one() -> None:
    assert wire.parse_blob(records.uploaded(5)) == records.blob(5)
    legacy = {"blob": {"cid": records.blob_cid(6), "mimeType": "image/jpeg", "size": 10}}
    assert wire.parse_blob(legacy)["ref"] == {"$link": records.blob_cid(6)}
    for answer in [{}, {"blob": {"ref": {}}}, {"blob": records.blob(7) | {"size": "10"}}]:
        with pytest.raises(DataError):
            wire.parse_blob(answer)


# ---------------------------------------------------------------------------------------------
# Rate limits and errors


def headers(**values: str) -> httpx.Headers:
    return httpx.Headers({k.replace("_", "-"): v for k, v in values.items()})


def test_the_rate_budget_counts_calls_of_their_points() -> None:
    reset = int((NOW + timedelta(minutes=20)).timestamp())
    answer = headers(
        RateLimit_Limit="5000",
        RateLimit_Remaining="4000",
        RateLimit_Reset=str(reset),
        RateLimit_Policy="5000;w=3600",
    )

    budget = wire.parse_rate_budget(answer, NOW, POINTS_PER_CREATE)

    assert budget is not None
    assert (budget.remaining, budget.limit) == (1333, 1666)
    assert budget.reset_at == NOW + timedelta(minutes=20)


def test_rate_headers_are_found_in_any_case_in_a_plain_mapping() -> None:
    plain = {"ratelimit-remaining": "2", "ratelimit-reset": str(int(NOW.timestamp()) + 60)}
    budget = wire.parse_rate_budget(plain, NOW, 3)
    assert budget is not None and budget.remaining == 0 and budget.limit is None


def test_a_reset_far_away_is_not_believed() -> None:
    far = str(int((NOW + timedelta(days=30)).timestamp()))
    budget = wire.parse_rate_budget({"RateLimit-Remaining": "9", "RateLimit-Reset": far}, NOW, 3)
    assert budget is not None and budget.reset_at == NOW + MAX_RATE_WAIT


@pytest.mark.parametrize(
    "values",
    [{}, {"RateLimit-Remaining": "9"}, {"RateLimit-Remaining": "-1", "RateLimit-Reset": "1"}],
)
def test_no_budget_without_readable_headers(values: dict[str, str]) -> None:
    assert wire.parse_rate_budget(values, NOW, 3) is None


def test_a_429s_reset() -> None:
    reset = NOW + timedelta(minutes=5)
    assert wire.parse_reset({"RateLimit-Reset": str(int(reset.timestamp()))}, NOW) == reset
    assert wire.parse_reset({}, NOW) == NOW + wire.RESET_DEFAULT
    assert wire.parse_reset({"RateLimit-Reset": "12"}, NOW) == NOW  # already past: now


def test_error_text() -> None:
    body = {"error": "InvalidToken", "message": "Token has expired\n  now"}
    assert wire.error_text(body) == "InvalidToken: Token has expired now"
    assert wire.error_text(json.dumps(body).encode()) == "InvalidToken: Token has expired now"
    assert wire.error_text({"error": "RateLimitExceeded"}) == "RateLimitExceeded"
    assert wire.error_text(b"<html>502</html>") == ""
    assert wire.error_text(None) == ""
    assert len(wire.error_text({"message": "x" * 1000})) == 300


# ---------------------------------------------------------------------------------------------
# Whatever arrives: DataError or a result, never another exception

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
NOTIFICATION_FIELDS = ("uri", "cid", "author", "reason", "record", "indexedAt", "labels")
RECORD_FIELDS = ("text", "createdAt", "facets", "tags", "langs", "reply", "embed", "$type")
EMBEDS = st.sampled_from(
    [
        records.images_embed(1, ["alt"]),
        {"$type": "app.bsky.embed.recordWithMedia", "media": records.images_embed(2, ["x"])},
        {"$type": "app.bsky.embed.gallery", "media": []},
        {"$type": "app.bsky.embed.record"},
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    top=st.dictionaries(st.sampled_from(NOTIFICATION_FIELDS), JSON, max_size=2),
    inner=st.dictionaries(st.sampled_from(RECORD_FIELDS), JSON, max_size=3),
    embed=EMBEDS,
    embed_change=st.dictionaries(st.sampled_from(["images", "media", "record", "$type"]), JSON),
    since=st.none() | st.integers(0, 2),  # older than both items: neither is covered
)
def test_any_json_in_any_field_yields_a_mention_or_a_malformed_item(
    top: dict[str, Any],
    inner: dict[str, Any],
    embed: dict[str, Any],
    embed_change: dict[str, Any],
    since: int | None,
) -> None:
    good = notification(9, "#pothole https://city.example")
    item = notification(3, "#graffiti")
    item["record"]["embed"] = copy.deepcopy(embed) | embed_change
    item["record"].update(inner)
    item.update(top)
    cursor = None if since is None else cursor_of(notification(since, "#x"))

    page = wire.parse_notifications(records.page(item, good), CITY_DID, cursor)

    items: list[Mention | Malformed] = [*page.mentions, *page.malformed]
    assert wire.post_id(good["uri"]) in [i.post_id for i in items]
    for mention in page.mentions:
        assert mention.text == clean_text(mention.text)
        assert len(mention.post_id) <= 64 and len(mention.author_id) <= 64
        assert mention.author_username is None or len(mention.author_username) <= 64
        wire.read_reply_context(mention.reply_context)
    for bad in page.malformed:
        json.loads(bad.raw)


@settings(max_examples=200, deadline=None)
@given(JSON, st.text())
def test_any_page_is_read_or_a_data_error(payload: Any, own: str) -> None:
    with contextlib.suppress(DataError):
        wire.parse_notifications(payload, own, None)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["uri", "cid", "value"]), JSON),
    st.dictionaries(st.sampled_from(["text", "reply", "$type"]), JSON),
)
def test_any_get_record_answer_is_read_or_a_data_error(top: dict[str, Any], value: Any) -> None:
    answer = records.got_record(records.created("k", NOW), {"text": "hi"} | value) | top
    try:
        own = wire.parse_record(answer)
    except DataError:
        return
    wire.read_reply_context(own.context)


@given(JSON, st.none() | st.just(wire.ReplyContext("a", "b", "c", "d")))
def test_any_created_answer_is_read_or_a_data_error(
    answer: Any, root: wire.ReplyContext | None
) -> None:
    with contextlib.suppress(DataError):
        wire.parse_created(answer, root)


@given(st.text() | JSON.map(json.dumps))
def test_any_reply_context_text_is_read_or_a_data_error(text: str) -> None:
    with contextlib.suppress(DataError):
        wire.read_reply_context(text)


@given(st.text() | JSON.map(json.dumps))
def test_any_image_ref_text_is_read_or_a_data_error(text: str) -> None:
    with contextlib.suppress(DataError):
        wire.read_image_ref(text)


@given(
    st.dictionaries(
        st.sampled_from(["RateLimit-Remaining", "RateLimit-Reset", "ratelimit-limit", "x"]),
        st.text() | st.integers(-(2**70), 2**70).map(str),
    ),
    st.integers(-5, 10),
)
def test_any_rate_limit_headers_give_a_budget_or_none(headers: dict[str, str], points: int) -> None:
    budget = wire.parse_rate_budget(headers, NOW, points)
    assert budget is None or (budget.remaining >= 0 and budget.reset_at.tzinfo is not None)
    assert wire.parse_reset(headers, NOW) >= NOW


@given(JSON | st.binary())
def test_any_error_body_gives_one_short_line(body: Any) -> None:
    text = wire.error_text(body)
    assert "\n" not in text and len(text) <= 300


@pytest.mark.parametrize(
    ("lang", "langs"),
    [
        ("en", ("en",)),
        ("en+es", ("en", "es")),
        ("es-MX", ("es-MX",)),
        (None, ()),
        ("", ()),
        ("en+en", ("en",)),
        ("en+", ("en",)),
        ("english", ()),
        ("ES", ("es",)),
    ],
)
def test_an_outbox_lang_becomes_the_records_language_tags(
    lang: str | None, langs: tuple[str, ...]
) -> None:
    assert wire.langs_of(lang) == langs


@given(st.none() | st.text())
def test_any_outbox_lang_gives_only_tags_the_pds_takes(lang: str | None) -> None:
    assert all(LANG_RE.match(tag) for tag in wire.langs_of(lang))
