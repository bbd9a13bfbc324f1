"""Messages in the inbox, as intake leaves them: a mention row and its inbox row, in a real
database; and the inbox the tests act on, built as `app.build_inbox` builds it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from socialbot.answers import Answers, load_answers
from socialbot.app import answer_links, text_rules
from socialbot.catalog import load_catalog
from socialbot.config import SHIPPED_ANSWERS, SHIPPED_HASHTAGS, SHIPPED_TEMPLATES, load_settings
from socialbot.domain import CaseStatus, InboxReason, InboxState, MentionOutcome
from socialbot.inbox import Filing, Inbox
from socialbot.intake import IntakeRules
from socialbot.location import parse_city_bounds
from socialbot.replies import Replies
from socialbot.sla import BusinessCalendar
from socialbot.store.db import transaction
from socialbot.store.models import Case, InboxItem, MentionRecord

BOSTON = parse_city_bounds("-71.191155,42.227926,-70.986078,42.399974")
EASTERN = ZoneInfo("America/New_York")
# 7:00 in Boston on a Monday; the tests' clock (tests.conftest.Clock) starts at 12:00 UTC.
RECEIVED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CATALOG = load_catalog(SHIPPED_HASHTAGS)
REPLIES = Replies.for_dirs(SHIPPED_TEMPLATES, SHIPPED_TEMPLATES)
ANSWERS = load_answers(SHIPPED_ANSWERS, CATALOG)
_POST_IDS = itertools.count(1859100000000000001)


def add_message(
    engine: Engine,
    text: str,
    *,
    network: str = "x",
    handle: str | None = "maria",
    author_id: str = "2001",
    lang: str | None = "en",
    reason: InboxReason = InboxReason.UNCLASSIFIED,
    priority: bool = False,
    case_id: int | None = None,
    received: datetime = RECEIVED,
    conversation_id: str | None = None,
    post_id: str | None = None,
    reply_context: str = "",
    public: bool = True,
    photo_urls: tuple[str, ...] = (),
) -> int:
    """A message waiting for staff; its inbox number."""
    with transaction(engine) as session:
        mention = MentionRecord(
            platform=network,
            account="intake",
            post_id=post_id or str(next(_POST_IDS)),
            author_id=author_id,
            author_username=handle,
            text=text,
            lang=lang,
            conversation_id=conversation_id,
            created_at=received,
            received_at=received,
            outcome=MentionOutcome.FOLLOW_UP if case_id else MentionOutcome.UNCLASSIFIED,
            case_id=case_id,
            raw="{}",
            reply_context=reply_context,
        )
        session.add(mention)
        session.flush()
        assert mention.id is not None
        item = InboxItem(
            mention_id=mention.id,
            platform=network,
            account="intake",
            reason=reason,
            priority=priority,
            case_id=case_id,
            state=InboxState.OPEN,
            created_at=received,
            public=public,
            photo_urls=list(photo_urls),
        )
        session.add(item)
        session.flush()
        assert item.id is not None
        return item.id


def add_case(
    engine: Engine,
    *,
    network: str = "x",
    author_id: str = "2001",
    status: CaseStatus = CaseStatus.NEW,
    post_id: str = "1859000000000000001",
) -> int:
    """A pothole case the resident opened, with its opening mention."""
    with transaction(engine) as session:
        case = Case(
            category="pothole",
            department="Public Works – Highway",
            priority="normal",
            status=status,
            lat=42.35,
            lon=-71.06,
            location_source="exact",
            lang="en",
            platform=network,
            mention_post_id=post_id,
            author_id=author_id,
            author_username="maria",
            description="#pothole on Elm St",
            created_at=RECEIVED,
            updated_at=RECEIVED,
        )
        session.add(case)
        session.flush()
        assert case.id is not None
        session.add(
            MentionRecord(
                platform=network,
                account="intake",
                post_id=post_id,
                author_id=author_id,
                author_username="maria",
                text="@City #pothole on Elm St",
                lang="en",
                conversation_id=post_id,
                created_at=RECEIVED,
                received_at=RECEIVED,
                outcome=MentionOutcome.CASE_OPENED,
                case_id=case.id,
                raw="{}",
            )
        )
        return case.id


def inbox(engine: Engine, answers: Answers = ANSWERS) -> Inbox:
    """The inbox as the commands build it, on the city's shipped content, in Boston."""
    settings = load_settings()
    rules = IntakeRules(
        catalog=CATALOG,
        own_user_id="",
        bounds=BOSTON,
        calendar=BusinessCalendar(zone=EASTERN, country="US", subdivision="MA"),
    )
    return Inbox(
        engine=engine,
        text_rules=text_rules(settings),
        zone=EASTERN,
        answers=answers,
        answer_links={name: answer_links(name) for name in ("x", "mastodon", "bluesky")},
        filing=Filing(rules=rules, replies=REPLIES),
    )
