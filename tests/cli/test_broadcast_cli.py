"""`socialbot broadcast` and `socialbot storm` as comms staff use them, from the README."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote_plus

import pytest
import responses

from socialbot.cli import app
from socialbot.store.db import make_engine, upgrade
from tests import xapi
from tests.cli.run import invoke, runner
from tests.networks.mastodon import cassettes
from tests.networks.x.test_x_media import METADATA_URL, UPLOAD_URL, tiny_png, uploaded

NOTIFY_ID = "1583000000000000002"
STORM = (
    "broadcast",
    "send",
    "storm_warning",
    "--var",
    "storm=Sandy",
    "--var",
    "arrives=Monday night",
    "--var",
    "arrives.es=el lunes por la noche",
    "--lang",
    "en,es",
)


@pytest.fixture(autouse=True)
def city(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The service's database, created and migrated as `socialbot run` leaves it: the broadcast
    commands neither create nor migrate one."""
    url = f"sqlite:///{tmp_path / 'city.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", url)
    monkeypatch.setenv("SOCIALBOT_TIMEZONE", "America/New_York")


@pytest.fixture
def notify(monkeypatch: pytest.MonkeyPatch) -> None:
    """The notify account's credentials, as an operator sets them (the app keys are shared)."""
    monkeypatch.setenv("SOCIALBOT_X_CONSUMER_KEY", "ck-SECRET")
    monkeypatch.setenv("SOCIALBOT_X_CONSUMER_SECRET", "cs-SECRET")
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__NOTIFY__X_ACCESS_TOKEN", "at-SECRET")
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__NOTIFY__X_ACCESS_TOKEN_SECRET", "ats-SECRET")
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__NOTIFY__X_USER_ID", NOTIFY_ID)


def accept_posts() -> list[dict[str, object]]:
    bodies: list[dict[str, object]] = []

    def answer(req: object) -> tuple[int, dict[str, str], str]:
        body = json.loads(req.body)  # type: ignore[attr-defined]
        bodies.append(body)
        new_id = str(1_860_000_000_000_000_000 + len(bodies))
        return 201, {}, json.dumps(xapi.posted(new_id, body["text"]))

    responses.add_callback(responses.POST, xapi.TWEETS_URL, callback=answer)
    return bodies


def log() -> list[dict[str, object]]:
    code, out = invoke("broadcast", "log", "--json")
    assert code == 0
    entries: list[dict[str, object]] = json.loads(out)
    return entries


@responses.activate  # no endpoint registered: any call to X would fail the test
def test_a_dry_run_previews_every_post_with_its_length_and_needs_no_credentials() -> None:
    code, out = invoke(*STORM, "--dry-run")

    assert code == 0, out
    assert "Preview: exactly what will be posted" in out
    assert "en 1/2" in out and "es 1/2" in out and "/280" in out
    assert "Storm Sandy is expected to arrive Monday night" in out
    assert "el lunes por la noche" in out
    assert "Dry run: nothing posted, nothing scheduled." in out
    assert len(responses.calls) == 0
    assert log() == []


@responses.activate
def test_saying_no_at_the_prompt_posts_and_records_nothing(notify: None) -> None:
    result = runner.invoke(
        app,
        ["broadcast", "send", "--text", "Leaf pickup starts Monday."],
        input="n\n",
    )
    assert result.exit_code == 1
    assert "Post 1 post(s) now? [y/N]" in result.stdout
    assert "Nothing posted." in result.stdout
    assert len(responses.calls) == 0
    assert log() == []


@responses.activate
def test_a_bilingual_storm_thread_with_a_photo(notify: None, tmp_path: Path) -> None:
    photo = tmp_path / "radar.png"
    photo.write_bytes(tiny_png())
    responses.post(UPLOAD_URL, json=uploaded("1726000000000000009"))
    responses.post(METADATA_URL, body="")
    bodies = accept_posts()

    code, out = invoke(
        *STORM,
        "--media",
        str(photo),
        "--alt",
        "Radar: the storm reaches the coast at 6 pm",
        "--yes",
    )

    assert code == 0, out
    assert "Broadcast #1: sent" in out
    texts = [str(b["text"]) for b in bodies]
    assert len(texts) == 4  # two posts in English, then two in Spanish
    assert texts[0].startswith("⚠️ Storm Sandy") and texts[0].endswith(" 1/2")
    assert bodies[1]["reply"] == {"in_reply_to_tweet_id": "1860000000000000001"}
    assert bodies[2].get("reply") is None and bodies[3]["reply"] == {
        "in_reply_to_tweet_id": "1860000000000000003"
    }
    assert [b.get("media") for b in bodies] == [
        {"media_ids": ["1726000000000000009"]},
        None,
        {"media_ids": ["1726000000000000009"]},
        None,
    ]
    (entry,) = log()
    assert entry["event"] == "sent" and entry["account"] == "notify"
    assert entry["texts"] == texts
    assert entry["posted_ids"] == [f"186000000000000000{n}" for n in range(1, 5)]


@responses.activate
def test_a_missing_var_is_one_line_and_nothing_is_posted(notify: None) -> None:
    result = runner.invoke(
        app,
        ["broadcast", "send", "storm_warning", "--var", "storm=Sandy", "--yes"],
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(
        'socialbot: storm_warning: missing --var arrives, e.g. --var storm="Sandy"'
    ) or result.stderr.startswith("socialbot: storm_warning: missing --var arrives")
    assert result.stderr.count("\n") == 1
    assert len(responses.calls) == 0


def test_an_account_without_credentials_cannot_post(notify: None) -> None:
    result = runner.invoke(
        app,
        ["broadcast", "send", "--text", "Hi", "--account", "press", "--yes"],
    )
    assert result.exit_code == 1
    assert (
        "socialbot: --account press: not configured (accounts with credentials: notify)"
        in result.stderr
    )


def test_a_recurring_street_cleaning_reminder_is_listed_logged_and_cancellable(
    notify: None,
) -> None:
    code, out = invoke(
        "broadcast",
        "send",
        "street_cleaning",
        "--var",
        "area=North End",
        "--var",
        "day=Tuesday",
        "--var",
        "hours=8 a.m. to noon",
        "--cron",
        "0 7 * * TUE",
        "--yes",
        "--as",
        "ana",
    )
    assert code == 0, out
    assert "on cron '0 7 * * TUE', first at" in out
    assert "Scheduled broadcast #1; next at" in out and "America/New_York" in out

    code, out = invoke("broadcast", "list")
    assert code == 0 and "1 scheduled broadcast(s)" in out and "0 7 * * TUE" in out
    code, out = invoke("broadcast", "show", "1")
    assert code == 0 and "street_cleaning (area=North End" in out and "by ana" in out
    code, out = invoke("broadcast", "cancel", "1", "--as", "ben")
    assert code == 0 and "Cancelled broadcast #1." in out
    assert [(e["event"], e["by"]) for e in log()] == [("scheduled", "ana"), ("cancelled", "ben")]


def test_the_templates_are_listed_with_their_variables() -> None:
    code, out = invoke("broadcast", "templates")
    assert code == 0
    for name in (
        "storm_warning",
        "snow_emergency",
        "street_cleaning",
        "water_shutoff",
        "road_closure",
        "heat_advisory",
        "public_safety",
        "community_event",
    ):
        assert name in out
    assert "en,es" in out
    assert "storm: The storm's name" in out
    assert "shelters (optional)" in out


def test_storm_mode_shows_in_status_and_in_every_preview() -> None:
    code, out = invoke("storm", "start", "--name", "Sandy", "--hashtag", "BoSandy")
    assert code == 0 and "Storm mode on: Sandy #BoSandy" in out

    code, out = invoke("status")
    assert code == 0 and "storm mode:   ON: Sandy #BoSandy" in out
    code, out = invoke("status", "--json")
    assert json.loads(out)["storm"]["hashtag"] == "BoSandy"
    code, out = invoke("broadcast", "send", "--text", "Stay home tonight.", "--dry-run")
    assert "Stay home tonight. #BoSandy" in out

    code, out = invoke("storm", "stop")
    assert code == 0 and "Storm mode off (was Sandy #BoSandy)" in out
    code, out = invoke("status", "--json")
    assert json.loads(out)["storm"] is None


@responses.activate
def test_one_send_posts_the_alert_from_every_notify_account_on_every_network(
    notify: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A city with a notify account on X and one on Mastodon: one preview, one broadcast and one
    audit entry each, each post as its network measures and takes it."""
    monkeypatch.setenv("SOCIALBOT_MASTODON_API_BASE_URL", cassettes.BASE_URL)
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__ALERTS__NETWORK", "mastodon")
    monkeypatch.setenv("SOCIALBOT_ACCOUNTS__ALERTS__MASTODON_ACCESS_TOKEN", "mt-SECRET")
    monkeypatch.setenv("SOCIALBOT_BROADCAST_ACCOUNT", "notify,alerts")
    on_x = accept_posts()
    cassettes.serve(cassettes.find("test_instance", "GET", "/api/v2/instance/"))
    status = cassettes.find("test_status_post_public", "POST", "/api/v1/statuses")
    on_mastodon: list[str] = []

    def mastodon_answer(req: object) -> tuple[int, dict[str, str], str]:
        body = req.body  # type: ignore[attr-defined]
        on_mastodon.append(body.decode() if isinstance(body, bytes) else body)
        return status.status, dict(status.headers), status.body

    responses.add_callback(
        responses.POST, f"{cassettes.BASE_URL}/api/v1/statuses", callback=mastodon_answer
    )
    alert = "Snow emergency parking ban from 6 pm tonight. Move cars off main roads."

    code, out = invoke("broadcast", "send", "--text", alert, "--yes")

    assert code == 0, out
    assert out.count("Preview: exactly what will be posted") == 2
    assert "From account 'notify' on X, now." in out
    assert "From account 'alerts' on Mastodon, now." in out
    assert "lengths as X: 280 weighted characters" in out
    assert "lengths as Mastodon: " in out
    assert [body["text"] for body in on_x] == [alert]
    [sent] = on_mastodon
    assert alert in unquote_plus(sent)  # as Mastodon.py sends it, form-encoded
    entries = log()
    assert sorted((e["network"], e["account"], e["event"]) for e in entries) == [
        ("mastodon", "alerts", "sent"),
        ("x", "notify", "sent"),
    ]
