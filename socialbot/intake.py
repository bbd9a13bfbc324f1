"""Mention → Decision: what to do with one inbound post. Pure: no I/O, no clock, no network.

The rules, in order:
1. our own posts, retweets, blocked accounts and accounts listed in SOCIALBOT_IGNORE_ACCOUNTS are
   recorded and nothing more (no case, no reply), except that on a conversing network a STOP
   from a blocked number, or from before the first poll's window, is a STOP all the same;
   a reply in an existing case's thread (the caller finds the case) updates that case and never
   opens another: from the reporter, a location completes a case waiting for one (and the filed
   reply follows) and photos are added; "status", "estado" or a question gets the case's status;
   anything else is kept for staff as a comment, without a reply;
   a thank-you is left alone; anything else someone writes there waits for staff in the inbox,
   and only a question about the case's progress gets the status, in the language asked;
2. the category is the first hashtag the catalog knows. With none, in this order: during storm
   mode, a post with the campaign's hashtag is read for the catalog's words, two or three that
   make an alias ("#BoSandy tree down on Elm St" is #treedown; "snow day, stay safe", one word
   alone, is a notice, not a #snow report); a common question answers.yaml answers confidently
   gets that answer (`ANSWERED`); a thank-you is left alone; a question waits for staff in the
   inbox without a reply (never a guess); anything else gets the help reply listing the main
   hashtags and waits in the inbox too (but a reply in one of our threads gets no help reply: it
   is a resident talking to us, and answering them with a hashtag list would be absurd). Storm
   posts wait first in line;
3. the location is the best of: exact coordinates, a small tagged place, a map link or coordinates
   in the text, an address in words the city's geocoder found (`address`, geocoded before the
   page is decided: `IntakeRules.geocoded`); a location outside the city bounds gets a polite
   reply and no case;
4. a located report opens a case ("filed"), and so does one with an address in words that has
   no point (no geocoder, or it found none): staff and the CRM (Open311's `address_string`) take
   an address as 311 call-takers do; one with neither opens a case waiting for a location
   ("needs_location"), unless the account already opened the daily limit of cases: then the first
   report over it gets one polite reply and later ones nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import regex

from socialbot import message_kind
from socialbot.address import FoundAddress, find_address
from socialbot.answers import Answers
from socialbot.catalog import Catalog, Category, CategoryMatch, normalize_tag
from socialbot.districts import Districts, district_named
from socialbot.domain import (
    REPORT_OUTCOMES,
    CaseStatus,
    GeoPoint,
    InboxReason,
    Location,
    LocationSource,
    Mention,
    MentionOutcome,
    Reply,
    StormMode,
)
from socialbot.geocell import cell_of
from socialbot.hashtags import extract_hashtags
from socialbot.location import CityBounds, best_location, haversine_m
from socialbot.sla import BusinessCalendar
from socialbot.sms.keywords import Keyword, KeywordKind, keyword_of

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
    daily_case_limit: int = 10
    ignored_handles: frozenset[str] = frozenset()  # lower case, without '@'
    storm: StormMode | None = None  # on: filed replies of emergency categories say so
    districts: Districts | None = None  # SOCIALBOT_DISTRICTS: routing by where the problem is
    calendar: BusinessCalendar | None = None  # for due times in business days
    duplicate_radius_m: float = 50.0  # a category's own radius in the catalog wins
    duplicate_window: timedelta = timedelta(days=30)
    answers: Answers | None = None  # answers.yaml: common questions answered without staff
    # The network's messages are private texts to one number (`NetworkKind.converses`): a whole
    # text may be a carrier or bot keyword (STOP, HELP, STATUS, ALERTS, a menu choice), a
    # problem is named in plain words (one may do), and a text that names none gets the menu.
    converses: bool = False
    # The points the city's geocoder found for this page's addresses, by `FoundAddress.query`
    # (`ingest.geocode`, before the page's transaction): an address not in it has no point.
    geocoded: Mapping[str, GeoPoint] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Standing:
    """What the store knows about a mention's author, looked up by the caller."""

    blocked: bool = False
    cases_today: int = 0  # cases this account opened in the last 24 hours
    told_limit_today: bool = False  # already sent the limit reply in the last 24 hours
    stopped: bool = False  # their newest consent is a STOP: nothing is sent to them but START's


@dataclass(frozen=True, slots=True)
class ThreadCase:
    """The case whose thread a mention replies in, as far as intake needs to know it."""

    case_id: int
    status: CaseStatus
    author_id: str
    category_key: str
    lang: str
    located: bool = False
    addressed: bool = False  # the case has an address in words already


# How long a conversation waits for its next text: a menu for its choice, a case for its location
# (on a conversing network, where a text has no thread but its number). A day: the resident who
# got the menu at night answers in the morning; a week later a "2" means something else.
CONVERSATION_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class PendingMenu:
    """A text that named no problem and got the menu, still waiting in the inbox for its choice:
    what the case its choice files keeps of it (its words, location and photos)."""

    inbox_id: int
    text: str
    lang: str
    location: Location | None = None
    photo_urls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Conversation:
    """What the store knows of the sender of a text on a conversing network, found by their
    address (the number): their newest case (STATUS tells its status) and the menu they were
    sent last, if it still waits for its choice."""

    newest_case: ThreadCase | None = None
    menu: PendingMenu | None = None


@dataclass(frozen=True, slots=True)
class Alerts:
    """A subscription ALERTS asks for: the district as the city names it (None: the whole city)."""

    district: str | None = None


class Reading:
    """What a mention says by itself, whoever wrote it and whatever thread it is in: its scanned
    text, its hashtags, the category they name (or, in storm mode, its words name), and its
    location. Intake reads each mention of a page once: to know where to look for duplicates
    before the page is decided (`likely_duplicate_search`), then to decide it. The storm words and
    the location are worked out at their first use: most follow-ups and questions never need
    them. Pure, like `decide`."""

    __slots__ = (
        "_address",
        "_addressed",
        "_located",
        "_location",
        "_storm",
        "_stormed",
        "hashtags",
        "match",
        "mention",
        "rules",
        "text",
    )

    def __init__(self, mention: Mention, rules: IntakeRules) -> None:
        self.mention, self.rules = mention, rules
        self.text = mention.text[:MAX_SCANNED_CHARS]
        self.hashtags: Sequence[str] = (
            mention.hashtags if mention.hashtags is not None else extract_hashtags(self.text)
        )
        self.match = rules.catalog.match(self.hashtags)  # by a hashtag
        self._stormed = self._located = self._addressed = False
        self._storm: CategoryMatch | None = None
        self._location: Location | None = None
        self._address: FoundAddress | None = None

    @property
    def storm_match(self) -> CategoryMatch | None:
        """The category a storm post names in words (see `_storm_words`)."""
        if not self._stormed:
            self._storm = _storm_words(self.mention, self.rules, self.text, self.hashtags)
            self._stormed = True
        return self._storm

    @property
    def location(self) -> Location | None:
        """The best location the mention carries (see `location.best_location`)."""
        if not self._located:
            self._location = _location_of(self.mention, self.rules, self.text, self)
            self._located = True
        return self._location

    @property
    def address(self) -> FoundAddress | None:
        """The address in words the text holds (see `address.find_address`), geocoded or not."""
        if not self._addressed:
            self._address = find_address(self.text)
            self._addressed = True
        return self._address


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: MentionOutcome
    lang: str  # "en" or "es": the language of every reply about this mention
    reply: Reply | None = None
    category: Category | None = None
    location: Location | None = None
    photo_urls: tuple[str, ...] = ()
    detail: str = ""  # why, for the audit trail: the hashtag matched, the reason ignored
    follow_up_case: int | None = None  # a reply in this case's thread: update it, open nothing
    duplicate_of: int | None = None  # the same problem as this open case: linked to it
    duplicate_distance_m: float | None = None  # how far from that case's location
    answer_key: str | None = None  # the entry of answers.yaml that answers it (`Reply.ANSWER`)
    inbox: InboxReason | None = None  # waits for staff in the inbox, for this reason
    inbox_priority: bool = False  # first in the inbox's line (a storm post)
    # On a conversing network: the keyword the whole text is (its consent, for STOP and START,
    # recorded with the mention); the subscription ALERTS makes; the case a reply is about
    # without changing it (STATUS); the menu's inbox item a choice files (it leaves the inbox),
    # and the words the case keeps (the first text's, not the "2" that chose).
    keyword: Keyword | None = None
    alerts: Alerts | None = None
    about_case: int | None = None
    menu_inbox: int | None = None
    description: str | None = None
    address: str | None = None  # the address in words the resident wrote, as written

    @property
    def opens_case(self) -> bool:
        return self.outcome in (MentionOutcome.CASE_OPENED, MentionOutcome.NEEDS_LOCATION)


def decide(
    mention: Mention,
    rules: IntakeRules,
    thread: ThreadCase | None = None,
    author: Standing | None = None,
    *,
    edit: bool = False,
    reading: Reading | None = None,
    conversation: Conversation | None = None,
) -> Decision:
    """What socialbot does with `mention` (a reply in `thread`'s case, when given).

    `conversation`: on a conversing network, what the store knows of the sender's number (on
    any other, ignored). There `thread` is the number's case waiting for a location, if any.

    `edit`: `mention` is an edit of a post already handled (`thread` is that post's case, if it
    has one). It belongs to that post: it completes its case as a follow-up would (or, if the
    post opened none, may open the one it now describes), and is never answered again.
    `reading`: the mention already read with these rules (`Reading(mention, rules)`), if it was."""
    if reading is not None and (reading.mention is not mention or reading.rules is not rules):
        reading = None  # another mention's, or read by other rules: never trusted
    standing = author or Standing()
    decision = _decide(mention, rules, thread, standing, edit, reading, conversation)
    if standing.stopped and decision.reply is not None and not _opts_in(decision):
        # Carrier rules: after STOP nothing is sent until START (the outbox would refuse it too).
        decision = dataclasses.replace(
            decision, reply=None, detail=f"{decision.detail}; the number said STOP: no reply"
        )
    if not edit:
        return decision
    if decision.outcome in (*REPORT_OUTCOMES, MentionOutcome.FOLLOW_UP):
        # The post it edits was already answered, or already waits for staff.
        return dataclasses.replace(
            decision, reply=None, inbox=None, detail=f"edit: {decision.detail}"
        )
    return Decision(
        MentionOutcome.IGNORED, decision.lang, detail="an edit of a post already handled"
    )


def _decide(
    mention: Mention,
    rules: IntakeRules,
    thread: ThreadCase | None,
    author: Standing,
    edit: bool,
    reading: Reading | None,
    conversation: Conversation | None = None,
) -> Decision:
    lang = "es" if (mention.lang or "").lower().startswith("es") else "en"
    if mention.author_id == rules.own_user_id:
        return Decision(MentionOutcome.IGNORED, lang, detail="our own post")
    if mention.withheld is not None:
        return Decision(MentionOutcome.IGNORED, lang, detail=mention.withheld)
    if mention.is_retweet:
        return Decision(MentionOutcome.IGNORED, lang, detail="retweet")
    if rules.converses and not edit and (author.blocked or _before(mention, rules)):
        # A block and the first poll's window keep intake from answering, not a STOP from being
        # recorded: it is the resident's word (the law's), and alerts ask no block.
        read = reading if reading is not None else Reading(mention, rules)
        word = keyword_of(read.text)
        if word is not None and word.kind is KeywordKind.STOP:
            return _opted_out(word, word.lang or lang)
    if author.blocked:
        return Decision(MentionOutcome.IGNORED, lang, detail="blocked by staff")
    if (mention.author_username or "").lower() in rules.ignored_handles:
        return Decision(MentionOutcome.IGNORED, lang, detail="listed in SOCIALBOT_IGNORE_ACCOUNTS")
    if _before(mention, rules):
        return Decision(MentionOutcome.IGNORED, lang, detail="posted before socialbot started")

    read = reading if reading is not None else Reading(mention, rules)
    if rules.converses and not edit:
        said = _keyword(mention, rules, read, author, conversation or Conversation())
        if said is not None:
            return said
    hashtags, match = read.hashtags, read.match
    named = match or (read.storm_match if rules.converses else None)
    if thread is not None and (
        edit or not _starts_its_own_report(mention, rules, thread, read, named)
    ):
        return _follow_up(mention, rules, thread, read)
    if match is None:
        match = read.storm_match
        if match is None:
            return _not_a_report(mention, rules, read, lang)
    if match.lang == "es":
        lang = "es"

    location = read.location
    address = read.address.text if read.address is not None else None
    detail = f"#{match.hashtag}"
    if not any(normalize_tag(h) == normalize_tag(match.hashtag) for h in hashtags):
        said_as = "in words" if rules.converses else "storm post"
        detail = f"{said_as}, read as #{match.hashtag}"
    if author.cases_today >= rules.daily_case_limit:
        return Decision(
            MentionOutcome.LIMITED,
            lang,
            reply=None if author.told_limit_today else Reply.LIMIT_REACHED,
            category=match.category,
            detail=f"{detail}; over the limit of {rules.daily_case_limit} cases in 24 h",
        )
    if location is None and address is None:
        outcome, reply = MentionOutcome.NEEDS_LOCATION, Reply.NEEDS_LOCATION
    elif location is None:  # an address with no point: filed by its words (module docstring)
        outcome, reply = MentionOutcome.CASE_OPENED, Reply.FILED
        detail += ", by its address"
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
        address=address,
    )


def _is_storm_post(rules: IntakeRules, hashtags: Sequence[str]) -> bool:
    storm = rules.storm
    return storm is not None and any(
        normalize_tag(h) == normalize_tag(storm.hashtag) for h in hashtags
    )


def _without(campaign: str, text: str) -> str:
    """`text` without the storm `campaign`'s hashtag: "#BoSandy thank you to all the crews!" is a
    thank-you, not a storm post for the front of the inbox. Other hashtags stay words: "thanks
    #stillbroken" is no thank-you."""
    tag = normalize_tag(campaign)
    return " ".join(word for word in text.split() if normalize_tag(word.rstrip(_TRAILING)) != tag)


_TRAILING = ".,;:!?\uff01\uff1f"


def _storm_words(
    mention: Mention, rules: IntakeRules, text: str, hashtags: Sequence[str]
) -> CategoryMatch | None:
    """During storm mode, the category a post with the campaign's hashtag names in words ("tree
    down"): a storm post is a report in a hurry. A question is not read this way ("#BoSandy where
    can I park?" names no problem): answers.yaml or staff take it."""
    if message_kind.is_question(text):
        return None
    if rules.converses:  # a text to the city's number: one word may name its problem
        return rules.catalog.match_words(message_kind.words(text), min_words=1)
    if not _is_storm_post(rules, hashtags):
        return None
    return rules.catalog.match_words(message_kind.words(text))


def _not_a_report(mention: Mention, rules: IntakeRules, read: Reading, lang: str) -> Decision:
    """A message that names no category: answered from answers.yaml, left alone (a thank-you), or
    kept for staff in the inbox, with the help reply unless it asks something or answers us."""
    text, hashtags = read.text, read.hashtags
    in_our_thread = mention.in_reply_to_user_id == rules.own_user_id
    storm = _is_storm_post(rules, hashtags)
    found = rules.answers.match(text) if rules.answers is not None else None
    if found is not None:
        more = message_kind.says_more(text)
        # In the language of the words that matched: a network's guess (Mastodon's is the
        # author's default, whatever they wrote) is no better than the resident's own words.
        return Decision(
            MentionOutcome.ANSWERED,
            found.lang,
            reply=Reply.ANSWER,
            answer_key=found.answer.key,
            detail=f"answered: {found.answer.key} (score {found.score:.0f})"
            + ("; it says more: for staff too" if more else ""),
            inbox=InboxReason.MORE if more else None,
        )
    # The resident's words before the network's label: Mastodon's is the author's default.
    if message_kind.speaks_spanish(text):
        lang = "es"
    if message_kind.is_thanks(_without(rules.storm.hashtag, text) if rules.storm else text):
        return Decision(MentionOutcome.UNCLASSIFIED, lang, detail="a thank-you")
    # What the message carries, kept with it for staff (`inbox file` opens its case from it).
    location = read.location
    address = read.address.text if read.address is not None else None
    photos = tuple(url for m in mention.media if (url := m.image_url) is not None)
    if message_kind.is_question(text):
        return Decision(
            MentionOutcome.UNCLASSIFIED,
            lang,
            detail="question, for staff",
            inbox=InboxReason.STORM if storm else InboxReason.QUESTION,
            inbox_priority=storm,
            location=location,
            photo_urls=photos,
            address=address,
        )
    if in_our_thread:
        why = "reply in our thread, no category"
    elif hashtags:
        why = "unknown hashtags: " + " ".join("#" + h for h in hashtags)
    else:
        why = "no hashtag"
    if storm:
        why = "storm post, no category told; " + why
    if rules.converses and not storm and rules.catalog.menu():
        # A text to the city's number that names no problem: the menu, and its choice files it.
        return Decision(
            MentionOutcome.UNCLASSIFIED,
            lang,
            reply=Reply.MENU,
            detail=f"{why}; the menu sent",
            inbox=InboxReason.MENU,
            location=location,
            photo_urls=photos,
        )
    return Decision(
        MentionOutcome.UNCLASSIFIED,
        lang,
        reply=None if in_our_thread else Reply.HELP,
        detail=why,
        inbox=InboxReason.STORM if storm else InboxReason.UNCLASSIFIED,
        inbox_priority=storm,
        location=location,
        photo_urls=photos,
        address=address,
    )


def _before(mention: Mention, rules: IntakeRules) -> bool:
    return rules.not_before is not None and mention.created_at < rules.not_before


def _opted_out(keyword: Keyword, lang: str) -> Decision:
    # No reply: Twilio confirms a STOP itself, and refuses any text of ours after it (21610).
    return Decision(
        MentionOutcome.KEYWORD, lang, keyword=keyword, detail=f"{keyword.word}: opted out"
    )


def _opts_in(decision: Decision) -> bool:
    return decision.keyword is not None and decision.keyword.kind is KeywordKind.START


def _keyword(
    mention: Mention,
    rules: IntakeRules,
    read: Reading,
    author: Standing,
    conversation: Conversation,
) -> Decision | None:
    """The decision about a text that is a keyword as a whole (`sms.keywords`), or None when it
    is none: a report, a question, anything else, decided as on every network. A choice is a
    keyword only while a menu waits for it; a YES only from a number that said STOP (Twilio
    lifts its block on it, and from anyone else it answers something we never asked)."""
    menu = conversation.menu
    size = len(rules.catalog.menu()) if menu is not None else 0
    keyword = keyword_of(read.text, menu_size=size)
    if keyword is None:
        return None
    kind = keyword.kind
    lang = keyword.lang or (menu.lang if menu is not None else "en")
    if kind is KeywordKind.STOP:
        return _opted_out(keyword, lang)
    if kind is KeywordKind.START:
        if keyword.word == "yes" and not author.stopped:
            return None
        return Decision(
            MentionOutcome.KEYWORD,
            lang,
            reply=Reply.STARTED,
            keyword=keyword,
            detail=f"{keyword.word}: opted in",
        )
    if kind is KeywordKind.HELP:
        return Decision(
            MentionOutcome.KEYWORD, lang, reply=Reply.ABOUT, keyword=keyword, detail="help"
        )
    if kind is KeywordKind.STATUS:
        case = conversation.newest_case
        if case is None:
            return Decision(
                MentionOutcome.KEYWORD,
                lang,
                reply=Reply.NO_CASE,
                keyword=keyword,
                detail="status asked: no case from this number",
            )
        return Decision(
            MentionOutcome.KEYWORD,
            lang,
            reply=Reply.STATUS,
            category=rules.catalog.find(case.category_key),
            keyword=keyword,
            about_case=case.case_id,
            detail=f"status asked: case #{case.case_id}",
        )
    if kind is KeywordKind.ALERTS:
        return _alerts(rules, keyword, lang)
    assert kind is KeywordKind.CHOICE and keyword.choice is not None and menu is not None
    return _chosen(mention, rules, read, author, menu, keyword)


def _alerts(rules: IntakeRules, keyword: Keyword, lang: str) -> Decision:
    """ALERTS [district]: the district matched against the city's, folded (case, accents,
    spacing and punctuation ignored); an unknown one subscribes to nothing."""
    if keyword.district is None:
        return Decision(
            MentionOutcome.KEYWORD,
            lang,
            reply=Reply.ALERTS_ON,
            keyword=keyword,
            alerts=Alerts(None),
            detail="alerts: the whole city",
        )
    names = rules.districts.names if rules.districts is not None else ()
    found = district_named(keyword.district, names)
    if found is None:
        return Decision(
            MentionOutcome.KEYWORD,
            lang,
            reply=Reply.ALERTS_UNKNOWN,
            keyword=keyword,
            detail="alerts: no district of that name, nothing subscribed",
        )
    return Decision(
        MentionOutcome.KEYWORD,
        lang,
        reply=Reply.ALERTS_ON,
        keyword=keyword,
        alerts=Alerts(found),
        detail=f"alerts: {found}",
    )


def _chosen(
    mention: Mention,
    rules: IntakeRules,
    read: Reading,
    author: Standing,
    menu: PendingMenu,
    keyword: Keyword,
) -> Decision:
    """A menu choice: the case of the text that got the menu, in the category chosen, with that
    text's words, location and photos and the choice's photos (a location in the choice too,
    if the first text had none)."""
    assert keyword.choice is not None
    category = rules.catalog.menu()[keyword.choice - 1]
    location = menu.location or read.location
    photos = menu.photo_urls + tuple(u for m in mention.media if (u := m.image_url) is not None)
    detail = f"menu choice {keyword.choice}: #{category.key}"
    base = Decision(
        MentionOutcome.CASE_OPENED,
        menu.lang,
        category=category,
        location=location,
        photo_urls=photos,
        keyword=keyword,
        menu_inbox=menu.inbox_id,
        description=menu.text,
        detail=detail,
    )
    if author.cases_today >= rules.daily_case_limit:
        return dataclasses.replace(
            base,
            outcome=MentionOutcome.LIMITED,
            reply=None if author.told_limit_today else Reply.LIMIT_REACHED,
            location=None,
            photo_urls=(),
            menu_inbox=None,
            description=None,
            detail=f"{detail}; over the limit of {rules.daily_case_limit} cases in 24 h",
        )
    if location is None:
        return dataclasses.replace(
            base, outcome=MentionOutcome.NEEDS_LOCATION, reply=Reply.NEEDS_LOCATION
        )
    if rules.bounds is not None and not rules.bounds.contains(location.point):
        return dataclasses.replace(
            base,
            outcome=MentionOutcome.OUTSIDE_CITY,
            reply=Reply.OUTSIDE_CITY,
            detail=f"{detail}, outside the city bounds",
        )
    return dataclasses.replace(base, reply=Reply.FILED)


def _location_of(
    mention: Mention, rules: IntakeRules, text: str, reading: Reading
) -> Location | None:
    """The best of what the mention carries (`location.best_location`); else the point the
    city's geocoder found for its address in words, if it found one."""
    best = _carried_location(mention, rules, text)
    if best is not None or not rules.geocoded:
        return best
    address = reading.address
    point = rules.geocoded.get(address.query) if address is not None else None
    if address is None or point is None:
        return None
    return Location(point, LocationSource.ADDRESS, address.text)


def _carried_location(mention: Mention, rules: IntakeRules, text: str) -> Location | None:
    return best_location(
        coordinates=mention.coordinates,
        place=mention.place,
        text=text,
        expanded_urls=mention.expanded_urls,
        max_place_diagonal_m=rules.max_place_diagonal_m,
    )


def needs_geocoding(reading: Reading) -> FoundAddress | None:
    """The address a geocoder should look up for `reading`'s mention: one in its words, when the
    mention carries no better location (coordinates, a small place, a map link, typed
    coordinates win) and intake may use one (not our own post, a retweet or a withheld one)."""
    mention = reading.mention
    if mention.author_id == reading.rules.own_user_id or mention.is_retweet or mention.withheld:
        return None
    address = reading.address
    if address is None:
        return None
    if _carried_location(mention, reading.rules, reading.text) is not None:
        return None
    return address


# A whole handle: Bluesky's "@boston.bsky.social" and Mastodon's "@city@mastodon.social" too,
# whose tail ("bsky social") would otherwise read as the resident's words.
_HANDLE_OR_LINK = regex.compile(r"@[\w.@-]+|https?://\S+")


def _starts_its_own_report(
    mention: Mention,
    rules: IntakeRules,
    thread: ThreadCase,
    read: Reading,
    named: CategoryMatch | None,
) -> bool:
    """A report under someone else's case, or under a finished one, is a report of its own. On
    a conversing network, where the thread is only the number's case waiting for a location,
    so is any text naming a problem, unless it is the awaited answer: the same problem, with
    its location ("the pothole is at …")."""
    if named is None:
        return False
    finished = thread.status in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
    if mention.author_id != thread.author_id or finished:
        return True
    if not rules.converses:
        return False
    return named.category.key != thread.category_key or read.location is None


def _follow_up(mention: Mention, rules: IntakeRules, thread: ThreadCase, read: Reading) -> Decision:
    text, hashtags = read.text, read.hashtags
    by_reporter = mention.author_id == thread.author_id
    words = _HANDLE_OR_LINK.sub(" ", text).strip()
    # Only the reporter is told the status: anyone else's question is a comment, and no other
    # account (an auto-replying bot, say) can keep a conversation with us going. Only a question
    # about the case's progress gets it: "can you also fix the sidewalk?" is for staff.
    asks = by_reporter and (
        message_kind.asks_status(words)
        or any(normalize_tag(h) in ("status", "estado") for h in hashtags)
    )
    photos = tuple(u for m in mention.media if (u := m.image_url)) if by_reporter else ()
    location = None
    address: str | None = None
    open_ = thread.status not in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
    if by_reporter and open_ and not thread.located:
        location = read.location
        if not thread.addressed and read.address is not None:
            address = read.address.text
    notes: list[str] = []
    reply: Reply | None = Reply.STATUS if asks else None
    if (
        location is not None
        and rules.bounds is not None
        and not rules.bounds.contains(location.point)
    ):
        notes.append("location outside the city bounds")
        location, reply = None, Reply.OUTSIDE_CITY
    elif location is not None:
        notes.append(f"location ({location.source.value})")
        if thread.status is CaseStatus.NEEDS_LOCATION:  # the filed reply we owed them
            reply = Reply.FILED
    elif address is not None:  # an address with no point files the case by its words
        notes.append("address")
        if thread.status is CaseStatus.NEEDS_LOCATION:
            reply = Reply.FILED
    if photos:
        notes.append(f"{len(photos)} photo(s)")
    inbox = None
    if asks:
        notes.append("asked for the status")
        if message_kind.says_more(words):  # "any update? also the sidewalk is cracked"
            notes.append("and more, for staff")
            inbox = InboxReason.MORE
    if not notes:
        if message_kind.is_thanks(words):
            notes.append("a thank-you")
        else:
            notes.append("comment" if by_reporter else "comment from another account")
            inbox = InboxReason.COMMENT
    return Decision(
        MentionOutcome.FOLLOW_UP,
        message_kind.language_of(words, mention.lang, thread.lang) if asks else thread.lang,
        reply=reply,
        category=rules.catalog.find(thread.category_key),
        location=location,
        photo_urls=photos,
        detail=f"case #{thread.case_id}: " + ", ".join(notes),
        follow_up_case=thread.case_id,
        inbox=inbox,
        address=address if reply is not Reply.OUTSIDE_CITY else None,
    )


@dataclass(frozen=True, slots=True)
class NearbyCase:
    """An open case of the same category near a new report, as the store found it (coarsely, by
    grid cell): `link_duplicate` measures the real distance."""

    case_id: int
    point: GeoPoint
    created_at: datetime


def duplicate_radius(category: Category, rules: IntakeRules) -> float:
    """How close two reports of `category` must be to be one problem (0: never merged)."""
    if category.duplicate_radius_m is not None:
        return category.duplicate_radius_m
    return rules.duplicate_radius_m


def duplicate_search(decision: Decision, rules: IntakeRules) -> DuplicateSearch | None:
    """Where to look for the open case `decision` may duplicate; None when it is never merged: not
    a new report, no location, or a radius of 0."""
    if decision.outcome is not MentionOutcome.CASE_OPENED or decision.category is None:
        return None
    if decision.location is None:
        return None  # a report without a location is never merged
    radius = duplicate_radius(decision.category, rules)
    if radius <= 0:
        return None
    return DuplicateSearch(decision.category, decision.location.point, radius)


def likely_duplicate_search(reading: Reading) -> DuplicateSearch | None:
    """Where `reading`'s mention would look for the case it duplicates if it opened a case of its
    own: a guess made before the page is decided (its thread and its author's standing may yet
    make it a follow-up, or no report at all), so that the page's look-up of nearby cases is one
    query; the real decision looks again wherever the guess did not."""
    match = reading.match or reading.storm_match
    location = reading.location if match is not None else None
    if match is None or location is None:
        return None
    rules = reading.rules
    if rules.bounds is not None and not rules.bounds.contains(location.point):
        return None
    radius = duplicate_radius(match.category, rules)
    return DuplicateSearch(match.category, location.point, radius) if radius > 0 else None


@dataclass(frozen=True, slots=True)
class DuplicateSearch:
    """A new report's category, point and duplicate radius: what the look-up needs."""

    category: Category
    point: GeoPoint
    radius: float


def link_duplicate(
    decision: Decision, nearby: Sequence[NearbyCase], rules: IntakeRules
) -> Decision:
    """A located new report within the category's radius of an open case is that case's problem:
    linked to the nearest one (the oldest, between equals), no new case, a reply naming it."""
    search = duplicate_search(decision, rules)
    if search is None:
        return decision
    radius, point = search.radius, search.point
    within = sorted(
        (haversine_m(point, case.point), case.created_at, case.case_id)
        for case in nearby
        if haversine_m(point, case.point) <= radius
    )
    if not within:
        return decision
    distance, _, case_id = within[0]
    return dataclasses.replace(
        decision,
        outcome=MentionOutcome.DUPLICATE,
        reply=Reply.ALREADY_REPORTED,
        duplicate_of=case_id,
        duplicate_distance_m=distance,
        detail=f"{decision.detail}; same problem as case #{case_id}, {distance:.0f} m away",
    )


@dataclass(frozen=True, slots=True)
class Routing:
    """Where a located case goes: its department (a district may override the catalog's), its
    district, and its grid cell for the duplicate lookup."""

    department: str
    district: str | None = None
    cell: str | None = None


def route(category: Category, point: GeoPoint | None, rules: IntakeRules) -> Routing:
    if point is None:
        return Routing(department=category.department)
    district = rules.districts.locate(point) if rules.districts is not None else None
    return Routing(
        department=district.department_for(category.key, category.department)
        if district
        else category.department,
        district=district.name if district else None,
        cell=cell_of(point),
    )


def due_at(category: Category, opened_at: datetime, rules: IntakeRules) -> datetime | None:
    """When a case of `category` opened at `opened_at` is due, by the catalog's SLA."""
    if category.sla is None or rules.calendar is None:
        return None
    return rules.calendar.due_at(opened_at, category.sla)
