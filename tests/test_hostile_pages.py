"""No page X can serve stops intake: hostile pages, generated, through the real X adapter (over
mocked HTTP) and the real poll job, on every database the suite runs.

Whatever a page holds, each of its items ends up recorded exactly once (as a report, or as
malformed), the cursor moves past it, and every reply stays within a post and never repeats what
a resident wrote. Only a page that cannot be read at all (not a JSON object, `data` not a list)
stops its poll, as an X failure the scheduler backs off from.

The example count is modest here; set SOCIALBOT_FUZZ_EXAMPLES (e.g. 2000) for a long run.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from socialbot.app import Service, build_service
from socialbot.config import Settings
from socialbot.domain import MentionOutcome, is_post_id
from socialbot.errors import Unavailable
from socialbot.networks.base import Malformed
from socialbot.networks.x.adapter import XCredentials, XPlatform, read_json
from socialbot.poller import poll_once
from socialbot.storable import storable_json
from socialbot.store.db import transaction
from socialbot.store.models import Account, MentionRecord, OutboxMessage
from socialbot.text import weighted_length
from tests import xapi
from tests.conftest import Clock

EXAMPLES = int(os.environ.get("SOCIALBOT_FUZZ_EXAMPLES", "25"))
BOSTON = "-71.191155,42.227926,-70.986078,42.399974"
# What the X adapter says of an answer it cannot read as a page: an X failure, backed off from.
UNREADABLE = "mentions page that cannot be read|incomplete answer|unreadable answer"
# Every resident text carries it; no reply may.
CANARY = "QZXVW"

# Strings a hostile or broken payload may hold: NUL, lone surrogates, right-to-left and
# zero-width marks, terminal escapes, rich markup, digits that are not ASCII, huge.
_NASTY = [
    "\x00",
    "\ud800",
    "\udfff",
    "\u202e",
    "\u200b",
    "\ufeff",
    "\x1b[31m",
    "[/]",
    "[link=https://evil.example]x[/link]",
    "²",
    "٣",
    "\uff11\uff12\uff13",  # fullwidth digits
    "{{ 7*7 }}",
    "'; DROP TABLE cases; --",
]
nasty_text = st.one_of(
    st.text(max_size=40),
    st.sampled_from(_NASTY),
    st.lists(st.sampled_from([*_NASTY, "a", "#pothole", " "]), max_size=8).map("".join),
    st.integers(1_000, 70_000).map(lambda n: "x" * n),
)
json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=1, max_value=4000).map(lambda n: 10**n),  # past any float
    st.floats(allow_nan=True, allow_infinity=True),
    nasty_text,
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@dataclass(frozen=True)
class Fresh:
    """A real, new post id, filled in when the page is served."""


@dataclass(frozen=True)
class Again:
    """The id of the item before it on the page: X serving one post twice."""


ids = st.one_of(
    st.just(Fresh()),
    st.just(Fresh()),
    st.just(Again()),
    st.sampled_from(["²", "٣", "1" * 65, "12\x00", "", "0x1f", "-1", " 1"]),
    json_value,
)
user_ids = st.one_of(st.sampled_from(["2001", "2002", "2003"]), json_value)


@st.composite
def hostile_tweets(draw: st.DrawFn) -> dict[str, Any]:
    """A mention as X serves one, with any of its fields replaced by something hostile."""
    text = f"@DemoCity311 {draw(st.sampled_from(['#pothole', '#graffiti', '#nope', '']))} "
    text += f"{CANARY} {draw(nasty_text)}"
    lat = draw(st.one_of(st.floats(42.23, 42.39), st.floats(allow_nan=True)))
    lon = draw(st.one_of(st.floats(-71.19, -70.99), st.floats(allow_nan=True)))
    item = xapi.tweet(1, text, author="2001", coordinates=(lat, lon), media_keys=["3_1"])
    if draw(st.integers(0, 4)) == 0:  # anything at all where the coordinates go
        item["geo"]["coordinates"]["coordinates"] = draw(st.lists(json_value, max_size=3))
    item["id"] = draw(ids)
    for name, value in draw(
        st.dictionaries(
            st.sampled_from(
                [
                    "author_id",
                    "text",
                    "created_at",
                    "lang",
                    "conversation_id",
                    "in_reply_to_user_id",
                    "entities",
                    "geo",
                    "attachments",
                    "referenced_tweets",
                    "place_id",
                ]
            ),
            json_value,
            max_size=3,
        )
    ).items():
        if name == "place_id":
            geo = item.get("geo")
            item["geo"] = {**(geo if isinstance(geo, dict) else {}), "place_id": value}
        else:
            item[name] = value
    return item


@st.composite
def hostile_pages(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 19)) == 0:  # now and then a page that is no page at all
        return draw(st.one_of(st.lists(json_value, max_size=3), st.just({"data": {"id": "1"}})))
    tweets: list[Any] = draw(st.lists(hostile_tweets(), min_size=1, max_size=6))
    if draw(st.booleans()):
        tweets.append(draw(json_value))  # an item that is not a tweet at all
    users = [xapi.user(a, f"resident{a}") for a in ("2001", "2002", "2003")]
    users += draw(
        st.lists(
            st.fixed_dictionaries({"id": user_ids, "username": json_value, "name": json_value}),
            max_size=2,
        )
    )
    odd_media = st.fixed_dictionaries(
        {"media_key": st.one_of(st.just("3_1"), json_value), "type": json_value}
    )
    media = [xapi.photo("3_1"), *draw(st.lists(odd_media, max_size=2))]
    places = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "id": json_value,
                    "full_name": json_value,
                    "geo": st.fixed_dictionaries(
                        {
                            "bbox": st.lists(
                                st.one_of(st.floats(allow_nan=True), json_value), max_size=5
                            )
                        }
                    ),
                }
            ),
            max_size=2,
        )
    )
    return {
        "data": tweets,
        "includes": draw(
            st.one_of(st.just({"users": users, "media": media, "places": places}), json_value)
        ),
        "meta": draw(st.one_of(st.just({"result_count": len(tweets)}), json_value)),
    }


_counter = itertools.count(1)


def with_ids(page: Any) -> Any:
    """`page` with its `Fresh` ids made real new ones and each `Again` its neighbour's."""
    if not isinstance(page, dict) or not isinstance(page.get("data"), list):
        return page
    last = xapi.post_id(next(_counter) * 10)
    for item in page["data"]:
        if isinstance(item, dict) and isinstance(item.get("id"), Fresh | Again):
            if isinstance(item["id"], Fresh):
                last = xapi.post_id(next(_counter) * 10)
            item["id"] = last
    return page


@pytest.fixture
def service(settings: Settings, clock: Clock) -> Iterator[Service]:
    settings = settings.model_copy(update={"city_bounds": BOSTON, "daily_case_limit": 1000})
    service = build_service(
        settings, platform=XPlatform(XCredentials("ck", "cs", "at", "ats")), clock=clock
    )
    yield service
    service.close()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 100,  # CI sees the same pages every run; a long run explores
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(page=hostile_pages())
def test_no_page_stops_intake(service: Service, page: Any) -> None:
    page = with_ids(page)
    readable = isinstance(page, dict) and isinstance(page.get("data", []), list)
    with transaction(service.engine) as session:
        replies_before = len(session.exec(select(OutboxMessage.id)).all())

    with responses.RequestsMock() as mock:
        mock.get(xapi.MENTIONS_URL, body=json.dumps(page))
        if readable:
            poll_once(service.intake, service.clock, user_id=xapi.CITY_ID)
        else:
            with pytest.raises(Unavailable, match=UNREADABLE):
                poll_once(service.intake, service.clock, user_id=xapi.CITY_ID)
            return

    served = read_json(json.dumps(page).encode())["data"]  # as the adapter reads X's answer
    with transaction(service.engine) as session:
        recorded = session.exec(select(MentionRecord.post_id)).all()
        cursor = session.exec(select(Account.cursor).where(Account.name == "intake")).one()
        replies = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    for item in served:
        post_id = item.get("id") if isinstance(item, dict) else None
        key = post_id if is_post_id(post_id) else Malformed(None, "", storable_json(item)).key
        assert recorded.count(key) == 1, f"{key!r} recorded {recorded.count(key)} times"
    valid = [item["id"] for item in served if isinstance(item, dict) and is_post_id(item.get("id"))]
    if valid:
        assert cursor is not None and int(cursor) >= max(int(i) for i in valid)
    for reply in replies[replies_before:]:
        assert weighted_length(reply.text) <= 280
        assert CANARY not in reply.text


def _poll(service: Service, page: Any) -> dict[str, MentionRecord]:
    """Serve `page` as X would and poll once; the mentions recorded, by post id."""
    with responses.RequestsMock() as mock:
        mock.get(xapi.MENTIONS_URL, body=json.dumps(page))
        poll_once(service.intake, service.clock, user_id=xapi.CITY_ID)
    with transaction(service.engine) as session:
        return {r.post_id: r for r in session.exec(select(MentionRecord)).all()}


def _cursor(service: Service) -> str | None:
    with transaction(service.engine) as session:
        return session.exec(select(Account.cursor).where(Account.name == "intake")).one()


def _report(n: int, **fields: Any) -> dict[str, Any]:
    # a kilometre apart: each its own case, none the duplicate of another
    item = xapi.tweet(n, "@DemoCity311 #pothole", coordinates=(42.25 + n / 100, -71.06))
    item.update(fields)
    return item


# Each of these once stopped all intake: the page was never saved and X served it again forever.
ODD_POSTS = {
    "a lone surrogate in the text": {"text": "@DemoCity311 #pothole \ud83d here"},
    "a NUL in the text": {"text": "@DemoCity311 #pothole\x00"},
    "a list as conversation id": {"conversation_id": ["1"]},
    "an id that str.isdigit takes": {"author_id": "²"},
    "a 65-digit author id": {"author_id": "1" * 65},
    "an object as lang": {"lang": {"code": "en"}},
    "a 40-character lang": {"lang": "en-" + "x" * 37},
    "a list of lists as references": {"referenced_tweets": [["replied_to", "1"]]},
    "a list as media key": {"attachments": {"media_keys": [["3_1"]]}},
    "a list as place id": {"geo": {"place_id": ["p1"]}},
    # float(10**400) raises OverflowError, which no ValueError handler catches
    "a 401-digit coordinate": {
        "geo": {"coordinates": {"type": "Point", "coordinates": [10**400, 0]}}
    },
    "a 401-digit conversation id": {"conversation_id": 10**400},
}


@pytest.mark.parametrize("fields", ODD_POSTS.values(), ids=ODD_POSTS.keys())
def test_one_odd_post_is_recorded_once_and_the_page_goes_on(
    service: Service, fields: dict[str, Any]
) -> None:
    odd = _report(2, **fields)
    page = xapi.page([_report(1), odd, _report(3)], media=[xapi.photo("3_1")])

    recorded = _poll(service, page)

    assert set(recorded) == {xapi.post_id(n) for n in (1, 2, 3)}
    assert recorded[xapi.post_id(1)].outcome is MentionOutcome.CASE_OPENED
    assert recorded[xapi.post_id(3)].outcome is not MentionOutcome.MALFORMED
    assert _cursor(service) == xapi.post_id(3)


def test_a_username_that_is_not_one_makes_its_post_malformed_not_the_page(
    service: Service,
) -> None:
    """A NUL or a list in `includes.users[].username` (PostgreSQL refused the NUL)."""
    page = xapi.page(
        [_report(1, author_id="2001"), _report(2, author_id="2002"), _report(3, author_id="2003")],
        users=[
            xapi.user("2001", "ana"),
            {"id": "2002", "name": "x", "username": "bad\x00name"},
            {"id": "2003", "name": "x", "username": ["list"]},
        ],
    )

    recorded = _poll(service, page)

    assert recorded[xapi.post_id(1)].outcome is MentionOutcome.CASE_OPENED
    assert recorded[xapi.post_id(2)].outcome is MentionOutcome.MALFORMED
    assert recorded[xapi.post_id(3)].outcome is MentionOutcome.MALFORMED
    assert "\x00" not in recorded[xapi.post_id(2)].raw


def test_the_same_post_twice_on_a_page_one_of_them_broken_is_recorded_once(
    service: Service,
) -> None:
    broken = _report(1, author_id=["2001"])
    page = xapi.page([_report(1), _report(2)])
    page["data"].append(broken)  # the fallback that recorded it as malformed then failed too

    recorded = _poll(service, page)

    assert recorded[xapi.post_id(1)].outcome is MentionOutcome.CASE_OPENED
    assert _cursor(service) == xapi.post_id(2)


def test_an_item_without_a_usable_id_is_recorded_once_under_a_digest(service: Service) -> None:
    nameless = _report(9, id="٣")  # Arabic-Indic three: a digit, not an X id
    page = xapi.page([_report(1)])
    page["data"] += [nameless, "not even an object"]

    first = _poll(service, page)
    again = _poll(service, page)  # X serves it again: nothing new is recorded

    malformed = [r for r in first.values() if r.outcome is MentionOutcome.MALFORMED]
    assert len(malformed) == 2
    assert all(r.post_id.startswith("malformed:") for r in malformed)
    assert again.keys() == first.keys()


@pytest.mark.parametrize(
    "body",
    [[{"id": "1"}], {"data": {"id": "1"}}, "a string", 42],
    ids=["a JSON array", "data an object", "a string", "a number"],
)
def test_a_page_that_cannot_be_read_is_an_x_failure_and_moves_nothing(
    service: Service, body: Any
) -> None:
    with responses.RequestsMock() as mock:
        mock.get(xapi.MENTIONS_URL, body=json.dumps(body))
        with pytest.raises(Unavailable, match=UNREADABLE):
            poll_once(service.intake, service.clock, user_id=xapi.CITY_ID)
    assert _cursor(service) is None


def test_a_number_longer_than_python_reads_is_that_post_s_problem_alone(service: Service) -> None:
    """Python refuses to read an integer of over 4,300 digits: such a number anywhere used to
    make the whole page unreadable (and so every later page)."""
    page = json.dumps(xapi.page([_report(1), _report(2), _report(3)]))
    body = page.replace(
        f'"conversation_id": "{xapi.post_id(2)}"', '"conversation_id": ' + "9" * 5000
    )
    assert body != page

    with responses.RequestsMock() as mock:
        mock.get(xapi.MENTIONS_URL, body=body)
        poll_once(service.intake, service.clock, user_id=xapi.CITY_ID)

    with transaction(service.engine) as session:
        outcomes = dict(session.exec(select(MentionRecord.post_id, MentionRecord.outcome)).all())
    assert outcomes[xapi.post_id(2)] is MentionOutcome.MALFORMED
    assert outcomes[xapi.post_id(1)] is outcomes[xapi.post_id(3)] is MentionOutcome.CASE_OPENED


def test_a_body_nested_too_deep_to_read_is_an_x_failure(service: Service) -> None:
    with responses.RequestsMock() as mock:
        mock.get(xapi.MENTIONS_URL, body='{"data": [' + "[" * 100_000 + "]" * 100_000 + "]}")
        with pytest.raises(Unavailable, match="unreadable answer"):
            poll_once(service.intake, service.clock, user_id=xapi.CITY_ID)
