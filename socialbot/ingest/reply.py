"""The reply a decision asks for, rendered from the templates about the case as it stood right
after the mention; the built-in fallback text when a template fails."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from socialbot.domain import Reply
from socialbot.errors import TemplateError
from socialbot.ingest.cases import (
    _CaseView,
)
from socialbot.ingest.context import Intake
from socialbot.intake import (
    Decision,
    IntakeRules,
)
from socialbot.replies import Rendered, ReplyContext, fallback_reply


def _reply_text(
    intake: Intake,
    rules: IntakeRules,
    decision: Decision,
    case: _CaseView | None,
    handle: str | None,
) -> Rendered | None:
    """The reply `decision` asks for, about `case` as it stood right after the mention, to
    `handle` (its author), by the rules of the mention's network; the built-in fallback text
    when its template fails (the report goes on, `status` shows it)."""
    if decision.reply is None:
        return None
    if decision.reply is Reply.ANSWER:
        return _answer_text(intake, rules, decision, handle)
    category = decision.category or (rules.catalog.find(case.category) if case else None)
    context = ReplyContext(
        case=case.id if case else None,
        category=category.name(decision.lang) if category else (case.category if case else None),
        status=case.status.value if case else None,
        hashtags=tuple(rules.catalog.featured_hashtags(decision.lang)),
        case_url=intake.case_url.replace("{case}", str(case.id))
        if intake.case_url and case
        else None,
        city=intake.city_name,
        district=decision.alerts.district if decision.alerts is not None else None,
        menu=tuple(c.name(decision.lang) for c in rules.catalog.menu())
        if decision.reply is Reply.MENU
        else (),
    )
    if decision.reply is Reply.ALERTS_UNKNOWN and rules.districts is not None:
        context = _with_districts(intake, decision, context, rules.districts.names)
    storm = None
    if rules.storm is not None and case is not None:
        known = rules.catalog.find(case.category)
        if intake.replies.gets_storm_line(decision.reply, known.priority if known else None):
            storm = rules.storm
    return intake.replies.render_or_fallback(
        decision.reply,
        decision.lang,
        context,
        intake.platform.text_rules,
        handle=handle,
        category_key=category.key if category else None,
        case_status=case.status if case else None,
        storm=storm,
    )


def _with_districts(
    intake: Intake, decision: Decision, context: ReplyContext, names: Sequence[str]
) -> ReplyContext:
    """`context` with as many of the city's district names as the reply fits, in file order."""
    assert decision.reply is not None
    for count in range(len(names), 0, -1):
        fuller = dataclasses.replace(context, districts=tuple(names[:count]))
        try:
            intake.replies.render(decision.reply, decision.lang, fuller, intake.platform.text_rules)
        except TemplateError:
            continue
        return fuller
    return context


def _answer_text(
    intake: Intake, rules: IntakeRules, decision: Decision, handle: str | None
) -> Rendered:
    """The entry of answers.yaml `decision` names, in its language, addressed to `handle` where
    the network needs it; without its link if only that makes it fit (a long handle); the
    built-in text when nothing fits (start-up checked every answer with the longest handle, so
    only a handle longer still gets here), and the message then waits for staff too."""
    answer = rules.answers.get(decision.answer_key or "") if rules.answers else None
    if answer is None:
        problem = f"answers.yaml has no entry {decision.answer_key!r} any more"
        return Rendered(fallback_reply(decision.lang, None, None), problem)
    text_rules = intake.platform.text_rules
    for with_link in dict.fromkeys((intake.answer_links, False)):
        text = text_rules.addressed(answer.text(decision.lang, with_link=with_link), handle)
        if text_rules.fits(text):
            return Rendered(text)
    length = text_rules.length(text)
    problem = (
        f"answers.yaml: entry {answer.key!r} ({decision.lang}) is {length} {text_rules.unit} "
        f"addressed to @{handle}, over {text_rules.network}'s {text_rules.limit}"
    )
    return Rendered(fallback_reply(decision.lang, None, None), problem)


def _failure(
    template: str, lang: str, case: _CaseView | None, rendered: Rendered, now: datetime
) -> dict[str, Any]:
    """The `template_failures` row of a reply sent as the fallback text (or without its storm
    line)."""
    return {
        "at": now,
        "template": template,
        "lang": lang,
        "case_id": case.id if case else None,
        "problem": (rendered.problem or "")[:1000],
    }


def reply_key(platform: str, post_id: str) -> str:
    """The outbox dedupe key of the one reply a post may ever get."""
    return f"reply:{platform}:{post_id}"
