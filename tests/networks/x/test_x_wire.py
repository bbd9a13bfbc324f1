"""Parsing X API v2 JSON into mentions: the one place the wire format is read."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from socialbot.domain import BBox, GeoPoint, MediaType, ReferenceType
from socialbot.networks.x.wire import parse_mentions_page
from tests import xapi


def test_a_photo_report_with_exact_geo() -> None:
    payload = xapi.page(
        [
            xapi.tweet(
                1,
                "@DemoCity311 #pothole on Main St",
                coordinates=(42.34937, -71.07787),
                media_keys=["3_1"],
            )
        ],
        media=[xapi.photo("3_1")],
        users=[xapi.user("2001", "maria")],
    )

    (mention,) = parse_mentions_page(payload).mentions

    assert mention.post_id == xapi.post_id(1)
    assert mention.author_username == "maria"
    assert mention.hashtags == ("pothole",)
    assert mention.coordinates == GeoPoint(
        lat=42.34937, lon=-71.07787
    )  # GeoJSON [lon, lat] turned round
    assert mention.media[0].type is MediaType.PHOTO
    assert mention.media[0].image_url == "https://pbs.twimg.com/media/3_1.jpg"
    assert mention.created_at == datetime(2026, 11, 23, 7, 1, tzinfo=UTC)


def test_a_video_gives_its_preview_image() -> None:
    payload = xapi.page(
        [xapi.tweet(1, "@DemoCity311 #illegaldumping", media_keys=["7_1"])],
        media=[xapi.video("7_1")],
    )
    (mention,) = parse_mentions_page(payload).mentions
    assert mention.media[0].image_url == "https://pbs.twimg.com/ext_tw_video_thumb/7_1/pu/img/p.jpg"


def test_place_bbox_and_expanded_links() -> None:
    link = "https://www.google.com/maps/@42.3,-71.1,17z"
    payload = xapi.page(
        [
            xapi.tweet(
                1,
                "@DemoCity311 #graffiti https://t.co/abc",
                place_id="p1",
                urls=[("https://t.co/abc", link)],
            )
        ],
        places=[xapi.place("p1", "Boston Public Garden", (-71.0711, 42.3536, -71.0690, 42.3553))],
    )
    (mention,) = parse_mentions_page(payload).mentions
    assert mention.place is not None
    assert mention.place.bbox == BBox(west=-71.0711, south=42.3536, east=-71.0690, north=42.3553)
    assert mention.expanded_urls == (link,)


def test_without_entities_the_core_extracts_hashtags_itself() -> None:
    payload = xapi.page([xapi.tweet(1, "@DemoCity311 #pothole", entities=False)])
    assert parse_mentions_page(payload).mentions[0].hashtags is None


def test_with_entities_but_no_hashtags_there_are_none() -> None:
    payload = xapi.page([xapi.tweet(1, "@DemoCity311 hello", hashtags=[])])
    assert parse_mentions_page(payload).mentions[0].hashtags == ()


def test_retweets_and_replies_are_recognised() -> None:
    payload = xapi.page(
        [
            xapi.tweet(1, "RT @DemoCity311: parking ban", referenced=[("retweeted", "99")]),
            xapi.tweet(
                2,
                "@DemoCity311 thanks",
                in_reply_to_user_id=xapi.CITY_ID,
                referenced=[("replied_to", "98")],
            ),
        ]
    )
    reply, retweet = parse_mentions_page(payload).mentions
    assert retweet.is_retweet and retweet.references[0].type is ReferenceType.RETWEETED
    assert not reply.is_retweet and reply.in_reply_to_user_id == xapi.CITY_ID


def test_a_malformed_item_is_reported_and_the_rest_of_the_page_goes_on() -> None:
    good = xapi.tweet(2, "@DemoCity311 #pothole")
    bad = xapi.tweet(1, "@DemoCity311 #pothole")
    bad["author_id"] = "²"  # a digit to str.isdigit, not to int()
    no_author = xapi.tweet(3, "@DemoCity311 #graffiti")
    del no_author["author_id"]

    page = parse_mentions_page(xapi.page([good, bad, no_author]))

    assert [m.post_id for m in page.mentions] == [xapi.post_id(2)]
    assert {(b.post_id, b.problem) for b in page.malformed} == {
        (xapi.post_id(1), "`author_id` is not an X id (ASCII digits): '²'"),
        (xapi.post_id(3), "`author_id` is not an X id (ASCII digits): None"),
    }
    # the cursor may pass malformed items: they are recorded
    assert page.newest_id == xapi.post_id(3)


def test_a_position_that_is_not_one_is_left_out_and_the_report_kept() -> None:
    """A report is worth more than its broken geotag: without it the resident is asked where."""
    shapes: list[object] = [
        ["north"],
        [float("nan"), 42.3],
        [-71.0, 91.0],
        [True, False],
        "42.3,-71.0",
        [1e400, 0],
    ]
    tweets = []
    for n, pair in enumerate(shapes, start=1):
        tweet = xapi.tweet(n, "@DemoCity311 #pothole")
        tweet["geo"] = {"coordinates": {"type": "Point", "coordinates": pair}}
        tweets.append(tweet)

    page = parse_mentions_page(xapi.page(tweets))

    assert not page.malformed
    assert [m.coordinates for m in page.mentions] == [None] * len(shapes)


def test_the_raw_json_of_each_post_is_kept_with_its_own_includes() -> None:
    payload = xapi.page(
        [
            xapi.tweet(1, "@DemoCity311 #pothole", media_keys=["3_1"]),
            xapi.tweet(2, "@DemoCity311 #graffiti"),
        ],
        media=[xapi.photo("3_1")],
    )
    first = next(m for m in parse_mentions_page(payload).mentions if m.post_id == xapi.post_id(1))
    raw = json.loads(first.raw)
    assert raw["data"]["id"] == xapi.post_id(1)
    assert raw["includes"]["media"] == [xapi.photo("3_1")]


def test_an_empty_page_has_no_mentions() -> None:
    page = parse_mentions_page({"meta": {"result_count": 0}})
    assert page.mentions == () and page.newest_id is None and page.next_token is None


def test_a_long_post_is_read_from_its_note_with_the_note_s_entities() -> None:
    """Over 280 characters, X's `text` stops at 280: the hashtag and the map link past the cut
    are only in `note_tweet` (`note_post` in X's production spec)."""
    head = "@DemoCity311 " + "the sidewalk by the school is broken " * 7
    full = head + "#sidewalk https://t.co/map"
    link = "https://maps.google.com/?q=42.35512,-71.06021"
    for name in ("note_tweet", "note_post"):
        tweet = xapi.tweet(1, head[:280])
        tweet[name] = {
            "text": full,
            "entities": {
                "hashtags": [{"start": len(head), "end": len(head) + 9, "tag": "sidewalk"}],
                "urls": [{"url": "https://t.co/map", "expanded_url": link}],
            },
        }

        (mention,) = parse_mentions_page(xapi.page([tweet])).mentions

        assert mention.text == full
        assert mention.hashtags == ("sidewalk",)
        assert mention.expanded_urls == (link,)


def test_an_edit_knows_the_posts_it_edits_under_either_name() -> None:
    for name in ("edit_history_tweet_ids", "edit_history_post_ids"):
        original, edit = xapi.tweet(1, "@DemoCity311 hi"), xapi.tweet(2, "@DemoCity311 #pothole")
        del original["edit_history_tweet_ids"], edit["edit_history_tweet_ids"]
        # X lists every version, oldest first, on each of them
        original[name] = edit[name] = [xapi.post_id(1), xapi.post_id(2)]

        newer, older = parse_mentions_page(xapi.page([original, edit])).mentions

        assert older.edit_of == ()
        assert newer.edit_of == (xapi.post_id(1),)


def test_references_under_the_production_spec_s_name() -> None:
    tweet = xapi.tweet(2, "@DemoCity311 thanks")
    tweet["referenced_posts"] = [{"type": "replied_to", "id": xapi.post_id(1)}]

    (mention,) = parse_mentions_page(xapi.page([tweet])).mentions

    assert [(r.type, r.post_id) for r in mention.references] == [
        (ReferenceType.REPLIED_TO, xapi.post_id(1))
    ]


def test_withheld_posts_authors_and_placeholders_say_why() -> None:
    post = xapi.tweet(1, "@DemoCity311 #pothole")
    post["withheld"] = {"copyright": True, "country_codes": ["DE"]}
    by_withheld = xapi.tweet(2, "@DemoCity311 #pothole", author="2002")
    placeholder = xapi.tweet(
        3,
        "@someone's account is temporarily unavailable because it violates the Twitter Media "
        "Policy. Learn more.",
        urls=[("Learn more", "https://support.twitter.com/articles/20169199")],
    )
    ordinary = xapi.tweet(4, "My account is temporarily unavailable because it violates nothing")
    users = [
        xapi.user("2001", "ana"),
        {**xapi.user("2002", "held"), "withheld": {"country_codes": ["RU"], "scope": "user"}},
    ]

    found = {
        m.post_id: m.withheld
        for m in parse_mentions_page(
            xapi.page([post, by_withheld, placeholder, ordinary], users=users)
        ).mentions
    }

    assert found == {
        xapi.post_id(1): "post withheld by X in DE (copyright)",
        xapi.post_id(2): "author withheld by X in RU",
        xapi.post_id(3): "a placeholder X shows in place of a post or account",
        xapi.post_id(4): None,  # the sentence alone, without X's help link, is a resident's
    }


def test_partial_errors_and_missing_media_are_noted_and_the_post_kept() -> None:
    tweet = xapi.tweet(1, "@DemoCity311 #pothole", media_keys=["3_1", "3_2", "16_3"])
    payload = xapi.page([tweet], media=[xapi.photo("3_1"), {"media_key": "16_3", "type": "3d"}])
    payload["errors"] = [
        {"title": "Not Found Error", "detail": "Could not find media with id: [3_2]."},
        "not an object",
    ]

    page = parse_mentions_page(payload)

    (mention,) = page.mentions
    assert [m.key for m in mention.media] == ["3_1"]  # the unknown type drops that item only
    assert mention.missing == (
        "photo or video 3_2 (not in X's answer)",
        "medium 16_3 of a type socialbot does not know ('3d')",
    )
    assert page.errors == ("Not Found Error: Could not find media with id: [3_2].",)


def test_an_author_x_leaves_out_of_its_answer_is_not_answered() -> None:
    """X names every other author of the page but not one it shows nobody (withheld in full,
    suspended)."""
    shown = xapi.tweet(1, "@DemoCity311 #pothole", author="2001")
    hidden = xapi.tweet(2, "@DemoCity311 #pothole", author="2002")

    page = parse_mentions_page(xapi.page([shown, hidden], users=[xapi.user("2001", "ana")]))

    assert {m.post_id: m.withheld for m in page.mentions} == {
        xapi.post_id(1): None,
        xapi.post_id(2): "author not in X's answer (withheld or suspended)",
    }


def test_a_medium_of_a_type_x_added_later_is_noted_as_missing() -> None:
    tweet = xapi.tweet(1, "@DemoCity311 #pothole", media_keys=["3_1", "16_2"])
    media = [xapi.photo("3_1"), {"media_key": "16_2", "type": "hologram"}]

    (mention,) = parse_mentions_page(xapi.page([tweet], media=media)).mentions

    assert [m.key for m in mention.media] == ["3_1"]
    assert mention.missing == ("medium 16_2 of a type socialbot does not know ('hologram')",)
