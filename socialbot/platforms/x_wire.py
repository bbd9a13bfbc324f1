"""X API v2 JSON → our dataclasses. No tweepy here: the demo's replay platform parses the same way.

A page is ``{"data": [...], "includes": {"media", "places", "users"}, "meta": {...}}``.
Each tweet is parsed on its own, so one malformed item is reported and the rest of the page goes on.
"""

from __future__ import annotations

import json
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
)
from socialbot.errors import DataError
from socialbot.platforms.base import Malformed, MentionPage, OwnPost, RateBudget

PLATFORM = "x"

# What the mentions call asks for (X API v2 GET /2/users/:id/mentions).
MENTION_EXPANSIONS = "author_id,attachments.media_keys,geo.place_id,referenced_tweets.id"
MEDIA_FIELDS = "url,preview_image_url,type,alt_text"
PLACE_FIELDS = "full_name,geo,place_type"
TWEET_FIELDS = "created_at,geo,entities,conversation_id,in_reply_to_user_id,lang,referenced_tweets"
USER_FIELDS = "username"
PAGE_SIZE = 100

JSONObject = Mapping[str, Any]


def parse_mentions_page(payload: JSONObject) -> MentionPage:
    """One page of the mentions timeline. Raises DataError only if the page itself is unusable."""
    data = payload.get("data", [])
    if not isinstance(data, list):
        raise DataError("mentions page: `data` is not a list")
    includes = _mapping(payload.get("includes", {}), "includes")
    media = {m.get("media_key"): m for m in _objects(includes.get("media", []))}
    places = {p.get("id"): p for p in _objects(includes.get("places", []))}
    users = {u.get("id"): u for u in _objects(includes.get("users", []))}
    mentions: list[Mention] = []
    malformed: list[Malformed] = []
    for item in data:
        try:
            mentions.append(_mention(item, media, places, users))
        except (DataError, TypeError, ValueError, AttributeError) as exc:
            post_id = item.get("id") if isinstance(item, Mapping) else None
            malformed.append(
                Malformed(
                    post_id=post_id if isinstance(post_id, str) else None,
                    problem=str(exc),
                    raw=json.dumps(item, ensure_ascii=False, default=str),
                )
            )
    meta = _mapping(payload.get("meta", {}), "meta")
    next_token = meta.get("next_token")
    return MentionPage(
        mentions=tuple(mentions),
        malformed=tuple(malformed),
        next_token=next_token if isinstance(next_token, str) else None,
    )


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
            reset_at = datetime.fromtimestamp(int(headers[f"{prefix}-reset"]), UTC)
        except (KeyError, ValueError, OverflowError, OSError):
            continue
        limit = headers.get(f"{prefix}-limit", "")
        budgets.append(RateBudget(remaining, reset_at, int(limit) if limit.isdigit() else None))
    return min(budgets, key=lambda b: (b.remaining, -b.reset_at.timestamp()), default=None)


def parse_posted_id(payload: JSONObject) -> str:
    """The id of a post we just created (POST /2/tweets → {"data": {"id": ..., "text": ...}})."""
    data = _mapping(payload.get("data"), "data")
    return _str(data, "id")


def parse_user_id(payload: JSONObject) -> tuple[str, str | None]:
    """(id, username) from GET /2/users/me."""
    data = _mapping(payload.get("data"), "data")
    username = data.get("username")
    return _str(data, "id"), username if isinstance(username, str) else None


def parse_own_posts(payload: JSONObject) -> list[OwnPost]:
    """Our posts in a page of GET /2/users/:id/tweets (with tweet.fields=referenced_tweets):
    replies with the post they answer, others (broadcasts) with `in_reply_to` None."""
    posts: list[OwnPost] = []
    for tweet in _objects(payload.get("data", [])):
        replied_to = [
            ref["id"]
            for ref in _objects(tweet.get("referenced_tweets", []))
            if ref.get("type") == "replied_to" and isinstance(ref.get("id"), str)
        ]
        if (
            any(
                ref.get("type") in ("retweeted", "quoted")
                for ref in _objects(tweet.get("referenced_tweets", []))
            )
            and not replied_to
        ):
            continue  # a repost or quote is not a post of ours to match
        text = tweet.get("text")
        posts.append(
            OwnPost(
                post_id=_str(tweet, "id"),
                in_reply_to=replied_to[0] if replied_to else None,
                text=text if isinstance(text, str) else "",
            )
        )
    return posts


def _mention(
    tweet: Any,
    media: Mapping[Any, JSONObject],
    places: Mapping[Any, JSONObject],
    users: Mapping[Any, JSONObject],
) -> Mention:
    tweet = _mapping(tweet, "data[]")
    post_id = _str(tweet, "id")
    author_id = _str(tweet, "author_id")
    author = users.get(author_id, {})
    entities = _mapping(tweet.get("entities", {}), "entities")
    geo = _mapping(tweet.get("geo", {}), "geo")
    place_id = geo.get("place_id")
    media_keys = _mapping(tweet.get("attachments", {}), "attachments").get("media_keys", [])
    own_media = [media[k] for k in media_keys if k in media]
    included = {
        "media": own_media,
        "places": [places[place_id]] if place_id in places else [],
        "users": [author] if author else [],
    }
    raw = json.dumps({"data": tweet, "includes": included}, ensure_ascii=False)
    return Mention(
        platform=PLATFORM,
        post_id=post_id,
        author_id=author_id,
        author_username=author.get("username"),
        # PostgreSQL cannot store NUL in text; no resident meant one.
        text=_str(tweet, "text").replace("\x00", ""),
        created_at=_time(_str(tweet, "created_at")),
        lang=tweet.get("lang"),
        conversation_id=tweet.get("conversation_id"),
        in_reply_to_user_id=tweet.get("in_reply_to_user_id"),
        references=tuple(_reference(r) for r in _objects(tweet.get("referenced_tweets", []))),
        # X omits `entities` when a post has none at all; then the core extracts them itself.
        hashtags=_hashtags(entities) if "entities" in tweet else None,
        expanded_urls=tuple(
            u["expanded_url"]
            for u in _objects(entities.get("urls", []))
            if isinstance(u.get("expanded_url"), str)
        ),
        coordinates=_coordinates(geo),
        place=_place(places[place_id]) if place_id in places else None,
        media=tuple(_media(m) for m in own_media),
        raw=raw,
    )


def _hashtags(entities: JSONObject) -> tuple[str, ...]:
    tags = [(t.get("start", 0), t.get("tag")) for t in _objects(entities.get("hashtags", []))]
    return tuple(tag for _, tag in sorted(tags, key=lambda t: t[0]) if isinstance(tag, str))


def _coordinates(geo: JSONObject) -> GeoPoint | None:
    coords = geo.get("coordinates")
    if not coords:
        return None
    coords = _mapping(coords, "geo.coordinates")
    pair = coords.get("coordinates")
    if coords.get("type") != "Point" or not isinstance(pair, list) or len(pair) != 2:
        raise DataError("geo.coordinates: expected a GeoJSON Point [lon, lat]")
    lon, lat = float(pair[0]), float(pair[1])  # GeoJSON order
    return GeoPoint(lat=lat, lon=lon)


def _place(place: JSONObject) -> Place:
    geo = _mapping(place.get("geo", {}), "places[].geo")
    bbox = geo.get("bbox")
    box = None
    if isinstance(bbox, list) and len(bbox) == 4:
        west, south, east, north = (float(v) for v in bbox)
        box = BBox(west=west, south=south, east=east, north=north)
    return Place(
        id=_str(place, "id"),
        full_name=str(place.get("full_name", "")),
        place_type=str(place.get("place_type", "")),
        bbox=box,
    )


def _media(item: JSONObject) -> Media:
    kind = _str(item, "type")
    try:
        media_type = MediaType(kind)
    except ValueError:
        raise DataError(f"includes.media[].type: unknown media type {kind!r}") from None
    return Media(
        key=_str(item, "media_key"),
        type=media_type,
        url=item.get("url"),
        preview_image_url=item.get("preview_image_url"),
        alt_text=item.get("alt_text"),
    )


def _reference(ref: JSONObject) -> Reference:
    try:
        kind = ReferenceType(_str(ref, "type"))
    except ValueError:
        raise DataError(f"referenced_tweets[].type: unknown type {ref.get('type')!r}") from None
    return Reference(type=kind, post_id=_str(ref, "id"))


def _time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise DataError(f"created_at: not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise DataError(f"created_at: no time zone in {value!r}")
    return parsed


def _str(obj: JSONObject, key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise DataError(f"`{key}` missing or not a string")
    return value


def _mapping(value: Any, where: str) -> JSONObject:
    if not isinstance(value, Mapping):
        raise DataError(f"`{where}` is not an object")
    return value


def _objects(value: Any) -> Sequence[JSONObject]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []
