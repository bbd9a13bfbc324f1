"""The X adapter against the X API v2 wire format, mocked at the HTTP level with `responses`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses

from socialbot.errors import AuthFailed, RateLimited, Rejected, Unavailable
from socialbot.networks.base import RateBudget
from socialbot.networks.x.adapter import XCredentials, XPlatform
from tests import xapi

SECRETS = XCredentials("ck-SECRET-1", "cs-SECRET-2", "at-SECRET-3", "ats-SECRET-4")


@pytest.fixture
def x() -> XPlatform:
    return XPlatform(SECRETS)


def query(call: responses.Call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(call.request.url).query).items()}


@responses.activate
def test_fetch_mentions_asks_for_everything_intake_needs(x: XPlatform) -> None:
    responses.get(xapi.MENTIONS_URL, json=xapi.page([xapi.tweet(1, "@DemoCity311 #pothole")]))

    pages = x.fetch_mentions(xapi.CITY_ID, cursor="1859000000000000000")

    assert [m.post_id for m in pages[0].mentions] == [xapi.post_id(1)]
    sent = query(responses.calls[0])
    assert sent == {
        "since_id": "1859000000000000000",
        "max_results": "100",
        "expansions": "author_id,attachments.media_keys,geo.place_id,referenced_tweets.id",
        "media.fields": "url,preview_image_url,type,alt_text",
        "place.fields": "full_name,geo,place_type",
        # note_tweet: a long post's whole text; the edit history: an edit's original; withheld:
        # posts X holds back, never answered
        "tweet.fields": (
            "created_at,geo,entities,conversation_id,in_reply_to_user_id,lang,referenced_tweets,"
            "edit_history_tweet_ids,note_tweet,withheld"
        ),
        "user.fields": "username,withheld",
    }
    # OAuth 1.0a user context, signed: the city account's own mentions.
    assert responses.calls[0].request.headers["Authorization"].startswith("OAuth ")


@responses.activate
def test_first_poll_sends_no_since_id(x: XPlatform) -> None:
    responses.get(xapi.MENTIONS_URL, json=xapi.page([]))
    assert x.fetch_mentions(xapi.CITY_ID, cursor=None)[0].mentions == ()
    assert "since_id" not in query(responses.calls[0])


@responses.activate
def test_follows_pagination_tokens_to_the_last_page(x: XPlatform) -> None:
    responses.get(
        xapi.MENTIONS_URL, json=xapi.page([xapi.tweet(3, "@DemoCity311 c")], next_token="t1")
    )
    responses.get(
        xapi.MENTIONS_URL, json=xapi.page([xapi.tweet(2, "@DemoCity311 b")], next_token="t2")
    )
    responses.get(xapi.MENTIONS_URL, json=xapi.page([xapi.tweet(1, "@DemoCity311 a")]))

    pages = x.fetch_mentions(xapi.CITY_ID, cursor=None)

    assert [p.mentions[0].post_id for p in pages] == [
        xapi.post_id(3),
        xapi.post_id(2),
        xapi.post_id(1),
    ]
    assert [query(c).get("pagination_token") for c in responses.calls] == [None, "t1", "t2"]


@responses.activate
def test_post_replies_in_the_thread(x: XPlatform) -> None:
    responses.post(xapi.TWEETS_URL, json=xapi.posted("1859999", "Thanks!"), status=201)

    assert x.post("Thanks!", in_reply_to=xapi.post_id(1)) == "1859999"

    body = json.loads(responses.calls[0].request.body)
    assert body == {"text": "Thanks!", "reply": {"in_reply_to_tweet_id": xapi.post_id(1)}}


def quota(prefix: str, limit: int, remaining: int, reset: int) -> dict[str, str]:
    return {
        f"{prefix}-limit": str(limit),
        f"{prefix}-remaining": str(remaining),
        f"{prefix}-reset": str(reset),
    }


@responses.activate
def test_a_post_tells_what_is_left_of_the_posting_quota(x: XPlatform) -> None:
    responses.post(
        xapi.TWEETS_URL,
        json=xapi.posted("1859999", "Thanks!"),
        status=201,
        headers=quota("x-rate-limit", 100, 37, 1795435200),
    )
    assert x.post_budget() is None  # nothing posted yet

    x.post("Thanks!", in_reply_to=xapi.post_id(1))

    assert x.post_budget() == RateBudget(37, datetime.fromtimestamp(1795435200, UTC), 100)


@responses.activate
def test_the_tightest_quota_counts_the_daily_one_included(x: XPlatform) -> None:
    headers = quota("x-rate-limit", 100, 99, 1795435200)
    headers |= quota("x-user-limit-24hour", 100, 0, 1795500000)
    headers |= quota("x-app-limit-24hour", 10_000, 5_000, 1795400000)
    responses.post(xapi.TWEETS_URL, json=xapi.posted("1", "a"), status=201, headers=headers)

    x.post("a", in_reply_to=None)

    assert x.post_budget() == RateBudget(0, datetime.fromtimestamp(1795500000, UTC), 100)


@responses.activate
def test_no_quota_headers_no_budget_and_odd_ones_are_ignored(x: XPlatform) -> None:
    responses.post(xapi.TWEETS_URL, json=xapi.posted("1", "a"), status=201)
    responses.post(
        xapi.TWEETS_URL,
        json=xapi.posted("2", "b"),
        status=201,
        headers={"x-rate-limit-remaining": "soon", "x-rate-limit-reset": "1795435200"},
    )
    responses.post(
        xapi.TWEETS_URL,
        json=xapi.posted("3", "c"),
        status=201,
        headers=quota("x-rate-limit", 100, 5, 1795435200),
    )
    responses.post(
        xapi.TWEETS_URL,
        status=429,
        json={"title": "Too Many Requests", "status": 429},
        headers=quota("x-rate-limit", 100, 0, 1795435200),
    )

    x.post("a", in_reply_to=None)
    assert x.post_budget() is None
    x.post("b", in_reply_to=None)
    assert x.post_budget() is None
    x.post("c", in_reply_to=None)
    assert x.post_budget() is not None
    with pytest.raises(RateLimited):
        x.post("d", in_reply_to=None)
    assert x.post_budget() is None  # a failed post says nothing about the last one


@responses.activate
def test_own_user_id_from_users_me(x: XPlatform) -> None:
    responses.get(xapi.ME_URL, json=xapi.me())
    assert x.own_user_id() == xapi.CITY_ID


@responses.activate
def test_recent_posts_lists_our_replies_and_our_own_posts(x: XPlatform) -> None:
    responses.get(
        xapi.OWN_TWEETS_URL,
        json={
            "data": [
                {
                    "id": "77",
                    "text": "Thanks! case #1",
                    "created_at": "2026-11-23T12:00:05.000Z",
                    "referenced_tweets": [{"type": "replied_to", "id": xapi.post_id(1)}],
                },
                {
                    "id": "78",
                    "text": "Snow emergency tonight",
                    "created_at": "2026-11-23T12:01:00.000Z",
                },
            ],
            "meta": {"result_count": 2},
        },
    )

    posts = x.recent_posts(xapi.CITY_ID, since=datetime(2026, 11, 23, 11, 55, tzinfo=UTC))

    assert [(p.post_id, p.in_reply_to, p.text) for p in posts] == [
        ("77", xapi.post_id(1), "Thanks! case #1"),
        ("78", None, "Snow emergency tonight"),
    ]
    assert query(responses.calls[0])["start_time"] == "2026-11-23T11:55:00Z"


@responses.activate
def test_429_is_rate_limited_until_the_reset_header(x: XPlatform) -> None:
    responses.get(
        xapi.MENTIONS_URL,
        status=429,
        json={"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
        headers={
            "x-rate-limit-limit": "180",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": "1795435200",
        },
    )
    with pytest.raises(RateLimited) as err:
        x.fetch_mentions(xapi.CITY_ID, cursor=None)
    assert err.value.reset_at == datetime.fromtimestamp(1795435200, UTC)
    assert len(responses.calls) == 1  # never sleeps and retries inside a job


@responses.activate
def test_401_is_auth_failed_and_names_what_to_check(x: XPlatform) -> None:
    responses.get(
        xapi.MENTIONS_URL,
        status=401,
        json={"title": "Unauthorized", "detail": "Unauthorized", "status": 401},
    )
    with pytest.raises(AuthFailed, match="SOCIALBOT_X_"):
        x.fetch_mentions(xapi.CITY_ID, cursor=None)


@responses.activate
def test_403_on_a_read_is_auth_but_on_a_post_is_a_rejected_post(x: XPlatform) -> None:
    forbidden = {
        "detail": "You attempted to reply to a Tweet that is deleted or not visible to you.",
        "status": 403,
        "title": "Forbidden",
        "type": "about:blank",
    }
    responses.get(xapi.MENTIONS_URL, status=403, json=forbidden)
    responses.post(xapi.TWEETS_URL, status=403, json=forbidden)
    with pytest.raises(AuthFailed):
        x.fetch_mentions(xapi.CITY_ID, cursor=None)
    with pytest.raises(Rejected, match="deleted or not visible"):
        x.post("Thanks!", in_reply_to="1")


@pytest.mark.parametrize("status", [500, 502, 503])
@responses.activate
def test_server_errors_are_unavailable(x: XPlatform, status: int) -> None:
    responses.post(xapi.TWEETS_URL, status=status, body="upstream connect error")
    with pytest.raises(Unavailable):
        x.post("Thanks!", in_reply_to="1")


@responses.activate
def test_connection_errors_and_timeouts_are_unavailable(x: XPlatform) -> None:
    responses.post(xapi.TWEETS_URL, body=requests.ConnectTimeout("timed out"))
    responses.get(xapi.MENTIONS_URL, body=requests.ConnectionError("reset by peer"))
    with pytest.raises(Unavailable):
        x.post("Thanks!", in_reply_to="1")
    with pytest.raises(Unavailable):
        x.fetch_mentions(xapi.CITY_ID, cursor=None)


@responses.activate
def test_every_request_has_a_timeout(x: XPlatform) -> None:
    seen: list[object] = []
    original = requests.adapters.HTTPAdapter.send

    def spy(
        self: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, **kwargs: object
    ) -> object:
        seen.append(kwargs.get("timeout"))
        return original(self, request, **kwargs)

    responses.get(xapi.ME_URL, json=xapi.me())
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(requests.adapters.HTTPAdapter, "send", spy)
        x.own_user_id()
    assert seen == [(5.0, 30.0)]


@responses.activate
def test_secrets_never_appear_in_errors_or_reprs(x: XPlatform) -> None:
    responses.get(
        xapi.MENTIONS_URL,
        status=401,
        json={"title": "Unauthorized", "status": 401, "detail": "Unauthorized"},
    )
    with pytest.raises(AuthFailed) as err:
        x.fetch_mentions(xapi.CITY_ID, cursor=None)
    shown = str(err.value) + repr(err.value) + repr(SECRETS)
    assert "SECRET" not in shown


@pytest.mark.parametrize("reset", ["99999999999999999999", "-5", "²", "soon"])
@responses.activate
def test_a_reset_time_no_calendar_holds_is_a_limit_without_a_known_end(
    x: XPlatform, reset: str
) -> None:
    """A 429's reset that is no time (the year 3e12, "²") is a wait of unknown end, never a
    crash or a hold until the year 5138. (Where tweepy's own int() of it fails first, it is an
    unreadable answer, retried with backoff as well.)"""
    headers = {"x-rate-limit-remaining": "0", "x-rate-limit-reset": reset}
    too_many = {"title": "Too Many Requests", "status": 429}
    responses.get(xapi.MENTIONS_URL, status=429, json=too_many, headers=headers)
    responses.post(xapi.TWEETS_URL, status=429, json=too_many, headers=headers)
    with pytest.raises((RateLimited, Unavailable)) as post:
        x.post("Thanks!", in_reply_to="1")
    assert getattr(post.value, "reset_at", None) is None
    with pytest.raises((RateLimited, Unavailable)) as read:
        x.fetch_mentions(xapi.CITY_ID, cursor=None)
    assert getattr(read.value, "reset_at", None) is None


@pytest.mark.parametrize("status", [409, 413, 415, 422])
@responses.activate
def test_other_client_errors_refuse_the_request_for_good(x: XPlatform, status: int) -> None:
    """Only 429 and 5xx are worth asking again; any other 4xx will answer the same forever."""
    responses.post(xapi.TWEETS_URL, status=status, json={"title": "Refused", "status": status})
    with pytest.raises(Rejected, match=f"X refused the request \\({status}"):
        x.post("Thanks!", in_reply_to="1")


@responses.activate
def test_a_reset_years_away_is_not_believed_past_a_day(x: XPlatform) -> None:
    """X's longest window is a day: a reset in the year 5138 would hold the queue for ever, in
    the database, across restarts."""
    headers = {
        "x-rate-limit-limit": "100",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": "99999999999",
    }
    responses.post(xapi.TWEETS_URL, status=429, json={"status": 429}, headers=headers)
    responses.post(xapi.TWEETS_URL, json=xapi.posted("1", "Thanks!"), headers=headers)

    with pytest.raises(RateLimited) as limited:
        x.post("Thanks!", in_reply_to="1")
    x.post("Thanks!", in_reply_to="1")

    a_day = datetime.now(UTC) + timedelta(hours=24, seconds=5)
    assert limited.value.reset_at is not None and limited.value.reset_at <= a_day
    budget = x.post_budget()
    assert budget is not None and budget.reset_at <= a_day


@pytest.mark.parametrize("status", [408, 425])
@responses.activate
def test_a_client_error_that_means_not_now_is_asked_again(x: XPlatform, status: int) -> None:
    responses.post(xapi.TWEETS_URL, status=status, json={"title": "Later", "status": status})
    with pytest.raises(Unavailable):
        x.post("Thanks!", in_reply_to="1")
