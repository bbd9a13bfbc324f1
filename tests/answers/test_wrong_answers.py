"""Questions the shipped answers.yaml must not answer with the wrong entry (review of issue 19):
a phrase as general as "need a permit" asks about any permit, not only a building's."""

from __future__ import annotations

import pytest

from socialbot.answers import Answers


@pytest.mark.parametrize(
    "text",
    [
        "@City do I need a permit for a yard sale?",
        "@City do I need a permit for a block party?",
        "@City do I need a permit to put a dumpster on the street?",
        "@City do I need a permit for a food truck?",
        "@City necesito un permiso para una fiesta en la calle?",
    ],
)
def test_a_permit_that_is_not_a_buildings_gets_no_building_answer(
    shipped: Answers, text: str
) -> None:
    found = shipped.match(text)
    assert found is None or found.answer.key != "building_permit"


@pytest.mark.parametrize(
    "text",
    [
        "@City do I need a permit for a fence?",
        "@City how do I apply for a building permit",
        "@City necesito un permiso para una cerca en mi casa?",
    ],
)
def test_a_building_permit_question_is_still_answered(shipped: Answers, text: str) -> None:
    found = shipped.match(text)
    assert found is not None and found.answer.key == "building_permit"
