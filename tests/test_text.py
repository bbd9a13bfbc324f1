"""Weighted post length: what decides whether X accepts a reply we render."""

from __future__ import annotations

from socialbot.text import ParsedText, is_valid_post, parse, weighted_length


def test_latin_letters_weigh_one_even_when_decomposed() -> None:
    assert weighted_length("héllo") == 5
    assert weighted_length("he\u0301llo") == 5  # NFC first: e + combining acute is one é


def test_a_url_weighs_23_whatever_its_length() -> None:
    assert weighted_length("https://www.example.gov/311/requests?id=123456789") == 23
    assert weighted_length("Track it: city.gov/311") == len("Track it: ") + 23


def test_cjk_weighs_two() -> None:
    assert weighted_length("漢字") == 4


def test_an_emoji_weighs_two_however_many_code_points() -> None:
    assert weighted_length("😷") == 2
    assert weighted_length("👍🏽") == 2
    assert weighted_length("👨\u200d👩\u200d👧\u200d👦") == 2


def test_280_is_the_limit() -> None:
    assert is_valid_post("x" * 280)
    assert not is_valid_post("x" * 281)


def test_blank_or_forbidden_characters_are_invalid() -> None:
    assert not is_valid_post("")
    assert not is_valid_post(" \n\t")
    assert not is_valid_post("hello\ufeff")


def test_parse_reports_how_full_a_post_is() -> None:
    assert parse("x" * 140) == ParsedText(weighted_length=140, valid=True, permillage=500)
