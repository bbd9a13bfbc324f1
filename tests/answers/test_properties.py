"""Whatever staff save as answers.yaml and whatever residents post, nothing but one line or a
match comes out: the loader raises only AnswersError, in one line naming the file, and `match`
never raises."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialbot.answers import Answers, parse_answers
from socialbot.catalog import Catalog
from socialbot.errors import AnswersError
from tests.answers.conftest import GOOD

PATH = Path("/etc/socialbot/answers.yaml")

# Pieces a hand-edited file is made of, so that many mutations get past the YAML parser and into
# the validation: field names right and wrong, languages, YAML's odd scalars, keys, links.
PIECES = st.sampled_from(
    [
        "version: 1\n",
        "answers:\n",
        "  - key: ",
        "trash_day",
        "Trash Day",
        "\n",
        "    asks:\n",
        "      en: ",
        "      es: ",
        "      fr: ",
        "[trash day]",
        "[]",
        "[#x]",
        "    answer:\n",
        "    link: ",
        "https://www.example.gov/x",
        "http://x",
        "no",
        "~",
        "    category: ",
        "missed_trash",
        "nope",
        "&a ",
        "*a",
        "<<: *a\n",
        "!!binary aGk=",
        "{",
        "}",
        ": ",
        "- ",
        "'",
        '"',
        "\t",
        "\x00",
        "\ufeff",
        "0x1F",
        "1e3",
        "yes",
        ".nan",
        "\u202e",
        "🗑️",
    ]
)
DOCUMENTS = st.one_of(
    st.text(max_size=400),
    st.lists(PIECES, max_size=40).map("".join),
    st.builds(
        lambda cut, insert, at: GOOD[:at] + insert + GOOD[at + cut :],
        st.integers(0, 20),
        st.one_of(PIECES, st.text(max_size=20)),
        st.integers(0, len(GOOD)),
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_any_file_is_answers_or_one_line_naming_it(catalog: Catalog, text: str) -> None:
    try:
        answers = parse_answers(text, PATH, catalog)
    except AnswersError as exc:
        message = str(exc)
        assert message.startswith(f"{PATH}:") or message.startswith(f"{PATH}: ")
        assert "\n" not in message and "\r" not in message
    else:
        assert isinstance(answers, Answers)


MESSAGES = st.one_of(
    st.text(max_size=600),
    st.lists(
        st.sampled_from(
            [
                "@City",
                "#",
                "#snowemergency",
                "trash",
                "day",
                "when",
                "?",
                "¿",
                "dia",
                "de",
                "basura",
                "https://t.co/a",
                "www.",
                "@",
                "\uff03",  # the full-width number sign
                "ñ",
                "İ",
                "ß",
                "\u0301",
                "🗑️",
                "\x00",
                "\ud800",
                " ",
                "thanks",
                "bulk",
                "pickup",
                "x" * 300,
            ]
        ),
        max_size=80,
    ).map(" ".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(MESSAGES)
def test_match_never_raises_and_scores_within_bounds(shipped: Answers, text: str) -> None:
    # The body `match` guards: a bug must show here, not be hidden as "no answer".
    found = shipped._match(text)
    if found is not None:
        assert 0 <= found.score <= 100
        assert found.lang in ("en", "es")
        assert shipped.get(found.answer.key) is found.answer
