"""Defects found in review (R2) of the inbox and the engagement figures, each shown as staff or a
council would meet it, against a real database where one is involved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from typer.testing import Result

from socialbot.cli import app
from socialbot.domain import InboxReason, InboxState, MentionOutcome
from socialbot.reports import InboxFacts, MessageFacts, engagement
from tests.cli.run import runner
from tests.inbox.made import RECEIVED, add_message, inbox
from tests.inbox.test_cli import city  # noqa: F401  (the fixture)

SINCE = datetime(2026, 11, 2, tzinfo=UTC)
UNTIL = datetime(2026, 11, 23, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def run(*args: str) -> Result:
    return runner.invoke(app, ["inbox", *args], catch_exceptions=False)


def test_an_unknown_network_is_refused_naming_the_networks(city: Engine) -> None:  # noqa: F811
    add_message(city, "@City why is my street never plowed?")
    result = run("list", "--network", "twitter")
    assert result.exit_code == 2, result.output
    said = " ".join(result.stderr.replace("│", " ").split())
    assert "'twitter' is not a network socialbot knows: x, mastodon, bluesky" in said
    assert run("list", "--network", "X").exit_code == 0


def test_a_reply_that_names_the_resident_already_is_not_addressed_twice(engine: Engine) -> None:
    item = add_message(engine, "@city hola?", network="mastodon", handle="Li@Example.social")
    draft = inbox(engine).draft_reply(item, "@li@example.social we are on it.", RECEIVED)
    assert draft.text == "@li@example.social we are on it."


def test_a_message_the_bot_and_staff_both_answered_counts_one_answer_each() -> None:
    """A question that says more (reason 'more') is answered by the bot and then by staff: the
    figures count answers, so it is one message in, one automatic answer and one staff answer."""
    received = SINCE + timedelta(days=1)
    figures = engagement(
        [MessageFacts("x", MentionOutcome.ANSWERED, received)],
        [
            InboxFacts(
                "x", InboxReason.MORE, InboxState.REPLIED, received, received + timedelta(hours=2)
            )
        ],
        since=SINCE,
        until=UNTIL,
        now=NOW,
    )
    total = figures.total
    assert (total.messages_in, total.answered_automatically, total.answered_by_staff) == (1, 1, 1)
    assert total.unanswered == 0
