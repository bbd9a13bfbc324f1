"""Mention → Decision: what to do with one inbound post. Pure: no I/O, no clock, no network.

The rules, in order:
1. our own posts and retweets are ignored (no case, no reply);
2. the category is the first hashtag the catalog knows; with none, a help reply lists the main
   hashtags (but a reply in one of our threads that names no category gets no help reply: it is a
   resident talking to us, and answering "thanks!" with a hashtag list would be absurd);
3. the location is the best of: exact coordinates, a small tagged place, a map link or coordinates
   in the text; a location outside the city bounds gets a polite reply and no case;
4. a located report opens a case ("filed"); one without a location opens a case waiting for one
   ("needs_location").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from socialbot.catalog import Catalog, Category
from socialbot.domain import Location, Mention, MentionOutcome, Reply
from socialbot.hashtags import extract_hashtags
from socialbot.location import CityBounds, best_location

# X's v2 `text` is 280 weighted characters plus a reply's leading @handles (long-post text is not
# requested). Scanning is capped anyway: URL detection is superlinear on pathological input, and
# one odd payload must never stall the poll job.
MAX_SCANNED_CHARS = 1_000


@dataclass(frozen=True, slots=True)
class IntakeRules:
    """Everything `decide` needs besides the mention, built once at start-up."""

    catalog: Catalog
    own_user_id: str
    bounds: CityBounds | None = None
    max_place_diagonal_m: float = 1000.0
    not_before: datetime | None = None  # set on an account's first poll (the backfill window)


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: MentionOutcome
    lang: str  # "en" or "es": the language of every reply about this mention
    reply: Reply | None = None
    category: Category | None = None
    location: Location | None = None
    photo_urls: tuple[str, ...] = ()
    detail: str = ""  # why, for the audit trail: the hashtag matched, the reason ignored

    @property
    def opens_case(self) -> bool:
        return self.outcome in (MentionOutcome.CASE_OPENED, MentionOutcome.NEEDS_LOCATION)


def decide(mention: Mention, rules: IntakeRules) -> Decision:
    """What socialbot does with `mention`; see the module docstring for the rules."""
    lang = "es" if (mention.lang or "").lower().startswith("es") else "en"
    if mention.author_id == rules.own_user_id:
        return Decision(MentionOutcome.IGNORED, lang, detail="our own post")
    if mention.is_retweet:
        return Decision(MentionOutcome.IGNORED, lang, detail="retweet")
    if rules.not_before is not None and mention.created_at < rules.not_before:
        return Decision(MentionOutcome.IGNORED, lang, detail="posted before socialbot started")

    text = mention.text[:MAX_SCANNED_CHARS]
    hashtags = mention.hashtags if mention.hashtags is not None else extract_hashtags(text)
    match = rules.catalog.match(hashtags)
    if match is None:
        in_our_thread = mention.in_reply_to_user_id == rules.own_user_id
        return Decision(
            MentionOutcome.UNCLASSIFIED,
            lang,
            reply=None if in_our_thread else Reply.HELP,
            detail="reply in our thread, no category"
            if in_our_thread
            else (
                "unknown hashtags: " + " ".join("#" + h for h in hashtags)
                if hashtags
                else "no hashtag"
            ),
        )
    if match.lang == "es":
        lang = "es"

    location = best_location(
        coordinates=mention.coordinates,
        place=mention.place,
        text=text,
        expanded_urls=mention.expanded_urls,
        max_place_diagonal_m=rules.max_place_diagonal_m,
    )
    detail = f"#{match.hashtag}"
    if location is None:
        outcome, reply = MentionOutcome.NEEDS_LOCATION, Reply.NEEDS_LOCATION
    elif rules.bounds is not None and not rules.bounds.contains(location.point):
        outcome, reply = MentionOutcome.OUTSIDE_CITY, Reply.OUTSIDE_CITY
        detail += ", outside the city bounds"
    else:
        outcome, reply = MentionOutcome.CASE_OPENED, Reply.FILED
    return Decision(
        outcome,
        lang,
        reply=reply,
        category=match.category,
        location=location,
        photo_urls=tuple(url for m in mention.media if (url := m.image_url) is not None),
        detail=detail,
    )
