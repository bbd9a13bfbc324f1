"""Questions the shipped answers.yaml must not answer with the wrong entry (review of issue 19):
a phrase as general as "need a permit" asks about any permit, not only a building's."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialbot.answers import Answers
from socialbot.catalog import Catalog
from tests.answers.conftest import GOOD, error


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


@pytest.mark.parametrize(
    "written",
    ["see https://www.example.gov/trash", "see www.example.gov/trash", "see example.gov/trash"],
)
def test_a_link_in_an_answers_text_is_refused(
    tmp_path: Path, catalog: Catalog, written: str
) -> None:
    """X bills a post with a link about 13 times a plain one, so an answer's link goes in
    `link:`, which X's answers leave out; one in the text would go out on every answer."""
    text = GOOD.replace("The library is open 9 to 5.", f"The library is open 9 to 5, {written}.")
    assert error(tmp_path, catalog, text) == (
        "DIR/answers.yaml:17: answer.en of entry 'library_hours' holds a link "
        f"({written.removeprefix('see ')}): put it in 'link:', which networks that bill "
        "links leave out"
    )


@pytest.mark.parametrize(
    "text",
    [
        "@City hola, donde pago un parking ticket?",
        "@City ¿cuándo es el trash day en mi calle?",
        "@City como pago el water bill?",
    ],
)
def test_asked_in_spanish_with_an_english_word_is_answered_in_spanish(
    shipped: Answers, text: str
) -> None:
    found = shipped.match(text)
    assert found is not None and found.lang == "es"


def test_asked_in_english_with_a_spanish_street_name_is_answered_in_english(
    shipped: Answers,
) -> None:
    found = shipped.match("@City when is trash day on La Grange St?")
    assert found is not None and found.lang == "en"
