"""The Mastodon adapter against the recorded answers of a live server (../shared/fixtures/),
served at the HTTP level with `responses`: what it asks, what it sends, what it makes of the answers
and of Mastodon's errors (`{"error": "..."}`, as Mastodon words them)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from hypothesis import given, settings
from hypothesis import strategies as st

from socialbot.domain import PostRef
from socialbot.errors import AuthFailed, RateLimited, Rejected, Unavailable
from socialbot.networks.base import Draft
from socialbot.networks.mastodon import wire
from socialbot.networks.mastodon.adapter import (
    CAST_METHOD,
    MastodonCredentials,
    MastodonNetwork,
)
from socialbot.networks.mastodon.wire import read_reply_context
from socialbot.usage import ApiCall
from tests.networks.mastodon import cassettes

BASE = cassettes.BASE_URL
TOKEN = "mastodon-SECRET-TOKEN"
STATUSES = f"{BASE}/api/v1/statuses"
NOTIFICATIONS = f"{BASE}/api/v1/notifications"
NOW = datetime(2026, 8, 1, 13, 52, tzinfo=UTC)


class Calls:
    """A meter that keeps what it is told."""

    def __init__(self) -> None:
        self.calls: list[ApiCall] = []

    def record(self, call: ApiCall) -> None:
        self.calls.append(call)


@pytest.fixture
def meter() -> Calls:
    return Calls()


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def mastodon(meter: Calls, slept: list[float]) -> MastodonNetwork:
    return MastodonNetwork(
        MastodonCredentials(BASE, TOKEN), meter=meter, clock=lambda: NOW, sleep=slept.append
    )


def form(body: Any) -> dict[str, list[str]]:
    text = body.decode() if isinstance(body, bytes) else body or ""
    return parse_qs(text, keep_blank_values=True)


def query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def recorded_post(name: str, index: int = 0) -> cassettes.Interaction:
    posts = [i for i in cassettes.load(name) if i.method == "POST" and i.path == "/api/v1/statuses"]
    return posts[index]


def replying_to(status: dict[str, Any]) -> PostRef:
    """What the core hands back of a resident's status: the mention's own reference."""
    return wire.parse_status(status).ref


def resident_status(**changes: Any) -> dict[str, Any]:
    status: dict[str, Any] = recorded_post("test_status_reply").json()  # mastodonpy_test_2's
    return status | changes


# --- mentions ------------------------------------------------------------------------------


@responses.activate
def test_first_poll_reads_the_newest_page_of_mentions(
    mastodon: MastodonNetwork, meter: Calls
) -> None:
    recorded = cassettes.find("test_notifications_mentions_only", "GET", "/api/v1/notifications")
    cassettes.serve(dataclasses.replace(recorded, uri=recorded.uri + "&limit=80"))

    (page,) = mastodon.fetch_mentions("117020565966271181", cursor=None)

    # First the instance's limits (not served here: a stock server's are used), asked before
    # any page, so that no reply measured during intake ever calls out; then the page.
    instance, notifications = responses.calls
    assert "/api/v2/instance" in (instance.request.url or "")
    assert query(notifications) == {"types[]": ["mention"], "limit": ["80"]}  # its most
    assert notifications.request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert [m.text for m in page.mentions] == ["@mastodonpy_test hello!"]
    assert page.cursor == "21"
    asked, call = meter.calls
    assert asked.endpoint == "GET /api/v2/instance"
    assert (call.endpoint, call.status, call.units, call.charge) == (
        "GET /api/v1/notifications",
        200,
        1,
        None,
    )
    assert call.budget is not None and call.budget.remaining == 299


def notifications_answer(ids: list[str], newest: str | None) -> cassettes.Interaction:
    """A notifications page in the recorded answer's form: its notification renumbered, and the
    `Link` header Mastodon sends with a page (none with an empty one)."""
    recorded = cassettes.find("test_notifications_mentions_only", "GET", "/api/v1/notifications")
    item = recorded.json()[0]
    body = [item | {"id": i, "status": item["status"] | {"id": f"11702057715769{i}"}} for i in ids]
    headers = [(k, v) for k, v in recorded.headers if k != "link"]
    if newest is not None:
        headers.append(
            (
                "link",
                f'<{NOTIFICATIONS}?max_id={ids[-1]}&types%5B%5D=mention>; rel="next", '
                f'<{NOTIFICATIONS}?min_id={newest}&types%5B%5D=mention>; rel="prev"',
            )
        )
    return dataclasses.replace(recorded, body=json.dumps(body), headers=tuple(headers))


def serve_three_pages_after_19() -> None:
    """Two pages of mentions newer than cursor 19 (notifications 20–21, then 22), and the empty
    one that ends the walk, each asked by `min_id` as the adapter asks."""
    for since, ids in (("19", ["21", "20"]), ("21", ["22"]), ("22", [])):
        answer = notifications_answer(ids, ids[0] if ids else None)
        cassettes.serve(
            dataclasses.replace(
                answer, uri=f"{NOTIFICATIONS}?min_id={since}&types%5B%5D=mention&limit=80"
            )
        )


@responses.activate
def test_later_polls_walk_forward_from_the_cursor_and_return_the_newest_page_first(
    mastodon: MastodonNetwork,
) -> None:
    serve_three_pages_after_19()

    pages = mastodon.fetch_mentions("117020565966271181", cursor="19")

    assert [p.cursor for p in pages] == ["22", "21"]
    assert [[m.post_id for m in p.mentions] for p in pages] == [
        ["1170205771576922"],
        ["1170205771576921", "1170205771576920"],
    ]
    pages_asked = [c for c in responses.calls if "/api/v1/notifications" in (c.request.url or "")]
    assert [query(c)["min_id"] for c in pages_asked] == [["19"], ["21"], ["22"]]


@responses.activate
def test_a_poll_with_nothing_new_moves_no_cursor(mastodon: MastodonNetwork) -> None:
    answer = notifications_answer([], None)
    cassettes.serve(
        dataclasses.replace(answer, uri=f"{NOTIFICATIONS}?min_id=21&types%5B%5D=mention&limit=80")
    )

    (page,) = mastodon.fetch_mentions("117020565966271181", cursor="21")

    assert page.mentions == () and page.cursor is None


# --- posting ------------------------------------------------------------------------------


@responses.activate
def test_status_post_public(mastodon: MastodonNetwork, meter: Calls) -> None:
    recorded = recorded_post("test_status_post_public")
    cassettes.serve(recorded)

    receipt = mastodon.publish(Draft(key="outbox-7", text="Toot!"))

    sent = responses.calls[0].request
    assert form(sent.body) == form(recorded.request_body)  # what the live server accepted
    assert sent.headers["Idempotency-Key"] == "outbox-7"
    assert receipt.ref.id == "117020585924712638"
    assert wire.read_reply_context(receipt.ref.context).visibility == "public"
    assert receipt.budget is not None
    assert (receipt.budget.remaining, receipt.budget.limit) == (216, 300)
    assert receipt.budget.reset_at == datetime(2026, 8, 1, 15, 0, 0, 627625, tzinfo=UTC)
    assert receipt.cost is None
    assert [c.endpoint for c in meter.calls] == ["POST /api/v1/statuses"]


@responses.activate
def test_status_reply(mastodon: MastodonNetwork) -> None:
    recorded = recorded_post("test_status_reply", index=1)
    cassettes.serve(recorded)
    resident = resident_status()

    receipt = mastodon.publish(
        Draft(
            key="outbox-8",
            text="@mastodonpy_test_2 same!",
            reply_to=replying_to(resident),
            lang="en",
        )
    )

    sent = form(responses.calls[0].request.body)
    expected = form(recorded.request_body) | {"language": ["en"]}
    del expected["spoiler_text"]  # the resident gave none: none is sent
    assert sent == expected
    assert receipt.ref.id == "117020583258292382"


@responses.activate
def test_status_post_unlisted(mastodon: MastodonNetwork) -> None:
    recorded = recorded_post("test_status_post_unlisted")
    cassettes.serve(recorded)
    resident = resident_status(visibility="unlisted")

    receipt = mastodon.publish(Draft(key="k", text="Toot!", reply_to=replying_to(resident)))

    assert form(responses.calls[0].request.body) == form(recorded.request_body) | {
        "in_reply_to_id": [resident["id"]]
    }
    assert wire.read_reply_context(receipt.ref.context).visibility == "unlisted"


@responses.activate
def test_status_post_cw_direct(mastodon: MastodonNetwork, meter: Calls) -> None:
    recorded = recorded_post("test_status_post_cw_direct")
    cassettes.serve(cassettes.find("test_instance", "GET", "/api/v2/instance/"), recorded)
    resident = resident_status(visibility="direct", spoiler_text="Content warning")

    receipt = mastodon.publish(Draft(key="k", text="Toot!", reply_to=replying_to(resident)))

    # A direct mention is answered directly, never publicly, under the resident's own warning.
    assert form(responses.calls[-1].request.body) == form(recorded.request_body) | {
        "in_reply_to_id": [resident["id"]]
    }
    context = wire.read_reply_context(receipt.ref.context)
    assert (context.visibility, context.spoiler_text) == ("direct", "Content warning")
    assert [c.endpoint for c in meter.calls] == ["GET /api/v2/instance", "POST /api/v1/statuses"]


@responses.activate
def test_a_reply_to_a_post_we_cannot_read_is_direct(mastodon: MastodonNetwork) -> None:
    cassettes.serve(recorded_post("test_status_post_cw_direct"))
    mastodon.publish(Draft(key="k", text="@someone Thanks", reply_to=PostRef("117020583245459824")))
    assert form(responses.calls[0].request.body)["visibility"] == ["direct"]


# --- media ----------------------------------------------------------------------------------


def recorded_photo(tmp_path: Path) -> Path:
    """The JPEG the recording uploaded, taken out of its multipart body."""
    upload = cassettes.find("test_media_post_file", "POST", "/api/v2/media")
    assert isinstance(upload.request_body, bytes)
    boundary = upload.request_body.split(b"\r\n", 1)[0][2:].decode()
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n\r\n".encode()
        + upload.request_body
    )
    (part,) = [p for p in message.iter_parts() if p.get_filename()]
    path = tmp_path / "pothole.jpg"
    path.write_bytes(part.get_payload(decode=True))
    return path


def sent_parts(body: bytes, content_type: str) -> dict[str, Any]:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    return {p.get_param("name", header="content-disposition"): p for p in message.iter_parts()}


@responses.activate
def test_media_post_file(mastodon: MastodonNetwork, tmp_path: Path) -> None:
    upload = cassettes.find("test_media_post_file", "POST", "/api/v2/media")
    cassettes.serve(cassettes.find("test_instance", "GET", "/api/v2/instance/"), upload)
    photo = recorded_photo(tmp_path)

    media_id = mastodon.upload_media(photo, "A pothole the size of a bicycle wheel")

    assert media_id == "117020576894251992"
    request = responses.calls[-1].request
    parts = sent_parts(request.body, request.headers["Content-Type"])
    assert parts["description"].get_content() == "A pothole the size of a bicycle wheel"
    assert parts["file"].get_filename() == "pothole.jpg"  # the name only, never the directory
    assert parts["file"].get_payload(decode=True) == photo.read_bytes()


@responses.activate
def test_an_upload_still_processing_is_waited_for(
    mastodon: MastodonNetwork, tmp_path: Path, slept: list[float], meter: Calls
) -> None:
    upload = cassettes.find("test_media_post_file", "POST", "/api/v2/media")
    pending = json.dumps(upload.json() | {"url": None})
    cassettes.serve(
        cassettes.find("test_instance", "GET", "/api/v2/instance/"),
        dataclasses.replace(upload, status=202, body=pending),
    )
    media_url = f"{BASE}/api/v1/media/117020576894251992"
    responses.get(media_url, body=pending, status=206)
    responses.get(media_url, body=upload.body, status=200)

    assert mastodon.upload_media(recorded_photo(tmp_path), "alt") == "117020576894251992"

    assert len(slept) == 2
    assert [c.status for c in meter.calls if c.endpoint == "GET /api/v1/media/:id"] == [206, 200]


@responses.activate
def test_an_upload_never_processed_is_unavailable_not_posted(
    mastodon: MastodonNetwork, tmp_path: Path
) -> None:
    upload = cassettes.find("test_media_post_file", "POST", "/api/v2/media")
    pending = json.dumps(upload.json() | {"url": None})
    cassettes.serve(
        cassettes.find("test_instance", "GET", "/api/v2/instance/"),
        dataclasses.replace(upload, status=202, body=pending),
    )
    responses.get(f"{BASE}/api/v1/media/117020576894251992", body=pending, status=206)

    with pytest.raises(Unavailable, match="still processing") as caught:
        mastodon.upload_media(recorded_photo(tmp_path), "alt")
    assert not caught.value.maybe_done


@responses.activate
def test_alt_text_is_cut_to_the_instances_limit(mastodon: MastodonNetwork, tmp_path: Path) -> None:
    instance = cassettes.find("test_instance", "GET", "/api/v2/instance/")
    document = instance.json()
    document["configuration"]["media_attachments"]["description_limit"] = 20
    cassettes.serve(
        dataclasses.replace(instance, body=json.dumps(document)),
        cassettes.find("test_media_post_file", "POST", "/api/v2/media"),
    )

    mastodon.upload_media(recorded_photo(tmp_path), "A pothole the size of a bicycle wheel")

    request = responses.calls[-1].request
    part = sent_parts(request.body, request.headers["Content-Type"])["description"]
    alt = part.get_payload(decode=True).decode("utf-8")
    assert alt == "A pothole the size …"


# --- recovery, identity, the instance, the policy -----------------------------------------------


@responses.activate
def test_published_finds_an_interrupted_reply_among_our_statuses(mastodon: MastodonNetwork) -> None:
    ours = recorded_post("test_status_reply", index=1).json()  # @admin's reply, as posted
    responses.get(f"{BASE}/api/v1/accounts/117020565693913441/statuses", json=[ours])
    drafts = [
        Draft(key="a", text="@mastodonpy_test_2 same!", reply_to=PostRef("117020583245459824")),
        Draft(key="b", text="never sent", reply_to=PostRef("117020583245450000")),
    ]

    found = mastodon.published("117020565693913441", drafts, since=NOW - timedelta(hours=1))

    # Found with what a reply under it keeps of it, as a post just made would have been.
    assert found == {"a": [wire.parse_posted(ours)]}
    assert found["a"][0].id == "117020583258292382"
    assert read_reply_context(found["a"][0].context).visibility == ours["visibility"]
    assert query(responses.calls[0]) == {"exclude_reblogs": ["1"]}


@responses.activate
def test_a_status_found_after_a_lost_answer_is_threaded_under_as_it_was_posted(
    mastodon: MastodonNetwork,
) -> None:
    """A broadcast's next part replies under the part `published` found: as public as it,
    never the `direct` of a post whose visibility is not known."""
    ours = recorded_post("test_status_post_public").json()  # "Toot!", public
    responses.get(f"{BASE}/api/v1/accounts/117020565966271181/statuses", json=[ours])
    first = Draft(key="outbox-1", text="Toot!")

    [found] = mastodon.published("117020565966271181", [first], NOW - timedelta(hours=1))[
        "outbox-1"
    ]
    assert found == wire.parse_posted(ours)  # what the lost answer would have said

    cassettes.serve(recorded_post("test_status_post_public"))
    mastodon.publish(Draft(key="outbox-2", text="Part two", reply_to=found))
    assert form(responses.calls[-1].request.body)["visibility"] == ["public"]


@responses.activate
def test_own_user_id_is_the_tokens_account(mastodon: MastodonNetwork) -> None:
    cassettes.serve(
        cassettes.find("test_status_reply", "GET", "/api/v1/accounts/verify_credentials")
    )
    assert mastodon.own_user_id() == "117020565693913441"


@responses.activate
def test_the_instances_limits_are_asked_once(mastodon: MastodonNetwork) -> None:
    cassettes.serve(cassettes.find("test_instance", "GET", "/api/v2/instance/"))

    assert mastodon.text_rules.limit == 500
    assert mastodon.media_rules.max_bytes == 16 * 1024 * 1024
    assert mastodon.text_rules.describe() == "Mastodon: 500 characters"
    assert len(responses.calls) == 1


@responses.activate
def test_without_the_instance_a_stock_servers_limits_hold(mastodon: MastodonNetwork) -> None:
    responses.get(
        f"{BASE}/api/v2/instance/",
        json={"error": "This method requires an authenticated user"},
        status=401,
    )
    assert mastodon.text_rules.limit == 500


@responses.activate
def test_notification_policy(mastodon: MastodonNetwork) -> None:
    policy = cassettes.load("test_notifications_policy")
    recorded_get, filtering = policy[0], policy[1]  # as set up, then with for_not_following=filter
    cassettes.serve(recorded_get, dataclasses.replace(filtering, method="GET"))

    first = mastodon.notification_policy()
    assert first.filtered == ("for_private_mentions",)  # Mastodon's default filters those
    second = mastodon.notification_policy()
    assert second.filtered == ("for_not_following", "for_private_mentions")
    assert second.warning is not None
    assert "people the account does not follow" in second.warning
    assert f"{BASE}/notifications" in second.warning


@responses.activate
def test_an_accepting_policy_has_no_warning(mastodon: MastodonNetwork) -> None:
    accepting = cassettes.load("test_notifications_policy")[2]
    cassettes.serve(dataclasses.replace(accepting, method="GET"))
    check = mastodon.notification_policy()
    assert (check.filtered, check.warning) == ((), None)


# --- errors ------------------------------------------------------------------------------------


def failing(status: int, error: str, **headers: str) -> None:
    responses.post(STATUSES, json={"error": error}, status=status, headers=headers)


@responses.activate
def test_429_is_a_rate_limit_until_the_reset(mastodon: MastodonNetwork, meter: Calls) -> None:
    failing(
        429,
        "Too many requests",
        **{
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "2026-08-01T13:55:00.248623Z",
        },
    )

    with pytest.raises(RateLimited) as caught:
        mastodon.publish(Draft(key="k", text="hello"))

    assert caught.value.reset_at == datetime(2026, 8, 1, 13, 55, 0, 248623, tzinfo=UTC)
    (call,) = meter.calls
    assert call.status == 429 and call.budget is not None and call.budget.remaining == 0
    assert call.error is not None


@responses.activate
def test_401_names_the_token_setting(mastodon: MastodonNetwork) -> None:
    failing(401, "The access token is invalid")
    with pytest.raises(AuthFailed, match="SOCIALBOT_MASTODON_ACCESS_TOKEN") as caught:
        mastodon.publish(Draft(key="k", text="hello"))
    assert "The access token is invalid" in str(caught.value)
    assert TOKEN not in str(caught.value)


@responses.activate
def test_403_is_a_missing_permission(mastodon: MastodonNetwork) -> None:
    failing(403, "This action is outside the authorized scopes")
    with pytest.raises(AuthFailed, match="outside the authorized scopes"):
        mastodon.publish(Draft(key="k", text="hello"))


@responses.activate
def test_422_is_rejected_with_mastodons_words(mastodon: MastodonNetwork) -> None:
    failing(422, "Validation failed: Text character limit of 500 exceeded")
    with pytest.raises(Rejected, match="character limit of 500 exceeded"):
        mastodon.publish(Draft(key="k", text="hello"))


@responses.activate
def test_404_of_a_deleted_post_is_rejected(mastodon: MastodonNetwork) -> None:
    failing(404, "Record not found")
    with pytest.raises(Rejected, match="Record not found"):
        mastodon.publish(Draft(key="k", text="hello", reply_to=PostRef("1")))


@responses.activate
def test_500_on_a_post_may_have_posted(mastodon: MastodonNetwork) -> None:
    failing(500, "We're sorry, but something went wrong on our end.")
    with pytest.raises(Unavailable) as caught:
        mastodon.publish(Draft(key="k", text="hello"))
    assert caught.value.maybe_done


@responses.activate
def test_500_on_a_read_is_unavailable(mastodon: MastodonNetwork) -> None:
    responses.get(NOTIFICATIONS, json={"error": "We're sorry"}, status=503)
    with pytest.raises(Unavailable) as caught:
        mastodon.fetch_mentions("1", cursor=None)
    assert not caught.value.maybe_done


@responses.activate
def test_a_timeout_after_sending_may_have_posted(mastodon: MastodonNetwork, meter: Calls) -> None:
    responses.post(STATUSES, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(Unavailable, match="ReadTimeout") as caught:
        mastodon.publish(Draft(key="k", text="hello"))
    assert caught.value.maybe_done
    assert meter.calls[0].status is None


@responses.activate
def test_a_connection_never_made_has_not_posted(mastodon: MastodonNetwork) -> None:
    responses.post(STATUSES, body=requests.ConnectTimeout("connect timed out"))
    with pytest.raises(Unavailable) as caught:
        mastodon.publish(Draft(key="k", text="hello"))
    assert not caught.value.maybe_done


@responses.activate
def test_a_failed_upload_never_may_have_posted(mastodon: MastodonNetwork, tmp_path: Path) -> None:
    cassettes.serve(cassettes.find("test_instance", "GET", "/api/v2/instance/"))
    responses.post(f"{BASE}/api/v2/media", json={"error": "oops"}, status=500)
    with pytest.raises(Unavailable) as caught:
        mastodon.upload_media(recorded_photo(tmp_path), "alt")
    assert not caught.value.maybe_done


def test_credentials_never_show_the_token() -> None:
    assert TOKEN not in repr(MastodonCredentials(BASE, TOKEN))


ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "type", "status", "created_at", "x"]), inner)
    ),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None)
@given(body=ANY_JSON)
def test_any_notifications_answer_is_a_page_or_unavailable(body: Any) -> None:
    mastodon = MastodonNetwork(MastodonCredentials(BASE, TOKEN), sleep=lambda _: None)
    with responses.RequestsMock() as mock:
        mock.get(NOTIFICATIONS, body=json.dumps(body))
        try:
            pages = mastodon.fetch_mentions("1", cursor=None)
        except Unavailable:
            return
    assert len(pages) == 1


@responses.activate
def test_a_long_content_warning_is_cut_so_that_warning_and_reply_fit(
    mastodon: MastodonNetwork,
) -> None:
    cassettes.serve(
        cassettes.find("test_instance", "GET", "/api/v2/instance/"),
        recorded_post("test_status_post_cw_direct"),
    )
    resident = resident_status(visibility="public", spoiler_text="pothole " * 40)
    reply = "@mastodonpy_test_2 " + "Thanks, filed. " * 15

    mastodon.publish(Draft(key="k", text=reply, reply_to=replying_to(resident)))

    sent = form(responses.calls[-1].request.body)
    warning = sent["spoiler_text"][0]
    assert warning.startswith("pothole pothole") and warning.endswith("…")
    assert mastodon.text_rules.length(warning + sent["status"][0]) == 500


@responses.activate
def test_an_instance_that_does_not_say_its_limit_has_the_citys_setting(meter: Calls) -> None:
    """SOCIALBOT_MASTODON_MAX_CHARACTERS: for a server whose instance document names no limit
    (or cannot be read); a limit the instance does name wins."""
    instance = cassettes.find("test_instance", "GET", "/api/v2/instance/")
    silent = instance.json()
    del silent["configuration"]["statuses"]["max_characters"]
    cassettes.serve(dataclasses.replace(instance, body=json.dumps(silent)))
    city = MastodonNetwork(MastodonCredentials(BASE, TOKEN), meter=meter, max_characters=1000)
    assert city.text_rules.limit == 1000

    responses.reset()
    cassettes.serve(instance)
    told = MastodonNetwork(MastodonCredentials(BASE, TOKEN), meter=meter, max_characters=1000)
    assert told.text_rules.limit == 500


@responses.activate
def test_a_post_the_server_took_is_no_rate_limit_for_an_unreadable_reset_header(
    mastodon: MastodonNetwork,
) -> None:
    """A proxy that mangles `X-RateLimit-Reset` on a 200: Mastodon.py raises its rate-limit
    error after the status was made. That is a post that may have gone out (the outbox looks
    for it before ever posting again), not a 429 that would hold the account."""
    recorded = recorded_post("test_status_post_public")
    responses.post(
        STATUSES,
        body=recorded.body,
        status=200,
        headers={"X-RateLimit-Remaining": "216", "X-RateLimit-Reset": "soon"},
    )

    with pytest.raises(Unavailable) as raised:
        mastodon.publish(Draft(key="outbox-7", text="Toot!"))
    assert raised.value.maybe_done
    assert not isinstance(raised.value, RateLimited)


def test_mastodon_py_still_casts_through_the_method_the_adapter_replaces() -> None:
    """`adapter._uncast` replaces Mastodon.py's private cast for pages: were it renamed in a
    new Mastodon.py, pages would silently be cast again (three quarters of intake's time)."""
    from mastodon import Mastodon

    assert callable(getattr(Mastodon, CAST_METHOD, None))


@responses.activate
def test_a_page_of_notifications_is_left_as_json_and_still_walks_forward(
    mastodon: MastodonNetwork, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mastodon import types_base

    casts: list[object] = []
    real = types_base.try_cast_recurse

    def counted(*args: Any, **kwargs: Any) -> Any:
        casts.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr("mastodon.internals.try_cast_recurse", counted)
    serve_three_pages_after_19()

    pages = mastodon.fetch_mentions("117020565966271181", cursor="19")

    assert [p.cursor for p in pages] == ["22", "21"]  # the Link header still paginates
    assert casts == []  # no page through Mastodon.py's types (the instance document is one)
