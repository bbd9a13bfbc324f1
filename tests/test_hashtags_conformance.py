"""socialbot.hashtags against twitter-text's own conformance cases (extract.yml).

The cases are read from the shared checkout, never copied: ../shared/conformance/twitter-text/
relative to the project root, or $SOCIALBOT_CONFORMANCE_DIR. If they are missing the tests fail
rather than skip, so a broken checkout cannot pass CI silently.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from socialbot.hashtags import HashtagSpan, extract_hashtags, extract_hashtags_with_indices

CONFORMANCE_DIR = Path(
    os.environ.get("SOCIALBOT_CONFORMANCE_DIR")
    or Path(__file__).resolve().parents[2] / "shared/conformance/twitter-text"
)
EXTRACT_YML = CONFORMANCE_DIR / "extract.yml"


@dataclass(frozen=True)
class Case:
    text: str
    expected: Any


@dataclass(frozen=True)
class Missing:
    """Stands in for the cases when the data is absent, so the test fails instead of vanishing."""

    error: str


def cases(section: str) -> list[Any]:
    try:
        with EXTRACT_YML.open(encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except OSError as exc:
        return [pytest.param(Missing(str(exc)), id=f"{section}-data-missing")]
    return [
        pytest.param(Case(c["text"], c["expected"]), id=c["description"])
        for c in data["tests"][section]
    ]


def case_of(param: Case | Missing) -> Case:
    if isinstance(param, Missing):
        pytest.fail(
            f"twitter-text conformance data not found ({param.error}). Check out the shared "
            f"directory at {CONFORMANCE_DIR} or point SOCIALBOT_CONFORMANCE_DIR at it.",
            pytrace=False,
        )
    return param


@pytest.mark.parametrize("param", cases("hashtags"))
def test_hashtags(param: Case | Missing) -> None:
    case = case_of(param)
    assert extract_hashtags(case.text) == case.expected


@pytest.mark.parametrize("param", cases("hashtags_from_astral"))
def test_hashtags_from_astral(param: Case | Missing) -> None:
    case = case_of(param)
    assert extract_hashtags(case.text) == case.expected


@pytest.mark.parametrize("param", cases("hashtags_with_indices"))
def test_hashtags_with_indices(param: Case | Missing) -> None:
    case = case_of(param)
    expected = [HashtagSpan(e["hashtag"], *e["indices"]) for e in case.expected]
    assert extract_hashtags_with_indices(case.text) == expected
