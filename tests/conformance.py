"""twitter-text's conformance data, read from the shared checkout and never copied.

The directory is ../shared/conformance/twitter-text/ beside the project root, or
$SOCIALBOT_TEST_CONFORMANCE_DIR. If it is missing the tests fail rather than skip, so a broken
checkout cannot pass CI silently.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
import yaml

CONFORMANCE_DIR = Path(
    os.environ.get("SOCIALBOT_TEST_CONFORMANCE_DIR")
    or Path(__file__).resolve().parents[2] / "shared/conformance/twitter-text"
)


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
    """One pytest param per case of `sections` in file `name`, named after its description."""
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
        f"directory at {CONFORMANCE_DIR} or point SOCIALBOT_TEST_CONFORMANCE_DIR at it.",
        pytrace=False,
    )
