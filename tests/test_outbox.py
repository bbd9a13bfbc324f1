"""Posting queued replies: at most once, whatever fails and whenever the process dies."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
import requests
import responses
import urllib3
from sqlalchemy import Engine

from socialbot.errors import Unavailable
from socialbot.networks.x.adapter import XCredentials, XPlatform
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.outbox import QUOTA_USED, Outbox, RetryPolicy, send_once
from socialbot.store.db import transaction
from socialbot.store.models import OutboxMessage, OutboxState
from socialbot.store.queries import outbox_rows
from tests import xapi
from tests.city import queued_reply
from tests.conftest import Clock


def queue(engine: Engine, clock: Clock, *posts: int) -> None:
    with transaction(engine) as session:
        for n in posts:
            session.add(queued_reply(n, clock()))


@pytest.fixture
def outbox(engine: Engine) -> Outbox:
    x = XPlatform(XCredentials("ck", "cs", "at", "ats"))
    return Outbox(engine=engine, platform=x, user_id=lambda: xapi.CITY_ID)


def states(engine: Engine) -> list[tuple[str, str | None]]:
    return [(r.state.value, r.posted_id) for r in outbox_rows(engine)]


@responses.activate
def test_sends_each_queued_reply_once_in_order(
    engine: Engine, outbox: Outbox, clock: Clock
) -> None:
    queue(engine, clock, 1, 2)
    responses.post(xapi.TWEETS_URL, json=xapi.posted("801", "a"))
    responses.post(xapi.TWEETS_URL, json=xapi.posted("802", "b"))

    assert send_once(outbox, clock).sent == 2
    assert send_once(outbox, clock).sent == 0

    assert states(engine) == [("sent", "801"), ("sent", "802")]
    assert len(responses.calls) == 2


@responses.activate
def test_dry_run_posts_nothing_and_changes_nothing(
    engine: Engine, outbox: Outbox, clock: Clock
) -> None:
    queue(engine, clock, 1)
    send_once(outbox, clock, dry_run=True)
    assert states(engine) == [("pending", None)]
    assert len(responses.calls) == 0


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no except clause catches it."""


@responses.activate
def test_crash_after_posting_before_recording_is_healed_without_a_second_post(
    engine: Engine, outbox: Outbox, clock: Clock
) -> None:
    queue(engine, clock, 1)
    responses.post(xapi.TWEETS_URL, json=xapi.posted("801", "Thanks!"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("socialbot.outbox._mark_sent", lambda *a: (_ for _ in ()).throw(Killed()))
        with pytest.raises(Killed):
            send_once(outbox, clock)
    assert states(engine) == [("sending", None)]

    # Straight after the restart the row may still be in flight elsewhere: left alone.
    send_once(outbox, clock)
    assert len(responses.calls) == 1

    clock.advance(minutes=3)
    responses.get(
        xapi.OWN_TWEETS_URL,
        json={
            "data": [
                {
                    "id": "801",
                    "text": "Thanks!",
                    "created_at": "2026-11-23T12:00:01.000Z",
                    "referenced_tweets": [{"type": "replied_to", "id": xapi.post_id(1)}],
                }
            ],
            "meta": {"result_count": 1},
        },
    )
    report = send_once(outbox, clock)

    assert report.recovered == 1 and report.sent == 0
    assert states(engine) == [("sent", "801")]
    assert [c.request.method for c in responses.calls] == ["POST", "GET"]


def die_before_the_post_reaches_x(engine: Engine, outbox: Outbox, clock: Clock) -> None:
    """One reply claimed, then the process dies inside the network call; restarted 3 min later."""
    queue(engine, clock, 1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(outbox.platform, "post", lambda *a: (_ for _ in ()).throw(Killed()))
        with pytest.raises(Killed):
            send_once(outbox, clock)
    clock.advance(minutes=3)


@responses.activate
def test_crash_before_the_post_reached_x_is_sent_once_after_checking(
    engine: Engine, outbox: Outbox, clock: Clock
) -> None:
    die_before_the_post_reaches_x(engine, outbox, clock)
    responses.get(xapi.OWN_TWEETS_URL, json={"meta": {"result_count": 0}})
    responses.post(xapi.TWEETS_URL, json=xapi.posted("802", "Thanks!"))

    report = send_once(outbox, clock)

    assert (report.requeued, report.sent) == (1, 1)
    assert states(engine) == [("sent", "802")]


@responses.activate
def test_recovery_waits_while_x_cannot_tell_us(
    engine: Engine, outbox: Outbox, clock: Clock
) -> None:
    die_before_the_post_reaches_x(engine, outbox, clock)
    responses.get(xapi.OWN_TWEETS_URL, status=503, body="over capacity")
    send_once(outbox, clock)
    assert states(engine) == [("sending", None)]  # never re-sent blind


@responses.activate
def test_rate_limit_holds_the_whole_queue_until_reset(
    engine: Engine, outbox: Outbox, clock: Clock
) -> None:
    queue(engine, clock, 1, 2)
    reset = clock() + timedelta(minutes=7)
    responses.post(
        xapi.TWEETS_URL,
        status=429,
        json={"title": "Too Many Requests", "status": 429},
        headers={"x-rate-limit-reset": str(int(reset.timestamp()))},
    )

    report = send_once(outbox, clock)

    assert report.stopped_by == "RateLimited"
    assert len(responses.calls) == 1  # the second reply was not tried against a closed door
    first = outbox_rows(engine)[0]
    assert first.state is OutboxState.PENDING and first.next_attempt_at == reset
    assert first.attempts == 0  # waiting our turn is not a failed attempt

    clock.advance(minutes=5)
    assert send_once(outbox, clock).sent == 0 and len(responses.calls) == 1


@responses.activate
def test_the_last_post_of_the_quota_holds_the_queue_until_reset_without_a_429(
    engine: Engine, outbox: Outbox, clock: Clock
) -> None:
    queue(engine, clock, 1, 2, 3, 4)
    reset = clock() + timedelta(minutes=12)

    def window(remaining: int) -> dict[str, str]:
        return {
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(int(reset.timestamp())),
        }

    responses.post(xapi.TWEETS_URL, json=xapi.posted("801", "a"), status=201, headers=window(1))
    responses.post(xapi.TWEETS_URL, json=xapi.posted("802", "b"), status=201, headers=window(0))

    report = send_once(outbox, clock)

    assert (report.sent, report.stopped_by) == (2, QUOTA_USED)
    assert len(responses.calls) == 2  # no third request only to be told 429
    rows = outbox_rows(engine)
    assert [r.state for r in rows] == [OutboxState.SENT] * 2 + [OutboxState.PENDING] * 2
    assert {r.next_attempt_at for r in rows[2:]} == {reset}
    assert rows[2].attempts == 0

    clock.advance(minutes=11)
    assert send_once(outbox, clock).sent == 0 and len(responses.calls) == 2

    clock.advance(minutes=1)
    responses.replace(responses.POST, xapi.TWEETS_URL, json=xapi.posted("803", "c"), status=201)
    assert send_once(outbox, clock).sent == 2
    assert [r.state for r in outbox_rows(engine)] == [OutboxState.SENT] * 4


@responses.activate
def test_a_quota_whose_reset_has_passed_does_not_hold_the_queue(
    engine: Engine, outbox: Outbox, clock: Clock
) -> None:
    queue(engine, clock, 1, 2)
    stale = {
        "x-rate-limit-limit": "100",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(int((clock() - timedelta(seconds=5)).timestamp())),
    }
    responses.post(xapi.TWEETS_URL, json=xapi.posted("801", "a"), status=201, headers=stale)

    assert send_once(outbox, clock).sent == 2


@responses.activate
def test_a_rejected_reply_fails_for_good_and_the_rest_go_on(
    engine: Engine, outbox: Outbox, clock: Clock
) -> None:
    queue(engine, clock, 1, 2)
    responses.post(
        xapi.TWEETS_URL,
        status=403,
        json={
            "detail": "You attempted to reply to a Tweet that is deleted or not visible to you.",
            "status": 403,
        },
    )
    responses.post(xapi.TWEETS_URL, json=xapi.posted("802", "b"))

    report = send_once(outbox, clock)

    assert (report.failed, report.sent) == (1, 1)
    rows = outbox_rows(engine)
    assert rows[0].state is OutboxState.FAILED and "deleted or not visible" in (
        rows[0].last_error or ""
    )


NO_REPLIES = {"meta": {"result_count": 0}}


def our_reply_to(n: int, reply_id: str) -> dict[str, object]:
    return {
        "data": [
            {
                "id": reply_id,
                "text": "Thanks!",
                "created_at": "2026-11-23T12:00:01.000Z",
                "referenced_tweets": [{"type": "replied_to", "id": xapi.post_id(n)}],
            }
        ],
        "meta": {"result_count": 1},
    }


@pytest.mark.parametrize(
    "failure",
    [
        {"body": requests.ReadTimeout("read timed out")},
        {"status": 503, "body": "Service Unavailable"},
        {"status": 200, "body": "<html>oops</html>"},
    ],
    ids=["read timeout", "503", "unreadable 200"],
)
@responses.activate
def test_a_post_that_may_have_happened_is_checked_on_x_never_resent_blind(
    engine: Engine, outbox: Outbox, clock: Clock, failure: dict[str, object]
) -> None:
    queue(engine, clock, 1)
    responses.post(xapi.TWEETS_URL, **failure)  # type: ignore[arg-type]

    report = send_once(outbox, clock)

    assert report.unverified == 1 and states(engine) == [("sending", None)]
    clock.advance(minutes=3)
    responses.get(xapi.OWN_TWEETS_URL, json=our_reply_to(1, "801"))  # it did go out
    assert send_once(outbox, clock).recovered == 1
    assert states(engine) == [("sent", "801")]
    assert [c.request.method for c in responses.calls] == ["POST", "GET"]


@responses.activate
def test_a_post_that_did_not_happen_after_all_is_sent_once_more(
    engine: Engine, outbox: Outbox, clock: Clock
) -> None:
    queue(engine, clock, 1)
    responses.post(xapi.TWEETS_URL, status=503, body="Service Unavailable")
    send_once(outbox, clock)
    clock.advance(minutes=3)
    responses.get(xapi.OWN_TWEETS_URL, json=NO_REPLIES)
    responses.replace(responses.POST, xapi.TWEETS_URL, json=xapi.posted("802", "Thanks!"))

    report = send_once(outbox, clock)

    assert (report.requeued, report.sent) == (1, 1)
    assert states(engine) == [("sent", "802")]


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectTimeout("connect timed out"),
        requests.ConnectionError(
            urllib3.exceptions.MaxRetryError(
                None, "/2/tweets", urllib3.exceptions.NewConnectionError(None, "refused")
            )  # type: ignore[arg-type]
        ),
    ],
    ids=["connect timeout", "connection refused"],
)
@responses.activate
def test_a_post_that_never_left_backs_off_and_retries(
    engine: Engine, outbox: Outbox, clock: Clock, failure: Exception
) -> None:
    queue(engine, clock, 1)
    responses.post(xapi.TWEETS_URL, body=failure)

    report = send_once(outbox, clock)

    row = outbox_rows(engine)[0]
    assert report.retrying == 1 and row.state is OutboxState.PENDING and row.attempts == 1
    assert timedelta(seconds=24) <= row.next_attempt_at - clock() <= timedelta(seconds=36)
    responses.replace(responses.POST, xapi.TWEETS_URL, json=xapi.posted("803", "a"))
    assert send_once(outbox, clock).sent == 0  # not due yet
    clock.advance(minutes=1)
    assert send_once(outbox, clock).sent == 1


@responses.activate
def test_a_long_outage_does_not_throw_the_queue_away(
    engine: Engine, outbox: Outbox, clock: Clock
) -> None:
    queue(engine, clock, 1)
    responses.post(xapi.TWEETS_URL, body=requests.ConnectTimeout("connect timed out"))
    for _ in range(30):  # thirty failed tries over many hours
        send_once(outbox, clock)
        clock.advance(hours=1)
    assert outbox_rows(engine)[0].state is OutboxState.PENDING

    clock.advance(days=2)
    send_once(outbox, clock)
    row = outbox_rows(engine)[0]
    assert row.state is OutboxState.FAILED


@responses.activate
def test_missing_write_permission_pauses_the_queue_instead_of_failing_it(
    engine: Engine, outbox: Outbox, clock: Clock
) -> None:
    queue(engine, clock, 1, 2, 3)
    responses.post(
        xapi.TWEETS_URL,
        status=403,
        json={
            "title": "Forbidden",
            "type": "https://api.twitter.com/2/problems/oauth1-permissions",
            "detail": "Your client app is not configured with the appropriate oauth1 app "
            "permissions for this endpoint.",
            "status": 403,
        },
    )

    report = send_once(outbox, clock)

    assert report.stopped_by == "AuthFailed" and len(responses.calls) == 1
    assert {r.state for r in outbox_rows(engine)} == {OutboxState.PENDING}


@responses.activate
def test_refusals_in_a_row_stop_the_batch(engine: Engine, outbox: Outbox, clock: Clock) -> None:
    queue(engine, clock, 1, 2, 3, 4, 5)
    responses.post(
        xapi.TWEETS_URL,
        status=403,
        json={"title": "Forbidden", "detail": "something new", "status": 403},
    )

    report = send_once(outbox, clock)

    assert report.failed == 3 and report.stopped_by == "Rejected" and len(responses.calls) == 3
    assert [r.state for r in outbox_rows(engine)][3:] == [OutboxState.PENDING, OutboxState.PENDING]


@responses.activate
def test_recovery_leaves_a_row_that_another_sender_claimed_meanwhile(
    engine: Engine, outbox: Outbox, clock: Clock
) -> None:
    die_before_the_post_reaches_x(engine, outbox, clock)

    def another_sender_reclaims(user_id: str, since: object) -> list[object]:
        with transaction(engine) as session:
            row = session.get(OutboxMessage, 1)
            assert row is not None
            row.claimed_at = clock()  # recovered, requeued and claimed again elsewhere
        return []

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(outbox.platform, "recent_posts", another_sender_reclaims)
        mp.setattr(
            outbox.platform, "post", lambda *a: pytest.fail("posted a row another sender holds")
        )
        report = send_once(outbox, clock)

    assert report.requeued == 0 and states(engine) == [("sending", None)]


def test_backoff_grows_by_half_with_jitter_up_to_a_cap() -> None:
    policy = RetryPolicy(jitter=0.0)
    assert [policy.delay(n).total_seconds() for n in (1, 2, 3)] == [30.0, 45.0, 67.5]
    assert policy.delay(40) == timedelta(hours=1)
    jittered = {RetryPolicy().delay(3, random.Random(seed)) for seed in range(20)}
    assert len(jittered) > 1
    assert all(timedelta(seconds=54) <= d <= timedelta(seconds=81) for d in jittered)


@responses.activate
def test_recovery_does_not_take_an_earlier_reply_to_the_same_post_for_this_one(
    engine: Engine, outbox: Outbox, clock: Clock
) -> None:
    queue(engine, clock, 1)
    responses.post(xapi.TWEETS_URL, json=xapi.posted("801", "filed"))
    send_once(outbox, clock)  # the "filed" reply to post 1 is out, as 801
    with transaction(engine) as session:  # staff close the case: a second reply to post 1
        session.add(
            OutboxMessage(
                platform="x",
                account="intake",
                dedupe_key="status:x:1:2",
                in_reply_to_post_id=xapi.post_id(1),
                template="closed",
                lang="en",
                text="Case #1 has been closed",
                next_attempt_at=clock(),
                created_at=clock(),
            )
        )
    responses.replace(responses.POST, xapi.TWEETS_URL, body=requests.ReadTimeout("read timed out"))
    send_once(outbox, clock)
    clock.advance(minutes=3)
    responses.get(xapi.OWN_TWEETS_URL, json=our_reply_to(1, "801"))  # only the old reply is there
    responses.replace(responses.POST, xapi.TWEETS_URL, json=xapi.posted("802", "closed"))

    report = send_once(outbox, clock)

    assert (report.recovered, report.requeued, report.sent) == (0, 1, 1)
    assert states(engine) == [("sent", "801"), ("sent", "802")]


class FiveHundreds(ReplayPlatform):
    """X answering every post with a 5xx (which may have posted), and showing none of them."""

    def __init__(self) -> None:
        super().__init__(xapi.CITY_ID)
        self.posts: list[datetime] = []
        self.clock: Clock | None = None

    def post(self, text: str, in_reply_to: str | None, media_ids: Sequence[str] = ()) -> str:
        assert self.clock is not None
        self.posts.append(self.clock())
        raise Unavailable("X server error (503): Service Unavailable", maybe_done=True)


def test_a_5xx_on_every_post_is_retried_with_backoff_and_given_up_after_two_days(
    engine: Engine, clock: Clock
) -> None:
    x = FiveHundreds()
    x.clock = clock
    # Recovery as eager as a setting allows: the backoff, not the recovery delay, must bound it.
    policy = RetryPolicy(recover_after=timedelta(seconds=1))
    outbox = Outbox(engine=engine, platform=x, user_id=lambda: xapi.CITY_ID, policy=policy)
    queue(engine, clock, 1, 2, 3)

    for _ in range(6 * 60):  # an hour of the send job's 10 s rounds
        send_once(outbox, clock)
        clock.advance(seconds=10)

    # 30 s, 45 s, 67 s … apart (±20 %): about ten attempts a reply in the first hour, not 360.
    assert 3 * 5 <= len(x.posts) <= 3 * 14
    assert all(r.state in (OutboxState.PENDING, OutboxState.SENDING) for r in outbox_rows(engine))

    for _ in range(2 * 24 + 1):  # two days more, an hourly round (the delay is capped at 1 h)
        clock.advance(hours=1)
        send_once(outbox, clock)
        clock.advance(seconds=10)
        send_once(outbox, clock)
    posts = len(x.posts)
    clock.advance(hours=2)
    send_once(outbox, clock)

    assert [r.state for r in outbox_rows(engine)] == [OutboxState.FAILED] * 3
    assert all("gave up after" in (r.last_error or "") for r in outbox_rows(engine))
    assert len(x.posts) == posts  # nothing more once given up
