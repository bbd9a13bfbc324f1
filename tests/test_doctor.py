"""`socialbot doctor`'s checks: each one OK or a line naming the fix, none stopping the others,
nothing changed, no secret shown. X is mocked at the HTTP level (`GET /2/users/me`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import requests
import responses
from alembic import command
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from socialbot.catalog import load_catalog
from socialbot.config import SHIPPED_HASHTAGS, Settings, load_settings
from socialbot.doctor import (
    Check,
    Outcome,
    check_database,
    check_replies,
    check_timezone,
    failed,
    run_checks,
)
from socialbot.networks.x.rules import X_TEXT
from socialbot.store.db import alembic_config, make_engine, transaction
from socialbot.store.models import Account
from tests import xapi
from tests.made_up import TINY

SECRETS = {
    "x_consumer_key": "ck-SECRET-1",
    "x_consumer_secret": "cs-SECRET-2",
    "x_access_token": "at-SECRET-3",
    "x_access_token_secret": "ats-SECRET-4",
}

CITY_ZONE = "America/New_York"


def with_credentials(database_url: str, **more: object) -> Settings:
    # A city's zone: the UTC default is a warning of its own (test_utc_is_a_warning_…).
    more = {"timezone": CITY_ZONE} | more
    return load_settings(None, database_url=database_url, **SECRETS, **more)


def doctor(settings: Settings, *, offline: bool = False) -> list[Check]:
    return run_checks(lambda: settings, offline=offline)


def lines(checks: list[Check], area: str | None = None) -> list[str]:
    """`OK catalog: …` per check (of `area`), as the command prints them less the padding."""
    return [
        f"{c.outcome.name} {c.area}: {c.detail}" + (f" → {c.fix}" if c.fix else "")
        for c in checks
        if area is None or c.area == area
    ]


def only(checks: list[Check], area: str) -> Check:
    found = [c for c in checks if c.area == area]
    assert len(found) == 1, found
    return found[0]


def broken_catalog(tmp_path: Path) -> Path:
    """The shipped catalog with one category's priority misspelt, on its own line."""
    text = SHIPPED_HASHTAGS.read_text(encoding="utf-8")
    path = tmp_path / "hashtags.yaml"
    path.write_text(text.replace("priority: normal", "priority: norml", 1), encoding="utf-8")
    return path


def city_templates(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "city-templates"
    for name, body in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(body, encoding="utf-8")
    return root


def revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


# --- all well ---------------------------------------------------------------------------------


@responses.activate
def test_a_healthy_install_is_ok_from_settings_to_credentials(engine: Engine) -> None:
    responses.get(xapi.ME_URL, json=xapi.me())
    responses.get(xapi.MENTIONS_URL, json=xapi.page([]))
    settings = with_credentials(engine.url.render_as_string(hide_password=False))

    checks = doctor(settings)

    assert failed(checks) == []
    assert [(c.outcome, c.area) for c in checks] == [
        (Outcome.OK, "config"),
        (Outcome.OK, "time zone"),
        (Outcome.OK, "catalog"),
        (Outcome.OK, "answers"),
        (Outcome.OK, "replies"),
        (Outcome.OK, "broadcasts"),
        (Outcome.SKIP, "city bounds"),  # not set
        (Outcome.SKIP, "districts"),  # not set
        (Outcome.OK, "database"),
        (Outcome.OK, "credentials"),
        (Outcome.OK, "field names"),
    ]
    assert only(checks, "catalog").detail.endswith("hashtags.yaml: 26 categories")
    assert only(checks, "replies").detail.startswith(
        "44 templates (en, es) fit X: 280 weighted characters"
    )
    assert only(checks, "database").detail.endswith(": schema is current")
    assert only(checks, "credentials").detail == (f"intake: @{xapi.CITY} (user id {xapi.CITY_ID})")
    # One cheap call an account, and one mentions page of five for the names intake asks for.
    assert [(c.request.url or "").split("?")[0] for c in responses.calls] == [
        xapi.ME_URL,
        xapi.MENTIONS_URL,
    ]
    assert "max_results=5" in (responses.calls[1].request.url or "")


@responses.activate
def test_every_configured_account_is_asked_who_it_is(engine: Engine) -> None:
    responses.get(xapi.MENTIONS_URL, json=xapi.page([]))
    responses.get(xapi.ME_URL, json=xapi.me())
    responses.get(xapi.ME_URL, json={"data": {"id": "77", "name": "Alerts", "username": "Alerts"}})
    settings = with_credentials(
        engine.url.render_as_string(hide_password=False),
        accounts={"notify": {"x_access_token": "nat-SECRET-5", "x_access_token_secret": "n-6"}},
    )

    assert lines(doctor(settings), "credentials") == [
        f"OK credentials: intake: @{xapi.CITY} (user id {xapi.CITY_ID})",
        "OK credentials: notify: @Alerts (user id 77)",
    ]


def test_bounds_and_districts_files_are_read_when_set(tmp_path: Path, engine: Engine) -> None:
    bounds = tmp_path / "city.geojson"
    bounds.write_text(
        '{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]', "utf-8"
    )
    settings = load_settings(
        database_url=engine.url.render_as_string(hide_password=False),
        city_bounds=str(bounds),
        districts=str(tmp_path / "nowhere.geojson"),
    )

    checks = doctor(settings, offline=True)

    assert lines(checks, "city bounds") == [
        f"FAIL city bounds: SOCIALBOT_CITY_BOUNDS: {bounds}:1: not valid JSON "
        "(Expecting ',' delimiter at column 69)"
    ]
    assert lines(checks, "districts") == [
        f"FAIL districts: SOCIALBOT_DISTRICTS: {tmp_path / 'nowhere.geojson'}: no such file; "
        "expected a GeoJSON FeatureCollection"
    ]
    assert {c.outcome for c in checks if c.area == "replies"} == {Outcome.OK}  # the others go on


# --- settings, catalog, templates -------------------------------------------------------------


def test_settings_that_do_not_load_fail_first_and_nothing_else_is_tried() -> None:
    def bad() -> Settings:
        return load_settings(poll_seconds=1)

    checks = run_checks(bad)

    assert (
        lines(checks)[0]
        == "FAIL config: SOCIALBOT_POLL_SECONDS: Input should be greater than or equal to 5 (got 1)"
    )
    assert {c.outcome for c in checks[1:]} == {Outcome.SKIP}
    assert checks[-1].detail == "not checked: the settings did not load (see config)"


def test_a_broken_catalog_names_file_and_line_and_the_replies_say_why_unchecked(
    tmp_path: Path, engine: Engine
) -> None:
    path = broken_catalog(tmp_path)
    settings = load_settings(
        database_url=engine.url.render_as_string(hide_password=False), hashtags=path
    )

    checks = doctor(settings, offline=True)

    catalog = only(checks, "catalog")
    assert catalog.outcome is Outcome.FAIL
    assert catalog.detail.startswith(f"{path}:")
    line = int(catalog.detail.split(":")[1])
    assert "priority: norml" in path.read_text(encoding="utf-8").splitlines()[line - 1]
    assert lines(checks, "replies") == [
        "SKIP replies: not checked: they need the catalog, which did not load"
    ]
    assert only(checks, "database").outcome is Outcome.OK  # the others go on


def test_every_template_over_280_is_a_line_of_its_own(tmp_path: Path, engine: Engine) -> None:
    templates = city_templates(
        tmp_path,
        {
            "replies/help.en.j2": "Please use: {{ hashtags | join(' ') }}. " + "x" * 250,
            "replies/filed.es.j2": "Caso #{{ case }}. " + "y" * 280,
        },
    )
    # A city on X: its templates are measured by X's rules alone.
    settings = with_credentials(
        engine.url.render_as_string(hide_password=False), templates=templates
    )

    replies = lines(doctor(settings, offline=True), "replies")

    assert len(replies) == 2
    assert replies[0].startswith(f"FAIL replies: {templates}/replies/help.en.j2: renders to ")
    assert replies[1].startswith(f"FAIL replies: {templates}/replies/filed.es.j2: renders to ")
    assert all("weighted characters, over X's 280; shorten the template" in r for r in replies)


def test_a_city_on_no_network_yet_has_its_templates_measured_by_every_network(
    engine: Engine,
) -> None:
    settings = load_settings(database_url=engine.url.render_as_string(hide_password=False))

    replies = lines(doctor(settings, offline=True), "replies")

    assert [r.split(" fit ")[1].split(" with ")[0] for r in replies] == [
        "X: 280 weighted characters",
        "Mastodon: 500 characters",
        "Bluesky: 300 graphemes",
        "SMS: 4 segments",
    ]


def test_a_broken_broadcast_template_is_named(tmp_path: Path, engine: Engine) -> None:
    templates = city_templates(
        tmp_path,
        {"broadcast/water_main.en.j2": "{#\nA water main break.\nvars:\n#}\n{{ road }} is closed."},
    )
    settings = load_settings(
        database_url=engine.url.render_as_string(hide_password=False), templates=templates
    )

    broadcasts = lines(doctor(settings, offline=True), "broadcasts")

    assert broadcasts == [
        f"FAIL broadcasts: {templates}/broadcast/water_main.en.j2: uses road without listing it "
        "under vars:"
    ]


# --- database ---------------------------------------------------------------------------------


def test_a_database_behind_head_is_reported_and_left_as_it_is(database_url: str) -> None:
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "0006")
    behind = len(
        list(ScriptDirectory.from_config(alembic_config(engine)).iterate_revisions("heads", "0006"))
    )

    check = check_database(load_settings(database_url=database_url))

    assert check.outcome is Outcome.FAIL
    assert f"schema is {behind} migration(s) behind" in check.detail
    assert check.fix == "run `socialbot db upgrade`"
    assert revision(engine) == "0006"  # doctor never migrates
    engine.dispose()


def test_a_database_migrated_by_a_newer_socialbot_is_named(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))

    check = check_database(
        load_settings(database_url=engine.url.render_as_string(hide_password=False))
    )

    assert check.outcome is Outcome.FAIL
    assert check.detail.endswith(
        ": at schema revision 9999, which this version of socialbot does not know (was it "
        "migrated by a newer one?)"
    )
    assert check.fix == "upgrade socialbot to the version that migrated it"


def test_a_missing_sqlite_file_is_reported_not_created(tmp_path: Path) -> None:
    path = tmp_path / "new" / "socialbot.db"

    check = check_database(load_settings(database_url=f"sqlite:///{path}"))

    # A fresh install has no database: not a failure, and the line says what creates it.
    assert (check.outcome, check.detail) == (
        Outcome.WARN,
        f"sqlite:///{path}: no database yet (the file does not exist; doctor creates nothing)",
    )
    assert check.fix == (
        "run `socialbot db upgrade` to create it (the service's first start, `socialbot run`, "
        "does too)"
    )
    assert not path.parent.exists()


def test_utc_is_a_warning_naming_the_setting_to_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The installed settings' default: a city's business day would end at 7 pm in Boston."""
    monkeypatch.delenv("SOCIALBOT_TIMEZONE", raising=False)
    config = tmp_path / "socialbot.toml"
    config.write_text('timezone = "UTC"\n', encoding="utf-8")

    check = check_timezone(load_settings(config), config)

    assert check.outcome is Outcome.WARN
    assert check.detail == (
        "UTC: the default, not the city's zone: business days (and so SLA due times) end at "
        "midnight UTC, and every time is shown in UTC"
    )
    assert check.fix == f'set timezone = "America/New_York" (the city\'s IANA zone) in {config}'
    # From the environment, the fix names the variable.
    monkeypatch.setenv("SOCIALBOT_TIMEZONE", "Etc/UTC")
    check = check_timezone(load_settings(config), config)
    assert check.outcome is Outcome.WARN
    assert check.fix == "set SOCIALBOT_TIMEZONE=America/New_York (the city's IANA zone)"


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London", "Atlantic/Reykjavik"])
def test_a_city_s_zone_is_ok(zone: str) -> None:
    check = check_timezone(load_settings(None, timezone=zone))
    assert (check.outcome, check.detail) == (
        Outcome.OK,
        f"{zone}: business days, SLAs and every time shown are in it",
    )


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://u:s3cret@127.0.0.1:1/db",
            "postgresql+psycopg://u:***@127.0.0.1:1/db",
        ),
        ("sqlite:///{tmp_path}", "sqlite:///{tmp_path}"),  # a directory, not a database file
    ],
)
def test_an_unreachable_database_is_one_line_without_the_password(
    tmp_path: Path, url: str, shown: str
) -> None:
    check = check_database(load_settings(database_url=url.format(tmp_path=tmp_path)))

    assert check.outcome is Outcome.FAIL
    assert check.detail.startswith(f"{shown.format(tmp_path=tmp_path)}: cannot connect (")
    assert "s3cret" not in check.detail and "\n" not in check.detail
    assert check.fix == "check SOCIALBOT_DATABASE_URL and that the database server is running"


# --- credentials ------------------------------------------------------------------------------


@responses.activate
def test_rejected_credentials_name_the_settings_never_their_values(engine: Engine) -> None:
    responses.get(
        xapi.ME_URL,
        status=401,
        json={
            "title": "Unauthorized",
            "type": "about:blank",
            "status": 401,
            "detail": "Unauthorized",
        },
    )
    settings = with_credentials(engine.url.render_as_string(hide_password=False))

    checks = doctor(settings)

    assert lines(checks, "credentials") == [
        "FAIL credentials: intake: X rejected the credentials (401): Unauthorized; check "
        "SOCIALBOT_X_* settings → check SOCIALBOT_X_ACCESS_TOKEN and "
        "SOCIALBOT_X_ACCESS_TOKEN_SECRET, and the app's SOCIALBOT_X_CONSUMER_KEY and "
        "SOCIALBOT_X_CONSUMER_SECRET, against the X developer portal (regenerate them if they "
        "were revoked; the app needs Read and write permission)"
    ]
    shown = "\n".join(lines(checks))
    assert not [secret for secret in SECRETS.values() if secret in shown]


@responses.activate
def test_a_token_of_another_account_than_the_configured_id_fails(engine: Engine) -> None:
    responses.get(xapi.ME_URL, json=xapi.me())
    settings = with_credentials(
        engine.url.render_as_string(hide_password=False), x_user_id="1583000000000000999"
    )

    assert lines(doctor(settings), "credentials") == [
        f"FAIL credentials: intake: the access token is @{xapi.CITY} (user id {xapi.CITY_ID}), "
        "but SOCIALBOT_X_USER_ID is 1583000000000000999: replies would go out from the wrong "
        "account → use the access token of user 1583000000000000999, or set "
        f"SOCIALBOT_X_USER_ID={xapi.CITY_ID}"
    ]


@responses.activate
def test_a_token_of_another_account_than_the_database_knows_fails(engine: Engine) -> None:
    with transaction(engine) as session:
        session.add(Account(platform="x", name="intake", user_id="1583000000000000999"))
    responses.get(xapi.ME_URL, json=xapi.me())
    settings = with_credentials(engine.url.render_as_string(hide_password=False))

    check = only(doctor(settings), "credentials")

    assert check.outcome is Outcome.FAIL
    assert "the database knows this account as user id 1583000000000000999" in check.detail
    assert check.fix is not None and f"set SOCIALBOT_X_USER_ID={xapi.CITY_ID}" in check.fix


@responses.activate
def test_x_out_of_reach_or_rate_limited_says_to_retry(engine: Engine) -> None:
    responses.get(xapi.ME_URL, body=requests.ConnectionError("reset by peer"))
    responses.get(
        xapi.ME_URL,
        status=429,
        json={"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
        headers={"x-rate-limit-reset": "1795435200"},
    )
    settings = with_credentials(
        engine.url.render_as_string(hide_password=False),
        accounts={"notify": {"x_access_token": "nat-SECRET-5", "x_access_token_secret": "n-6"}},
    )

    assert lines(doctor(settings), "credentials") == [
        "FAIL credentials: intake: X could not be reached: X unreachable: ConnectionError → "
        "run it again in a few minutes",
        "FAIL credentials: notify: X could not be checked: X rate limit reached; resets at "
        "2026-11-23 12:00:00+00:00 → run it again after 2026-11-23 12:00 UTC",
    ]


def test_missing_credentials_fail_with_where_to_put_them(engine: Engine) -> None:
    settings = load_settings(database_url=engine.url.render_as_string(hide_password=False))

    check = only(doctor(settings), "credentials")

    assert check.outcome is Outcome.FAIL
    assert check.detail.startswith("intake: SOCIALBOT_X_CONSUMER_KEY, SOCIALBOT_X_CONSUMER_SECRET")
    assert check.fix is not None and "/etc/socialbot/credentials/" in check.fix
    assert "--offline" in check.fix


@responses.activate
def test_offline_calls_nobody_and_fails_nothing_for_missing_credentials(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)

    without = doctor(load_settings(database_url=url), offline=True)
    with_them = doctor(with_credentials(url), offline=True)

    assert failed(without) == [] and failed(with_them) == []
    assert lines(without, "credentials") == [
        "SKIP credentials: intake: credentials not set yet; not checked with X (--offline)"
    ]
    assert lines(with_them, "credentials") == [
        "SKIP credentials: intake: credentials set; not checked with X (--offline)"
    ]
    assert len(responses.calls) == 0


# --- field names ------------------------------------------------------------------------------


@pytest.mark.parametrize("names", ["tweet", "post"])
@responses.activate
def test_the_mentions_probe_uses_the_configured_names(engine: Engine, names: str) -> None:
    responses.get(xapi.ME_URL, json=xapi.me())
    responses.get(xapi.MENTIONS_URL, json=xapi.page([]))
    settings = with_credentials(
        engine.url.render_as_string(hide_password=False), x_field_names=names
    )

    assert lines(doctor(settings), "field names") == [
        f"OK field names: SOCIALBOT_X_FIELD_NAMES={names}: X accepts every name the mentions "
        "request uses, and its answer reads (0 of the newest 5 mentions)"
    ]
    sent = responses.calls[1].request.url or ""
    assert f"{names}.fields=" in sent and "max_results=5" in sent


@responses.activate
def test_names_the_api_refuses_fail_with_the_setting_to_change(engine: Engine) -> None:
    responses.get(xapi.ME_URL, json=xapi.me())
    responses.get(
        xapi.MENTIONS_URL,
        status=400,
        json={
            "errors": [
                {
                    "parameters": {"post.fields": ["created_at"]},
                    "message": "The query parameter [post.fields] is not one of [id,max_results,"
                    "tweet.fields,user.fields]",
                }
            ],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )
    settings = with_credentials(
        engine.url.render_as_string(hide_password=False), x_field_names="post"
    )

    check = only(doctor(settings), "field names")

    assert check.outcome is Outcome.FAIL
    assert check.detail.startswith(
        "SOCIALBOT_X_FIELD_NAMES=post: X refused the request parameter `post.fields` (400)"
    )
    assert check.fix == (
        "set SOCIALBOT_X_FIELD_NAMES=tweet (uses `tweet.fields`) and run `socialbot doctor` again"
    )


@responses.activate
def test_names_taken_but_answers_intake_cannot_read_fail(engine: Engine) -> None:
    """X may take a spelling's names yet leave out what intake reads (here `author_id`): every
    mention would be malformed, so the probe says so instead of OK."""
    unreadable = xapi.tweet(1, "@DemoCity311 #pothole")
    del unreadable["author_id"]
    responses.get(xapi.ME_URL, json=xapi.me())
    responses.get(xapi.MENTIONS_URL, json=xapi.page([unreadable, xapi.tweet(2, "@DemoCity311")]))
    settings = with_credentials(
        engine.url.render_as_string(hide_password=False), x_field_names="post"
    )

    check = only(doctor(settings), "field names")

    assert check.outcome is Outcome.FAIL
    assert check.detail == (
        "SOCIALBOT_X_FIELD_NAMES=post: X accepts the names, but 1 of the 2 mentions it sent "
        "cannot be read: `author_id` is not an X id (ASCII digits): None"
    )
    assert check.fix.startswith("set SOCIALBOT_X_FIELD_NAMES=tweet")


@responses.activate
def test_no_probe_when_the_credentials_fail(engine: Engine) -> None:
    responses.get(xapi.ME_URL, status=401, json={"title": "Unauthorized", "type": "about:blank"})
    settings = with_credentials(engine.url.render_as_string(hide_password=False))
    assert [c for c in doctor(settings) if c.area == "field names"] == []
    assert len(responses.calls) == 1


def test_the_reply_check_says_whose_rules_it_measured_one_line_a_network(
    tmp_path: Path,
) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path}/doctor.db")
    catalog = load_catalog(settings.hashtags)
    roomy = dataclasses.replace(TINY, network="Roomy", limit=500)

    checks = check_replies(settings, catalog, [X_TEXT, roomy])
    assert [f"{c.outcome.name} {c.detail}" for c in checks] == [
        "OK 44 templates (en, es) fit X: 280 weighted characters with the longest category name "
        "and case number",
        "OK 44 templates (en, es) fit Roomy: 500 characters with the longest category name, case "
        "number and handle",
    ]
    too_small = check_replies(settings, catalog, [X_TEXT, TINY])
    assert too_small[0].outcome is Outcome.OK
    assert too_small[1:] and all(
        c.outcome is Outcome.FAIL and "over Tiny's 100; shorten the template" in c.detail
        for c in too_small[1:]
    )
