"""socialbot.hashtags against twitter-text's own conformance cases (extract.yml).

The cases are read from the shared checkout, never copied (see tests/conformance.py).
"""

from __future__ import annotations

import pytest

from socialbot.hashtags import HashtagSpan, extract_hashtags, extract_hashtags_with_indices
from tests.conformance import Case, Missing, case_of, cases


@pytest.mark.parametrize("param", cases("extract.yml", "hashtags"))
def test_hashtags(param: Case | Missing) -> None:
    case = case_of(param)
    assert extract_hashtags(case.text) == case.expected


@pytest.mark.parametrize("param", cases("extract.yml", "hashtags_from_astral"))
def test_hashtags_from_astral(param: Case | Missing) -> None:
    case = case_of(param)
    assert extract_hashtags(case.text) == case.expected


@pytest.mark.parametrize("param", cases("extract.yml", "hashtags_with_indices"))
def test_hashtags_with_indices(param: Case | Missing) -> None:
    case = case_of(param)
    expected = [HashtagSpan(e["hashtag"], *e["indices"]) for e in case.expected]
    assert extract_hashtags_with_indices(case.text) == expected
