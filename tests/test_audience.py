"""broadcasts/audience, pure: a typed district name read against the city's (any text: a name or
None, never an exception), an alert's texts measured in segments and refused over the limit,
each subscriber's language, and how long a send takes at the sender's pace."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialbot.broadcasts.audience import (
    ALERT_SEGMENTS,
    Audience,
    SubscriberSending,
    alert_texts,
    by_text_lang,
    lang_for,
    send_duration,
)
from socialbot.districts import district_named, folded
from socialbot.errors import BroadcastError
from socialbot.sms import segments
from socialbot.sms.rules import sms_text_rules

NAMES = ("Dorchester", "Jamaica Plain", "Allston-Brighton", "Mission Hill", "Ñuñoa")
SMS = SubscriberSending(
    rules=sms_text_rules(ALERT_SEGMENTS),
    units_per_second=1.0,
    price_per_unit=0.0083,
    encoding=lambda text: segments.encoding_of(text).value,
)


@given(st.text(max_size=200))
def test_any_typed_district_is_a_name_of_the_city_or_none(typed: str) -> None:
    found = district_named(typed, NAMES)
    assert found is None or (found in NAMES and folded(found) == folded(typed))


@given(st.sampled_from(NAMES), st.sampled_from([str.upper, str.lower, str.title]), st.text(" -."))
def test_a_name_typed_in_any_case_or_spacing_is_that_name(
    name: str, case: Callable[[str], str], around: str
) -> None:
    typed = around + case(name).replace(" ", "  ").replace("-", " ") + around
    assert district_named(typed, NAMES) == name


def test_accents_are_no_difference_but_other_letters_are() -> None:
    assert district_named("nunoa", NAMES) == "Ñuñoa"
    assert district_named("Dorchster", NAMES) is None


@given(
    st.lists(
        st.tuples(st.sampled_from(["en", "es", "fr"]), st.text(min_size=1, max_size=600)),
        min_size=1,
        max_size=3,
        unique_by=lambda p: p[0],
    )
)
def test_an_alert_text_is_one_text_within_the_limit_or_one_line_naming_its_language(
    pairs: list[tuple[str, str]],
) -> None:
    try:
        texts = alert_texts(pairs, SMS, lambda _text: "", where="--text")
    except BroadcastError as exc:
        message = str(exc)
        assert "\n" not in message
        assert any(
            f"({lang})" in message or f"the {lang} text is empty" in message for lang, _ in pairs
        )
        return
    for text, (lang, written) in zip(texts, pairs, strict=True):
        assert text.lang == lang and text.text == written.strip()
        assert text.units == segments.segments(text.text) <= ALERT_SEGMENTS
        assert text.encoding == segments.encoding_of(text.text).value


def test_a_subscriber_gets_their_language_else_the_first() -> None:
    assert lang_for("es", ["en", "es"]) == "es"
    assert lang_for("fr", ["es", "en"]) == "es"
    assert by_text_lang(["es", "fr", "en", "es"], ["en", "es"]) == {"en": 2, "es": 2}


@given(st.integers(0, 10**7), st.floats(0.01, 1000))
def test_a_send_takes_its_units_at_the_pace(units: int, per_second: float) -> None:
    took = send_duration(units, per_second)
    assert took == timedelta(seconds=math.ceil(units / per_second))


def test_the_audience_adds_up() -> None:
    texts = alert_texts(
        [("en", "Boil water."), ("es", "Hierva el agua, ¿sí?")], SMS, lambda _t: "", where="t"
    )
    audience = Audience(texts, {"en": 30, "es": 10}, None, SMS)
    assert audience.subscribers == 40
    assert audience.units == 30 * 1 + 10 * segments.segments("Hierva el agua, ¿sí?")
    assert audience.cost == pytest.approx(audience.units * 0.0083)
