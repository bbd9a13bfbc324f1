"""Plain data that crosses module boundaries: what a network hands us, in our own words.

Adapters (``socialbot.networks``) build these from wire payloads; the pure core
(``intake``, ``location``, ``hashtags``, ``catalog``, ``text``, ``replies``) reads them.
Nothing here knows about tweepy, SQL or the CLI.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """A WGS84 position, always (lat, lon) here; GeoJSON's (lon, lat) is turned at the edge."""

    lat: float
    lon: float

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0) or not (-180.0 <= self.lon <= 180.0):
            raise ValueError(f"not a position on Earth: lat={self.lat}, lon={self.lon}")


@dataclass(frozen=True, slots=True)
class BBox:
    """A bounding box in degrees, in GeoJSON's order: west, south, east, north."""

    west: float
    south: float
    east: float
    north: float


class LocationSource(enum.StrEnum):
    """How a case's location was obtained, best first."""

    EXACT = "exact"  # the post's own geo.coordinates
    PLACE = "place"  # centroid of a small tagged place
    MAP_LINK = "map_link"  # a Google/Apple/OpenStreetMap link or geo: URI in the text
    TEXT = "text"  # a plain "lat, lon" pair in the text
    STAFF = "staff"  # typed by staff filing a message of the inbox (`inbox file --at`)
    ADDRESS = "address"  # an address in words ("123 Main St"), found by the city's geocoder
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Location:
    point: GeoPoint
    source: LocationSource
    address: str | None = None  # the address in words it was geocoded from (source ADDRESS)


@dataclass(frozen=True, slots=True)
class Place:
    """A place tagged on a post (X: includes.places[])."""

    id: str
    full_name: str
    place_type: str  # "city", "neighborhood", "poi", "admin", "country"
    bbox: BBox | None


class MediaType(enum.StrEnum):
    PHOTO = "photo"
    VIDEO = "video"
    ANIMATED_GIF = "animated_gif"


@dataclass(frozen=True, slots=True)
class Media:
    key: str
    type: MediaType
    url: str | None  # photos only
    preview_image_url: str | None  # videos and GIFs
    alt_text: str | None = None

    @property
    def image_url(self) -> str | None:
        """The picture staff should see: the photo itself, or a video's preview frame."""
        return self.url if self.type is MediaType.PHOTO else self.preview_image_url


class MentionOutcome(enum.StrEnum):
    CASE_OPENED = "case_opened"  # a new case, located
    NEEDS_LOCATION = "needs_location"  # a new case, waiting for a location
    UNCLASSIFIED = "unclassified"  # no known hashtag: help reply, no case
    OUTSIDE_CITY = "outside_city"  # located outside the city bounds: polite reply, no case
    IGNORED = "ignored"  # our own post, a retweet: nothing at all
    FOLLOW_UP = "follow_up"  # a reply in a case's thread: updates that case, never opens one
    LIMITED = "limited"  # the author reached the daily case limit: one polite reply, then silence
    DUPLICATE = "duplicate"  # the same problem as an open case nearby: linked to it, no new case
    MALFORMED = "malformed"  # the payload could not be understood: recorded, skipped
    ANSWERED = "answered"  # a common question, answered from answers.yaml: no case, no staff
    # A whole text that is a keyword on a conversing network (STOP, START, HELP, STATUS, ALERTS):
    # a consent recorded, a subscription made, or an answer about the number's case; no case.
    KEYWORD = "keyword"


class InboxReason(enum.StrEnum):
    """Why a message that is not a report waits for staff in the inbox."""

    UNCLASSIFIED = "unclassified"  # no category and no question: the help reply went out
    QUESTION = "question"  # a question no entry of answers.yaml answers confidently: no reply
    COMMENT = "comment"  # free words in a case's thread: kept on the case, no reply
    STORM = "storm"  # a storm-campaign post whose problem could not be told: first in line
    MORE = "more"  # answered (from answers.yaml, or the status), but it says more: for staff too
    # A text that named no problem on a conversing network: the numbered menu went out, and the
    # number's next text that is a choice files it (then it leaves the inbox by itself).
    MENU = "menu"


class InboxState(enum.StrEnum):
    """Where an inbox item stands; every state but OPEN is final."""

    OPEN = "open"  # waiting for staff
    REPLIED = "replied"  # staff's own words were queued in the resident's thread
    ANSWERED = "answered"  # an entry of answers.yaml was queued in the resident's thread
    DONE = "done"  # no reply needed (`inbox done`)
    FILED = "filed"  # made a case by staff (`inbox file`), the resident told


class CaseStatus(enum.StrEnum):
    NEW = "new"
    NEEDS_LOCATION = "needs_location"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Reply(enum.StrEnum):
    """Every message socialbot sends a resident: templates/replies/<name>.<lang>.j2."""

    FILED = "filed"
    NEEDS_LOCATION = "needs_location"
    HELP = "help"
    OUTSIDE_CITY = "outside_city"
    # Status changes made by staff (which of them notify is configurable).
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"  # a per-category text may stand in replies/resolved/<category>.<lang>.j2
    CLOSED = "closed"
    CLOSED_DUPLICATE = "closed_duplicate"
    CLOSED_REFERRED = "closed_referred"
    CLOSED_NOT_CITY_PROPERTY = "closed_not_city_property"
    STATUS = "status"  # a resident asked, in the case's thread, how it is going
    LIMIT_REACHED = "limit_reached"  # the first report over the daily limit (later ones: silence)
    ALREADY_REPORTED = "already_reported"  # a duplicate, linked: names the existing case
    ANSWER = "answer"  # an entry of answers.yaml (`Decision.answer_key`), not a template
    # On a conversing network (SMS): the answers to its keywords, and the menu.
    ABOUT = "about"  # HELP/INFO/AYUDA: the city's name, what the number is for, how to stop
    STARTED = "started"  # START: texts again, and how to get alerts, help, or stop
    NO_CASE = "no_case"  # STATUS from a number with no case yet: how to report
    ALERTS_ON = "alerts_on"  # ALERTS [district]: subscribed, for which district, how to stop
    ALERTS_UNKNOWN = "alerts_unknown"  # ALERTS with a district the city has not: its districts
    MENU = "menu"  # a text that names no problem: "Reply 1 Pothole, 2 Streetlight, …"


# The replies written by a template of `templates/replies/` (an answer's text is the city's own,
# from answers.yaml, checked by `socialbot.answers`).
TEMPLATED_REPLIES = tuple(reply for reply in Reply if reply is not Reply.ANSWER)


class ReferenceType(enum.StrEnum):
    RETWEETED = "retweeted"
    QUOTED = "quoted"
    REPLIED_TO = "replied_to"


@dataclass(frozen=True, slots=True)
class Reference:
    type: ReferenceType
    post_id: str


@dataclass(frozen=True, slots=True)
class PostRef:
    """A post as its network knows it: the id (text, opaque to the core) and whatever else the
    network needs to answer it (`context`, encoded and read by its adapter alone: Mastodon keeps
    the post's visibility and content warning there, Bluesky its uri and cid, SMS the sender's
    number). Stored as two columns wherever a post is referred to."""

    id: str
    context: str = ""


@dataclass(frozen=True, slots=True)
class Mention:
    """One inbound post that mentions the city account, as any network would describe it."""

    platform: str  # the network's name, as its adapter gives it
    post_id: (
        str  # the network's id, kept as text (X ids exceed 2**53) and never compared as a number
    )
    author_id: str
    author_username: str | None
    text: str
    created_at: datetime  # timezone-aware, UTC
    lang: str | None = None
    conversation_id: str | None = None
    in_reply_to_user_id: str | None = None
    references: tuple[Reference, ...] = ()
    # Hashtags as the network parsed them (without '#'); None when the payload had no entities,
    # in which case the core extracts them from `text` itself.
    hashtags: tuple[str, ...] | None = None
    # Links as the resident typed them (X rewrites them to t.co in `text`).
    expanded_urls: tuple[str, ...] = ()
    coordinates: GeoPoint | None = None
    place: Place | None = None
    media: tuple[Media, ...] = ()
    # The ids of the earlier versions of an edited post (the network serves an edit as a new
    # post): an edit of a post already handled belongs to it, and is never answered again.
    edit_of: tuple[str, ...] = ()
    # Why the network says this is no resident's post to answer (withheld, a placeholder for an
    # account or post it no longer shows); None for an ordinary post.
    withheld: str | None = None
    # What the network's answer referred to but did not include (a photo it left out): kept
    # with the record, so that staff know something is missing.
    missing: tuple[str, ...] = ()
    # What the network needs to answer this post, beside its id (see `PostRef.context`).
    reply_context: str = ""
    # Whether anyone may read the post: False for a direct or followers-only message (and, later,
    # a text message). A case it opens never shows its words or photos outside (`web`, Open311).
    public: bool = True
    # The post's own JSON as received, for audit; never parsed again.
    raw: str = field(default="{}", repr=False, compare=False)

    @property
    def ref(self) -> PostRef:
        """What a reply to this post is addressed to."""
        return PostRef(self.post_id, self.reply_context)

    @property
    def is_retweet(self) -> bool:
        return any(r.type is ReferenceType.RETWEETED for r in self.references)

    @property
    def sort_key(self) -> tuple[datetime, str]:
        """Chronological order, whatever the network's ids look like: by time, then by id (X's
        numeric ids as numbers, so that two posts of one second keep X's order)."""
        return (
            self.created_at,
            self.post_id.rjust(19, "0") if is_post_id(self.post_id) else self.post_id,
        )


def is_post_id(value: object) -> bool:
    """Whether `value` is a numeric id as X writes them: ASCII decimal digits, bounded. Not
    `str.isdigit`, which takes "²" and Arabic-Indic digits that `int` then refuses or reads."""
    return isinstance(value, str) and 0 < len(value) <= 19 and value.isascii() and value.isdigit()


@dataclass(frozen=True, slots=True)
class StormMode:
    """A storm campaign that is on: its name, and its hashtag (without '#') every alert carries."""

    name: str
    hashtag: str

    # The longest `storm start` takes: the filed reply's storm line is length-checked with them.
    MAX_NAME: ClassVar[int] = 30
    MAX_HASHTAG: ClassVar[int] = 30


# The longest a network's rate limit can make us wait (X's longest window is its 24-hour quota):
# a reset time further off is not believed, so one bogus header cannot stop a queue for years.
MAX_RATE_WAIT = timedelta(hours=24)


def believable_reset(reset_at: datetime, now: datetime) -> datetime:
    """`reset_at` as a network announced it, but never later than `MAX_RATE_WAIT` from `now`."""
    return min(reset_at, now + MAX_RATE_WAIT)


@dataclass(frozen=True, slots=True)
class RateBudget:
    """What the network said is left of a quota: `remaining` calls until `reset_at`, when it is
    `limit` again."""

    remaining: int
    reset_at: datetime
    limit: int | None = None


# The outcomes of a resident's report (not a follow-up, not ignored): what a thread's newest report
# and the reports figures count.
REPORT_OUTCOMES = (
    MentionOutcome.CASE_OPENED,
    MentionOutcome.NEEDS_LOCATION,
    MentionOutcome.DUPLICATE,
)
