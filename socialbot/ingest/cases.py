"""The case rows a mention writes: the case it opens, the follow-up it applies, the duplicate it
links; and a case as `intake.decide` reads a thread."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from socialbot.domain import (
    CaseStatus,
    Mention,
)
from socialbot.ingest.context import INTAKE_ACTOR
from socialbot.intake import (
    Decision,
    IntakeRules,
    ThreadCase,
    due_at,
    route,
)
from socialbot.store.models import (
    Case,
)


@dataclass(slots=True)
class _CaseView:
    """A case as the reply about one mention tells it: as it stood right after that mention."""

    id: int | None  # None until a new case is written
    category: str
    status: CaseStatus


def _as_thread(case: Case, reporter: str | None = None) -> ThreadCase:
    """`case` as `intake.decide` reads a thread; `reporter`: whose follow-ups count as the
    reporter's (the case's author, unless said otherwise)."""
    assert case.id is not None
    return ThreadCase(
        case.id,
        case.status,
        reporter or case.author_id,
        case.category,
        case.lang,
        located=case.lat is not None,
        addressed=case.address is not None,
    )


def _add_photos(case: Case, mention: Mention, decision: Decision) -> None:
    """`mention`'s photos added to the case's, for staff; to its public ones only when anyone
    may see the post (a direct message's photo is never shown on the web)."""
    if decision.photo_urls:
        case.photo_urls = _with_photos(case.photo_urls, decision.photo_urls)
        if mention.public:
            case.public_photo_urls = _with_photos(case.public_photo_urls, decision.photo_urls)


def _photos_added(
    photos: Sequence[str], public: Sequence[str], mention: Mention, decision: Decision
) -> tuple[list[str] | None, list[str]]:
    """A case's photos and public photos with `mention`'s added, as `_add_photos` adds them;
    (None, …) when it brings none."""
    if not decision.photo_urls:
        return None, list(public)
    return _with_photos(photos, decision.photo_urls), (
        _with_photos(public, decision.photo_urls) if mention.public else list(public)
    )


def _link_to(mention: Mention, decision: Decision, case: Case, now: datetime) -> dict[str, Any]:
    """Count one more reporter on the (locked) case `mention` duplicates, add its photos; returns
    the row of the event saying so."""
    case.reporter_count += 1
    _add_photos(case, mention, decision)
    case.updated_at = now
    return _link_event(mention, decision, case.status, case.reporter_count, now)


def _link_event(
    mention: Mention, decision: Decision, status: CaseStatus, reporters: int, now: datetime
) -> dict[str, Any]:
    """The row of the event of `mention` linked to the case it duplicates, which now has
    `reporters` reporters."""
    who = f"@{mention.author_username}" if mention.author_username else mention.author_id
    return {
        "at": now,
        "actor": INTAKE_ACTOR,
        "from_status": status,
        "to_status": status,
        # "also reported by @li, 17 m away (3 reporters): <their post>"
        "note": f"also reported by {who}, {decision.duplicate_distance_m or 0:.0f} m away "
        f"({reporters} reporters): {mention.text}",
    }


def _apply_follow_up(
    mention: Mention, decision: Decision, case: Case, rules: IntakeRules, now: datetime
) -> dict[str, Any]:
    """Update the (locked) case `mention` follows up; returns the row of the event saying so."""
    before = case.status
    location = decision.location
    if location is not None and case.lat is None:
        case.lat, case.lon = location.point.lat, location.point.lon
        case.location_source = location.source.value
        category = rules.catalog.find(case.category)
        if category is not None:
            routing = route(category, location.point, rules)
            if case.department == category.department:  # staff's own assignment stays
                case.department = routing.department
            case.district, case.cell = routing.district, routing.cell
    if decision.address is not None and case.address is None:
        case.address = decision.address
    brought = (location is not None and case.lat is not None) or decision.address is not None
    if case.status is CaseStatus.NEEDS_LOCATION and brought:
        case.status = CaseStatus.NEW  # else staff already moved it on; keep their status
    _add_photos(case, mention, decision)
    case.updated_at = now
    who = f"@{mention.author_username}" if mention.author_username else mention.author_id
    event = {
        "at": now,
        "actor": who,
        "from_status": before,
        "to_status": case.status,
        "note": f"{decision.detail.split(': ', 1)[-1]}: {mention.text}",
    }
    return event


def _with_photos(photos: Sequence[str], added: Sequence[str]) -> list[str]:
    """`photos` and the `added` ones it lacks (an edit brings its post's photos again), as a new
    list: JSON columns see a change only as a new value."""
    return [*photos, *(url for url in dict.fromkeys(added) if url not in photos)]


def open_case(
    mention: Mention, decision: Decision, rules: IntakeRules, now: datetime
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The row of the case `mention` opens, and of its first event (less the case's number)."""
    assert decision.category is not None
    location = decision.location
    # An address in words with no point files the case too (see `intake`'s rule 4).
    located = location is not None or decision.address is not None
    status = CaseStatus.NEW if located else CaseStatus.NEEDS_LOCATION
    routing = route(decision.category, location.point if location else None, rules)
    case = {
        "category": decision.category.key,
        "department": routing.department,
        "district": routing.district,
        "cell": routing.cell,
        "due_at": due_at(decision.category, now, rules),
        "reporter_count": 1,
        "priority": decision.category.priority.value,
        "status": status,
        "lat": location.point.lat if location else None,
        "lon": location.point.lon if location else None,
        "location_source": location.source.value if location else "none",
        "place_name": mention.place.full_name if mention.place else None,
        "address": decision.address,
        "photo_urls": list(decision.photo_urls),
        "public_photo_urls": list(decision.photo_urls) if mention.public else [],
        "lang": decision.lang,
        "platform": mention.platform,
        "mention_post_id": mention.post_id,
        "author_id": mention.author_id,
        "author_username": mention.author_username,
        # A menu's choice files the words of the text that got the menu, not its "2".
        "description": decision.description if decision.description is not None else mention.text,
        "public": mention.public,
        "created_at": now,
        "updated_at": now,
    }
    event = {
        "at": now,
        "actor": INTAKE_ACTOR,
        "from_status": None,
        "to_status": status,
        "note": decision.detail,
    }
    return case, event
