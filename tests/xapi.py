"""X API v2 payloads in their real wire shape, for `responses` mocks and the replay platform."""

from __future__ import annotations

from typing import Any

API = "https://api.twitter.com"
CITY_ID = "1583000000000000001"
CITY = "DemoCity311"
MENTIONS_URL = f"{API}/2/users/{CITY_ID}/mentions"
TWEETS_URL = f"{API}/2/tweets"
ME_URL = f"{API}/2/users/me"
OWN_TWEETS_URL = f"{API}/2/users/{CITY_ID}/tweets"

_BASE = 1_859_100_000_000_000_000


def post_id(n: int) -> str:
    """A realistic 19-digit post id; larger n is newer."""
    return str(_BASE + n)


def tweet(
    n: int,
    text: str,
    *,
    author: str = "2001",
    lang: str = "en",
    hashtags: list[str] | None = None,
    coordinates: tuple[float, float] | None = None,  # (lat, lon), sent as GeoJSON [lon, lat]
    place_id: str | None = None,
    media_keys: list[str] | None = None,
    urls: list[tuple[str, str]] | None = None,  # (t.co link in text, expanded)
    in_reply_to_user_id: str | None = None,
    referenced: list[tuple[str, str]] | None = None,
    entities: bool = True,
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": post_id(n),
        "text": text,
        "author_id": author,
        "created_at": f"2026-11-23T07:{n % 60:02d}:00.000Z",
        "lang": lang,
        "conversation_id": post_id(n),
        "edit_history_tweet_ids": [post_id(n)],
    }
    if entities:
        ents: dict[str, Any] = {}
        if f"@{CITY}" in text:
            start = text.index(f"@{CITY}")
            ents["mentions"] = [
                {"start": start, "end": start + len(CITY) + 1, "username": CITY, "id": CITY_ID}
            ]
        found = (
            hashtags if hashtags is not None else [w[1:] for w in text.split() if w.startswith("#")]
        )
        if found:
            ents["hashtags"] = [
                {"start": text.index("#" + t), "end": text.index("#" + t) + len(t) + 1, "tag": t}
                for t in found
            ]
        if urls:
            ents["urls"] = [
                {
                    "start": text.index(short),
                    "end": text.index(short) + len(short),
                    "url": short,
                    "expanded_url": expanded,
                    "display_url": expanded.split("//", 1)[-1][:25] + "…",
                }
                for short, expanded in urls
            ]
        item["entities"] = ents
    geo: dict[str, Any] = {}
    if coordinates is not None:
        geo["coordinates"] = {"type": "Point", "coordinates": [coordinates[1], coordinates[0]]}
    if place_id is not None:
        geo["place_id"] = place_id
    if geo:
        item["geo"] = geo
    if media_keys:
        item["attachments"] = {"media_keys": media_keys}
    if in_reply_to_user_id:
        item["in_reply_to_user_id"] = in_reply_to_user_id
    if referenced:
        item["referenced_tweets"] = [{"type": kind, "id": ref} for kind, ref in referenced]
    return item


def photo(key: str) -> dict[str, Any]:
    return {"media_key": key, "type": "photo", "url": f"https://pbs.twimg.com/media/{key}.jpg"}


def video(key: str) -> dict[str, Any]:
    return {
        "media_key": key,
        "type": "video",
        "preview_image_url": f"https://pbs.twimg.com/ext_tw_video_thumb/{key}/pu/img/p.jpg",
    }


def place(
    place_id: str, name: str, bbox: tuple[float, float, float, float], kind: str = "poi"
) -> dict[str, Any]:
    return {
        "id": place_id,
        "full_name": name,
        "place_type": kind,
        "geo": {"type": "Feature", "bbox": list(bbox), "properties": {}},
    }


def user(user_id: str, username: str) -> dict[str, Any]:
    return {"id": user_id, "name": username, "username": username}


def page(
    tweets: list[dict[str, Any]],
    *,
    media: list[dict[str, Any]] | None = None,
    places: list[dict[str, Any]] | None = None,
    users: list[dict[str, Any]] | None = None,
    next_token: str | None = None,
) -> dict[str, Any]:
    """A mentions-timeline page; tweets are served newest first, as X does."""
    ordered = sorted(tweets, key=lambda t: int(t["id"]), reverse=True)
    authors = {t["author_id"] for t in ordered if "author_id" in t}
    includes: dict[str, Any] = {
        "users": users if users is not None else [user(a, f"resident{a}") for a in sorted(authors)]
    }
    if media:
        includes["media"] = media
    if places:
        includes["places"] = places
    meta: dict[str, Any] = {"result_count": len(ordered)}
    if ordered:
        meta |= {"newest_id": ordered[0]["id"], "oldest_id": ordered[-1]["id"]}
    if next_token:
        meta["next_token"] = next_token
    body: dict[str, Any] = {"meta": meta}
    if ordered:
        body |= {"data": ordered, "includes": includes}
    return body


def posted(new_id: str, text: str) -> dict[str, Any]:
    return {"data": {"id": new_id, "text": text, "edit_history_tweet_ids": [new_id]}}


def me() -> dict[str, Any]:
    return {"data": {"id": CITY_ID, "name": "Demo City 311", "username": CITY}}
