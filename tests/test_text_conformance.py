"""socialbot.text against twitter-text's own conformance cases (validate.yml, v3.json, tlds.yml).

The cases are read from the shared checkout, never copied (see tests/conformance.py).
"""

from __future__ import annotations

import dataclasses

import pytest

from socialbot._urls import UrlSpan, find_urls
from socialbot.text import V3, TextConfig, WeightRange, parse
from tests.conformance import Case, Missing, case_of, cases, load_or_fail

# twitter-text runs WeightedTweetsCounterTest under its older config v2, which is v3 without
# emoji parsing (rb/test/conformance_test.rb: "Force v2 configuration"): there "👨‍👩‍👧‍👦" weighs 7.
V2 = dataclasses.replace(V3, version=2, emoji_parsing_enabled=False)


def check_weighing(param: Case | Missing, config: TextConfig) -> None:
    case = case_of(param)
    parsed = parse(case.text, config)
    expected = case.expected
    assert (parsed.weighted_length, parsed.valid, parsed.permillage) == (
        expected["weightedLength"],
        expected["valid"],
        expected["permillage"],
    )


@pytest.mark.parametrize("param", cases("validate.yml", "WeightedTweetsCounterTest"))
def test_weighted_tweets_counter(param: Case | Missing) -> None:
    check_weighing(param, V2)


@pytest.mark.parametrize(
    "param", cases("validate.yml", "WeightedTweetsWithDiscountedEmojiCounterTest")
)
def test_weighted_tweets_with_discounted_emoji_counter(param: Case | Missing) -> None:
    check_weighing(param, V3)


def test_embedded_config_is_v3_json() -> None:
    v3 = load_or_fail("v3.json")
    assert (
        TextConfig(
            version=v3["version"],
            max_weighted_length=v3["maxWeightedTweetLength"],
            scale=v3["scale"],
            default_weight=v3["defaultWeight"],
            transformed_url_length=v3["transformedURLLength"],
            emoji_parsing_enabled=v3["emojiParsingEnabled"],
            ranges=tuple(WeightRange(r["start"], r["end"], r["weight"]) for r in v3["ranges"]),
        )
        == V3
    )


# URLs weigh 23 whatever their length, so where they start and end is part of the length.
@pytest.mark.parametrize(
    "param",
    cases(
        "extract.yml",
        "urls",
        "urls_with_indices",
        "urls_with_directional_markers",
        "tco_urls_with_params",
    ),
)
def test_url_extraction(param: Case | Missing) -> None:
    case = case_of(param)
    found = find_urls(case.text)
    if all(isinstance(e, str) for e in case.expected):
        assert [u.url for u in found] == case.expected
    else:
        assert found == [UrlSpan(e["url"], *e["indices"]) for e in case.expected]


def test_every_tld_of_tlds_yml_makes_a_url() -> None:
    """socialbot/data/tlds.txt is generated from tlds.yml; this says when to regenerate it."""
    tests = load_or_fail("tlds.yml")["tests"]
    missed = [
        c["text"]
        for section in ("country", "generic")
        for c in tests[section]
        if [u.url for u in find_urls(c["text"])] != c["expected"]
    ]
    assert missed == [], "run scripts/update_tlds.py"
