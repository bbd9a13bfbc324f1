"""networks/sms/photos: an MMS's photos fetched from Twilio (mocked with `responses` as Twilio
answers a media URL: a redirect to its CDN, then the bytes), the account's credentials sent to
api.twilio.com alone, images only, 5 MB at most, the file named by the MessageSid."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from socialbot.domain import Media, MediaType, Mention
from socialbot.networks.base import MentionPage
from socialbot.networks.sms.adapter import SmsNetwork, TwilioCredentials
from socialbot.networks.sms.photos import MAX_BYTES, PhotoFetch
from socialbot.sms.inbound import InboundText, read_form
from socialbot.sms.record import record
from tests.conftest import Clock
from tests.networks.sms import server

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
CDN = "https://mms.twiliocdn.com/" + server.ACCOUNT_SID + "/abc123?Expires=1&Signature=xyz"
BASIC = "Basic " + base64.b64encode(f"{server.ACCOUNT_SID}:{server.AUTH_TOKEN}".encode()).decode()


def media_url(n: int, media: int = 0) -> str:
    return (
        f"https://api.twilio.com/2010-04-01/Accounts/{server.ACCOUNT_SID}/Messages/"
        f"{server.inbound_sid(n)}/Media/ME{media:032x}"
    )


def mention(n: int, *urls: str) -> Mention:
    return Mention(
        platform="sms",
        post_id=server.inbound_sid(n),
        author_id=server.resident(n),
        author_username=None,
        text="pothole at 12 Main St",
        created_at=Clock()(),
        media=tuple(
            Media(f"{server.inbound_sid(n)}/{i}", MediaType.PHOTO, url, None)
            for i, url in enumerate(urls)
        ),
        reply_context=server.resident(n),
        public=False,
    )


def kept(fetch: PhotoFetch, *mentions: Mention) -> list[Mention]:
    [page] = fetch.kept([MentionPage(mentions=mentions)])
    return list(page.mentions)


@pytest.fixture
def mock() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as made:
        yield made


@pytest.fixture
def fetch(tmp_path: Path) -> PhotoFetch:
    return PhotoFetch(server.ACCOUNT_SID, server.AUTH_TOKEN, tmp_path / "media")


def redirected(mock: responses.RequestsMock, url: str, body: bytes, kind: str) -> None:
    """Twilio's answer to a media URL with media auth on: a 307 to a signed CDN address."""
    mock.get(url, status=307, headers={"Location": CDN})
    mock.get(CDN, body=body, content_type=kind)


def test_a_photo_is_fetched_with_the_account_from_twilio_and_its_cdn_without(
    fetch: PhotoFetch, mock: responses.RequestsMock
) -> None:
    redirected(mock, media_url(1), JPEG, "image/jpeg")
    [got] = kept(fetch, mention(1, media_url(1)))
    [photo] = got.media
    path = Path(photo.url or "")
    assert path == fetch.media_dir / f"sms-{server.inbound_sid(1)}-0.jpg"
    assert path.read_bytes() == JPEG and got.missing == ()
    assert os.stat(path).st_mode & 0o777 == 0o640  # a private text's photo: not world-readable
    first, second = mock.calls
    assert first.request.headers["Authorization"] == BASIC
    assert "Authorization" not in second.request.headers  # the CDN gets no credentials


def test_a_retry_finds_the_file_and_fetches_nothing(
    fetch: PhotoFetch, mock: responses.RequestsMock
) -> None:
    redirected(mock, media_url(1), PNG, "image/png")
    [once] = kept(fetch, mention(1, media_url(1)))
    calls = len(mock.calls)
    [again] = kept(fetch, mention(1, media_url(1)))
    assert again.media == once.media and len(mock.calls) == calls
    assert [p.name for p in fetch.media_dir.iterdir()] == [f"sms-{server.inbound_sid(1)}-0.png"]


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/2010-04-01/Accounts/" + server.ACCOUNT_SID + "/Messages/x",
        "http://api.twilio.com/2010-04-01/Accounts/" + server.ACCOUNT_SID + "/Messages/x",
        "https://api.twilio.com.evil.example/2010-04-01/Accounts/" + server.ACCOUNT_SID + "/x",
        "https://api.twilio.com:8443/2010-04-01/Accounts/" + server.ACCOUNT_SID + "/x",
        "https://user@api.twilio.com/2010-04-01/Accounts/" + server.ACCOUNT_SID + "/x",
        "https://api.twilio.com/2010-04-01/Accounts/AC" + "f" * 32 + "/Messages/x",
        "https://mms.twiliocdn.com/" + server.ACCOUNT_SID + "/abc",
    ],
)
def test_a_media_url_elsewhere_is_never_asked(
    fetch: PhotoFetch, mock: responses.RequestsMock, url: str
) -> None:
    [got] = kept(fetch, mention(1, url))
    assert got.media == () and len(mock.calls) == 0
    assert got.missing == ("photo 1 of 1 not kept: its address is not our Twilio account's media",)


def test_a_redirect_elsewhere_is_followed_without_credentials_and_to_https_only(
    fetch: PhotoFetch, mock: responses.RequestsMock
) -> None:
    mock.get(media_url(1), status=302, headers={"Location": "https://cdn.example/1.jpg"})
    mock.get("https://cdn.example/1.jpg", body=JPEG, content_type="image/jpeg")
    mock.get(media_url(2), status=302, headers={"Location": "http://cdn.example/2.jpg"})
    one, two = kept(fetch, mention(1, media_url(1)), mention(2, media_url(2)))
    assert len(one.media) == 1
    assert "Authorization" not in mock.calls[1].request.headers
    assert two.media == ()
    assert two.missing == (
        "photo 1 of 1 not kept: Twilio redirected it to an address that is not https",
    )
    assert [c.request.url for c in mock.calls][2:] == [media_url(2)]  # the http one: never


@pytest.mark.parametrize(
    ("kind", "body", "reason"),
    [
        ("text/html", b"<html>login</html>", "not a photo (text/html)"),
        ("image/heic", b"\x00\x00\x00\x18ftypheic", "not a photo (image/heic)"),
        ("image/jpeg", b"<html>a jpeg by its name only", "not a JPEG, PNG, GIF or WebP image"),
    ],
)
def test_only_images_are_kept_by_type_and_by_content(
    fetch: PhotoFetch, mock: responses.RequestsMock, kind: str, body: bytes, reason: str
) -> None:
    redirected(mock, media_url(1), body, kind)
    [got] = kept(fetch, mention(1, media_url(1)))
    assert got.media == ()
    [missing] = got.missing
    assert missing.startswith("photo 1 of 1 not kept: " + reason)
    assert not fetch.media_dir.exists() or list(fetch.media_dir.iterdir()) == []


def test_a_photo_over_five_megabytes_is_not_kept_declared_or_streamed(
    fetch: PhotoFetch, mock: responses.RequestsMock
) -> None:
    big = JPEG + b"\x00" * MAX_BYTES
    mock.get(media_url(1), status=307, headers={"Location": CDN})
    mock.get(CDN, body=big, content_type="image/jpeg", headers={"Content-Length": str(len(big))})
    mock.get(media_url(2), status=307, headers={"Location": CDN + "&2"})
    mock.get(CDN + "&2", body=big, content_type="image/jpeg")  # no length said: read, stopped
    one, two = kept(fetch, mention(1, media_url(1)), mention(2, media_url(2)))
    assert one.media == two.media == ()
    assert one.missing == ("photo 1 of 1 not kept: 5.1 MB, over an MMS's 5 MB",)
    assert two.missing == ("photo 1 of 1 not kept: over an MMS's 5 MB",)


def test_a_timeout_leaves_the_photo_out_and_twilio_alone_for_the_rest_of_the_poll(
    fetch: PhotoFetch, mock: responses.RequestsMock
) -> None:
    mock.get(media_url(1), body=requests.ReadTimeout("read timed out"))
    one, two = kept(fetch, mention(1, media_url(1)), mention(2, media_url(2), media_url(2, 1)))
    assert one.media == two.media == ()
    assert one.missing == ("photo 1 of 1 not kept: Twilio could not be reached (ReadTimeout)",)
    assert two.missing == (
        "photo 1 of 2 not kept: Twilio could not be reached",
        "photo 2 of 2 not kept: Twilio could not be reached",
    )
    assert len(mock.calls) == 1


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (401, "Twilio refused the account's credentials (401)"),
        (404, "Twilio answered 404"),
        (503, "Twilio answered 503"),
    ],
)
def test_twilio_refusing_is_a_reason_not_an_error(
    fetch: PhotoFetch, mock: responses.RequestsMock, status: int, reason: str
) -> None:
    mock.get(media_url(1), status=status, json={"code": 20404, "status": status})
    [got] = kept(fetch, mention(1, media_url(1)))
    assert got.media == () and got.missing == (f"photo 1 of 1 not kept: {reason}",)


def test_the_adapter_reads_a_recorded_mms_with_its_photo_a_file_of_ours(
    engine: Engine, clock: Clock, tmp_path: Path, mock: responses.RequestsMock
) -> None:
    form = server.inbound_form(1, "pothole at 12 Main St")
    form = [(k, v) for k, v in form if k != "NumMedia"] + [
        ("NumMedia", "2"),
        ("MediaUrl0", media_url(1, 0)),
        ("MediaContentType0", "image/jpeg"),
        ("MediaUrl1", media_url(1, 1)),
        ("MediaContentType1", "text/vcard"),  # no photo: wire leaves it out, nothing is asked
    ]
    inbound = read_form(form)
    assert isinstance(inbound, InboundText)
    record(engine, inbound, clock())
    redirected(mock, media_url(1, 0), JPEG, "image/jpeg")
    credentials = TwilioCredentials(server.ACCOUNT_SID, server.AUTH_TOKEN, server.CITY_NUMBER)
    sms = SmsNetwork(credentials, engine, clock=clock, media_dir=tmp_path / "media")
    [page] = sms.fetch_mentions(server.CITY_NUMBER, None)
    [got] = page.mentions
    assert [m.url for m in got.media] == [
        str(tmp_path / "media" / f"sms-{server.inbound_sid(1)}-0.jpg")
    ]
    assert [c.request.url for c in mock.calls] == [media_url(1, 0), CDN]
    without = SmsNetwork(credentials, engine, clock=clock)  # no media folder: left out, said
    [page] = without.fetch_mentions(server.CITY_NUMBER, None)
    assert page.mentions[0].media == ()
    assert page.mentions[0].missing == ("1 photo(s) not kept: no media folder",)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(url=st.one_of(st.text(max_size=120), st.from_regex(r"https?://[^\s]{0,80}")))
def test_credentials_go_to_our_account_on_api_twilio_com_only(fetch: PhotoFetch, url: str) -> None:
    if fetch.ours(url):
        parts = urlsplit(url)
        assert parts.scheme == "https" and parts.hostname == "api.twilio.com"
        assert parts.path.startswith(f"/2010-04-01/Accounts/{server.ACCOUNT_SID}/")


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(url=st.text(max_size=120))
def test_any_media_address_is_kept_or_said_missing_never_an_error(tmp_path: Path, url: str) -> None:
    fetch = PhotoFetch(server.ACCOUNT_SID, server.AUTH_TOKEN, tmp_path / "media")
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(media_url(1), body=JPEG, content_type="image/jpeg")
        [got] = kept(fetch, mention(1, url))
        assert len(got.media) + len(got.missing) == 1
        assert all(fetch.ours(c.request.url or "") for c in mock.calls)
