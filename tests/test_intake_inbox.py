"""What intake does with a message that is not a report: answered from answers.yaml, left alone
(a thank-you), or kept for staff in the inbox; and storm posts read for the catalog's words."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialbot.answers import Answer, Answers
from socialbot.catalog import Catalog, load_catalog
from socialbot.config import SHIPPED_HASHTAGS
from socialbot.domain import (
    CaseStatus,
    InboxReason,
    MentionOutcome,
    Reply,
    StormMode,
)
from socialbot.intake import IntakeRules, ThreadCase, decide
from tests.test_intake import BOSTON, CITY, mention

TRASH_DAY = Answer(
    key="trash_day",
    asks={
        "en": ("when is trash pickup", "trash day", "garbage collection day"),
        "es": ("cuando pasa la basura", "dia de la basura"),
    },
    texts={
        "en": "Trash and recycling are picked up once a week; find your day by address:",
        "es": "La basura y el reciclaje se recogen una vez por semana; busque su día:",
    },
    link="https://www.example.gov/trash-day",
    category="missed_trash",
)
SNOW_PARKING = Answer(
    key="snow_parking",
    asks={"en": ("where can i park during a snow emergency",), "es": ("donde estacionar nieve",)},
    texts={"en": "During a snow emergency park in a city garage.", "es": "Estacione en un garaje."},
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SHIPPED_HASHTAGS)


@pytest.fixture
def rules(catalog: Catalog) -> IntakeRules:
    return IntakeRules(
        catalog=catalog,
        own_user_id=CITY,
        bounds=BOSTON,
        answers=Answers(entries=(TRASH_DAY, SNOW_PARKING)),
    )


def case_thread(lang: str = "en", status: CaseStatus = CaseStatus.NEW) -> ThreadCase:
    return ThreadCase(
        case_id=41, status=status, author_id="2001", category_key="pothole", lang=lang, located=True
    )


def test_a_common_question_is_answered_from_answers_yaml(rules: IntakeRules) -> None:
    decision = decide(mention("@City when is trash pickup in Dorchester?"), rules)
    assert decision.outcome is MentionOutcome.ANSWERED
    assert decision.reply is Reply.ANSWER
    assert decision.answer_key == "trash_day"
    assert decision.inbox is None
    assert decision.lang == "en"


def test_a_question_asked_in_spanish_is_answered_in_spanish(rules: IntakeRules) -> None:
    decision = decide(mention("@City cuando pasa la basura en mi calle?", lang=None), rules)
    assert (decision.answer_key, decision.lang) == ("trash_day", "es")


def test_a_question_no_entry_answers_waits_for_staff_without_a_reply(rules: IntakeRules) -> None:
    decision = decide(mention("@City why did my tax bill go up so much?"), rules)
    assert decision.outcome is MentionOutcome.UNCLASSIFIED
    assert decision.reply is None  # never a guess, and not the hashtag list either
    assert decision.inbox is InboxReason.QUESTION


def test_a_message_that_is_neither_gets_the_help_reply_and_waits_for_staff(
    rules: IntakeRules,
) -> None:
    decision = decide(mention("@City the bus stop on Elm is a mess"), rules)
    assert decision.reply is Reply.HELP
    assert decision.inbox is InboxReason.UNCLASSIFIED


@pytest.mark.parametrize("text", ["@City thanks!", "@City ¡Muchas gracias! 👍", "@City 🙏"])
def test_a_thank_you_is_left_alone(rules: IntakeRules, text: str) -> None:
    decision = decide(mention(text, in_reply_to_user_id=CITY), rules)
    assert decision.outcome is MentionOutcome.UNCLASSIFIED
    assert decision.reply is None and decision.inbox is None


def test_a_reply_to_us_that_names_no_category_waits_for_staff_without_the_help_reply(
    rules: IntakeRules,
) -> None:
    decision = decide(
        mention("@City it's the third time this month", in_reply_to_user_id=CITY), rules
    )
    assert decision.reply is None
    assert decision.inbox is InboxReason.UNCLASSIFIED


def test_a_free_comment_in_a_cases_thread_waits_for_staff(rules: IntakeRules) -> None:
    decision = decide(mention("@City can you also fix the sidewalk?"), rules, case_thread())
    assert decision.outcome is MentionOutcome.FOLLOW_UP
    assert decision.reply is None  # not the canned status reply: it asks something new
    assert decision.inbox is InboxReason.COMMENT
    assert decision.follow_up_case == 41


def test_a_thank_you_in_a_cases_thread_is_only_kept_on_the_case(rules: IntakeRules) -> None:
    decision = decide(mention("@City thank you so much!"), rules, case_thread())
    assert decision.outcome is MentionOutcome.FOLLOW_UP
    assert decision.reply is None and decision.inbox is None


@pytest.mark.parametrize(
    "text", ["@City status?", "@City any update?", "@City when will it be fixed?"]
)
def test_a_status_question_in_a_cases_thread_gets_the_status(rules: IntakeRules, text: str) -> None:
    decision = decide(mention(text), rules, case_thread())
    assert decision.reply is Reply.STATUS
    assert decision.inbox is None


@pytest.mark.parametrize("text", ["@City ¿estado?", "@City ¿cuándo lo arreglan?"])
def test_a_status_question_in_spanish_is_answered_in_spanish(rules: IntakeRules, text: str) -> None:
    decision = decide(mention(text, lang=None), rules, case_thread(lang="en"))
    assert (decision.reply, decision.lang) == (Reply.STATUS, "es")


def test_a_status_question_the_network_says_is_spanish_is_answered_in_spanish(
    rules: IntakeRules,
) -> None:
    decision = decide(mention("@City status?", lang="es"), rules, case_thread(lang="en"))
    assert decision.lang == "es"


STORM = StormMode(name="Sandy", hashtag="BoSandy")


def test_a_storm_post_is_read_for_the_catalogs_words(rules: IntakeRules) -> None:
    storming = IntakeRules(**{**_fields(rules), "storm": STORM})
    decision = decide(mention("@City #BoSandy tree down on Elm St"), storming)
    assert decision.outcome is MentionOutcome.NEEDS_LOCATION
    assert decision.category is not None and decision.category.key == "downed_tree"
    assert "storm post" in decision.detail


def test_a_storm_post_whose_problem_cannot_be_told_waits_first_in_line(rules: IntakeRules) -> None:
    storming = IntakeRules(**{**_fields(rules), "storm": STORM})
    decision = decide(mention("@City #BoSandy our street is a disaster"), storming)
    assert decision.inbox is InboxReason.STORM and decision.inbox_priority
    assert decision.reply is Reply.HELP


def test_a_storm_question_is_not_read_as_a_report(rules: IntakeRules) -> None:
    storming = IntakeRules(**{**_fields(rules), "storm": STORM})
    decision = decide(mention("@City #BoSandy is the park open tomorrow?"), storming)
    assert decision.category is None
    assert decision.inbox is InboxReason.STORM and decision.inbox_priority


def test_words_are_not_read_as_a_category_outside_a_storm(rules: IntakeRules) -> None:
    decision = decide(mention("@City tree down on Elm St"), rules)
    assert decision.category is None and decision.reply is Reply.HELP


def test_an_edit_of_a_question_already_kept_for_staff_is_not_kept_twice(
    rules: IntakeRules,
) -> None:
    decision = decide(mention("@City why is my tax bill so high??"), rules, edit=True)
    assert decision.inbox is None and decision.reply is None


def _fields(rules: IntakeRules) -> dict[str, object]:
    return {name: getattr(rules, name) for name in rules.__dataclass_fields__}


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=400),
    lang=st.sampled_from([None, "en", "es", "und"]),
    in_thread=st.booleans(),
    storm=st.booleans(),
)
def test_any_message_is_answered_kept_or_left_never_both(
    catalog: Catalog, text: str, lang: str | None, in_thread: bool, storm: bool
) -> None:
    rules = IntakeRules(
        catalog=catalog,
        own_user_id=CITY,
        answers=Answers(entries=(TRASH_DAY, SNOW_PARKING)),
        storm=STORM if storm else None,
    )
    decision = decide(mention(text, lang=lang), rules, case_thread() if in_thread else None)
    assert decision.lang in ("en", "es")
    if decision.outcome is MentionOutcome.ANSWERED:
        assert decision.reply is Reply.ANSWER and rules.answers is not None
        assert rules.answers.get(decision.answer_key or "") is not None
    assert (decision.reply is Reply.ANSWER) == (decision.answer_key is not None)
    if decision.inbox is InboxReason.MORE:  # answered, and staff see the rest
        assert decision.reply in (Reply.ANSWER, Reply.STATUS)
    elif decision.inbox is not None:
        assert decision.outcome in (MentionOutcome.UNCLASSIFIED, MentionOutcome.FOLLOW_UP)
        assert decision.reply in (None, Reply.HELP)
    assert decision.inbox_priority == (decision.inbox is InboxReason.STORM)
