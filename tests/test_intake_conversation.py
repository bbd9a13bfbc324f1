"""`intake.decide` on a conversing network (`IntakeRules.converses`, SMS), pure: a whole text
as a keyword, a problem in plain words, the menu and its choice, the number's waiting case as
its thread; and any text at all is a Decision, a STOP never answered (hypothesis)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from socialbot.catalog import load_catalog
from socialbot.config import SHIPPED_HASHTAGS
from socialbot.domain import (
    CaseStatus,
    GeoPoint,
    InboxReason,
    Location,
    LocationSource,
    Media,
    MediaType,
    Mention,
    MentionOutcome,
    Reply,
)
from socialbot.intake import (
    Alerts,
    Conversation,
    Decision,
    IntakeRules,
    PendingMenu,
    Standing,
    ThreadCase,
    decide,
)
from socialbot.sms.keywords import KeywordKind
from tests.sms.texting import districts

CATALOG = load_catalog(SHIPPED_HASHTAGS)
SMS = IntakeRules(
    catalog=CATALOG, own_user_id="+16175550100", districts=districts(), converses=True
)
PUBLIC = IntakeRules(catalog=CATALOG, own_user_id="city")
NUMBER = "+16175552001"
WHERE = "42.3601, -71.0589"
MENU = PendingMenu(
    inbox_id=7,
    text="there is a big hole here",
    lang="es",
    location=Location(GeoPoint(42.36, -71.06), LocationSource.TEXT),
    photo_urls=("https://api.twilio.com/m/1",),
)


def text(body: str, *, photos: int = 0) -> Mention:
    return Mention(
        platform="sms",
        post_id="SM" + "0" * 31 + "1",
        author_id=NUMBER,
        author_username=None,
        text=body,
        created_at=datetime(2026, 11, 23, 12, tzinfo=UTC),
        media=tuple(
            Media(f"SM1/{i}", MediaType.PHOTO, f"https://api.twilio.com/p/{i}", None)
            for i in range(photos)
        ),
        reply_context=NUMBER,
        public=False,
    )


def waiting(status: CaseStatus = CaseStatus.NEEDS_LOCATION) -> ThreadCase:
    return ThreadCase(41, status, NUMBER, "streetlight", "en", located=False)


@pytest.mark.parametrize(
    "word",
    ["STOP", "stop.", "Unsubscribe", "STOP ALL", "opt-out", "quit", "STOP ALERTS", "alerts off"],
)
def test_stop_records_its_consent_and_is_never_answered(word: str) -> None:
    decision = decide(text(word), SMS)
    assert decision.outcome is MentionOutcome.KEYWORD
    assert decision.keyword is not None and decision.keyword.kind is KeywordKind.STOP
    assert decision.reply is None and decision.inbox is None


def test_start_replies_even_after_stop_and_other_keywords_then_do_not() -> None:
    stopped = Standing(stopped=True)
    start = decide(text("unstop"), SMS, author=stopped)
    assert (start.reply, start.keyword and start.keyword.kind) == (Reply.STARTED, KeywordKind.START)
    yes = decide(text("YES"), SMS, author=stopped)
    assert yes.reply is Reply.STARTED
    for word in ("HELP", "STATUS", "ALERTS", "pothole " + WHERE, "hello"):
        decision = decide(text(word), SMS, author=stopped)
        assert decision.reply is None, word
        assert "said STOP" in decision.detail


def test_yes_from_a_number_that_never_stopped_is_read_as_any_text() -> None:
    decision = decide(text("yes"), SMS)
    assert decision.keyword is None
    assert decision.reply is Reply.MENU


@pytest.mark.parametrize(("word", "lang"), [("HELP", "en"), ("info", "en"), ("Ayuda!", "es")])
def test_help_is_answered_in_its_words_language(word: str, lang: str) -> None:
    decision = decide(text(word), SMS)
    assert (decision.outcome, decision.reply, decision.lang) == (
        MentionOutcome.KEYWORD,
        Reply.ABOUT,
        lang,
    )


def test_status_is_about_the_newest_case_without_changing_it() -> None:
    none = decide(text("STATUS"), SMS, conversation=Conversation())
    assert none.reply is Reply.NO_CASE and none.about_case is None
    case = ThreadCase(9, CaseStatus.IN_PROGRESS, NUMBER, "pothole", "en", located=True)
    told = decide(text("¿Estado?"), SMS, conversation=Conversation(newest_case=case))
    assert (told.reply, told.about_case, told.lang, told.follow_up_case) == (
        Reply.STATUS,
        9,
        "es",
        None,
    )
    assert told.category is not None and told.category.key == "pothole"


@pytest.mark.parametrize(
    ("body", "alerts", "reply", "lang"),
    [
        ("ALERTS", Alerts(None), Reply.ALERTS_ON, "en"),
        ("alerts dorchester", Alerts("Dorchester"), Reply.ALERTS_ON, "en"),
        ("ALERTAS Allston Brighton!", Alerts("Allston-Brighton"), Reply.ALERTS_ON, "es"),
        ("alertas báck bay", Alerts("Back Bay"), Reply.ALERTS_ON, "es"),
        ("ALERTS Springfield", None, Reply.ALERTS_UNKNOWN, "en"),
    ],
)
def test_alerts_match_the_citys_districts_folded(
    body: str, alerts: Alerts | None, reply: Reply, lang: str
) -> None:
    decision = decide(text(body), SMS)
    assert (decision.alerts, decision.reply, decision.lang) == (alerts, reply, lang)


def test_alerts_with_a_district_in_a_city_without_districts_subscribe_nothing() -> None:
    rules = IntakeRules(catalog=CATALOG, own_user_id="+1", converses=True)
    decision = decide(text("ALERTS Dorchester"), rules)
    assert (decision.alerts, decision.reply) == (None, Reply.ALERTS_UNKNOWN)


@pytest.mark.parametrize(
    ("body", "category"),
    [
        ("pothole", "pothole"),
        ("Bache en la calle Main", "pothole"),
        ("streetlight out on Elm St", "streetlight"),
        ("#graffiti", "graffiti"),
    ],
)
def test_a_text_names_its_problem_in_plain_words(body: str, category: str) -> None:
    decision = decide(text(body), SMS)
    assert decision.outcome is MentionOutcome.NEEDS_LOCATION
    assert decision.category is not None and decision.category.key == category


def test_one_word_is_no_report_on_a_public_network() -> None:
    assert decide(text("pothole"), PUBLIC).category is None


def test_a_text_naming_no_problem_gets_the_menu_and_waits_with_what_it_carries() -> None:
    decision = decide(text(f"something is wrong here {WHERE}", photos=1), SMS)
    assert (decision.outcome, decision.reply, decision.inbox) == (
        MentionOutcome.UNCLASSIFIED,
        Reply.MENU,
        InboxReason.MENU,
    )
    assert decision.location is not None and decision.photo_urls


def test_a_question_or_a_thanks_gets_no_menu() -> None:
    assert decide(text("when is the trash picked up?"), SMS).reply is not Reply.MENU
    assert decide(text("thanks!"), SMS).reply is None


def test_a_choice_files_the_text_that_got_the_menu() -> None:
    decision = decide(text("1", photos=1), SMS, conversation=Conversation(menu=MENU))
    assert decision.outcome is MentionOutcome.CASE_OPENED and decision.reply is Reply.FILED
    assert decision.category is not None and decision.category.key == "pothole"
    assert (decision.menu_inbox, decision.description, decision.lang) == (
        7,
        "there is a big hole here",
        "es",
    )
    assert decision.location == MENU.location
    assert decision.photo_urls == ("https://api.twilio.com/m/1", "https://api.twilio.com/p/0")


def test_a_choice_without_a_location_waits_for_one_and_past_the_menu_is_no_choice() -> None:
    menu = PendingMenu(inbox_id=3, text="help me", lang="en")
    decision = decide(text("6"), SMS, conversation=Conversation(menu=menu))
    assert decision.outcome is MentionOutcome.NEEDS_LOCATION
    assert decision.category is not None and decision.category.key == "downed_tree"
    beyond = decide(text("7"), SMS, conversation=Conversation(menu=menu))
    assert beyond.keyword is None and beyond.reply is Reply.MENU
    no_menu = decide(text("1"), SMS)
    assert no_menu.keyword is None and no_menu.reply is Reply.MENU


def test_a_location_completes_the_case_that_waits_for_it() -> None:
    decision = decide(text(f"at {WHERE}"), SMS, waiting())
    assert (decision.outcome, decision.follow_up_case, decision.reply) == (
        MentionOutcome.FOLLOW_UP,
        41,
        Reply.FILED,
    )
    same = decide(text(f"the streetlight is at {WHERE}"), SMS, waiting())
    assert same.follow_up_case == 41


def test_a_new_problem_while_a_case_waits_opens_its_own() -> None:
    decision = decide(text(f"graffiti {WHERE}"), SMS, waiting())
    assert decision.outcome is MentionOutcome.CASE_OPENED and decision.follow_up_case is None
    assert decision.category is not None and decision.category.key == "graffiti"
    unlocated = decide(text("streetlight out"), SMS, waiting())
    assert unlocated.follow_up_case is None
    assert unlocated.outcome is MentionOutcome.NEEDS_LOCATION


def test_a_keyword_while_a_case_waits_is_the_keyword() -> None:
    decision = decide(
        text("status"), SMS, waiting(), conversation=Conversation(newest_case=waiting())
    )
    assert (decision.reply, decision.about_case, decision.follow_up_case) == (
        Reply.STATUS,
        41,
        None,
    )


def test_no_keyword_on_a_network_that_does_not_converse() -> None:
    decision = decide(text("STOP"), PUBLIC)
    assert decision.keyword is None and decision.outcome is not MentionOutcome.KEYWORD


_STANDINGS = st.builds(Standing, stopped=st.booleans(), cases_today=st.integers(0, 12))
_CONVERSATIONS = st.builds(
    Conversation,
    newest_case=st.none() | st.just(waiting(CaseStatus.NEW)),
    menu=st.none() | st.just(MENU),
)


@settings(deadline=None)  # the first examples compile the catalog's regexes: slow under load
@given(
    body=st.text(max_size=200)
    | st.sampled_from(["STOP", "start", "yes", "HELP", "ayuda", "ALERTS", "1", "9", "estado"])
    .flatmap(lambda w: st.tuples(st.just(w), st.text(max_size=20)))
    .map(lambda p: p[0] + p[1]),
    author=_STANDINGS,
    conversation=_CONVERSATIONS,
    thread=st.none() | st.just(waiting()),
)
def test_any_text_is_a_decision_and_a_stop_is_never_answered(
    body: str, author: Standing, conversation: Conversation, thread: ThreadCase | None
) -> None:
    decision = decide(text(body), SMS, thread, author, conversation=conversation)
    assert isinstance(decision, Decision)
    kind = decision.keyword.kind if decision.keyword is not None else None
    if kind is KeywordKind.STOP:
        assert decision.reply is None and decision.category is None
    if author.stopped and kind is not KeywordKind.START:
        assert decision.reply is None
    if decision.alerts is not None and decision.alerts.district is not None:
        assert decision.alerts.district in districts().names


def test_a_stop_is_honoured_from_a_blocked_number_and_from_before_the_first_poll() -> None:
    # Staff's block and the first poll's backfill window keep intake from answering; neither
    # may keep a STOP from being recorded (its decision's keyword is what the writer records).
    blocked = decide(text("STOP"), SMS, author=Standing(blocked=True))
    old = decide(
        text("stop"), dataclasses.replace(SMS, not_before=datetime(2027, 1, 1, tzinfo=UTC))
    )
    for decision in (blocked, old):
        assert decision.keyword is not None and decision.keyword.kind is KeywordKind.STOP
        assert decision.reply is None
    # Anything else from them is still ignored, START included (the number stays stopped:
    # we send less, never more).
    assert decide(text("START"), SMS, author=Standing(blocked=True)).keyword is None
    assert decide(text("pothole"), SMS, author=Standing(blocked=True)).outcome is (
        MentionOutcome.IGNORED
    )
