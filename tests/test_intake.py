"""What intake decides for one mention: plain values in, a Decision out, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from socialbot.catalog import Catalog, load_catalog
from socialbot.config import SHIPPED_HASHTAGS
from socialbot.domain import (
    BBox,
    GeoPoint,
    LocationSource,
    Media,
    MediaType,
    Mention,
    MentionOutcome,
    Place,
    Reference,
    ReferenceType,
    Reply,
)
from socialbot.intake import IntakeRules, decide
from socialbot.location import parse_city_bounds

CITY = "1583000000000000001"
BOSTON = parse_city_bounds("-71.191155,42.227926,-70.986078,42.399974")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SHIPPED_HASHTAGS)


@pytest.fixture
def rules(catalog: Catalog) -> IntakeRules:
    return IntakeRules(catalog=catalog, own_user_id=CITY, bounds=BOSTON)


def mention(text: str, **fields: object) -> Mention:
    values: dict[str, object] = {
        "platform": "x",
        "post_id": "1859100000000000001",
        "author_id": "2001",
        "author_username": "maria",
        "text": text,
        "created_at": datetime(2026, 11, 23, 7, 0, tzinfo=UTC),
        "lang": "en",
    }
    values.update(fields)
    return Mention(**values)  # type: ignore[arg-type]


def test_a_photo_with_exact_geo_is_filed(rules: IntakeRules) -> None:
    decision = decide(
        mention(
            "@City #pothole on Main St",
            hashtags=("pothole",),
            coordinates=GeoPoint(42.35, -71.06),
            media=(Media("3_1", MediaType.PHOTO, "https://pbs.twimg.com/media/a.jpg", None),),
        ),
        rules,
    )
    assert decision.outcome is MentionOutcome.CASE_OPENED
    assert decision.reply is Reply.FILED
    assert decision.category is not None and decision.category.key == "pothole"
    assert decision.location is not None and decision.location.source is LocationSource.EXACT
    assert decision.photo_urls == ("https://pbs.twimg.com/media/a.jpg",)
    assert decision.lang == "en"


@pytest.mark.parametrize("tag", ["Pothole", "POTHOLE", "bache", "Baché"])
def test_hashtags_match_whatever_the_case_and_accents(rules: IntakeRules, tag: str) -> None:
    decision = decide(mention(f"@City #{tag}", hashtags=(tag,)), rules)
    assert decision.category is not None and decision.category.key == "pothole"


def test_the_first_known_hashtag_wins(rules: IntakeRules) -> None:
    decision = decide(
        mention("@City #Boston #graffiti #pothole", hashtags=("Boston", "graffiti", "pothole")),
        rules,
    )
    assert decision.category is not None and decision.category.key == "graffiti"


def test_without_x_entities_hashtags_are_extracted_from_the_text(rules: IntakeRules) -> None:
    decision = decide(mention("@City big #pothole here", hashtags=None), rules)
    assert decision.category is not None and decision.category.key == "pothole"


def test_spanish_alias_means_a_spanish_reply(rules: IntakeRules) -> None:
    assert decide(mention("@City #bache", hashtags=("bache",)), rules).lang == "es"


def test_spanish_post_means_a_spanish_reply_even_with_an_english_hashtag(
    rules: IntakeRules,
) -> None:
    assert (
        decide(mention("@City hay un #pothole", hashtags=("pothole",), lang="es"), rules).lang
        == "es"
    )


def test_no_location_opens_a_case_that_asks_for_one(rules: IntakeRules) -> None:
    decision = decide(mention("@City #streetlight out", hashtags=("streetlight",)), rules)
    assert decision.outcome is MentionOutcome.NEEDS_LOCATION
    assert decision.reply is Reply.NEEDS_LOCATION
    assert decision.location is None


def test_a_whole_city_place_is_not_a_location(rules: IntakeRules) -> None:
    boston = Place("p", "Boston, MA", "city", BBox(-71.191155, 42.227926, -70.986078, 42.399974))
    decision = decide(mention("@City #streetlight", hashtags=("streetlight",), place=boston), rules)
    assert decision.outcome is MentionOutcome.NEEDS_LOCATION


def test_a_small_place_is_its_centre(rules: IntakeRules) -> None:
    garden = Place("p", "Boston Public Garden", "poi", BBox(-71.0711, 42.3536, -71.0690, 42.3553))
    decision = decide(mention("@City #graffiti", hashtags=("graffiti",), place=garden), rules)
    assert decision.location is not None and decision.location.source is LocationSource.PLACE
    assert decision.location.point.lat == pytest.approx(42.35445)


def test_a_map_link_behind_tco_is_a_location(rules: IntakeRules) -> None:
    decision = decide(
        mention(
            "@City #downedtree https://t.co/abc",
            hashtags=("downedtree",),
            expanded_urls=(
                "https://www.openstreetmap.org/?mlat=42.30412&mlon=-71.09033#map=18/42.3/-71.1",
            ),
        ),
        rules,
    )
    assert decision.location is not None and decision.location.source is LocationSource.MAP_LINK
    assert decision.location.point == GeoPoint(42.30412, -71.09033)


def test_outside_the_city_gets_a_polite_reply_and_no_case(rules: IntakeRules) -> None:
    providence = GeoPoint(41.82399, -71.41283)
    decision = decide(
        mention("@City #pothole", hashtags=("pothole",), coordinates=providence), rules
    )
    assert decision.outcome is MentionOutcome.OUTSIDE_CITY
    assert decision.reply is Reply.OUTSIDE_CITY
    assert not decision.opens_case


def test_without_bounds_anywhere_is_fine(catalog: Catalog) -> None:
    rules = IntakeRules(catalog=catalog, own_user_id=CITY)
    decision = decide(
        mention("@City #pothole", hashtags=("pothole",), coordinates=GeoPoint(41.8, -71.4)), rules
    )
    assert decision.outcome is MentionOutcome.CASE_OPENED


def test_an_unknown_hashtag_gets_the_help_reply(rules: IntakeRules) -> None:
    decision = decide(mention("@City loved the #marathon", hashtags=("marathon",)), rules)
    assert decision.outcome is MentionOutcome.UNCLASSIFIED
    assert decision.reply is Reply.HELP
    assert decision.detail == "unknown hashtags: #marathon"


def test_a_thank_you_in_our_thread_gets_no_help_reply(rules: IntakeRules) -> None:
    decision = decide(mention("@City thank you!", hashtags=(), in_reply_to_user_id=CITY), rules)
    assert decision.outcome is MentionOutcome.UNCLASSIFIED
    assert decision.reply is None


def test_our_own_posts_and_retweets_are_ignored(rules: IntakeRules) -> None:
    own = decide(mention("@City #pothole reminder", hashtags=("pothole",), author_id=CITY), rules)
    retweet = decide(
        mention(
            "RT @City: #pothole season",
            hashtags=("pothole",),
            references=(Reference(ReferenceType.RETWEETED, "1"),),
        ),
        rules,
    )
    assert (own.outcome, own.reply, own.detail) == (MentionOutcome.IGNORED, None, "our own post")
    assert (retweet.outcome, retweet.reply, retweet.detail) == (
        MentionOutcome.IGNORED,
        None,
        "retweet",
    )


def test_a_video_contributes_its_preview_image(rules: IntakeRules) -> None:
    clip = Media("7_1", MediaType.VIDEO, None, "https://pbs.twimg.com/thumb.jpg")
    decision = decide(
        mention("@City #illegaldumping", hashtags=("illegaldumping",), media=(clip,)), rules
    )
    assert decision.photo_urls == ("https://pbs.twimg.com/thumb.jpg",)


def test_a_pathological_long_text_is_scanned_only_so_far(rules: IntakeRules) -> None:
    # Long runs of dotted labels are the slow case of twitter-text's URL rules.
    decision = decide(mention("@City #pothole " + "a." * 50_000, hashtags=None), rules)
    assert decision.category is not None and decision.category.key == "pothole"
