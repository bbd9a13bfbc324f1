"""A mention is read once a page (`intake.Reading`): deciding it with that reading is deciding it,
whatever its thread, its author's standing or whether it is an edit; and the page's guess of
where to look for duplicates is the look-up a report of its own would make."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialbot.answers import Answers
from socialbot.catalog import Catalog, load_catalog
from socialbot.config import SHIPPED_HASHTAGS
from socialbot.domain import CaseStatus, GeoPoint, Mention, StormMode
from socialbot.intake import (
    IntakeRules,
    Reading,
    Standing,
    ThreadCase,
    decide,
    duplicate_search,
    likely_duplicate_search,
)
from tests.test_intake import BOSTON, CITY, mention
from tests.test_intake_inbox import SNOW_PARKING, TRASH_DAY

STORM = StormMode(name="Sandy", hashtag="BoSandy")
# Pieces a resident's post is made of: what each branch of `decide` reads.
PIECES = (
    "@City",
    "#pothole",
    "#bache",
    "#BoSandy",
    "#unknowntag",
    "tree down",
    "streetlight out",
    "when is trash pickup?",
    "any update?",
    "thanks!",
    "gracias",
    "https://maps.google.com/?q=42.3601,-71.0589",
    "https://www.openstreetmap.org/?mlat=42.35&mlon=-71.06",
    "42.3467, -71.0972",
    "40.7128, -74.0060",
    "on Main St",
    "¿cuándo lo arreglan?",
    "also the sidewalk is broken",
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SHIPPED_HASHTAGS)


def _rules(catalog: Catalog, storm: bool) -> IntakeRules:
    return IntakeRules(
        catalog=catalog,
        own_user_id=CITY,
        bounds=BOSTON,
        answers=Answers(entries=(TRASH_DAY, SNOW_PARKING)),
        storm=STORM if storm else None,
    )


posts = st.builds(
    lambda words, coordinates, lang, author, reply_to_us: mention(
        " ".join(words),
        coordinates=coordinates,
        lang=lang,
        author_id=author,
        in_reply_to_user_id=CITY if reply_to_us else None,
    ),
    st.lists(st.sampled_from(PIECES), max_size=6),
    st.none() | st.builds(GeoPoint, st.floats(42.2, 42.45), st.floats(-71.2, -70.95)),
    st.sampled_from([None, "en", "es"]),
    st.sampled_from(["2001", "2002", CITY]),
    st.booleans(),
)
threads = st.none() | st.builds(
    ThreadCase,
    case_id=st.just(41),
    status=st.sampled_from(list(CaseStatus)),
    author_id=st.sampled_from(["2001", "2002"]),
    category_key=st.sampled_from(["pothole", "streetlight"]),
    lang=st.sampled_from(["en", "es"]),
    located=st.booleans(),
)
standings = st.builds(
    Standing,
    blocked=st.booleans(),
    cases_today=st.integers(0, 12),
    told_limit_today=st.booleans(),
)


@settings(max_examples=400, deadline=None)
@given(post=posts, thread=threads, standing=standings, edit=st.booleans(), storm=st.booleans())
def test_deciding_with_the_reading_is_deciding(
    catalog: Catalog,
    post: Mention,
    thread: ThreadCase | None,
    standing: Standing,
    edit: bool,
    storm: bool,
) -> None:
    rules = _rules(catalog, storm)
    reading = Reading(post, rules)
    likely_duplicate_search(reading)  # the page's guess reads it first, as intake does
    assert decide(post, rules, thread, standing, edit=edit, reading=reading) == decide(
        post, rules, thread, standing, edit=edit
    )


@settings(max_examples=300, deadline=None)
@given(post=posts, storm=st.booleans())
def test_the_guess_is_the_look_up_of_a_report_of_its_own(
    catalog: Catalog, post: Mention, storm: bool
) -> None:
    rules = _rules(catalog, storm)
    decided = decide(post, rules)  # no thread, an author with a clean slate
    guess = likely_duplicate_search(Reading(post, rules))
    if decided.detail not in ("our own post",):
        assert guess == duplicate_search(decided, rules)


def test_a_reading_of_another_mention_or_other_rules_is_not_used(catalog: Catalog) -> None:
    rules = _rules(catalog, storm=False)
    pothole = mention("@City #pothole 42.3467, -71.0972", hashtags=("pothole",))
    question = mention("@City when is trash pickup?")
    assert decide(question, rules, reading=Reading(pothole, rules)) == decide(question, rules)
    other_rules = _rules(catalog, storm=True)
    assert decide(pothole, rules, reading=Reading(pothole, other_rules)) == decide(pothole, rules)


def test_a_located_report_guesses_its_cells_and_a_question_none(catalog: Catalog) -> None:
    rules = _rules(catalog, storm=True)
    report = mention("@City #BoSandy tree down 42.3467, -71.0972")
    guess = likely_duplicate_search(Reading(report, rules))
    assert guess is not None and guess.category.key == "downed_tree"
    assert guess == duplicate_search(decide(report, rules), rules)
    assert likely_duplicate_search(Reading(mention("@City when is trash pickup?"), rules)) is None
