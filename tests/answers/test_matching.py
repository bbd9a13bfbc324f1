"""How a message is matched to an entry: what is read, what is refused, and the length check."""

from __future__ import annotations

from socialbot.answers import MAX_SCANNED, Answer, Answers, length_problems, message_words
from socialbot.networks.bluesky.rules import BLUESKY_TEXT
from socialbot.networks.mastodon.text import mastodon_text_rules
from socialbot.networks.x.rules import X_TEXT
from socialbot.text_rules import TextRules


def entry(key: str, en: tuple[str, ...], es: tuple[str, ...] = ("algo",), **more: str) -> Answer:
    return Answer(
        key, {"en": en, "es": es}, {"en": f"{key} answer", "es": f"{key} respuesta"}, **more
    )


ANSWERS = Answers(
    (
        entry("trash_day", ("trash day", "trash pickup"), ("dia de basura",)),
        entry("bulk_pickup", ("bulk trash pickup", "couch pickup"), ("recogen muebles",)),
        entry("snow_emergency", ("snow emergency",), ("emergencia de nieve",)),
        entry("street_sweeping", ("street sweeping",), ("barrido de calles",)),
    )
)


def key_for(text: str) -> str | None:
    found = ANSWERS.match(text)
    return found.answer.key if found is not None else None


def test_handles_links_and_hashtag_marks_are_not_words() -> None:
    assert message_words("@City @ana@mastodon.social #SnowEmergency https://t.co/x?a=1 ok") == (
        "snowemergency",
        "ok",
    )


def test_accents_and_case_are_folded_as_the_catalog_folds_hashtags() -> None:
    found = ANSWERS.match("@City ¿Qué DÍA DE BASURA tenemos?")
    assert found is not None and found.answer.key == "trash_day" and found.lang == "es"


def test_a_typo_or_a_hashtag_of_joined_words_still_matches() -> None:
    assert key_for("@City when is trash pikcup?") == "trash_day"
    assert key_for("@City #snowemergency where can I park?") == "snow_emergency"


def test_a_longer_phrase_wins_over_the_shorter_one_inside_it() -> None:
    assert key_for("@City when is bulk trash pickup?") == "bulk_pickup"


def test_two_entries_alike_go_to_staff() -> None:
    assert key_for("@City is street sweeping on during the snow emergency?") is None


def test_statements_reports_and_thanks_are_never_answered() -> None:
    assert key_for("@City street sweeping at 7am on a saturday is insane") is None
    assert key_for("@City my trash wasn't picked up on trash day?") is None
    assert key_for("@City thanks for the trash day info?") is None
    assert key_for("@City gracias, dia de basura?") is None


def test_a_question_by_its_first_verb_needs_no_question_mark() -> None:
    assert key_for("@City is street sweeping tomorrow") == "street_sweeping"
    assert key_for("@City street sweeping tomorrow") is None


def test_only_the_start_of_a_long_message_is_read() -> None:
    padding = "x " * (MAX_SCANNED // 2)
    assert key_for(padding + "when is trash day?") is None
    assert key_for("when is trash day? " + padding) == "trash_day"


def test_no_entries_no_words_no_answer() -> None:
    assert Answers(()).match("@City when is trash day?") is None
    assert key_for("") is None
    assert key_for("@City 🗑️🗑️?") is None


def long_answers() -> Answers:
    text = "a" * 270
    return Answers(
        (
            Answer(
                "long",
                {"en": ("long",), "es": ("largo",)},
                {"en": text, "es": text + " ñ"},
                link="https://www.example.gov/" + "p" * 40,
            ),
        )
    )


def test_length_problems_name_the_entry_language_network_and_limit() -> None:
    answers = long_answers()
    assert length_problems(answers, X_TEXT, with_link=False) == []
    assert length_problems(answers, BLUESKY_TEXT, with_link=True) == [
        "answers.yaml: entry 'long' (en) is 335 graphemes on Bluesky with its link, over its "
        "300; shorten it",
        "answers.yaml: entry 'long' (es) is 337 graphemes on Bluesky with its link, over its "
        "300; shorten it",
    ]


def test_a_network_that_names_its_resident_is_measured_with_the_longest_handle() -> None:
    tight = mastodon_text_rules(max_characters=300)
    assert length_problems(long_answers(), tight, with_link=False) == [
        "answers.yaml: entry 'long' (en) is 302 characters on Mastodon, over its 300; shorten it",
        "answers.yaml: entry 'long' (es) is 304 characters on Mastodon, over its 300; shorten it",
    ]


def test_every_shipped_answer_fits_every_network(shipped: Answers) -> None:
    rules: list[tuple[TextRules, bool]] = [
        (X_TEXT, False),  # X bills links: its answers go without theirs
        (mastodon_text_rules(), True),
        (BLUESKY_TEXT, True),
    ]
    for network, with_link in rules:
        assert length_problems(shipped, network, with_link=with_link) == [], network.network
