"""`cases resolve N --photo after.png`: the resident's resolved reply carries the after-photo,
uploaded once, with alt text; a photo that cannot go is refused before anything changes, and one
gone by send time fails its reply alone."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import responses
from sqlalchemy import Engine
from typer.testing import CliRunner

from socialbot import media
from socialbot.app import Service, build_staff
from socialbot.cli import app
from socialbot.config import Settings
from socialbot.domain import CaseStatus
from socialbot.errors import SocialbotError, Unavailable
from socialbot.lifecycle import Action, CloseReason
from socialbot.networks.replay import RecordedUpload
from socialbot.networks.x.adapter import XCredentials, XPlatform
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.networks.x.rules import X_MEDIA
from socialbot.outbox import MEDIA_ID_FRESH, Outbox, send_once
from socialbot.staff import Done, Request, Staff
from socialbot.store.models import OutboxMessage, OutboxState
from socialbot.store.queries import get_case, outbox_rows
from tests import xapi
from tests.city import filed
from tests.conftest import Clock
from tests.made_up import TINY, TINY_MEDIA
from tests.networks.x.test_x_media import (
    METADATA_URL,
    UPLOAD_URL,
    metadata_created,
    problem,
    tiny_png,
    uploaded,
)

AT = (42.35, -71.06)
JPEG_START = b"\xff\xd8\xff\xe0"
ELSEWHERE = (42.353, -71.06)  # another pothole, three blocks away
RESOLVED_POTHOLE = (
    "Good news: the crew has filled the pothole from case #1. Thank you for reporting it!"
)


class FlakyPosts(ReplayPlatform):
    """Posting fails (the request never left) as many times as `failures` says."""

    failures = 0

    def post(self, text: str, in_reply_to: str | None, media_ids: Sequence[str] = ()) -> str:
        if self.failures:
            self.failures -= 1
            raise Unavailable("X unreachable: ConnectTimeout", maybe_done=False)
        return super().post(text, in_reply_to, media_ids)


@pytest.fixture
def city(settings: Settings, clock: Clock) -> Iterator[tuple[Service, FlakyPosts]]:
    """Four reports already filed and answered: #1 pothole (en), #2 bache (es), #3 graffiti,
    #4 streetlight."""
    platform = FlakyPosts(
        xapi.CITY_ID,
        [
            xapi.page(
                [
                    xapi.tweet(1, "@DemoCity311 #pothole", coordinates=AT),
                    xapi.tweet(2, "@DemoCity311 un #bache", lang="es", coordinates=ELSEWHERE),
                    xapi.tweet(3, "@DemoCity311 #graffiti", coordinates=AT),
                    xapi.tweet(4, "@DemoCity311 #streetlight", coordinates=AT),
                ]
            )
        ],
    )
    service = filed(settings, clock, platform)
    yield service, platform
    service.close()


@pytest.fixture
def staff(settings: Settings, city: tuple[Service, FlakyPosts]) -> Iterator[Staff]:
    staff = build_staff(settings)
    yield staff
    staff.engine.dispose()


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "after.png"
    path.write_bytes(tiny_png())
    return path


def resolve(staff: Staff, clock: Clock, case_id: int, photo: Path, note: str = "") -> Done:
    return staff.act(Request(case_id, Action.RESOLVE, "J. Rivera", note=note, photo=photo), clock())


def photo_rows(engine: Engine) -> list[OutboxMessage]:
    return [r for r in outbox_rows(engine) if r.template == "resolved"]


def assert_copy(done: Done, photo: Path, settings: Settings) -> None:
    """The reply names the service's own copy of the photo, in SOCIALBOT_MEDIA_DIR."""
    assert done.photo is not None and done.photo != photo
    assert done.photo.parent == settings.media_dir
    assert done.photo.name.startswith(f"case-{done.case_id}-")
    assert done.photo.read_bytes() == photo.read_bytes()


def test_the_resolved_reply_carries_the_photo_with_the_note_as_alt_text(
    city: tuple[Service, FlakyPosts], staff: Staff, clock: Clock, photo: Path
) -> None:
    service, platform = city
    done = resolve(staff, clock, 1, photo, note="Filled with hot asphalt on Tuesday")

    assert done.to_status is CaseStatus.RESOLVED
    assert done.photo_alt == "Filled with hot asphalt on Tuesday"
    assert_copy(done, photo, service.settings)
    (row,) = photo_rows(service.engine)
    assert (row.media_path, row.media_alt, row.media_id) == (
        str(done.photo),
        "Filled with hot asphalt on Tuesday",
        None,
    )

    assert send_once(service.outbox, clock).sent == 1
    send_once(service.outbox, clock)

    (upload,) = platform.uploaded
    assert upload == RecordedUpload(
        upload.media_id, done.photo, "Filled with hot asphalt on Tuesday"
    )
    (post,) = platform.posted
    assert (post.in_reply_to, post.text, post.media_ids) == (
        xapi.post_id(1),
        RESOLVED_POTHOLE,
        (upload.media_id,),
    )
    (row,) = photo_rows(service.engine)
    assert (row.state, row.media_id) == (OutboxState.SENT, upload.media_id)


def test_without_a_note_the_alt_text_names_the_case_in_the_residents_language(
    city: tuple[Service, FlakyPosts], staff: Staff, clock: Clock, photo: Path
) -> None:
    assert resolve(staff, clock, 1, photo).photo_alt == "After photo of case #1 (Pothole)"
    assert resolve(staff, clock, 2, photo).photo_alt == "Foto del caso #2 (Bache) ya resuelto"
    assert resolve(staff, clock, 3, photo, note="   ").photo_alt == (
        "After photo of case #3 (Graffiti)"
    )


def test_a_relative_path_is_read_where_the_command_runs(
    city: tuple[Service, FlakyPosts],
    staff: Staff,
    clock: Clock,
    photo: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(photo.parent)
    done = resolve(staff, clock, 1, Path("after.png"))
    assert_copy(done, photo, city[0].settings)
    assert photo_rows(city[0].engine)[0].media_path == str(done.photo)


def test_a_symlink_is_copied_as_the_photo_it_points_to(
    city: tuple[Service, FlakyPosts], staff: Staff, clock: Clock, photo: Path
) -> None:
    link = photo.parent / "latest.jpg"
    link.symlink_to(photo.name)
    done = resolve(staff, clock, 1, link)
    assert_copy(done, photo, city[0].settings)
    assert done.photo is not None and not done.photo.is_symlink()
    assert done.photo.suffix == ".jpg"  # the name staff gave, as long as it is one X takes


def test_the_photo_is_copied_where_the_service_can_read_it(
    city: tuple[Service, FlakyPosts], staff: Staff, clock: Clock, photo: Path
) -> None:
    """The shipped unit has PrivateTmp=yes and ProtectHome=yes: a file in the staff's /tmp or home
    folder is never seen by the service. So the command copies it into SOCIALBOT_MEDIA_DIR (under
    the service's state directory) and the staff's file may go at once."""
    service, platform = city
    done = resolve(staff, clock, 1, photo, note="filled")
    photo.unlink()  # as the service sees it: not there at all

    assert send_once(service.outbox, clock).sent == 1
    (upload,) = platform.uploaded
    assert (upload.path, upload.path.read_bytes()) == (done.photo, tiny_png())
    assert platform.posted[0].media_ids == (upload.media_id,)
    assert (done.photo.stat().st_mode & 0o777) == 0o644


def test_a_refused_action_leaves_no_copy_behind(
    city: tuple[Service, FlakyPosts], staff: Staff, clock: Clock, photo: Path
) -> None:
    resolve(staff, clock, 1, photo)
    media_dir = city[0].settings.media_dir
    copies = sorted(media_dir.iterdir())
    with pytest.raises(SocialbotError, match="is resolved"):
        resolve(staff, clock, 1, photo)  # resolved already: refused before anything is copied
    broken = dataclasses.replace(staff, media_dir=media_dir)
    with pytest.raises(Exception):  # noqa: B017 (whatever the database says)
        with_failing_commit(broken, clock, photo)
    assert sorted(media_dir.iterdir()) == copies


def test_a_retry_after_a_failed_post_does_not_upload_again(
    city: tuple[Service, FlakyPosts], staff: Staff, clock: Clock, photo: Path
) -> None:
    service, platform = city
    resolve(staff, clock, 1, photo, note="filled")
    platform.failures = 2

    for _ in range(3):
        send_once(service.outbox, clock)
        clock.advance(hours=1)

    (upload,) = platform.uploaded
    (post,) = platform.posted
    assert post.media_ids == (upload.media_id,)
    (row,) = photo_rows(service.engine)
    assert (row.state, row.attempts) == (OutboxState.SENT, 3)


def test_a_reply_still_unsent_after_a_day_uploads_its_photo_again(
    city: tuple[Service, FlakyPosts], staff: Staff, clock: Clock, photo: Path
) -> None:
    service, platform = city
    resolve(staff, clock, 1, photo, note="filled")
    platform.failures = 1
    send_once(service.outbox, clock)
    clock.advance(hours=24)  # X forgets a media id after a day (expires_after_secs 86400)
    assert timedelta(hours=24) > MEDIA_ID_FRESH

    send_once(service.outbox, clock)

    first, second = platform.uploaded
    (post,) = platform.posted
    assert post.media_ids == (second.media_id,) != (first.media_id,)


def test_a_photo_gone_by_send_time_fails_its_reply_alone(
    city: tuple[Service, FlakyPosts], staff: Staff, clock: Clock, tmp_path: Path
) -> None:
    service, platform = city
    photos = []
    for n in (1, 2, 3):  # three in a row: not taken for an account X keeps refusing
        original = tmp_path / f"after-{n}.png"
        original.write_bytes(tiny_png())
        done = resolve(staff, clock, n, original)
        assert done.photo is not None
        photos.append(done.photo)
    staff.act(Request(4, Action.RESOLVE, "J. Rivera"), clock())
    for path in photos:  # someone cleaned the media folder
        path.unlink()

    report = send_once(service.outbox, clock)

    assert (report.sent, report.failed, report.stopped_by) == (1, 3, None)
    assert platform.uploaded == []
    (post,) = platform.posted  # never without its photo; the reply behind them still goes
    assert post.in_reply_to == xapi.post_id(4)
    rows = photo_rows(service.engine)
    assert [r.state for r in rows] == [OutboxState.FAILED] * 3 + [OutboxState.SENT]
    assert rows[0].last_error == (
        f"photo {photos[0]} cannot be read (No such file or directory); the reply was not sent "
        "without it (reopen the case and resolve it again to send a new one)"
    )
    send_once(service.outbox, clock)
    assert len(platform.posted) == 1  # failed for good, not retried


def test_once_uploaded_the_file_is_no_longer_needed(
    city: tuple[Service, FlakyPosts], staff: Staff, clock: Clock, photo: Path
) -> None:
    service, platform = city
    done = resolve(staff, clock, 1, photo)
    platform.failures = 1
    send_once(service.outbox, clock)
    assert done.photo is not None
    done.photo.unlink()
    clock.advance(minutes=5)

    assert send_once(service.outbox, clock).sent == 1
    assert platform.posted[0].media_ids == (platform.uploaded[0].media_id,)


def refusal(staff: Staff, clock: Clock, request: Request) -> str:
    """The refusal's message, after checking the refusal changed nothing."""
    before = get_case(staff.engine, request.case_id)
    rows = len(outbox_rows(staff.engine))
    with pytest.raises(SocialbotError) as err:
        staff.act(request, clock())
    after = get_case(staff.engine, request.case_id)
    assert before is not None and after is not None
    assert (after.case.status, len(after.events)) == (before.case.status, len(before.events))
    assert len(outbox_rows(staff.engine)) == rows
    assert "\n" not in str(err.value)
    return str(err.value)


def test_each_unusable_photo_is_refused_naming_the_file_and_the_case(
    city: tuple[Service, FlakyPosts], staff: Staff, clock: Clock, tmp_path: Path
) -> None:
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff" * (X_MEDIA.max_bytes + 1))
    (tmp_path / "scan.bmp").write_bytes(tiny_png())
    (tmp_path / "empty.jpeg").write_bytes(b"")
    (tmp_path / "folder.png").mkdir()

    def refused(name: str) -> str:
        return refusal(staff, clock, Request(1, Action.RESOLVE, "J. Rivera", photo=tmp_path / name))

    assert refused("gone.jpg") == f"case #1: --photo {tmp_path}/gone.jpg: no such file"
    assert refused("folder.png") == f"case #1: --photo {tmp_path}/folder.png: not a file"
    assert refused("scan.bmp") == (
        f"case #1: --photo {tmp_path}/scan.bmp: not a photo X takes; "
        "use .jpg, .jpeg, .png, .gif or .webp"
    )
    assert refused("big.jpg") == (
        f"case #1: --photo {tmp_path}/big.jpg: 5.1 MB; X takes photos up to 5 MB"
    )
    assert refused("empty.jpeg") == f"case #1: --photo {tmp_path}/empty.jpeg: the file is empty"


def test_exactly_5_mb_and_any_case_of_suffix_are_fine(
    city: tuple[Service, FlakyPosts], staff: Staff, clock: Clock, tmp_path: Path
) -> None:
    photo = tmp_path / "AFTER.JPG"
    photo.write_bytes(JPEG_START + b"\x00" * (X_MEDIA.max_bytes - len(JPEG_START)))
    assert_copy(resolve(staff, clock, 1, photo), photo, city[0].settings)


def test_a_file_with_a_photos_name_but_not_its_content_is_refused(
    city: tuple[Service, FlakyPosts], staff: Staff, clock: Clock, tmp_path: Path
) -> None:
    renamed = tmp_path / "IMG_2041.jpg"  # a HEIC (or a database) renamed: X would refuse it later
    renamed.write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 100)
    assert refusal(staff, clock, Request(1, Action.RESOLVE, "J. Rivera", photo=renamed)) == (
        f"case #1: --photo {renamed}: not a JPEG, PNG, GIF or WebP image by its content, "
        "whatever its name says"
    )
    assert not city[0].settings.media_dir.exists() or not any(city[0].settings.media_dir.iterdir())


def test_a_photo_goes_with_resolve_only(
    city: tuple[Service, FlakyPosts], staff: Staff, clock: Clock, photo: Path
) -> None:
    close = Request(1, Action.CLOSE, "J. Rivera", reason=CloseReason.INVALID, photo=photo)
    assert refusal(staff, clock, close) == (
        f"case #1: --photo {photo}: a photo goes with `resolve` only"
    )


def test_a_photo_is_refused_when_the_city_does_not_notify_on_resolved(
    settings: Settings, city: tuple[Service, FlakyPosts], clock: Clock, photo: Path
) -> None:
    quiet = build_staff(settings.model_copy(update={"notify_on": "closed"}))
    try:
        message = refusal(quiet, clock, Request(1, Action.RESOLVE, "J. Rivera", photo=photo))
    finally:
        quiet.engine.dispose()
    assert message == (
        f"case #1: --photo {photo}: residents are not told when a case is resolved "
        "(SOCIALBOT_NOTIFY_ON), so no reply would carry the photo"
    )


@responses.activate
def test_on_x_the_photo_is_uploaded_once_and_the_retry_posts_the_same_media_id(
    city: tuple[Service, FlakyPosts], staff: Staff, clock: Clock, photo: Path
) -> None:
    service, _ = city
    outbox = Outbox(
        engine=service.engine,
        platform=XPlatform(XCredentials("ck", "cs", "at", "ats")),
        user_id=lambda: xapi.CITY_ID,
    )
    resolve(staff, clock, 1, photo, note="filled")
    responses.post(UPLOAD_URL, json=uploaded("1726000000000000042"))
    responses.post(METADATA_URL, json=metadata_created("1726000000000000042"))
    responses.post(xapi.TWEETS_URL, body=requests.ConnectTimeout("connect timed out"))
    responses.post(xapi.TWEETS_URL, json=xapi.posted("1860000000000000001", RESOLVED_POTHOLE))

    assert send_once(outbox, clock).retrying == 1
    clock.advance(minutes=5)
    assert send_once(outbox, clock).sent == 1

    urls = [c.request.url for c in responses.calls]
    assert urls == [UPLOAD_URL, METADATA_URL, xapi.TWEETS_URL, xapi.TWEETS_URL]
    assert json.loads(responses.calls[1].request.body)["metadata"]["alt_text"] == {"text": "filled"}
    assert json.loads(responses.calls[3].request.body) == {
        "text": RESOLVED_POTHOLE,
        "reply": {"in_reply_to_tweet_id": xapi.post_id(1)},
        "media": {"media_ids": ["1726000000000000042"]},
    }


def x_outbox(service: Service) -> Outbox:
    return Outbox(
        engine=service.engine,
        platform=XPlatform(XCredentials("ck", "cs", "at", "ats")),
        user_id=lambda: xapi.CITY_ID,
    )


@responses.activate
def test_on_x_a_refused_photo_fails_the_reply_for_good(
    city: tuple[Service, FlakyPosts], staff: Staff, clock: Clock, photo: Path
) -> None:
    service, _ = city
    outbox = x_outbox(service)
    resolve(staff, clock, 1, photo, note="filled")
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

    assert send_once(outbox, clock).failed == 1
    clock.advance(hours=1)
    send_once(outbox, clock)

    (row,) = photo_rows(service.engine)
    assert row.state is OutboxState.FAILED
    assert row.last_error is not None and "media type unrecognized" in row.last_error
    assert [c.request.url for c in responses.calls] == [UPLOAD_URL]  # never tried again


@responses.activate
def test_on_x_an_upload_server_error_is_retried_later(
    city: tuple[Service, FlakyPosts], staff: Staff, clock: Clock, photo: Path
) -> None:
    service, _ = city
    outbox = x_outbox(service)
    resolve(staff, clock, 1, photo, note="filled")
    responses.post(UPLOAD_URL, status=503, body="upstream connect error")
    responses.post(UPLOAD_URL, json=uploaded("1726000000000000043"))
    responses.post(METADATA_URL, json=metadata_created("1726000000000000043"))
    responses.post(xapi.TWEETS_URL, json=xapi.posted("1860000000000000001", RESOLVED_POTHOLE))

    assert send_once(outbox, clock).retrying == 1
    clock.advance(hours=1)
    assert send_once(outbox, clock).sent == 1

    assert [c.request.url for c in responses.calls] == [
        UPLOAD_URL,
        UPLOAD_URL,
        METADATA_URL,
        xapi.TWEETS_URL,
    ]


@responses.activate
def test_on_x_a_media_id_x_no_longer_knows_is_uploaded_again(
    city: tuple[Service, FlakyPosts], staff: Staff, clock: Clock, photo: Path
) -> None:
    service, _ = city
    outbox = x_outbox(service)
    resolve(staff, clock, 1, photo, note="filled")
    responses.post(UPLOAD_URL, json=uploaded("1726000000000000044"))
    responses.post(METADATA_URL, json=metadata_created("1726000000000000044"))
    responses.post(xapi.TWEETS_URL, body=requests.ConnectTimeout("connect timed out"))
    # An hour later the stored id is still young by our count, but X has let it expire.
    responses.post(
        xapi.TWEETS_URL,
        status=400,
        json={
            "errors": [
                {
                    "parameters": {"media.media_ids": ["1726000000000000044"]},
                    "message": "Your media IDs are invalid.",
                }
            ],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )
    responses.post(UPLOAD_URL, json=uploaded("1726000000000000045"))
    responses.post(METADATA_URL, json=metadata_created("1726000000000000045"))
    responses.post(xapi.TWEETS_URL, json=xapi.posted("1860000000000000001", RESOLVED_POTHOLE))

    assert send_once(outbox, clock).retrying == 1
    clock.advance(hours=1)
    assert send_once(outbox, clock).sent == 1

    assert [c.request.url for c in responses.calls] == [
        UPLOAD_URL,
        METADATA_URL,
        xapi.TWEETS_URL,
        xapi.TWEETS_URL,
        UPLOAD_URL,
        METADATA_URL,
        xapi.TWEETS_URL,
    ]
    assert json.loads(responses.calls[-1].request.body)["media"] == {
        "media_ids": ["1726000000000000045"]
    }
    (row,) = photo_rows(service.engine)
    assert (row.state, row.media_id) == (OutboxState.SENT, "1726000000000000045")


runner = CliRunner()


@pytest.fixture
def cli_city(
    city: tuple[Service, FlakyPosts], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("COLUMNS", "200")


@pytest.mark.usefixtures("cli_city")
def test_the_command_resolves_one_case_with_its_photo(
    city: tuple[Service, FlakyPosts], photo: Path
) -> None:
    result = runner.invoke(
        app, ["cases", "resolve", "1", "--photo", str(photo), "--note", "filled", "--as", "J. R"]
    )
    assert result.exit_code == 0, result.output
    (row,) = photo_rows(city[0].engine)
    assert result.stdout.splitlines() == [
        f"case #1: new → resolved; reply queued: {RESOLVED_POTHOLE}",
        f"with photo {photo} (alt text: filled); the service posts its copy {row.media_path}",
    ]


@pytest.mark.usefixtures("cli_city")
@pytest.mark.parametrize(
    "args",
    [["1", "2"], [], ["1", "--from-csv", "ids.csv"]],
    ids=["two cases", "no case", "with a csv"],
)
def test_the_command_takes_a_photo_for_exactly_one_case(photo: Path, args: list[str]) -> None:
    result = runner.invoke(app, ["cases", "resolve", *args, "--photo", str(photo)])
    assert result.exit_code == 2
    assert "goes with exactly one case number" in result.output


@pytest.mark.usefixtures("cli_city")
def test_the_command_prints_a_refusal_and_exits_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["cases", "resolve", "1", "--photo", str(tmp_path / "x.png")])
    assert result.exit_code == 1
    assert result.stdout == f"refused: case #1: --photo {tmp_path}/x.png: no such file\n"


def with_failing_commit(staff: Staff, clock: Clock, photo: Path) -> None:
    """Resolve case #2 with a photo on an engine whose commit fails (the database went away)."""
    from sqlalchemy import event

    def fail(_conn: object) -> None:
        raise RuntimeError("database went away at commit")

    event.listen(staff.engine, "commit", fail)
    try:
        resolve(staff, clock, 2, photo)
    finally:
        event.remove(staff.engine, "commit", fail)


def test_the_reply_and_its_photo_follow_the_rules_of_the_cases_network(
    city: tuple[Service, FlakyPosts], staff: Staff, clock: Clock, photo: Path, tmp_path: Path
) -> None:
    tiny = dataclasses.replace(staff, text_rules={"x": TINY}, media_rules={"x": TINY_MEDIA})
    jpeg = tmp_path / "after.jpg"
    jpeg.write_bytes(JPEG_START + b"\x00" * 64)
    assert refusal(tiny, clock, Request(1, Action.RESOLVE, "J. Rivera", photo=jpeg)) == (
        f"case #1: --photo {jpeg}: not a photo Tiny takes; use .png"
    )
    long_note = Request(1, Action.RESOLVE, "J. Rivera", note="n" * 51, photo=photo)
    assert refusal(tiny, clock, long_note) == (
        "case #1: --note: 51 characters; with --photo it is the photo's alt text, and Tiny takes "
        "at most 50"
    )

    done = resolve(tiny, clock, 1, photo)
    found = get_case(tiny.engine, 1)
    assert found is not None and found.case.author_username
    author = found.case.author_username
    assert done.reply_text is not None and len(done.reply_text) <= TINY.limit
    assert done.reply_text.startswith(f"@{author} ") and done.reply_text.count(f"@{author}") == 1


def test_a_copy_is_refused_by_the_networks_own_photo_rules(photo: Path, tmp_path: Path) -> None:
    media_dir = tmp_path / "media"
    jpeg = tmp_path / "named.png"  # a JPEG by its content
    jpeg.write_bytes(JPEG_START + b"\x00" * 64)
    assert media.keep_photo(jpeg, media_dir, "case-1", X_MEDIA).suffix == ".png"
    with pytest.raises(SocialbotError, match=r"^not a PNG image by its content"):
        media.keep_photo(jpeg, media_dir, "case-1", TINY_MEDIA)
    big = tmp_path / "big.png"
    big.write_bytes(tiny_png() + b"\x00" * TINY_MEDIA.max_bytes)
    with pytest.raises(SocialbotError, match=r"^over 1\.0 MB; Tiny takes photos up to 1 MB$"):
        media.keep_photo(big, media_dir, "case-1", TINY_MEDIA)
    assert media.keep_photo(photo, media_dir, "case-1", TINY_MEDIA).suffix == ".png"
