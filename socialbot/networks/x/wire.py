"""X API v2 JSON → our dataclasses. No tweepy here: the demo's replay platform parses the same way.

A page is ``{"data": [...], "includes": {"media", "places", "users"}, "meta": {...}}``.
Everything in it is untrusted, type-wise too: each tweet is parsed on its own, so one malformed
item is reported and the rest of the page goes on, and what comes out is storable as it is (ids
that are ids, no NUL, no lone surrogate, text that fits its column).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from socialbot.domain import (
    BBox,
    GeoPoint,
    Media,
    MediaType,
    Mention,
    Place,
    Reference,
    ReferenceType,
    believable_reset,
    is_post_id,
)
from socialbot.errors import DataError
from socialbot.networks.base import Malformed, MentionPage, OwnPost, RateBudget
from socialbot.storable import clean_text, storable_json

PLATFORM = "x"
log = logging.getLogger(__name__)

JSONObject = Mapping[str, Any]

# X's usernames are letters, digits and underscores (15 at most; some older ones are longer).
_USERNAME = re.compile(r"[A-Za-z0-9_]{1,64}")
# A language tag as X writes it ("en", "es", "zh-cn", "und") and as its column holds it.
_LANG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,4})?")
# Short strings kept with a case or shown to staff: the `cases.place_name` column, and as long
# as a place name, a place type or a media key could reasonably be.
MAX_SHORT_TEXT = 256

# X's production spec (2.167) renames the post fields that the older spec and every recording
# call `tweet`; whichever a response uses, it is read (the first name is the older one).
_REFERENCES = ("referenced_tweets", "referenced_posts")
_EDIT_HISTORY = ("edit_history_tweet_ids", "edit_history_post_ids")
_NOTE = ("note_tweet", "note_post")

# What X puts in place of a post or account it no longer shows: a sentence of its own and a link
# to its help pages ("… account is temporarily unavailable because it violates the Twitter Media
# Policy. Learn more."). No resident wrote it; nobody is to be answered.
_PLACEHOLDER = re.compile(
    r"(account is temporarily unavailable because it violates"
    r"|account has been withheld in"
    r"|(this )?(tweet|post) (is|has been) (unavailable|withheld)"
    r"|is from a suspended account)",
    re.IGNORECASE,
)
# X leaves out of `includes.users` an author it shows nobody (withheld in full, suspended), though
# it names the others of the page: no resident to answer.
_WITHHELD_AUTHOR = "author not in X's answer (withheld or suspended)"
_HELP_PAGES = (
    "https://support.twitter.com/",
    "https://help.twitter.com/",
    "https://help.x.com/",
)


def parse_mentions_page(payload: Any) -> MentionPage:
    """One page of the mentions timeline. Raises DataError only if the page itself is unusable
    (not a JSON object, or `data` not a list): then none of its items can be told apart.

    Every item ends up once, as a `Mention` or as a `Malformed`, whatever it holds: a field of
    the wrong type, or an id that is not one, makes the item malformed; a location, place or
    medium that cannot be used is left out and the post kept. Of one id served twice, the first
    well-formed item is kept."""
    if not isinstance(payload, Mapping):
        raise DataError(f"mentions page: expected a JSON object, got {_kind(payload)}")
    data = payload.get("data", [])
    if not isinstance(data, list):
        raise DataError(f"mentions page: `data` is {_kind(data)}, not a list")
    includes = _object_or_empty(payload.get("includes"))
    media = _index(includes.get("media"), "media_key")
    places = _index(includes.get("places"), "id")
    users = _index(includes.get("users"), "id")
    parsed: list[Mention | Malformed] = []
    for item in data:
        try:
            parsed.append(_mention(item, media, places, users))
        except Exception as exc:  # whatever an item holds, it is that item's problem alone
            post_id = item.get("id") if isinstance(item, Mapping) else None
            parsed.append(Malformed.of(post_id if is_post_id(post_id) else None, exc, item))
    mentions, malformed = _one_per_id(parsed)
    meta = _object_or_empty(payload.get("meta"))
    next_token = meta.get("next_token")
    return MentionPage(
        mentions=tuple(mentions),
        malformed=tuple(malformed),
        next_token=next_token if _is_token(next_token) else None,
        errors=tuple(_partial_error(e) for e in _objects(payload.get("errors"))),
    )


def _partial_error(error: JSONObject) -> str:
    """One of X's partial errors beside `data` ("Not Found Error: Could not find tweet with
    referenced_tweets.id: [1]."), as a line for the log."""
    title, detail = error.get("title"), error.get("detail")
    parts = [p for p in (title, detail) if isinstance(p, str) and p]
    return clean_text(": ".join(parts) or "an error without a title")[:MAX_SHORT_TEXT]


def _one_per_id(parsed: Sequence[Mention | Malformed]) -> tuple[list[Mention], list[Malformed]]:
    """The page's items, one per post id: the first well-formed one, else the first malformed."""
    good: dict[str, Mention] = {}
    for item in parsed:
        if isinstance(item, Mention):
            good.setdefault(item.post_id, item)
    mentions: list[Mention] = []
    malformed: list[Malformed] = []
    seen: set[str] = set()
    for item in parsed:
        if isinstance(item, Mention):
            if good[item.post_id] is item:
                mentions.append(item)
        elif item.post_id is None:
            malformed.append(item)
        elif item.post_id not in good and item.post_id not in seen:
            seen.add(item.post_id)
            malformed.append(item)
    return mentions, malformed


# The quotas X reports on a response: the endpoint's 15-minute window, and the daily ones of the
# user and of the app (each as -limit, -remaining and -reset, the reset in epoch seconds).
RATE_LIMIT_HEADERS = ("x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour")


def parse_rate_budget(headers: Mapping[str, str]) -> RateBudget | None:
    """The tightest quota a response's headers report: the fewest calls left (of equals, the one
    that resets last). None when they report none that can be read."""
    budgets: list[RateBudget] = []
    for prefix in RATE_LIMIT_HEADERS:
        try:
            remaining = int(headers[f"{prefix}-remaining"])
            reset_at = believable_reset(
                datetime.fromtimestamp(int(headers[f"{prefix}-reset"]), UTC), datetime.now(UTC)
            )
        except (KeyError, ValueError, OverflowError, OSError):
            continue
        limit = headers.get(f"{prefix}-limit", "")
        budgets.append(RateBudget(remaining, reset_at, int(limit) if limit.isdigit() else None))
    return min(budgets, key=lambda b: (b.remaining, -b.reset_at.timestamp()), default=None)


def parse_posted_id(payload: Any) -> str:
    """The id of a post we just created (POST /2/tweets → {"data": {"id": ..., "text": ...}})."""
    data = _mapping(_mapping(payload, "response").get("data"), "data")
    return _id(data, "id")


def parse_user_id(payload: Any) -> tuple[str, str | None]:
    """(id, username) from GET /2/users/me."""
    data = _mapping(_mapping(payload, "response").get("data"), "data")
    username = data.get("username")
    return _id(data, "id"), username if _is_username(username) else None


def with_cursor(page: MentionPage, since_id: str | None) -> MentionPage:
    """`page` with its cursor: the newest post id on it, or `since_id` when that is newer (X's
    ids grow with time; the cursor never moves back). None when the page holds no post."""
    newest = page.newest_id
    if newest is None:
        return page
    if since_id is not None and is_post_id(since_id) and int(since_id) > int(newest):
        newest = since_id
    return dataclasses.replace(page, cursor=newest)


def parse_own_posts(payload: Any) -> list[OwnPost]:
    """Our posts in a page of GET /2/users/:id/tweets (with tweet.fields=referenced_tweets):
    replies with the post they answer, others (broadcasts) with `in_reply_to` None. An item that
    is not a post of ours as X describes one is passed over."""
    posts: list[OwnPost] = []
    for tweet in _objects(_object_or_empty(payload).get("data")):
        refs = _objects(_either(tweet, _REFERENCES))
        replied_to = [
            ref["id"]
            for ref in refs
            if ref.get("type") == "replied_to" and is_post_id(ref.get("id"))
        ]
        if any(ref.get("type") in ("retweeted", "quoted") for ref in refs) and not replied_to:
            continue  # a repost or quote is not a post of ours to match
        if not is_post_id(tweet.get("id")):
            continue
        text = tweet.get("text")
        posts.append(
            OwnPost(
                post_id=tweet["id"],
                in_reply_to=replied_to[0] if replied_to else None,
                text=text if isinstance(text, str) else "",
            )
        )
    return posts


def _mention(
    tweet: Any,
    media: Mapping[str, JSONObject],
    places: Mapping[str, JSONObject],
    users: Mapping[str, JSONObject],
) -> Mention:
    tweet = _mapping(tweet, "data[]")
    post_id = _id(tweet, "id")
    author_id = _id(tweet, "author_id")
    author = users.get(author_id, {})
    username = author.get("username")
    if username is not None and not _is_username(username):
        raise DataError(f"includes.users[].username: not an X username: {_short(username)}")
    entities = _mapping(tweet.get("entities", {}), "entities")
    geo = _object_or_empty(tweet.get("geo"))
    place_id = geo.get("place_id")
    place = places.get(place_id) if isinstance(place_id, str) else None
    media_keys = _object_or_empty(tweet.get("attachments")).get("media_keys")
    own_media = [media[k] for k in _strings(media_keys) if k in media]
    included = {
        "media": own_media,
        "places": [place] if place is not None else [],
        "users": [author] if author else [],
    }
    lang = tweet.get("lang")
    if lang is not None and not isinstance(lang, str):
        raise DataError(f"`lang` is {_kind(lang)}, not a string")
    text = clean_text(_str(tweet, "text"))
    # A post over 280 characters has its whole text, and the entities of all of it, only in
    # its note; `text` and `entities` hold the first 280.
    note = _object_or_empty(_either(tweet, _NOTE))
    if isinstance(note.get("text"), str) and note["text"]:
        text = clean_text(note["text"])
        entities = _mapping(note.get("entities", {}), "note_tweet.entities")
    has_entities = "entities" in tweet or bool(note.get("text"))
    read_media = [(item, _media(item)) for item in own_media]
    missing = tuple(
        f"photo or video {_short_text(k)} (not in X's answer)"
        for k in _strings(media_keys)
        if k not in media
    ) + tuple(
        f"medium {_short_text(item.get('media_key'))} of a type socialbot does not know "
        f"({_short(item.get('type'))})"
        for item, medium in read_media
        if medium is None
    )
    return Mention(
        platform=PLATFORM,
        post_id=post_id,
        author_id=author_id,
        author_username=username,
        text=text,
        created_at=_time(_str(tweet, "created_at")),
        lang=lang if lang and _LANG.fullmatch(lang) else None,
        conversation_id=_optional_id(tweet, "conversation_id"),
        in_reply_to_user_id=_optional_id(tweet, "in_reply_to_user_id"),
        references=_references(_either(tweet, _REFERENCES, [])),
        # X omits `entities` when a post has none at all; then the core extracts them itself.
        hashtags=_hashtags(entities) if has_entities else None,
        expanded_urls=_expanded_urls(entities),
        coordinates=_coordinates(geo),
        place=_place(place) if place is not None else None,
        media=tuple(medium for _, medium in read_media if medium is not None),
        edit_of=tuple(
            i
            for i in _strings(_either(tweet, _EDIT_HISTORY))
            if is_post_id(i) and int(i) < int(post_id)
        ),
        withheld=_withheld(tweet, author, text, _expanded_urls(entities))
        or (_author_left_out(post_id, author_id) if users and author_id not in users else None),
        missing=missing,
        raw=storable_json({"data": tweet, "includes": included}),
    )


def _withheld(tweet: JSONObject, author: JSONObject, text: str, urls: Sequence[str]) -> str | None:
    """Why X holds this post back, if it does: the post or its author withheld (X's `withheld`
    object), or a placeholder X wrote in place of what it no longer shows."""
    for who, obj in (("post", tweet), ("author", author)):
        withheld = obj.get("withheld")
        if isinstance(withheld, Mapping):
            countries = [c for c in _strings(withheld.get("country_codes")) if c.isalpha()]
            where = f" in {', '.join(countries[:10])}" if countries else ""
            why = " (copyright)" if withheld.get("copyright") is True else ""
            return f"{who} withheld by X{where}{why}"
    if _PLACEHOLDER.search(text) and any(u.startswith(_HELP_PAGES) for u in urls):
        return "a placeholder X shows in place of a post or account"
    return None


def _author_left_out(post_id: str, author_id: str) -> str:
    """The reason a post whose author X left out is not answered, said in the log too: should X
    ever leave out an author for another reason, a real report must not vanish unseen."""
    log.warning("event=author_left_out post_id=%s author_id=%s", post_id, author_id)
    return _WITHHELD_AUTHOR


def _expanded_urls(entities: JSONObject) -> tuple[str, ...]:
    return tuple(
        clean_text(u["expanded_url"])
        for u in _objects(entities.get("urls"))
        if isinstance(u.get("expanded_url"), str)
    )


def _either(obj: JSONObject, names: tuple[str, str], default: Any = None) -> Any:
    """The field under its older name, else under the one X's production spec gives it."""
    old, new = names
    return obj[old] if old in obj else obj.get(new, default)


def _hashtags(entities: JSONObject) -> tuple[str, ...]:
    tags = [
        (start if isinstance(start, int) and not isinstance(start, bool) else 0, clean_text(tag))
        for t in _objects(entities.get("hashtags"))
        for start, tag in [(t.get("start", 0), t.get("tag"))]
        if isinstance(tag, str) and tag
    ]
    return tuple(tag for _, tag in sorted(tags, key=lambda t: t[0]))


def _coordinates(geo: JSONObject) -> GeoPoint | None:
    """The post's exact position, if it has one that is a position on Earth (else none: the
    report goes on without it, as if the resident had not shared one)."""
    coords = geo.get("coordinates")
    if not isinstance(coords, Mapping) or coords.get("type") != "Point":
        return None
    pair = coords.get("coordinates")
    if not isinstance(pair, list) or len(pair) != 2:
        return None
    lon, lat = (_degrees(v) for v in pair)  # GeoJSON order
    if lon is None or lat is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return GeoPoint(lat=lat, lon=lon)


def _place(place: JSONObject) -> Place | None:
    place_id = place.get("id")
    if not isinstance(place_id, str) or not place_id.isalnum() or len(place_id) > 64:
        return None
    bbox = _object_or_empty(place.get("geo")).get("bbox")
    box = None
    if isinstance(bbox, list) and len(bbox) == 4:
        west, south, east, north = (_degrees(v) for v in bbox)
        if (
            west is not None
            and south is not None
            and east is not None
            and north is not None
            and -180 <= west <= 180
            and -180 <= east <= 180
            and -90 <= south <= north <= 90
        ):
            box = BBox(west=west, south=south, east=east, north=north)
    return Place(
        id=place_id,
        full_name=_short_text(place.get("full_name")),
        place_type=_short_text(place.get("place_type")),
        bbox=box,
    )


def _media(item: JSONObject) -> Media | None:
    """A photo, video or GIF of the post; None for a type we do not know (X may add some), which
    drops that item only."""
    try:
        media_type = MediaType(str(item.get("type")))
    except ValueError:
        return None
    return Media(
        key=_short_text(item.get("media_key")),
        type=media_type,
        url=_web_url(item.get("url")),
        preview_image_url=_web_url(item.get("preview_image_url")),
        alt_text=clean_text(alt) if isinstance(alt := item.get("alt_text"), str) else None,
    )


def _references(value: Any) -> tuple[Reference, ...]:
    if not isinstance(value, list):
        raise DataError(f"`referenced_tweets` is {_kind(value)}, not a list")
    references: list[Reference] = []
    for ref in value:
        ref = _mapping(ref, "referenced_tweets[]")
        try:
            kind = ReferenceType(str(ref.get("type")))
        except ValueError:
            continue  # a kind of reference we do not act on
        references.append(Reference(type=kind, post_id=_id(ref, "id")))
    return tuple(references)


def _time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise DataError(f"created_at: not an ISO 8601 time: {_short(value)}") from None
    if parsed.tzinfo is None:
        raise DataError(f"created_at: no time zone in {_short(value)}")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise DataError(f"created_at: out of range: {_short(value)}") from None


def _id(obj: JSONObject, key: str) -> str:
    value = obj.get(key)
    if not is_post_id(value):
        raise DataError(f"`{key}` is not an X id (ASCII digits): {_short(value)}")
    assert isinstance(value, str)
    return value


def _optional_id(obj: JSONObject, key: str) -> str | None:
    return None if obj.get(key) is None else _id(obj, key)


def _str(obj: JSONObject, key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise DataError(f"`{key}` missing or not a string")
    return value


def _is_username(value: Any) -> bool:
    return isinstance(value, str) and _USERNAME.fullmatch(value) is not None


def _is_token(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 512 and value.isascii() and value.isalnum()


def _degrees(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int) and abs(value) > 360:  # and float() of 10**400 would raise
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _web_url(value: Any) -> str | None:
    """A link staff may open: http(s) only, never `javascript:` or a local file."""
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return clean_text(value)
    return None


def _short_text(value: Any) -> str:
    return clean_text(value)[:MAX_SHORT_TEXT] if isinstance(value, str) else ""


def _short(value: Any) -> str:
    """A value for an error message: its repr, cut short (it came from outside)."""
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"


def _kind(value: Any) -> str:
    names: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}
    return names.get(type(value), type(value).__name__)


def _mapping(value: Any, where: str) -> JSONObject:
    if not isinstance(value, Mapping):
        raise DataError(f"`{where}` is not an object")
    return value


def _object_or_empty(value: Any) -> JSONObject:
    return value if isinstance(value, Mapping) else {}


def _objects(value: Any) -> Sequence[JSONObject]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _index(value: Any, key: str) -> dict[str, JSONObject]:
    """`includes.<kind>` by their `key`, first of each; items without a usable key are left out
    (nothing could point to them)."""
    found: dict[str, JSONObject] = {}
    for item in _objects(value):
        name = item.get(key)
        if isinstance(name, str):
            found.setdefault(name, item)
    return found
