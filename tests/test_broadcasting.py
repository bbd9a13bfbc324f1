"""Broadcasts end to end against X's wire format: threads chained with in_reply_to, photos,
schedules that survive a restart, the grace window, cron, storm mode and the audit log."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import responses
from rich.console import Console
from sqlalchemy import Engine
from sqlmodel import select

from socialbot.broadcasts import storm
from socialbot.broadcasts.broadcaster import Broadcaster, BroadcastRequest
from socialbot.broadcasts.templates import BroadcastTemplates
from socialbot.cli.broadcast import preview_table
from socialbot.config import SHIPPED_TEMPLATES
from socialbot.errors import BroadcastError, TemplateError
from socialbot.network_settings import Channel
from socialbot.networks.x.adapter import XCredentials, XPlatform
from socialbot.networks.x.rules import X_MEDIA, X_TEXT
from socialbot.outbox import Outbox, send_once
from socialbot.store.db import make_engine, transaction
from socialbot.store.models import Broadcast, BroadcastState, OutboxMessage, OutboxState
from socialbot.text import weighted_length
from tests import xapi
from tests.conftest import Clock
from tests.made_up import TINY, TINY_MEDIA
from tests.networks.x.test_x_media import (
    METADATA_URL,
    UPLOAD_URL,
    metadata_created,
    tiny_png,
    uploaded,
)

BOSTON = ZoneInfo("America/New_York")
NOTIFY_ID = "1583000000000000002"
NOTIFY_TWEETS_URL = f"{xapi.API}/2/users/{NOTIFY_ID}/tweets"
GRACE = timedelta(minutes=15)
ALERT_EN = """{#
A test alert.
vars:
  what: What happens. Example: Snow
  where (optional): Where. Example: Elm St
#}
{{ what }}{% if where %} on {{ where }}{% endif %}.
"""
ALERT_ES = """{#
Una alerta de prueba.
vars:
  what: Qué pasa. Example: Nieve
  where (optional): Dónde. Example: calle Elm
#}
{{ what }}{% if where %} en {{ where }}{% endif %}.
"""
LONG = (
    "A storm is on its way tonight. Stay off the roads after 6 pm unless you must travel. "
    "Charge your phone and keep a flashlight at hand. Shelters open at 5 pm at every public "
    "high school; pets are welcome. Report downed wires to the utility, not to us. Call 911 "
    "for emergencies only. Updates follow here every two hours until the storm has passed."
)


@pytest.fixture
def city_templates(tmp_path: Path) -> Path:
    folder = tmp_path / "templates" / "broadcast"
    folder.mkdir(parents=True)
    (folder / "alert.en.j2").write_text(ALERT_EN, encoding="utf-8")
    (folder / "alert.es.j2").write_text(ALERT_ES, encoding="utf-8")
    return folder.parent


def make_broadcaster(engine: Engine, city_templates: Path, clock: Clock) -> Broadcaster:
    return Broadcaster(
        engine=engine,
        templates=BroadcastTemplates.for_dirs(city_templates, SHIPPED_TEMPLATES),
        channels=(Channel("x", "intake"), Channel("x", "notify")),
        zone=BOSTON,
        grace=GRACE,
        clock=clock,
        media_dir=city_templates.parent / "media",
        text_rules={"x": X_TEXT},
        media_rules={"x": X_MEDIA},
    )


@pytest.fixture
def broadcaster(engine: Engine, city_templates: Path, clock: Clock) -> Broadcaster:
    return make_broadcaster(engine, city_templates, clock)


def notify_outbox(engine: Engine) -> Outbox:
    x = XPlatform(XCredentials("ck", "cs", "notify-at", "notify-ats"))
    return Outbox(engine=engine, platform=x, user_id=lambda: NOTIFY_ID, account="notify")


def request(**fields: object) -> BroadcastRequest:
    defaults: dict[str, object] = {"account": "notify"}
    return BroadcastRequest(**{**defaults, **fields})  # type: ignore[arg-type]


def accept_posts(first_id: int = 901) -> list[dict[str, object]]:
    """Answer every POST /2/tweets with a new id; returns the bodies X received, in order."""
    bodies: list[dict[str, object]] = []

    def answer(req: object) -> tuple[int, dict[str, str], str]:
        body = json.loads(req.body)  # type: ignore[attr-defined]
        bodies.append(body)
        new_id = str(first_id + len(bodies) - 1)
        return 201, {}, json.dumps(xapi.posted(new_id, body["text"]))

    responses.add_callback(responses.POST, xapi.TWEETS_URL, callback=answer)
    return bodies


@responses.activate
def test_a_long_alert_is_a_numbered_thread_each_post_replying_to_the_one_before(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    bodies = accept_posts()
    view = broadcaster.send_now(request(texts=(LONG,)), actor="comms")
    report = send_once(notify_outbox(engine), clock)

    assert report.sent == 2
    assert [b.get("reply") for b in bodies] == [None, {"in_reply_to_tweet_id": "901"}]
    assert [str(b["text"])[-4:] for b in bodies] == [" 1/2", " 2/2"]
    assert all(weighted_length(str(b["text"])) <= 280 for b in bodies)
    done = broadcaster.run_view(view.run.id or 0)
    assert done.outcome == "sent"
    assert [p.posted_id for p in done.posts] == ["901", "902"]


@responses.activate
def test_a_bilingual_alert_posts_one_thread_per_language(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    bodies = accept_posts()
    spanish = "Se acerca una tormenta esta noche. " * 9
    broadcaster.send_now(request(texts=(LONG, spanish), langs=("en", "es")), actor="comms")
    send_once(notify_outbox(engine), clock)

    replies = [b.get("reply") for b in bodies]
    assert len(bodies) == 4
    # English 1/2, 2/2 under it; Spanish 1/2 starts its own thread, 2/2 under it.
    assert replies == [
        None,
        {"in_reply_to_tweet_id": "901"},
        None,
        {"in_reply_to_tweet_id": "903"},
    ]
    assert str(bodies[2]["text"]).startswith("Se acerca una tormenta")


@responses.activate
def test_a_bilingual_alert_that_fits_is_one_post(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    bodies = accept_posts()
    broadcaster.send_now(
        request(template="alert", variables={"what": "Snow ban"}, langs=("en", "es")),
        actor="comms",
    )
    send_once(notify_outbox(engine), clock)
    assert [b["text"] for b in bodies] == ["Snow ban.\n\nSnow ban."]


@responses.activate
def test_one_language_values_and_optional_variables(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    bodies = accept_posts()
    variables = {"what": "Snow ban", "what.es": "Prohibición por nieve", "where": "Elm St"}
    broadcaster.send_now(
        request(template="alert", variables=variables, langs=("en", "es")), actor="comms"
    )
    send_once(notify_outbox(engine), clock)
    assert [b["text"] for b in bodies] == [
        "Snow ban on Elm St.\n\nProhibición por nieve en Elm St."
    ]


@responses.activate
def test_the_photo_goes_up_once_with_its_alt_text_on_the_first_post(
    engine: Engine, broadcaster: Broadcaster, clock: Clock, tmp_path: Path
) -> None:
    photo = tmp_path / "radar.png"
    photo.write_bytes(tiny_png())
    responses.post(UPLOAD_URL, json=uploaded("1726000000000000009"))
    metadata = responses.post(METADATA_URL, json=metadata_created("1726000000000000009"))
    bodies = accept_posts()

    broadcaster.send_now(
        request(texts=(LONG,), media=photo, alt="Radar map: the storm reaches us at 6 pm"),
        actor="comms",
    )
    send_once(notify_outbox(engine), clock)

    assert [b.get("media") for b in bodies] == [{"media_ids": ["1726000000000000009"]}, None]
    assert json.loads(metadata.calls[0].request.body)["metadata"]["alt_text"] == {
        "text": "Radar map: the storm reaches us at 6 pm"
    }


@responses.activate
def test_a_scheduled_alerts_image_is_the_services_own_copy(
    engine: Engine, broadcaster: Broadcaster, clock: Clock, tmp_path: Path
) -> None:
    """The unit's PrivateTmp=yes and ProtectHome=yes hide the staff's /tmp and home from the
    service: the image is copied into SOCIALBOT_MEDIA_DIR when the alert is scheduled, and the
    file staff named may go at once."""
    photo = tmp_path / "radar.png"
    photo.write_bytes(tiny_png())
    due = clock() + timedelta(hours=1)
    row = broadcaster.schedule(
        request(texts=("Storm.",), media=photo, alt="Radar map"), "comms", at=due, cron=None
    )
    photo.unlink()
    assert row.media_path is not None
    copy = Path(row.media_path)
    assert copy.parent == broadcaster.media_dir and copy.read_bytes() == tiny_png()
    assert copy.name.startswith("broadcast-") and copy.suffix == ".png"

    clock.now = due + timedelta(seconds=10)
    responses.post(UPLOAD_URL, json=uploaded("1726000000000000009"))
    responses.post(METADATA_URL, body="")
    bodies = accept_posts()
    assert len(broadcaster.fire_due().fired) == 1
    send_once(notify_outbox(engine), clock)
    assert [b.get("media") for b in bodies] == [{"media_ids": ["1726000000000000009"]}]


def test_an_image_is_checked_by_its_content_when_it_is_copied(
    broadcaster: Broadcaster, tmp_path: Path
) -> None:
    fake = tmp_path / "radar.png"
    fake.write_text("not an image")
    with pytest.raises(
        BroadcastError, match=r"^--media .*radar.png: not a JPEG, PNG, GIF or WebP image by its"
    ):
        broadcaster.send_now(request(texts=("Storm.",), media=fake, alt="Radar map"), "comms")
    assert not broadcaster.media_dir.exists() or not any(broadcaster.media_dir.iterdir())


def test_an_image_needs_alt_text_and_must_be_an_image(
    broadcaster: Broadcaster, tmp_path: Path
) -> None:
    photo = tmp_path / "radar.png"
    photo.write_bytes(tiny_png())
    with pytest.raises(BroadcastError, match=r"give --alt with a description of the image"):
        broadcaster.prepare(request(texts=("Storm.",), media=photo))
    notes = tmp_path / "notes.txt"
    notes.write_text("not an image")
    with pytest.raises(BroadcastError, match=r"not a JPEG, PNG, GIF or WebP image$"):
        broadcaster.prepare(request(texts=("Storm.",), media=notes, alt="x"))
    with pytest.raises(BroadcastError, match=r"no such file$"):
        broadcaster.prepare(request(texts=("Storm.",), media=tmp_path / "gone.png", alt="x"))


def test_nothing_is_recorded_when_a_var_is_missing_or_unknown(
    engine: Engine, broadcaster: Broadcaster
) -> None:
    with pytest.raises(BroadcastError, match=r"^alert: missing --var what"):
        broadcaster.send_now(request(template="alert"), actor="comms")
    with pytest.raises(BroadcastError, match=r"^alert: unknown --var when "):
        broadcaster.send_now(
            request(template="alert", variables={"what": "x", "when": "y"}), actor="comms"
        )
    with pytest.raises(BroadcastError, match=r"^--account press: not configured"):
        broadcaster.send_now(request(texts=("x",), account="press"), actor="comms")
    with transaction(engine) as session:
        assert len(session.exec(select(Broadcast)).all()) == 0
        assert len(session.exec(select(OutboxMessage)).all()) == 0


@responses.activate
def test_x_down_mid_thread_the_rest_follows_once_it_is_back_threaded_right(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    responses.post(xapi.TWEETS_URL, json=xapi.posted("901", "1/2"), status=201)
    responses.post(xapi.TWEETS_URL, json={"title": "Service Unavailable"}, status=503)
    view = broadcaster.send_now(request(texts=(LONG,)), actor="comms")
    send_once(notify_outbox(engine), clock)
    assert broadcaster.run_view(view.run.id or 0).outcome == "sending"

    responses.replace(responses.POST, xapi.TWEETS_URL, json=xapi.posted("905", "2/2"), status=201)
    clock.advance(minutes=3)
    responses.get(NOTIFY_TWEETS_URL, json={"meta": {"result_count": 0}})
    send_once(notify_outbox(engine), clock)

    done = broadcaster.run_view(view.run.id or 0)
    assert done.outcome == "sent"
    last = json.loads(responses.calls[-1].request.body)  # type: ignore[union-attr]
    assert last["reply"] == {"in_reply_to_tweet_id": "901"}


@responses.activate
def test_a_post_that_cannot_go_out_within_the_grace_window_is_dropped_not_posted_late(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    posts = responses.post(xapi.TWEETS_URL, json={"title": "Service Unavailable"}, status=503)
    # A 503 may hide a post that went out: X is asked before anything is tried again.
    responses.get(NOTIFY_TWEETS_URL, json={"meta": {"result_count": 0}})
    view = broadcaster.send_now(request(texts=("Boil water notice for Elm St.",)), actor="comms")
    send_once(notify_outbox(engine), clock)
    clock.advance(minutes=16)
    report = send_once(notify_outbox(engine), clock)

    assert posts.call_count == 1  # no late attempt
    assert report.failed == 1
    done = broadcaster.run_view(view.run.id or 0)
    assert done.outcome == "failed"
    assert done.posts[0].error is not None
    assert "dropped rather than posted late" in done.posts[0].error


@responses.activate
def test_when_the_first_post_is_refused_the_rest_of_its_thread_is_not_posted(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    responses.post(
        xapi.TWEETS_URL,
        status=403,
        json={"detail": "You are not allowed to create a Tweet with duplicate content."},
    )
    view = broadcaster.send_now(request(texts=(LONG,)), actor="comms")
    send_once(notify_outbox(engine), clock)
    send_once(notify_outbox(engine), clock)

    done = broadcaster.run_view(view.run.id or 0)
    assert len(responses.calls) == 1
    assert [p.state.value for p in done.posts] == ["failed", "failed"]
    assert done.posts[1].error is not None
    assert "the post it threads under" in done.posts[1].error


@responses.activate
def test_a_scheduled_alert_survives_a_restart_and_goes_out_at_its_time(
    database_url: str, engine: Engine, city_templates: Path, clock: Clock
) -> None:
    due = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # 07:00 in Boston
    make_broadcaster(engine, city_templates, clock).schedule(
        request(template="alert", variables={"what": "Street cleaning"}), "comms", at=due, cron=None
    )
    engine.dispose()  # the service stops...

    restarted = make_engine(database_url)  # ...and starts again the next morning
    later = make_broadcaster(restarted, city_templates, clock)
    clock.now = due - timedelta(seconds=1)
    assert later.fire_due().fired == []
    clock.now = due + timedelta(seconds=10)
    bodies = accept_posts()
    assert len(later.fire_due().fired) == 1
    send_once(notify_outbox(restarted), clock)

    assert [b["text"] for b in bodies] == ["Street cleaning."]
    assert later.fire_due().fired == []  # once only
    assert later.scheduled() == []
    restarted.dispose()


def test_an_alert_missed_by_more_than_the_grace_window_is_reported_never_posted(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    due = clock() + timedelta(hours=1)
    row = broadcaster.schedule(request(texts=("Road closed.",)), "comms", at=due, cron=None)
    clock.now = due + GRACE + timedelta(minutes=1)  # the service was down

    report = broadcaster.fire_due()

    assert (report.fired, len(report.missed)) == ([], 1)
    _, runs = broadcaster.get(row.id or 0)
    assert [r.outcome for r in runs] == ["missed"]
    assert runs[0].run.error is not None
    assert "16 min late, past the 15 min grace window" in runs[0].run.error
    with transaction(engine) as session:
        assert len(session.exec(select(OutboxMessage)).all()) == 0


def test_an_alert_late_but_within_the_grace_window_still_goes(
    broadcaster: Broadcaster, clock: Clock
) -> None:
    due = clock() + timedelta(hours=1)
    broadcaster.schedule(request(texts=("Road closed.",)), "comms", at=due, cron=None)
    clock.now = due + GRACE - timedelta(seconds=1)
    assert len(broadcaster.fire_due().fired) == 1


def test_a_recurring_alert_fires_each_week_and_records_the_weeks_it_missed(
    broadcaster: Broadcaster, clock: Clock
) -> None:
    row = broadcaster.schedule(
        request(template="alert", variables={"what": "Street cleaning"}),
        "comms",
        at=None,
        cron="0 7 * * TUE",
    )
    tuesday = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert row.next_due_at == tuesday

    clock.now = tuesday + timedelta(minutes=1)
    assert len(broadcaster.fire_due().fired) == 1
    assert broadcaster.scheduled()[0].next_due_at == tuesday + timedelta(days=7)

    clock.now = tuesday + timedelta(days=21, minutes=5)  # down for two Tuesdays, back on the third
    report = broadcaster.fire_due()
    assert (len(report.missed), len(report.fired)) == (2, 1)
    assert broadcaster.scheduled()[0].next_due_at == tuesday + timedelta(days=28)
    _, runs = broadcaster.get(row.id or 0)
    assert [r.outcome for r in runs] == ["sending", "missed", "missed", "sending"]


def test_a_cancelled_broadcast_never_fires(broadcaster: Broadcaster, clock: Clock) -> None:
    due = clock() + timedelta(hours=1)
    row = broadcaster.schedule(request(texts=("Parade.",)), "comms", at=due, cron=None)
    broadcaster.cancel(row.id or 0, "lead")
    clock.now = due
    assert broadcaster.fire_due().fired == []
    with pytest.raises(BroadcastError, match=r"is cancelled, not scheduled"):
        broadcaster.cancel(row.id or 0, "lead")


def test_a_template_broken_after_scheduling_fails_that_run_and_says_why(
    broadcaster: Broadcaster, city_templates: Path, clock: Clock
) -> None:
    due = clock() + timedelta(hours=1)
    row = broadcaster.schedule(
        request(template="alert", variables={"what": "Snow"}), "comms", at=due, cron=None
    )
    for path in (city_templates / "broadcast").iterdir():
        path.unlink()
    clock.now = due
    report = broadcaster.fire_due()
    assert len(report.failed) == 1
    _, runs = broadcaster.get(row.id or 0)
    assert runs[0].outcome == "failed"
    assert runs[0].run.error == (
        "could not be prepared: no broadcast template 'alert' (templates: "
        + ", ".join(broadcaster.templates.names())
        + "; see `socialbot broadcast templates`)"
    )


@responses.activate
def test_storm_mode_tags_every_post_and_is_recorded_on_the_run(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    bodies = accept_posts()
    storm.start(engine, "Sandy", "#BoSandy", "lead", clock)
    view = broadcaster.send_now(request(texts=(LONG,)), actor="comms")
    send_once(notify_outbox(engine), clock)
    assert all(
        str(b["text"]).endswith("#BoSandy 1/2") or str(b["text"]).endswith("#BoSandy 2/2")
        for b in bodies
    )
    assert view.run.campaign == "BoSandy"

    storm.stop(engine, "lead", clock)
    bodies.clear()
    broadcaster.send_now(request(texts=("All clear.",)), actor="comms")
    send_once(notify_outbox(engine), clock)
    assert [b["text"] for b in bodies] == ["All clear."]


def test_storm_mode_is_one_campaign_at_a_time_with_a_real_hashtag(
    engine: Engine, clock: Clock
) -> None:
    storm.start(engine, "Sandy", "BoSandy", "lead", clock)
    with pytest.raises(BroadcastError, match=r"^storm mode is already on: Sandy #BoSandy since"):
        storm.start(engine, "Nemo", "BoNemo", "lead", clock)
    storm.stop(engine, "lead", clock)
    with pytest.raises(BroadcastError, match=r"^storm mode is not on$"):
        storm.stop(engine, "lead", clock)
    with pytest.raises(BroadcastError, match=r"^--hashtag '#2026': not a hashtag X would"):
        storm.start(engine, "Nemo", "#2026", "lead", clock)


@responses.activate
def test_the_log_has_who_when_the_exact_text_the_account_and_the_posted_ids(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    accept_posts()
    broadcaster.send_now(request(texts=("Boil water notice.",)), actor="ana")
    send_once(notify_outbox(engine), clock)
    clock.advance(minutes=1)
    later = broadcaster.schedule(
        request(texts=("Parade Sunday.",)), "ben", at=clock() + timedelta(days=2), cron=None
    )
    clock.advance(minutes=1)
    missed = broadcaster.schedule(
        request(texts=("Leaf pickup.",)), "ben", at=clock() + timedelta(hours=1), cron=None
    )
    clock.advance(minutes=1)
    broadcaster.cancel(later.id or 0, "cara")
    clock.advance(hours=2)
    broadcaster.fire_due()

    entries = broadcaster.log(since=clock() - timedelta(days=7))
    summary = [(e.event, e.by, e.account, e.texts, e.posted_ids) for e in entries]
    assert summary == [
        ("sent", "ana", "notify", ("Boil water notice.",), ("901",)),
        ("scheduled", "ben", "notify", ("Parade Sunday.",), ()),
        ("scheduled", "ben", "notify", ("Leaf pickup.",), ()),
        ("cancelled", "cara", "notify", ("Parade Sunday.",), ()),
        ("missed", "ben", "notify", (), ()),
    ]
    assert entries[-1].broadcast_id == missed.id
    assert broadcaster.log(since=clock() + timedelta(minutes=1)) == []
    with transaction(engine) as session:
        assert session.get(Broadcast, later.id).state is BroadcastState.CANCELLED  # type: ignore[union-attr]


def test_the_shipped_templates_are_complete_and_documented() -> None:
    templates = BroadcastTemplates.for_dirs(SHIPPED_TEMPLATES, SHIPPED_TEMPLATES)
    templates.check_all()
    names = templates.names()
    for wanted in (
        "storm_warning",
        "snow_emergency",
        "street_cleaning",
        "water_shutoff",
        "road_closure",
        "heat_advisory",
        "public_safety",
        "community_event",
    ):
        assert wanted in names
        template = templates.get(wanted)
        assert template.langs == ("en", "es")
        assert template.doc.description and template.doc.variables


def test_a_template_whose_header_disagrees_with_its_text_fails_at_start_up(
    city_templates: Path,
) -> None:
    (city_templates / "broadcast" / "alert.es.j2").write_text(
        ALERT_ES.replace("{{ what }}", "{{ que }}"), encoding="utf-8"
    )
    templates = BroadcastTemplates.for_dirs(city_templates, SHIPPED_TEMPLATES)
    with pytest.raises(TemplateError, match=r"alert\.es\.j2: uses que without listing it"):
        templates.check_all()


def crash_while_posting(engine: Engine, clock: Clock) -> None:
    """The sender claimed the first post and died: X may or may not have it."""
    with transaction(engine) as session:
        row = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).first()  # type: ignore[arg-type]
        assert row is not None
        row.state, row.claimed_at, row.attempts = OutboxState.SENDING, clock(), 1
    clock.advance(minutes=3)


@responses.activate
def test_a_first_post_that_reached_x_before_a_crash_is_found_by_its_text_not_reposted(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    broadcaster.send_now(
        request(texts=("Updates: https://www.boston.gov/storm & shelters",)), actor="comms"
    )
    crash_while_posting(engine, clock)
    # X shows links as t.co, escapes '&', and ends a post with a photo with one more link.
    timeline = {
        "data": [
            {"id": "950", "text": "Updates: https://t.co/aB3 &amp; shelters https://t.co/x9"},
            {"id": "949", "text": "An older post of ours"},
        ],
        "meta": {"result_count": 2},
    }
    responses.get(NOTIFY_TWEETS_URL, json=timeline)
    posts = responses.post(xapi.TWEETS_URL, json=xapi.posted("951", "again"))

    report = send_once(notify_outbox(engine), clock)

    assert (report.recovered, posts.call_count) == (1, 0)
    with transaction(engine) as session:
        row = session.exec(select(OutboxMessage)).one()
        assert (row.state, row.posted_id) == (OutboxState.SENT, "950")


@responses.activate
def test_a_first_post_that_never_reached_x_is_posted_after_the_crash(
    engine: Engine, broadcaster: Broadcaster, clock: Clock
) -> None:
    broadcaster.send_now(request(texts=("Cooling centers open.",)), actor="comms")
    crash_while_posting(engine, clock)
    responses.get(NOTIFY_TWEETS_URL, json={"meta": {"result_count": 0}})
    posts = responses.post(xapi.TWEETS_URL, json=xapi.posted("951", "Cooling centers open."))

    report = send_once(notify_outbox(engine), clock)

    assert (report.requeued, report.sent, posts.call_count) == (1, 1, 1)


def test_a_broadcast_follows_the_rules_of_its_accounts_network(
    engine: Engine, broadcaster: Broadcaster, tmp_path: Path
) -> None:
    tiny = dataclasses.replace(broadcaster, text_rules={"x": TINY}, media_rules={"x": TINY_MEDIA})
    on_x = broadcaster.prepare(request(texts=(LONG,)))
    preview = tiny.prepare(request(texts=(LONG,)))
    assert (on_x.rules, preview.rules) == (X_TEXT, TINY)
    posts = [post for thread in preview.threads for post in thread.posts]
    assert len(posts) > on_x.post_count and all(len(post) <= TINY.limit for post in posts)
    console = Console(record=True, width=200)
    console.print(preview_table(preview))
    shown = console.export_text()
    assert "lengths as Tiny: 100 characters" in shown
    assert f"{len(posts[0])}/100" in shown

    view = tiny.send_now(request(texts=(LONG,)), "comms")
    assert [post.text for post in view.posts] == posts

    jpeg = tmp_path / "radar.jpg"
    jpeg.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 64)
    broadcaster.prepare(request(texts=("Storm.",), media=jpeg, alt="Radar map"))
    with pytest.raises(BroadcastError, match=r"radar\.jpg: not a PNG image$"):
        tiny.prepare(request(texts=("Storm.",), media=jpeg, alt="Radar map"))
    png = tmp_path / "radar.png"
    png.write_bytes(tiny_png())
    with pytest.raises(BroadcastError, match=r"^--alt: 51 characters, over Tiny's 50$"):
        tiny.prepare(request(texts=("Storm.",), media=png, alt="a" * 51))
