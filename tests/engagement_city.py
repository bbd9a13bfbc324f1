"""A city's month of residents' messages, written straight into a real database: the mentions
intake recorded and the inbox items staff worked, each figure counted by hand below.

Times are before `now` (the moment the city is built). On X:

    m1-m3 case_opened (9 d, 8 d, 1 d ago), m4 needs_location (1 d)     reports filed: 4
    m5 duplicate (4 d)                                                 linked to a case: 1
    m6, m7 answered (6 d, 1 d)                                         answered automatically: 2
    m8 unclassified (10 d)  inbox A: replied 2 h later
    m9 follow_up (5 d)      inbox B (comment): answered from answers.yaml 30 min later
    m10 ignored, m11 malformed (3 d): not messages in
    m12 unclassified (2 d)  inbox D: done 1 h later (no reply)
    m13 unclassified (2 d)  inbox F (storm, priority): open
    m14 case_opened, m15 unclassified (40 d): outside a 30 d window; inbox E replied then
    messages in over 30 d: m1-m9, m12, m13 = 11

On Mastodon:

    n1 case_opened, n2 answered (2 d)
    n3 unclassified (3 d)   inbox C: filed as a case 26 h later
    n4 unclassified (50 d)  inbox G (question): open, the oldest
    messages in over 30 d: n1-n3 = 3

Over 30 d: 14 in, 5 filed, 1 linked, 3 answered automatically; staff answered 3 (30 min, 2 h,
26 h: median 2 h, p90 26 h), 1 closed without a reply; 2 unanswered now, the oldest 50 d.
Over 1 d: m3, m4, m7 in; no staff answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine

from socialbot.domain import InboxReason, InboxState, MentionOutcome
from socialbot.store.db import transaction
from socialbot.store.models import InboxItem, MentionRecord

DAY, HOUR = timedelta(days=1), timedelta(hours=1)
Out = MentionOutcome


def build(engine: Engine, now: datetime) -> None:
    """Write the city above into `engine`'s (migrated) database."""
    mentions = [
        ("x", "m1", Out.CASE_OPENED, 9 * DAY),
        ("x", "m2", Out.CASE_OPENED, 8 * DAY),
        ("x", "m3", Out.CASE_OPENED, DAY - HOUR),
        ("x", "m4", Out.NEEDS_LOCATION, DAY - HOUR),
        ("x", "m5", Out.DUPLICATE, 4 * DAY),
        ("x", "m6", Out.ANSWERED, 6 * DAY),
        ("x", "m7", Out.ANSWERED, DAY - HOUR),
        ("x", "m8", Out.UNCLASSIFIED, 10 * DAY),
        ("x", "m9", Out.FOLLOW_UP, 5 * DAY),
        ("x", "m10", Out.IGNORED, 3 * DAY),
        ("x", "m11", Out.MALFORMED, 3 * DAY),
        ("x", "m12", Out.UNCLASSIFIED, 2 * DAY),
        ("x", "m13", Out.UNCLASSIFIED, 2 * DAY),
        ("x", "m14", Out.CASE_OPENED, 40 * DAY),
        ("x", "m15", Out.UNCLASSIFIED, 40 * DAY),
        ("mastodon", "n1", Out.CASE_OPENED, 2 * DAY),
        ("mastodon", "n2", Out.ANSWERED, 2 * DAY),
        ("mastodon", "n3", Out.UNCLASSIFIED, 3 * DAY),
        ("mastodon", "n4", Out.UNCLASSIFIED, 50 * DAY),
    ]
    # post → (reason, state, answered after, priority); None: still open
    inbox: dict[str, tuple[InboxReason, InboxState, timedelta | None, bool]] = {
        "m8": (InboxReason.UNCLASSIFIED, InboxState.REPLIED, 2 * HOUR, False),
        "m9": (InboxReason.COMMENT, InboxState.ANSWERED, timedelta(minutes=30), False),
        "n3": (InboxReason.UNCLASSIFIED, InboxState.FILED, 26 * HOUR, False),
        "m12": (InboxReason.UNCLASSIFIED, InboxState.DONE, HOUR, False),
        "m15": (InboxReason.UNCLASSIFIED, InboxState.REPLIED, HOUR, False),
        "m13": (InboxReason.STORM, InboxState.OPEN, None, True),
        "n4": (InboxReason.QUESTION, InboxState.OPEN, None, False),
    }
    with transaction(engine) as session:
        for network, post, outcome, ago in mentions:
            received = now - ago
            record = MentionRecord(
                platform=network,
                account="intake",
                post_id=post,
                author_id="2001",
                author_username="maria",
                text="@City when is trash pickup?",
                created_at=received,
                received_at=received,
                outcome=outcome,
                raw="{}",
            )
            session.add(record)
            session.flush()
            if post not in inbox:
                continue
            reason, state, after, priority = inbox[post]
            assert record.id is not None
            session.add(
                InboxItem(
                    mention_id=record.id,
                    platform=network,
                    account="intake",
                    reason=reason,
                    priority=priority,
                    state=state,
                    created_at=received,
                    closed_at=received + after if after is not None else None,
                    closed_by="dana" if after is not None else None,
                )
            )
