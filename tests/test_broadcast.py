"""Broadcasts, pure: template headers, --var values, and the posts a text becomes."""

from __future__ import annotations

import pytest

from socialbot.broadcasts.compose import (
    TemplateDoc,
    TemplateVar,
    compose,
    parse_header,
    parse_var_args,
    values_for,
)
from socialbot.errors import BroadcastError, TemplateError
from socialbot.networks.x.rules import X_TEXT
from socialbot.text import weighted_length
from tests.made_up import TINY

HEADER = """{#
Water shutoff: crews will turn the water off in an area.
vars:
  area: Streets affected. Example: Elm St between 1st and 3rd Ave
  starts: When it goes off. Example: Tuesday 9 am
  reason (optional): Why. Example: main repair
#}
💧 Water off on {{ area }} from {{ starts }}.
"""

DOC = TemplateDoc(
    description="Water shutoff: crews will turn the water off in an area.",
    variables=(
        TemplateVar("area", "Streets affected.", "Elm St between 1st and 3rd Ave"),
        TemplateVar("starts", "When it goes off.", "Tuesday 9 am"),
        TemplateVar("reason", "Why.", "main repair", optional=True),
    ),
)


def test_the_header_documents_each_variable_with_an_example() -> None:
    assert parse_header(HEADER, "water_shutoff.en.j2") == DOC


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("Water off.", r"^w\.j2:1: a broadcast template starts with a '\{#' header comment$"),
        ("{#\nWater.\nvars:\n", r"^w\.j2:1: the header comment has no closing '#\}' line$"),
        ("{#\nWater.\n#}\n", r"^w\.j2:2: the header is one line of description, then 'vars:'"),
        (
            "{#\nWater.\nvars:\n  area: Streets affected.\n#}\n",
            r"^w\.j2:4: expected '  name: what it is\. Example: a value', got '  area: Streets",
        ),
    ],
)
def test_a_malformed_header_names_the_file_and_line(source: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        parse_header(source, "w.j2")


def test_var_options_may_hold_equals_signs_and_one_language_values() -> None:
    assert parse_var_args(["area=A=B", "starts=Tuesday", "starts.es=martes"]) == {
        "area": "A=B",
        "starts": "Tuesday",
        "starts.es": "martes",
    }
    with pytest.raises(BroadcastError, match=r"^--var 'area': write name=value"):
        parse_var_args(["area"])
    with pytest.raises(BroadcastError, match=r"^--var area is given twice$"):
        parse_var_args(["area=a", "area=b"])


def test_each_language_gets_its_own_value_or_the_shared_one() -> None:
    values = values_for(
        DOC,
        {"area": "Elm St", "starts": "Tuesday 9 am", "starts.es": "martes 9 a. m."},
        ["en", "es"],
        "water_shutoff",
    )
    assert values == {
        "en": {"area": "Elm St", "starts": "Tuesday 9 am", "reason": None},
        "es": {"area": "Elm St", "starts": "martes 9 a. m.", "reason": None},
    }


def test_missing_and_unknown_vars_are_errors_naming_them_all() -> None:
    with pytest.raises(
        BroadcastError,
        match=r"^water_shutoff: missing --var area, starts, e\.g\. --var area=\"Elm St",
    ):
        values_for(DOC, {}, ["en"], "water_shutoff")
    with pytest.raises(
        BroadcastError,
        match=r"^water_shutoff: unknown --var areas, starts\.fr \(this template takes: area, "
        r"reason, starts; languages: en\)$",
    ):
        values_for(DOC, {"areas": "x", "starts.fr": "y"}, ["en"], "water_shutoff")
    with pytest.raises(BroadcastError, match=r"missing --var area \(es\), e\.g\. "):
        values_for(DOC, {"area.en": "Elm", "starts": "9"}, ["en", "es"], "water_shutoff")


def test_a_short_text_is_one_post() -> None:
    (thread,) = compose([("en", "  Street cleaning Tuesday on Elm St.  ")], X_TEXT)
    assert (thread.lang, thread.posts) == ("en", ("Street cleaning Tuesday on Elm St.",))


def test_two_languages_that_fit_together_share_one_post_english_first() -> None:
    (thread,) = compose(
        [("en", "Snow ban tonight."), ("es", "Prohibición por nieve esta noche.")], X_TEXT
    )
    assert thread == thread.__class__(
        "en+es", ("Snow ban tonight.\n\nProhibición por nieve esta noche.",)
    )


def test_two_languages_too_long_together_are_a_thread_each() -> None:
    english = "Storm warning. " + "Stay inside and charge your phone. " * 5
    spanish = "Alerta de tormenta. " + "Quédese en casa y cargue su teléfono. " * 8
    threads = compose([("en", english), ("es", spanish)], X_TEXT)
    assert [t.lang for t in threads] == ["en", "es"]
    assert all(weighted_length(p) <= 280 for t in threads for p in t.posts)
    assert len(threads[1].posts) == 2 and threads[1].posts[0].endswith(" 1/2")


def test_storm_mode_adds_the_campaign_hashtag_to_every_post_within_the_length() -> None:
    long = "Shelters are open at every public high school. " * 9
    threads = compose([("en", long)], X_TEXT, "BoSandy")
    posts = threads[0].posts
    assert len(posts) > 1
    assert all("#BoSandy" in p and weighted_length(p) <= 280 for p in posts)
    (short,) = compose([("en", "Stay off the roads.")], X_TEXT, "BoSandy")
    assert short.posts == ("Stay off the roads. #BoSandy",)


def test_a_text_that_already_carries_the_campaign_hashtag_gets_no_second_one() -> None:
    (thread,) = compose([("en", "Updates at #bosandy today.")], X_TEXT, "BoSandy")
    assert thread.posts == ("Updates at #bosandy today.",)


def test_an_empty_text_is_refused() -> None:
    with pytest.raises(BroadcastError, match=r"^--text: the es text is empty$"):
        compose([("en", "Hi."), ("es", "  ")], X_TEXT, where="--text")


def test_an_unsplittable_hashtag_is_a_broadcast_error() -> None:
    with pytest.raises(BroadcastError, match=r"^storm_warning \(en\): "):
        compose([("en", "#" + "a" * 300)], X_TEXT, where="storm_warning")


def test_a_character_x_refuses_is_a_broadcast_error_naming_the_language() -> None:
    text = "Storm warning. " * 30 + "\ufeff"
    with pytest.raises(BroadcastError, match=r"^--text \(es\): "):
        compose([("es", text)], X_TEXT, where="--text")


def test_the_posts_follow_the_rules_of_the_network_they_go_to() -> None:
    pairs = [
        ("en", "Snow emergency tonight: move your car off the main roads by 6 pm."),
        ("es", "Emergencia de nieve esta noche: retire su auto de las calles principales."),
    ]
    (together,) = compose(pairs, X_TEXT)
    assert together.lang == "en+es"

    threads = compose(pairs, TINY, "BoSandy")
    assert [t.lang for t in threads] == ["en", "es"]
    assert all(p.endswith("#BoSandy") and len(p) <= TINY.limit for t in threads for p in t.posts)
