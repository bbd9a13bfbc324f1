"""Mastodon's JSON read into our dataclasses: the recorded answers of a live server, and the
same with the fields a resident's report carries (links, hashtags, photos) in Mastodon's format."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

from socialbot.domain import MediaType, Mention, ReferenceType
from socialbot.networks.base import Malformed
from socialbot.networks.mastodon import wire
from socialbot.storable import clean_text
from tests.networks.mastodon import cassettes

CITY_ID = "117020565966271181"  # mastodonpy_test, the account the recorded mentions name


def mentions_page() -> list[Any]:
    """The recorded `GET /api/v1/notifications?types[]=mention`: one mention, from @admin."""
    page: list[Any] = cassettes.find(
        "test_notifications_mentions_only", "GET", "/api/v1/notifications"
    ).json()
    return page


def notification(**status: Any) -> dict[str, Any]:
    """The recorded mention notification, its status changed by `status`."""
    item: dict[str, Any] = copy.deepcopy(mentions_page()[0])
    item["status"].update(status)
    return item


def status_of(name: str, index: int = 0) -> dict[str, Any]:
    """The status a recorded `POST /api/v1/statuses` answered with."""
    posts = [i for i in cassettes.load(name) if i.method == "POST" and i.path == "/api/v1/statuses"]
    answer: dict[str, Any] = posts[index].json()
    return answer


# A resident's report as Mastodon renders it: a map link cut into invisible/ellipsis spans, a
# hashtag, a mention of the city, two paragraphs and a line break.
REPORT_HTML = (
    '<p><span class="h-card" translate="no"><a href="https://city.example/@city311" '
    'class="u-url mention">@<span>city311</span></a></span> Deep pothole '
    '<a href="https://city.example/tags/pothole" class="mention hashtag" rel="tag">'
    "#<span>Pothole</span></a> here: "
    '<a href="https://www.openstreetmap.org/?mlat=42.3601&amp;mlon=-71.0589'
    '#map=19/42.3601/-71.0589" '
    'target="_blank" rel="nofollow noopener"><span class="invisible">https://www.</span>'
    '<span class="ellipsis">openstreetmap.org/?mlat=42.3601&amp;</span>'
    '<span class="invisible">mlon=-71.0589#map=19/42.3601/-71.0589</span></a></p>'
    "<p>Near the school<br />Please hurry &amp; thanks</p>"
)
MAP_LINK = "https://www.openstreetmap.org/?mlat=42.3601&mlon=-71.0589#map=19/42.3601/-71.0589"


def photo(description: str | None = "A pothole") -> dict[str, Any]:
    """The media attachment the recorded `POST /api/v2/media` answered with."""
    attachment: dict[str, Any] = cassettes.find(
        "test_media_post_file", "POST", "/api/v2/media"
    ).json()
    return attachment | {"description": description}


def test_a_recorded_mention_is_read_as_the_server_sent_it() -> None:
    page = wire.parse_notifications(mentions_page())

    (mention,) = page.mentions
    assert mention.platform == "mastodon"
    assert mention.post_id == "117020577157693549"
    assert mention.author_id == "117020565693913441"
    assert mention.author_username == "admin"  # a local account's acct: replies address @admin
    assert mention.text == "@mastodonpy_test hello!"
    assert mention.created_at == datetime(2026, 8, 1, 13, 51, 42, 823000, tzinfo=UTC)
    assert mention.lang == "en"
    assert mention.references == () and mention.in_reply_to_user_id is None
    assert mention.coordinates is None and mention.place is None  # Mastodon has no geo
    assert wire.read_reply_context(mention.reply_context) == wire.ReplyContext(
        "public", "", "admin"
    )
    assert json.loads(mention.raw)["id"] == mention.post_id
    assert page.cursor == "21"  # the notification's id, not the status's


def test_a_report_carries_its_text_hashtags_links_and_photos() -> None:
    video = photo() | {
        "id": "117020576894251993",
        "type": "video",
        "url": "https://v.example/a.mp4",
    }
    audio = photo() | {"id": "117020576894251994", "type": "audio"}
    item = notification(
        content=REPORT_HTML,
        tags=[{"name": "pothole", "url": "https://city.example/tags/pothole"}],
        media_attachments=[photo(), video, audio],
        language="es",
    )

    (mention,) = wire.parse_notifications([item]).mentions

    assert mention.text == (
        f"@city311 Deep pothole #Pothole here: {MAP_LINK}\n\nNear the school\nPlease hurry & thanks"
    )
    assert mention.hashtags == ("pothole",)
    assert mention.expanded_urls == (MAP_LINK,)  # not the mention's nor the hashtag's link
    first, second = mention.media
    assert first.type is MediaType.PHOTO and first.alt_text == "A pothole"
    assert first.url == photo()["url"] and first.image_url == photo()["url"]
    assert second.type is MediaType.VIDEO and second.image_url == photo()["preview_url"]
    assert mention.missing == (
        "medium 117020576894251994 of a type socialbot does not know ('audio')",
    )
    assert mention.lang == "es"


def test_a_reply_refers_to_the_status_it_answers() -> None:
    reply = status_of("test_status_reply", index=1)  # @admin answering mastodonpy_test_2

    (mention,) = wire.parse_notifications([notification() | {"status": reply}]).mentions

    assert [(r.type, r.post_id) for r in mention.references] == [
        (ReferenceType.REPLIED_TO, "117020583245459824")
    ]
    assert mention.in_reply_to_user_id == "117020566092212359"


def test_a_direct_mention_keeps_its_visibility_and_content_warning() -> None:
    direct = status_of("test_status_post_cw_direct")

    (mention,) = wire.parse_notifications([notification() | {"status": direct}]).mentions

    context = wire.read_reply_context(mention.reply_context)
    assert (context.visibility, context.spoiler_text) == ("direct", "Content warning")
    assert context.acct == direct["account"]["acct"]
    assert not mention.public  # its case shows no words and no photo on the web service


def test_public_and_unlisted_mentions_are_public_followers_only_ones_are_not() -> None:
    status = mentions_page()[0]["status"]
    seen = {
        visibility: wire.parse_notifications(
            [notification() | {"status": status | {"visibility": visibility}}]
        )
        .mentions[0]
        .public
        for visibility in ("public", "unlisted", "private", "direct", "limited")
    }
    assert seen == {
        "public": True,
        "unlisted": True,
        "private": False,
        "direct": False,
        "limited": False,
    }


def test_a_boost_is_kept_as_one_the_core_ignores() -> None:
    boosted = copy.deepcopy(mentions_page()[0]["status"])
    (mention,) = wire.parse_notifications([notification(reblog=boosted)]).mentions
    assert mention.is_retweet


def test_notifications_without_a_mention_are_left_out_but_move_the_cursor() -> None:
    follow = {"id": "23", "type": "follow", "created_at": "2026-08-01T13:52:00.000Z"}
    deleted = notification() | {"id": "22", "status": None}

    page = wire.parse_notifications([follow, deleted, mentions_page()[0]])

    assert [m.post_id for m in page.mentions] == ["117020577157693549"]
    assert page.malformed == ()
    assert page.cursor == "23"


def test_a_malformed_mention_is_recorded_and_the_page_goes_on() -> None:
    broken = notification(created_at=1785592302, id="117020577157693550") | {"id": "22"}

    page = wire.parse_notifications([broken, mentions_page()[0]])

    assert [m.post_id for m in page.mentions] == ["117020577157693549"]
    (bad,) = page.malformed
    assert bad.post_id == "117020577157693550"
    assert "created_at" in bad.problem or "time" in bad.problem
    assert json.loads(bad.raw)["id"] == "22"
    assert page.cursor == "22"


def test_the_cursor_orders_ids_as_mastodon_does_and_never_goes_back() -> None:
    def page(*ids: str) -> list[Any]:
        return [notification() | {"id": i} for i in ids]

    assert wire.parse_notifications(page("99", "100")).cursor == "100"  # longer is newer
    assert wire.parse_notifications(page("98"), since="99").cursor == "99"
    assert wire.parse_notifications([], since="99").cursor is None  # nothing new: no move


def test_our_own_statuses_and_what_we_posted() -> None:
    reply = status_of("test_status_reply", index=1)
    boost = reply | {"id": "117020583258292999", "reblog": status_of("test_status_reply")}

    posts = wire.parse_own_statuses([reply, boost, {"id": 5}])

    assert [(p.post_id, p.in_reply_to, p.text) for p in posts] == [
        ("117020583258292382", "117020583245459824", "@mastodonpy_test_2 same!")
    ]
    posted = wire.parse_posted(status_of("test_status_post_unlisted"))
    assert posted.id == "117020585907693810"
    assert wire.read_reply_context(posted.context).visibility == "unlisted"


def test_a_reply_is_never_wider_than_its_post() -> None:
    assert wire.narrowest("unlisted", "public") == "unlisted"
    assert wire.narrowest("public", "direct") == "direct"
    assert wire.narrowest("limited", "public") == "direct"  # one we do not know: the narrowest
    for garbage in ("", "{", '"public"', '{"visibility": "everyone"}', "[1]"):
        assert wire.read_reply_context(garbage) == wire.ReplyContext("direct")


def test_rate_budget_headers() -> None:
    answer = cassettes.find("test_status_post_public", "POST", "/api/v1/statuses")
    headers = CaseInsensitiveDict(dict(answer.headers))  # as requests hands them over
    now = datetime(2026, 8, 1, 13, 53, tzinfo=UTC)

    budget = wire.parse_rate_budget(headers, now)

    assert budget is not None
    assert (budget.remaining, budget.limit) == (216, 300)
    assert budget.reset_at == datetime(2026, 8, 1, 15, 0, 0, 627625, tzinfo=UTC)
    assert wire.parse_rate_budget({"X-RateLimit-Remaining": "x"}, now) is None


def test_mastodons_error_text() -> None:
    assert wire.error_text(b'{"error":"Validation failed: Text can\'t be blank"}') == (
        "Validation failed: Text can't be blank"
    )
    assert wire.error_text(b"<html>Bad gateway</html>") == ""


# Any JSON value, as a field of a notification or of its status could hold.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
NOTIFICATION_FIELDS = ("id", "type", "created_at", "account", "status")
STATUS_FIELDS = (
    "id",
    "created_at",
    "in_reply_to_id",
    "in_reply_to_account_id",
    "spoiler_text",
    "visibility",
    "language",
    "content",
    "reblog",
    "account",
    "media_attachments",
    "tags",
)


@settings(max_examples=300, deadline=None)
@given(
    top=st.dictionaries(st.sampled_from(NOTIFICATION_FIELDS), JSON, max_size=2),
    inner=st.dictionaries(st.sampled_from(STATUS_FIELDS), JSON, max_size=3),
    attachment=st.dictionaries(st.sampled_from(["id", "type", "url", "description"]), JSON),
)
def test_any_json_in_any_field_yields_a_mention_or_a_malformed_item(
    top: dict[str, Any], inner: dict[str, Any], attachment: dict[str, Any]
) -> None:
    item = notification()
    item["status"]["media_attachments"] = [photo() | attachment]
    item["status"].update(inner)
    item.update(top)

    page = wire.parse_notifications([item, mentions_page()[0]])

    items: list[Mention | Malformed] = [*page.mentions, *page.malformed]
    assert "117020577157693549" in [i.post_id for i in items]
    for mention in page.mentions:
        assert mention.text == clean_text(mention.text)
        assert mention.author_username is None or len(mention.author_username) <= 64
    for bad in page.malformed:
        json.loads(bad.raw)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_any_html_gives_storable_text(content: str) -> None:
    read = wire.read_html(content)
    assert read.text == clean_text(read.text)
    assert all(u.startswith(("http://", "https://")) for u in read.links)


@given(
    st.lists(st.text(alphabet=st.characters(exclude_characters="<>&\r"), min_size=1), min_size=1)
)
def test_plain_paragraphs_come_back_as_typed(paragraphs: list[str]) -> None:
    words = [" ".join(p.split()) for p in paragraphs]
    html = "".join(f"<p>{w}</p>" for w in words)
    assert wire.html_text(html) == clean_text("\n\n".join(w for w in words if w))


@given(st.text())
def test_any_reply_context_reads_as_one_mastodon_knows(context: str) -> None:
    read = wire.read_reply_context(context)
    assert read.visibility in wire.VISIBILITIES
    assert read.spoiler_text == clean_text(read.spoiler_text)


@given(
    st.dictionaries(
        st.sampled_from(["X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Limit"]),
        st.text(),
    )
)
def test_any_rate_limit_headers_give_a_budget_or_none(headers: dict[str, str]) -> None:
    now = datetime(2026, 8, 1, tzinfo=UTC)
    budget = wire.parse_rate_budget(headers, now)
    assert budget is None or (budget.remaining >= 0 and budget.reset_at.tzinfo is not None)
