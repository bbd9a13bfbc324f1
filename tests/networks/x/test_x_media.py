"""Photos on X: v2 `POST /2/media/upload` and `POST /2/media/metadata`, then the post that carries
the media id, mocked at the HTTP level with `responses` in the shapes of X's OpenAPI spec."""

from __future__ import annotations

import json
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import responses

from socialbot.errors import AuthFailed, RateLimited, Rejected, Unavailable
from socialbot.networks.x.adapter import XCredentials, XPlatform
from socialbot.networks.x.rules import X_MEDIA
from socialbot.usage import ApiCall, Charge
from tests import xapi

UPLOAD_URL = "https://api.x.com/2/media/upload"
METADATA_URL = "https://api.x.com/2/media/metadata"
MEDIA_ID = "1726000000000000001"
SECRETS = XCredentials("ck-SECRET-1", "cs-SECRET-2", "at-SECRET-3", "ats-SECRET-4")


def tiny_png() -> bytes:
    """A valid 1x1 white PNG, built by hand: no image library, no network."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\xff\xff")  # filter byte, one white pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def uploaded(media_id: str = MEDIA_ID, size: int = 69, **more: object) -> dict[str, object]:
    """What v2 media/upload answers for an image (MediaUploadResponse of specs 2.159 and 2.167)."""
    data: dict[str, object] = {
        "id": media_id,
        "media_key": f"3_{media_id}",
        "size": size,
        "expires_after_secs": 86400,
        "image": {"image_type": "image/png", "w": 1, "h": 1},
    }
    return {"data": data | more}


def metadata_created(media_id: str = MEDIA_ID) -> dict[str, object]:
    return {"data": {"id": media_id, "associated_metadata": {"alt_text": {"text": "alt"}}}}


def problem(status: int, title: str, detail: str, kind: str = "about:blank") -> dict[str, object]:
    """An RFC 7807 problem, as X v2 answers a failure."""
    return {"title": title, "detail": detail, "type": kind, "status": status}


@pytest.fixture
def x() -> XPlatform:
    return XPlatform(SECRETS)


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "after.png"
    path.write_bytes(tiny_png())
    return path


def mock_upload_ok() -> None:
    responses.post(UPLOAD_URL, json=uploaded())
    responses.post(METADATA_URL, json=metadata_created())


@responses.activate
def test_upload_sends_the_file_then_its_alt_text(x: XPlatform, photo: Path) -> None:
    mock_upload_ok()

    assert x.upload_media(photo, "Pothole on Boylston St, filled") == MEDIA_ID

    upload, metadata = responses.calls
    body = upload.request.body
    assert isinstance(body, bytes)
    assert upload.request.headers["Content-Type"].startswith("multipart/form-data; boundary=")
    assert b'name="media_category"\r\n\r\ntweet_image\r\n' in body
    # Only the file's name leaves the machine, never the directory it sits in.
    assert (
        b'name="media"; filename="after.png"\r\nContent-Type: image/png\r\n\r\n' + tiny_png()
        in body
    )
    assert str(photo.parent).encode() not in body
    assert upload.request.headers["Authorization"].startswith("OAuth ")

    assert metadata.request.headers["Content-Type"] == "application/json"
    assert json.loads(metadata.request.body) == {
        "id": MEDIA_ID,
        "metadata": {"alt_text": {"text": "Pothole on Boylston St, filled"}},
    }
    assert metadata.request.headers["Authorization"].startswith("OAuth ")


@responses.activate
def test_alt_text_is_cut_to_what_x_takes(x: XPlatform, photo: Path) -> None:
    mock_upload_ok()
    x.upload_media(photo, "a" * 1500)
    sent = json.loads(responses.calls[1].request.body)["metadata"]["alt_text"]["text"]
    assert len(sent) == X_MEDIA.max_alt_text == 1000
    assert sent == "a" * 999 + "…"


@responses.activate
def test_the_reply_carries_the_media_id(x: XPlatform) -> None:
    responses.post(xapi.TWEETS_URL, json=xapi.posted("1859999", "Fixed!"), status=201)

    assert x.post("Fixed!", in_reply_to=xapi.post_id(1), media_ids=[MEDIA_ID]) == "1859999"

    assert json.loads(responses.calls[0].request.body) == {
        "text": "Fixed!",
        "reply": {"in_reply_to_tweet_id": xapi.post_id(1)},
        "media": {"media_ids": [MEDIA_ID]},
    }


@responses.activate
def test_upload_requests_have_the_clients_timeouts(x: XPlatform, photo: Path) -> None:
    seen: list[object] = []
    original = requests.adapters.HTTPAdapter.send

    def spy(
        self: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, **kwargs: object
    ) -> object:
        seen.append(kwargs.get("timeout"))
        return original(self, request, **kwargs)

    mock_upload_ok()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(requests.adapters.HTTPAdapter, "send", spy)
        x.upload_media(photo, "alt")
    assert seen == [(5.0, 30.0), (5.0, 30.0)]


def test_a_missing_file_is_an_oserror_and_nothing_is_sent(x: XPlatform, tmp_path: Path) -> None:
    with responses.RequestsMock() as mocked, pytest.raises(FileNotFoundError):
        x.upload_media(tmp_path / "gone.png", "alt")
    assert len(mocked.calls) == 0


@responses.activate
def test_a_refused_image_is_rejected(x: XPlatform, photo: Path) -> None:
    responses.post(
        UPLOAD_URL,
        status=400,
        json=problem(
            400,
            "Invalid Request",
            "media type unrecognized.",
            "https://api.x.com/2/problems/invalid-request",
        ),
    )
    with pytest.raises(Rejected, match="media type unrecognized"):
        x.upload_media(photo, "alt")
    assert len(responses.calls) == 1  # no alt text for an image X does not have


@responses.activate
def test_upload_401_is_auth_failed(x: XPlatform, photo: Path) -> None:
    responses.post(UPLOAD_URL, status=401, json=problem(401, "Unauthorized", "Unauthorized"))
    with pytest.raises(AuthFailed, match="SOCIALBOT_X_"):
        x.upload_media(photo, "alt")


@responses.activate
def test_upload_403_for_a_read_only_app_is_auth_failed(x: XPlatform, photo: Path) -> None:
    responses.post(
        UPLOAD_URL,
        status=403,
        json=problem(
            403,
            "Forbidden",
            "Your client app is not configured with the appropriate oauth1 app permissions for "
            "this endpoint.",
            "https://api.twitter.com/2/problems/oauth1-permissions",
        ),
    )
    with pytest.raises(AuthFailed, match="permissions"):
        x.upload_media(photo, "alt")


@responses.activate
def test_upload_429_is_rate_limited_until_the_reset(x: XPlatform, photo: Path) -> None:
    responses.post(
        UPLOAD_URL,
        status=429,
        json=problem(429, "Too Many Requests", "Too Many Requests"),
        headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": "1795435200"},
    )
    with pytest.raises(RateLimited) as err:
        x.upload_media(photo, "alt")
    assert err.value.reset_at == datetime.fromtimestamp(1795435200, UTC)
    assert len(responses.calls) == 1  # never sleeps and retries inside a job


@pytest.mark.parametrize("status", [500, 503])
@responses.activate
def test_upload_server_errors_are_unavailable_and_never_maybe_done(
    x: XPlatform, photo: Path, status: int
) -> None:
    responses.post(UPLOAD_URL, status=status, body="upstream connect error")
    with pytest.raises(Unavailable) as err:
        x.upload_media(photo, "alt")
    assert not err.value.maybe_done  # nothing was posted: retry freely


@responses.activate
def test_a_failed_alt_text_is_unavailable_and_never_maybe_done(x: XPlatform, photo: Path) -> None:
    responses.post(UPLOAD_URL, json=uploaded())
    responses.post(METADATA_URL, status=503, body="Service Unavailable")
    # 5xx: X had a bad moment, the upload is tried again later (never a refusal for good).
    with pytest.raises(Unavailable) as err:
        x.upload_media(photo, "alt")
    assert not err.value.maybe_done


@pytest.mark.parametrize(
    "failure", [requests.ReadTimeout("read timed out"), requests.ConnectionError("reset by peer")]
)
@responses.activate
def test_upload_timeouts_are_unavailable_and_never_maybe_done(
    x: XPlatform, photo: Path, failure: Exception
) -> None:
    responses.post(UPLOAD_URL, body=failure)
    with pytest.raises(Unavailable, match="X unreachable") as err:
        x.upload_media(photo, "alt")
    assert not err.value.maybe_done
    # The same read timeout on a post may have posted: that one is maybe_done.
    responses.post(xapi.TWEETS_URL, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(Unavailable) as posting:
        x.post("Fixed!", in_reply_to="1", media_ids=[MEDIA_ID])
    assert posting.value.maybe_done


@pytest.mark.parametrize(
    "body",
    ["<html>oops</html>", json.dumps({"data": {"size": 69}}), json.dumps(uploaded()["data"])],
)
@responses.activate
def test_an_upload_answer_without_a_media_id_is_unavailable(
    x: XPlatform, photo: Path, body: str
) -> None:
    responses.post(UPLOAD_URL, body=body, status=200)
    with pytest.raises(Unavailable) as err:
        x.upload_media(photo, "alt")
    assert not err.value.maybe_done
    assert len(responses.calls) == 1


@responses.activate
def test_secrets_never_appear_in_upload_errors(x: XPlatform, photo: Path) -> None:
    responses.post(UPLOAD_URL, status=401, json=problem(401, "Unauthorized", "Unauthorized"))
    with pytest.raises(AuthFailed) as err:
        x.upload_media(photo, "alt")
    assert "SECRET" not in str(err.value) + repr(err.value)


@responses.activate
def test_a_photo_x_failed_to_process_is_rejected_and_one_in_progress_is_retried(
    x: XPlatform, photo: Path
) -> None:
    responses.post(UPLOAD_URL, json=uploaded(processing_info={"state": "failed"}))
    with pytest.raises(Rejected, match="processing failed"):
        x.upload_media(photo, "alt")
    responses.post(UPLOAD_URL, json=uploaded(processing_info={"state": "in_progress"}))
    with pytest.raises(Unavailable, match="still being processed") as err:
        x.upload_media(photo, "alt")
    assert not err.value.maybe_done
    assert len(responses.calls) == 2  # no alt text for a photo X does not have ready


@responses.activate
def test_uploads_are_metered_under_the_v2_endpoints(photo: Path) -> None:
    seen: list[ApiCall] = []

    class Recorder:
        def record(self, call: ApiCall) -> None:
            seen.append(call)

    metered = XPlatform(SECRETS, meter=Recorder(), clock=lambda: datetime(2026, 11, 23, tzinfo=UTC))
    mock_upload_ok()
    metered.upload_media(photo, "alt")
    responses.post(UPLOAD_URL, status=503, body="upstream connect error")
    with pytest.raises(Unavailable):
        metered.upload_media(photo, "alt")

    assert [(c.endpoint, c.status, c.charge, c.units) for c in seen] == [
        ("POST /2/media/upload", 200, Charge.MEDIA_UPLOAD, 1),
        ("POST /2/media/metadata", 200, None, 0),
        ("POST /2/media/upload", 503, None, 0),
    ]
    assert seen[-1].error is not None and "503" in seen[-1].error
