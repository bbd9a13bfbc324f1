"""`socialbot doctor` as an operator runs it: one line per check, exit 1 on any failure."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import responses
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from socialbot.cli import app
from socialbot.config import SHIPPED_HASHTAGS
from socialbot.store.db import alembic_config, make_engine
from tests import xapi
from tests.cli.run import invoke, runner
from tests.networks.mastodon import cassettes

SECRETS = {
    "SOCIALBOT_X_CONSUMER_KEY": "ck-SECRET-1",
    "SOCIALBOT_X_CONSUMER_SECRET": "cs-SECRET-2",
    "SOCIALBOT_X_ACCESS_TOKEN": "at-SECRET-3",
    "SOCIALBOT_X_ACCESS_TOKEN_SECRET": "ats-SECRET-4",
}


@pytest.fixture
def city(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A migrated database and the city account's credentials, in the environment."""
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SOCIALBOT_TIMEZONE", "America/New_York")
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


def columns(out: str) -> list[tuple[str, str]]:
    """(outcome, area) of each check line."""
    return [(line[:5].strip(), line[6:18].strip()) for line in out.splitlines()[:-1]]


@responses.activate
@pytest.mark.usefixtures("city")
def test_all_well_is_ok_line_by_line_and_exit_0() -> None:
    responses.get(xapi.ME_URL, json=xapi.me())
    responses.get(xapi.MENTIONS_URL, json=xapi.page([xapi.tweet(1, "@DemoCity311 hi")]))

    code, out = invoke("doctor")

    assert code == 0
    assert columns(out) == [
        ("OK", "config"),
        ("OK", "time zone"),
        ("OK", "catalog"),
        ("OK", "answers"),
        ("OK", "replies"),
        ("OK", "broadcasts"),
        ("SKIP", "city bounds"),
        ("SKIP", "districts"),
        ("OK", "database"),
        ("OK", "credentials"),
        ("OK", "field names"),
    ]
    assert f"OK    credentials  intake: @{xapi.CITY} (user id {xapi.CITY_ID})\n" in out
    assert (
        "OK    field names  SOCIALBOT_X_FIELD_NAMES=tweet: X accepts every name the mentions "
        "request uses, and its answer reads (1 of the newest 5 mentions)\n"
    ) in out
    assert out.endswith("All good.\n")


@pytest.mark.usefixtures("city")
def test_a_broken_catalog_is_its_file_and_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = tmp_path / "hashtags.yaml"
    text = SHIPPED_HASHTAGS.read_text(encoding="utf-8")
    catalog.write_text(text.replace("priority: normal", "priority: norml", 1), encoding="utf-8")
    monkeypatch.setenv("SOCIALBOT_HASHTAGS", str(catalog))

    code, out = invoke("doctor", "--offline")

    assert code == 1
    assert f"FAIL  catalog      {catalog}:" in out
    assert "SKIP  replies      not checked: they need the catalog, which did not load" in out
    assert out.endswith("1 problem(s) to fix; run `socialbot doctor` again after.\n")


@pytest.mark.usefixtures("city")
def test_a_template_over_280_characters_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "templates" / "replies").mkdir(parents=True)
    (tmp_path / "templates" / "replies" / "help.en.j2").write_text("Use #pothole. " + "x" * 280)
    monkeypatch.setenv("SOCIALBOT_TEMPLATES", str(tmp_path / "templates"))

    code, out = invoke("doctor", "--offline")

    assert code == 1
    assert (
        f"FAIL  replies      {tmp_path}/templates/replies/help.en.j2: renders to 294 weighted "
        "characters, over X's 280; shorten the template\n"
    ) in out


def test_a_database_behind_head_says_to_upgrade(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(database_url)
    command.upgrade(alembic_config(engine), "0006")
    script = ScriptDirectory.from_config(alembic_config(engine))
    behind = len(list(script.iterate_revisions("heads", "0006")))
    engine.dispose()
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", database_url)

    code, out = invoke("doctor", "--offline")

    assert code == 1
    shown = make_engine(database_url).url.render_as_string(hide_password=True)
    assert (f"FAIL  database     {shown}: schema is {behind} migration(s) behind (pending: ") in out
    assert "→ run `socialbot db upgrade`\n" in out


def test_an_unreachable_database_fails_without_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", "postgresql+psycopg://u:s3cret@127.0.0.1:1/db")

    result = runner.invoke(app, ["doctor", "--offline"])

    assert result.exit_code == 1
    assert "FAIL  database     postgresql+psycopg://u:***@127.0.0.1:1/db: cannot connect (" in (
        result.stdout
    )
    assert "s3cret" not in result.output


@responses.activate
@pytest.mark.usefixtures("city")
def test_rejected_credentials_exit_1_and_no_secret_is_printed() -> None:
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

    result = runner.invoke(app, ["doctor"])

    assert result.exit_code == 1
    assert "FAIL  credentials  intake: X rejected the credentials (401)" in result.stdout
    assert "→ check SOCIALBOT_X_ACCESS_TOKEN and SOCIALBOT_X_ACCESS_TOKEN_SECRET" in result.stdout
    assert [s for s in SECRETS.values() if s in result.output] == []  # stdout and stderr


@responses.activate
@pytest.mark.usefixtures("city")
def test_a_token_of_another_account_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_X_USER_ID", "42")
    responses.get(xapi.ME_URL, json=xapi.me())

    code, out = invoke("doctor")

    assert code == 1
    assert (
        f"FAIL  credentials  intake: the access token is @{xapi.CITY} (user id {xapi.CITY_ID}), "
        "but SOCIALBOT_X_USER_ID is 42: replies would go out from the wrong account"
    ) in out


@responses.activate
def test_offline_before_the_credentials_exist(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", engine.url.render_as_string(hide_password=False))

    code, out = invoke("doctor", "--offline")

    assert code == 0
    assert (
        "SKIP  credentials  intake: credentials not set yet; not checked with X (--offline)" in out
    )
    assert len(responses.calls) == 0


def test_settings_that_do_not_load_are_a_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOCIALBOT_POLL_SECONDS", "1")

    result = runner.invoke(app, ["doctor"])

    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        "FAIL  config       SOCIALBOT_POLL_SECONDS: Input should be greater than or equal to 5 "
        "(got '1')"
    )
    assert "Traceback" not in result.output


@pytest.mark.usefixtures("city")
def test_json_for_monitoring() -> None:
    code, out = invoke("doctor", "--offline", "--json")

    assert code == 0
    checks = json.loads(out)
    assert checks[0] == {
        "area": "config",
        "outcome": "ok",
        "detail": "settings are valid (from the environment and defaults)",
        "fix": None,
    }
    assert checks[-1]["outcome"] == "skip"


# --- a city on Mastodon -----------------------------------------------------------------------


@pytest.fixture
def mastodon_city(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A migrated database and the city's Mastodon account (the recorded server's), in the
    environment."""
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("SOCIALBOT_TIMEZONE", "America/New_York")
    monkeypatch.setenv("SOCIALBOT_MASTODON_API_BASE_URL", cassettes.BASE_URL)
    monkeypatch.setenv("SOCIALBOT_MASTODON_ACCESS_TOKEN", "mat-SECRET-7-mastodon")


def policy(index: int) -> cassettes.Interaction:
    """The recorded policy answers (as set up, filtering strangers, accepting all), as a GET."""
    return dataclasses.replace(cassettes.load("test_notifications_policy")[index], method="GET")


VERIFY = cassettes.find("test_status_reply", "GET", "/api/v1/accounts/verify_credentials")
INSTANCE = cassettes.find("test_instance", "GET", "/api/v2/instance/")


@responses.activate
@pytest.mark.usefixtures("mastodon_city")
def test_a_policy_filtering_strangers_warns_and_exits_0() -> None:
    cassettes.serve(VERIFY, INSTANCE, policy(1))

    code, out = invoke("doctor")

    assert code == 0
    assert columns(out)[-3:] == [("OK", "credentials"), ("OK", "instance"), ("WARN", "policy")]
    assert (
        "OK    credentials  mastodon/intake: @admin@localhost:3000 (account id "
        f"{VERIFY.json()['id']}) on {cassettes.BASE_URL}\n"
    ) in out
    assert "WARN  policy       mastodon/intake: the account's notification policy filters " in out
    assert out.endswith("No problems, 1 warning(s): read the WARN lines.\n")


@responses.activate
@pytest.mark.usefixtures("mastodon_city")
def test_warnings_are_counted_beside_the_problems(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALBOT_MASTODON_MAX_CHARACTERS", "1000")
    cassettes.serve(VERIFY, INSTANCE, policy(1))

    code, out = invoke("doctor", "--json")

    assert code == 1
    assert [(c["outcome"], c["area"]) for c in json.loads(out)][-4:] == [
        ("ok", "credentials"),
        ("ok", "instance"),
        ("fail", "instance"),
        ("warn", "policy"),
    ]
    code, out = invoke("doctor")
    assert out.endswith("1 problem(s) to fix, 1 warning(s); run `socialbot doctor` again after.\n")


@pytest.mark.usefixtures("mastodon_city")
def test_offline_notes_the_mastodon_credentials() -> None:
    code, out = invoke("doctor", "--offline")

    assert code == 0
    assert (
        "SKIP  credentials  mastodon/intake: credentials set; not checked with Mastodon "
        "(--offline)\n"
    ) in out


def test_a_fresh_install_passes_doctor_saying_what_creates_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As install.sh leaves it: settings in UTC, no database yet. Neither is a failure; each line
    says what to do."""
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'socialbot.db'}")
    monkeypatch.delenv("SOCIALBOT_TIMEZONE", raising=False)

    code, out = invoke("doctor", "--offline")

    assert code == 0, out
    assert columns(out)[:2] == [("OK", "config"), ("WARN", "time zone")]
    assert (
        f"WARN  database     sqlite:///{tmp_path / 'socialbot.db'}: no database yet (the file "
        "does not exist; doctor creates nothing) → run `socialbot db upgrade` to create it"
    ) in out
    assert "→ set SOCIALBOT_TIMEZONE=America/New_York (the city's IANA zone)\n" in out
    assert out.endswith("No problems, 2 warning(s): read the WARN lines.\n")
    assert not (tmp_path / "socialbot.db").exists()
