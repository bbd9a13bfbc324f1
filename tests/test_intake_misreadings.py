"""Messages intake must not misread (review of issue 19): a storm notice is not a report, a
report or a nudge is not a thank-you or a status question, a Bluesky handle is not the resident's
words, Spanish is answered in Spanish whatever the network says, and an edit that opens a case
takes its post out of the inbox."""

from __future__ import annotations

import pytest
from sqlmodel import select

from socialbot.answers import Answers, load_answers
from socialbot.app import Service
from socialbot.catalog import Catalog, load_catalog
from socialbot.config import SHIPPED_ANSWERS, SHIPPED_HASHTAGS
from socialbot.domain import InboxReason, InboxState, MentionOutcome, Reply, StormMode
from socialbot.intake import IntakeRules, decide
from socialbot.store.db import transaction
from socialbot.store.models import InboxItem
from tests import xapi
from tests.test_edits import edited, poll
from tests.test_edits import service as service  # the fixture
from tests.test_intake_inbox import BOSTON, CITY, case_thread, mention

STORM = StormMode(name="Sandy", hashtag="BoSandy")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SHIPPED_HASHTAGS)


@pytest.fixture(scope="module")
def answers(catalog: Catalog) -> Answers:
    return load_answers(SHIPPED_ANSWERS, catalog)


@pytest.fixture
def rules(catalog: Catalog, answers: Answers) -> IntakeRules:
    return IntakeRules(catalog=catalog, own_user_id=CITY, bounds=BOSTON, answers=answers)


@pytest.fixture
def storming(catalog: Catalog, answers: Answers) -> IntakeRules:
    return IntakeRules(
        catalog=catalog, own_user_id=CITY, bounds=BOSTON, answers=answers, storm=STORM
    )


@pytest.mark.parametrize(
    "text",
    [
        "@City #BoSandy snow day, stay safe",
        "@City #BoSandy flooding expected tonight, stay home",
        "@City #BoSandy no trash pickup tomorrow",
        "@City #BoSandy parking ban in effect",
    ],
)
def test_a_storm_notice_is_not_a_report(storming: IntakeRules, text: str) -> None:
    decision = decide(mention(text), storming)
    assert not decision.opens_case and decision.category is None
    assert decision.inbox is InboxReason.STORM


def test_a_storm_report_in_words_still_files_a_case(storming: IntakeRules) -> None:
    for text in ("@City #BoSandy tree down on Elm St", "@City #BoSandy streetlight out on Elm St"):
        assert decide(mention(text), storming).opens_case, text


@pytest.mark.parametrize(
    "text",
    [
        "@City Update: the hole got bigger and a car lost a tire",
        "@City the status says closed but the pothole is still there",
    ],
)
def test_news_about_a_case_is_for_staff_not_a_status_question(
    rules: IntakeRules, text: str
) -> None:
    decision = decide(mention(text), rules, case_thread())
    assert decision.reply is None
    assert decision.inbox is InboxReason.COMMENT


@pytest.mark.parametrize("text", ["@City status", "@City #estado", "@City any update?"])
def test_a_bare_status_word_still_asks_for_the_status(rules: IntakeRules, text: str) -> None:
    assert decide(mention(text), rules, case_thread()).reply is Reply.STATUS


def test_a_bluesky_handle_is_not_the_residents_words(rules: IntakeRules) -> None:
    thanks = decide(
        mention("@boston.bsky.social thanks!", platform="bluesky"), rules, case_thread()
    )
    assert thanks.inbox is None and thanks.reply is None
    asks = decide(
        mention("@boston.bsky.social when will it be fixed", platform="bluesky"),
        rules,
        case_thread(),
    )
    assert asks.reply is Reply.STATUS


@pytest.mark.parametrize(
    "text", ["@City #BoSandy thank you to all the crews!", "@City thanks, #bosandy!"]
)
def test_a_storm_thank_you_is_left_alone(storming: IntakeRules, text: str) -> None:
    decision = decide(mention(text), storming)
    assert decision.reply is None and decision.inbox is None


def test_a_thank_you_with_a_hashtag_of_its_own_is_still_for_staff(storming: IntakeRules) -> None:
    decision = decide(mention("@City #BoSandy thanks #stillbroken"), storming)
    assert decision.inbox is InboxReason.STORM


@pytest.mark.parametrize("in_thread", [False, True])
def test_a_nudge_is_not_a_thank_you(rules: IntakeRules, in_thread: bool) -> None:
    decision = decide(
        mention("@City thanks, fix it already"), rules, case_thread() if in_thread else None
    )
    assert decision.inbox is not None


def test_a_message_in_spanish_gets_the_help_reply_in_spanish(rules: IntakeRules) -> None:
    decision = decide(mention("@City hola, hay un problema en mi calle", lang="en"), rules)
    assert (decision.reply, decision.lang) == (Reply.HELP, "es")


def test_an_edit_that_makes_a_post_a_report_takes_it_out_of_the_inbox(
    service: Service,
) -> None:
    poll(service, xapi.tweet(1, "@DemoCity311 big hole", coordinates=(42.35, -71.06)))
    (fate,) = poll(
        service, edited(2, of=1, text="@DemoCity311 big hole #pothole", coordinates=(42.35, -71.06))
    )

    assert fate[0] is MentionOutcome.CASE_OPENED
    with transaction(service.engine) as session:
        (item,) = session.exec(select(InboxItem))
    assert item.state is InboxState.DONE
    assert item.note == "the resident's edit made it a report: case #1"


def test_a_mastodon_handle_is_not_the_residents_words(rules: IntakeRules) -> None:
    thanks = mention("@city@mastodon.social thanks!", platform="mastodon")
    assert decide(thanks, rules, case_thread()).inbox is None


# A design change, left for the issue: an answer (from answers.yaml, or the case's status) and a
# place in the inbox are one or the other today, so what a message says besides its question is
# never seen by staff.
@pytest.mark.parametrize(
    "text",
    [
        "@City is it a snow emergency? my street hasn't been plowed",
        "@City is the library open? also the sidewalk is broken",
    ],
)
def test_a_question_that_also_reports_reaches_staff(rules: IntakeRules, text: str) -> None:
    decision = decide(mention(text), rules)
    assert decision.inbox is not None


def test_a_status_question_that_also_asks_for_more_reaches_staff(rules: IntakeRules) -> None:
    text = "@City any update? also the sidewalk next to it is cracked"
    decision = decide(mention(text), rules, case_thread())
    assert decision.inbox is InboxReason.MORE
    assert decision.reply is Reply.STATUS
