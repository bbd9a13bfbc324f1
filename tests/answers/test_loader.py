"""answers.yaml: the shipped file, and one exact line for each kind of mistake staff can make."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialbot import replies
from socialbot.answers import LONGEST_HANDLE, Answer, Answers, load_answers, parse_answers
from socialbot.catalog import Catalog, normalize_tag
from socialbot.errors import AnswersError
from socialbot.hashtags import extract_hashtags
from tests.answers.conftest import GOOD, error, write


def test_the_good_file_loads_in_order_with_its_link_and_category(
    tmp_path: Path, catalog: Catalog
) -> None:
    answers = load_answers(write(tmp_path, GOOD), catalog)
    assert [a.key for a in answers.entries] == ["trash_day", "library_hours"]
    trash = answers.get("trash_day")
    assert trash is not None
    assert trash.asks["es"] == ("dia de basura",)
    assert trash.category == "missed_trash"
    assert trash.text("es", with_link=False) == "La basura se recoge una vez por semana."
    assert trash.text("es") == (
        "La basura se recoge una vez por semana. https://www.example.gov/trash"
    )
    assert answers.get("library_hours") is not None
    assert answers.get("parking") is None


def test_an_answer_in_a_language_it_lacks_is_the_english_one() -> None:
    answer = Answer("hours", {"en": ("hours",)}, {"en": "Open 9 to 5."}, link=None)
    assert answer.text("es") == "Open 9 to 5."


def test_the_shipped_file_has_two_dozen_entries_in_both_languages(shipped: Answers) -> None:
    assert len(shipped.entries) >= 24
    for answer in shipped.entries:
        assert set(answer.texts) == {"en", "es"}, answer.key
        assert answer.asks["en"] and answer.asks["es"], answer.key
        assert answer.link is None or answer.link.startswith("https://www.example.gov/")


def test_each_hashtag_a_shipped_answer_names_reports_its_category(
    shipped: Answers, catalog: Catalog
) -> None:
    """ "post #missedtrash with a photo" must file the category the entry suggests."""
    for answer in shipped.entries:
        for lang, text in answer.texts.items():
            tags = extract_hashtags(text)
            if answer.category is None:
                assert not tags, (answer.key, lang)
                continue
            assert tags, (answer.key, lang)
            for tag in tags:
                found = catalog.match([tag])
                assert found is not None and found.category.key == answer.category, (tag, lang)
                assert normalize_tag(tag) == normalize_tag(found.hashtag)


def test_length_checks_address_the_same_handle_as_the_reply_templates() -> None:
    assert LONGEST_HANDLE == replies.LONGEST_HANDLE


def test_an_empty_list_is_no_answers_at_all(tmp_path: Path, catalog: Catalog) -> None:
    answers = load_answers(write(tmp_path, "version: 1\nanswers:\n"), catalog)
    assert answers.entries == ()
    assert answers.match("@City when is trash day?") is None


def test_the_same_bytes_are_parsed_once(tmp_path: Path, catalog: Catalog) -> None:
    path = write(tmp_path, GOOD)
    assert load_answers(path, catalog) is load_answers(path, catalog)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "    link: https://www.example.gov/trash",
            "    lnik: https://www.example.gov/trash",
            "DIR/answers.yaml:10: unknown field 'lnik' in entry 'trash_day' "
            "(expected one of: key, asks, answer, link, category)",
        ),
        (
            "      es: La biblioteca abre de 9 a 5.\n",
            "",
            "DIR/answers.yaml:17: missing language 'es' in answer of entry 'library_hours' "
            "(give en and es)",
        ),
        (
            "      es: [horario de la biblioteca]\n",
            "",
            "DIR/answers.yaml:14: missing language 'es' in asks of entry 'library_hours' "
            "(give en and es)",
        ),
        (
            "key: library_hours",
            "key: trash_day",
            "DIR/answers.yaml:12: entry key 'trash_day' is used twice (lines 3 and 12; "
            "keys must be unique)",
        ),
        (
            "key: library_hours",
            "key: Library Hours",
            "DIR/answers.yaml:12: entry key 'Library Hours' must be 1 to 40 of a-z, 0-9 and '_' "
            "(e.g. 'library_hours')",
        ),
        (
            "category: missed_trash",
            "category: missed_trsh",
            "DIR/answers.yaml:11: category 'missed_trsh' of entry 'trash_day' is not in the "
            "catalog (a key of hashtags.yaml, such as pothole, streetlight, sidewalk, "
            "traffic_signal, street_sign, snow_ice)",
        ),
        (
            "https://www.example.gov/trash",
            "http://www.example.gov/trash",
            "DIR/answers.yaml:10: link of entry 'trash_day' must be an https address like "
            "https://www.example.gov/trash, not 'http://www.example.gov/trash'",
        ),
        (
            "https://www.example.gov/trash",
            "no",  # a YAML 1.1 boolean, read as the text written
            "DIR/answers.yaml:10: link of entry 'trash_day' must be an https address like "
            "https://www.example.gov/trash, not 'no'",
        ),
        (
            "      es: [dia de basura]",
            "      es: []",
            "DIR/answers.yaml:6: asks.es of entry 'trash_day' is empty "
            "(list the ways residents ask)",
        ),
        (
            "[library hours]",
            "[library hours, Garbage Pickup]",
            "DIR/answers.yaml:14: phrase 'Garbage Pickup' in asks.en of entry 'library_hours' "
            "is already in entry 'trash_day' (line 5; keep it in one entry)",
        ),
        (
            "[library hours]",
            "[when is the library open on a sunday]",
            "DIR/answers.yaml:14: phrase 'when is the library open on a sunday' in asks.en of "
            "entry 'library_hours' is too long (at most 6 words and 80 characters: the words "
            "residents use, not a sentence)",
        ),
        (
            "[library hours]",
            "['🗑️']",
            "DIR/answers.yaml:14: phrase '🗑️' in asks.en of entry 'library_hours' has no word "
            "to match",
        ),
        (
            "      en: The library is open 9 to 5.",
            "      en:",
            "DIR/answers.yaml:17: answer.en of entry 'library_hours' is empty "
            "(write it, or remove the field)",
        ),
        (
            "      en: The library is open 9 to 5.",
            "      en: The library: open 9 to 5.",
            "DIR/answers.yaml:17: invalid YAML: mapping values are not allowed here "
            "(a ':' or '#' in a text needs the text in quotes)",
        ),
        (
            "version: 1",
            "version: 2",
            "DIR/answers.yaml:1: unsupported version '2' (this socialbot reads 'version: 1')",
        ),
        (
            "    category: missed_trash",
            "    category: missed_trash\n    link: https://www.example.gov/again",
            "DIR/answers.yaml:12: field 'link' appears twice in entry 'trash_day' "
            "(lines 10 and 12; keep one)",
        ),
    ],
    ids=[
        "unknown field",
        "missing answer language",
        "missing asks language",
        "duplicate key",
        "bad key",
        "unknown category",
        "http link",
        "boolean link",
        "empty asks",
        "phrase in two entries",
        "phrase too long",
        "phrase without a word",
        "empty answer",
        "yaml syntax",
        "version",
        "field twice",
    ],
)
def test_each_mistake_is_one_line_naming_the_file_and_line(
    tmp_path: Path, catalog: Catalog, old: str, new: str, message: str
) -> None:
    assert old in GOOD
    assert error(tmp_path, catalog, GOOD.replace(old, new, 1)) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "DIR/answers.yaml: the file is empty (it needs 'version: 1' and 'answers:')"),
        (
            "- trash_day\n",
            "DIR/answers.yaml:1: the top level must be a mapping with 'version' and 'answers', "
            "not a list",
        ),
        (
            "version: 1\nanswers: yes\n",
            "DIR/answers.yaml:2: 'answers' must be a list of entries ('- key: ...'), not 'yes'",
        ),
        (
            "answers: []\n",
            "DIR/answers.yaml:1: missing 'version' at the top level (add 'version: 1')",
        ),
    ],
    ids=["empty", "a list", "answers not a list", "no version"],
)
def test_a_file_of_the_wrong_shape(
    tmp_path: Path, catalog: Catalog, text: str, message: str
) -> None:
    assert error(tmp_path, catalog, text) == message


def test_a_missing_file_names_the_setting(tmp_path: Path, catalog: Catalog) -> None:
    with pytest.raises(AnswersError) as caught:
        load_answers(tmp_path / "nowhere.yaml", catalog)
    assert str(caught.value) == (
        f"{tmp_path}/nowhere.yaml: file not found (check the 'answers' setting, SOCIALBOT_ANSWERS)"
    )


def test_a_file_not_in_utf8_names_its_line(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "answers.yaml"
    path.write_bytes(GOOD.encode().replace(b"dia de basura", b"d\xeda de basura"))
    with pytest.raises(AnswersError) as caught:
        load_answers(path, catalog)
    assert str(caught.value) == f"{path}:6: byte 0xed is not UTF-8 (save the file as UTF-8)"


def test_parse_answers_checks_the_catalog_it_is_given(catalog: Catalog) -> None:
    smaller = Catalog(tuple(c for c in catalog.categories if c.key != "missed_trash"))
    parse_answers(GOOD, Path("answers.yaml"), catalog)
    with pytest.raises(AnswersError, match=r"answers\.yaml:11: category 'missed_trash'"):
        parse_answers(GOOD, Path("answers.yaml"), smaller)
