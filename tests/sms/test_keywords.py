"""A whole text as a carrier or bot keyword, English and Spanish; anything more is no keyword."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from socialbot.sms.keywords import MAX_WORDS, Keyword, KeywordKind, keyword_of, words

STOP, START, HELP = KeywordKind.STOP, KeywordKind.START, KeywordKind.HELP
STATUS, ALERTS, CHOICE = KeywordKind.STATUS, KeywordKind.ALERTS, KeywordKind.CHOICE

# Twilio's defaults on a long code: opt-out, opt-in and help words.
TWILIO_OPT_OUT = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]
TWILIO_OPT_IN = ["START", "UNSTOP", "YES"]
TWILIO_HELP = ["HELP", "INFO"]


@pytest.mark.parametrize("word", TWILIO_OPT_OUT)
def test_every_opt_out_word_of_twilio_is_stop(word: str) -> None:
    assert keyword_of(word) == Keyword(STOP, word.lower(), "en")


@pytest.mark.parametrize("word", TWILIO_OPT_IN)
def test_every_opt_in_word_of_twilio_is_start(word: str) -> None:
    assert keyword_of(word) == Keyword(START, word.lower(), "en")


@pytest.mark.parametrize("word", TWILIO_HELP)
def test_every_help_word_of_twilio_is_help(word: str) -> None:
    assert keyword_of(word) == Keyword(HELP, word.lower(), "en")


@pytest.mark.parametrize(
    ("text", "kind", "lang"),
    [
        ("Stop.", STOP, "en"),
        ("  stop  ", STOP, "en"),
        ("STOP!!!", STOP, "en"),
        ("Stop 🛑", STOP, "en"),
        ("\uff33\uff34\uff2f\uff30", STOP, "en"),  # full-width STOP, as some keyboards type it
        ("stop all", STOP, "en"),
        ("Opt-Out", STOP, "en"),
        ("opt out", STOP, "en"),
        ("Un-subscribe", None, None),  # no spelling of ours
        ("Unstop", START, "en"),
        ("yes!", START, "en"),
        ("info?", HELP, "en"),
        ("AYUDA", HELP, "es"),
        ("Ayúda", HELP, "es"),
        ("¿ayuda?", HELP, "es"),
        ("status", STATUS, "en"),
        ("Estado", STATUS, "es"),
        ("ESTADÓ", STATUS, "es"),
        # Plain ways of asking to stop, Spanish ones too, which Twilio has no default words
        # for: honoured (we send less, never more), as a whole text only.
        ("PARAR", STOP, "es"),
        ("alto", STOP, "es"),
        ("Darme de baja", STOP, "es"),
        ("No más mensajes!", STOP, "es"),
        ("Stop please", STOP, "en"),
        ("please stop", STOP, "en"),
        ("stop texting me", STOP, "en"),
        ("No more texts.", STOP, "en"),
        # A report or a sentence is not its first word.
        ("stop sign knocked down", None, None),
        ("stop light out on Elm", None, None),
        ("alto riesgo en la calle Main", None, None),
        ("please stop by and fix it", None, None),
        ("help me please", None, None),
        ("the status of my pothole", None, None),
        ("end of Main St is flooded", None, None),
        ("", None, None),
        ("?!", None, None),
        ("🛑", None, None),
        ("stopp", None, None),
    ],
)
def test_a_whole_text_is_read(text: str, kind: KeywordKind | None, lang: str | None) -> None:
    found = keyword_of(text)
    assert (found.kind if found else None, found.lang if found else None) == (kind, lang)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ALERTS", Keyword(ALERTS, "alerts", "en")),
        ("alert", Keyword(ALERTS, "alert", "en")),
        ("ALERTAS", Keyword(ALERTS, "alertas", "es")),
        ("ALERTS DORCHESTER", Keyword(ALERTS, "alerts", "en", district="DORCHESTER")),
        ("Alerts: Jamaica   Plain!", Keyword(ALERTS, "alerts", "en", district="Jamaica Plain")),
        ("alertas  San Juan-Sur.", Keyword(ALERTS, "alertas", "es", district="San Juan-Sur")),
        ("alertas, Peñón", Keyword(ALERTS, "alertas", "es", district="Peñón")),
        ("Alerts!!", Keyword(ALERTS, "alerts", "en")),
    ],
)
def test_alerts_take_the_district_as_written(text: str, expected: Keyword) -> None:
    assert keyword_of(text) == expected


@pytest.mark.parametrize("text", ["1", " 2 ", "2.", "#2", "(3)", "3)", "03", "\uff12"])
def test_a_menu_choice(text: str) -> None:
    found = keyword_of(text, menu_size=3)
    assert found is not None and found.kind is CHOICE
    assert found.choice == int(found.word) and found.lang is None
    assert found.choice in (1, 2, 3)


@pytest.mark.parametrize(("text", "menu_size"), [("4", 3), ("0", 3), ("1", 0), ("1 2", 3)])
def test_no_choice_outside_the_menu(text: str, menu_size: int) -> None:
    assert keyword_of(text, menu_size=menu_size) is None


def test_digits_beyond_any_menu_do_not_raise() -> None:
    assert keyword_of("9" * 5000, menu_size=10**6) is None


@given(st.text(max_size=300), st.integers(min_value=-5, max_value=10**6))
def test_never_raises_and_more_words_are_no_keyword_but_alerts(text: str, menu: int) -> None:
    found = keyword_of(text, menu_size=menu)
    if found is not None and found.kind is not ALERTS:
        assert len(words(text)) <= MAX_WORDS
    if found is not None and found.kind is CHOICE:
        assert found.choice is not None and 1 <= found.choice <= menu


SPELLINGS = [*TWILIO_OPT_OUT, *TWILIO_OPT_IN, *TWILIO_HELP, "AYUDA", "STATUS", "ESTADO"]
gap = st.text(st.sampled_from(" \t\n.,!?¡¿-*\"'()…"), max_size=4)


@given(st.sampled_from(SPELLINGS), gap, gap, st.lists(st.booleans(), min_size=11, max_size=11))
def test_case_and_punctuation_around_are_ignored(
    word: str, before: str, after: str, upper: list[bool]
) -> None:
    cased = "".join(c.upper() if up else c.lower() for c, up in zip(word, upper, strict=False))
    assert keyword_of(before + cased + after) == keyword_of(word)


letters = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzñé"), min_size=1, max_size=8)


@given(st.sampled_from(SPELLINGS), st.lists(letters, min_size=1, max_size=4), st.booleans())
def test_a_keyword_among_other_words_is_none(word: str, more: list[str], first: bool) -> None:
    text = " ".join([word, *more] if first else [*more, word])
    assume(words(text)[0] not in ("alert", "alerts", "alerta", "alertas"))
    found = keyword_of(text, menu_size=9)
    if len(words(text)) > MAX_WORDS:
        assert found is None
    else:  # two words: none, or a keyword spelled with two ("stop all")
        assert found is None or found.word == " ".join(words(text))


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("STOP ALERTS", "en"),
        ("Stop alerts!", "en"),
        ("stop alert", "en"),
        ("Unsubscribe alerts", "en"),
        ("cancel alerts", "en"),
        ("STOP ALERTAS", "es"),
        ("alertas stop", "es"),
        ("ALERTS STOP", "en"),
        ("Alerts off", "en"),
        ("alerts: cancel", "en"),
    ],
)
def test_stopping_the_alerts_in_words_is_stop(text: str, lang: str) -> None:
    # A subscriber who texts "STOP ALERTS" wants no more alerts: read as anything else (the
    # menu, or ALERTS of a district named "STOP") they would go on getting them. We send less,
    # never more: it is a STOP, as "Stop!" is.
    found = keyword_of(text)
    assert found is not None and (found.kind, found.lang) == (STOP, lang)


@pytest.mark.parametrize("text", ["ALERTS DORCHESTER", "alerts end of the line", "alerts endicott"])
def test_alerts_of_a_district_stay_alerts(text: str) -> None:
    found = keyword_of(text)
    assert found is not None and found.kind is ALERTS
