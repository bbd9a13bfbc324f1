"""socialbot.text against twitter-text's own conformance cases (validate.yml, v3.json, tlds.yml).

The cases are read from the shared checkout, never copied: ../shared/conformance/twitter-text/
relative to the project root, or $SOCIALBOT_CONFORMANCE_DIR. If they are missing the tests fail
rather than skip, so a broken checkout cannot pass CI silently.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
import yaml

from socialbot._urls import UrlSpan, find_urls
from socialbot.text import V3, TextConfig, WeightRange, parse

CONFORMANCE_DIR = Path(
    os.environ.get("SOCIALBOT_CONFORMANCE_DIR")
    or Path(__file__).resolve().parents[2] / "shared/conformance/twitter-text"
)

# twitter-text runs WeightedTweetsCounterTest under its older config v2, which is v3 without
# emoji parsing (rb/test/conformance_test.rb: "Force v2 configuration"): there "👨‍👩‍👧‍👦" weighs 7.
V2 = dataclasses.replace(V3, version=2, emoji_parsing_enabled=False)


@dataclass(frozen=True)
class Case:
    text: str
    expected: Any


@dataclass(frozen=True)
class Missing:
    """Stands in for the cases when the data is absent, so the test fails instead of vanishing."""

    error: str


def load(name: str) -> Any:
    with (CONFORMANCE_DIR / name).open(encoding="utf-8") as f:
        return json.load(f) if name.endswith(".json") else yaml.safe_load(f)


def cases(name: str, *sections: str) -> list[Any]:
    try:
        data = load(name)
    except OSError as exc:
        return [pytest.param(Missing(str(exc)), id=f"{name}-missing")]
    return [
        pytest.param(Case(c["text"], c["expected"]), id=f"{section}: {c['description']}")
        for section in sections
        for c in data["tests"][section]
    ]


def case_of(param: Case | Missing) -> Case:
    if isinstance(param, Missing):
        fail_missing(param.error)
    return param


def load_or_fail(name: str) -> Any:
    try:
        return load(name)
    except OSError as exc:
        error = str(exc)
    fail_missing(error)  # outside the except block, so the report is just our message


def fail_missing(error: str) -> NoReturn:
    pytest.fail(
        f"twitter-text conformance data not found ({error}). Check out the shared "
        f"directory at {CONFORMANCE_DIR} or point SOCIALBOT_CONFORMANCE_DIR at it.",
        pytrace=False,
    )


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
