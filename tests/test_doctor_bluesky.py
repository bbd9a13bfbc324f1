"""`socialbot doctor` for a city on Bluesky: one `getSession` an account on the session the
database keeps (no sign-in spent when it works), whom it acts as against the configured handle
and DID, the real adapter over the PDS in memory (tests/networks/bluesky/server.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from socialbot import logs
from socialbot.app import network_for
from socialbot.config import Settings, load_settings
from socialbot.doctor import Check, Outcome, check_credentials, failed, run_checks, warnings
from socialbot.errors import AuthFailed
from socialbot.logs import add_secrets
from socialbot.network_settings import Channel
from socialbot.networks.bluesky.adapter import SessionCheck
from socialbot.store.db import transaction
from socialbot.store.models import Account
from socialbot.store.sessions import DatabaseSessions
from tests.networks.bluesky.server import (
    APP_PASSWORD,
    CITY_DID,
    CITY_HANDLE,
    PDS_HOST,
    BlueskyServer,
)

SERVICE = "https://bsky.social"
WHO = f"@{CITY_HANDLE} ({CITY_DID}) at {SERVICE}"
INTAKE = Channel("bluesky", "intake")

CITY_ZONE = "America/New_York"


def utc_now() -> datetime:
    # The adapter doctor builds runs on the real clock: so does the PDS it talks to.
    return datetime.now(UTC)


@pytest.fixture
def pds() -> Iterator[BlueskyServer]:
    server = BlueskyServer(reset=utc_now() + timedelta(minutes=5), clock=utc_now)
    with respx.mock(assert_all_called=False) as router:
        server.serve(router)
        yield server


def on_bluesky(engine: Engine, **more: object) -> Settings:
    values: dict[str, object] = {
        "timezone": CITY_ZONE,  # a city's: the UTC default is a warning of its own
        "bluesky_handle": CITY_HANDLE,
        "bluesky_app_password": APP_PASSWORD,
    } | more
    return load_settings(
        None, database_url=engine.url.render_as_string(hide_password=False), **values
    )


def doctor(settings: Settings, *, offline: bool = False) -> list[Check]:
    return run_checks(lambda: settings, offline=offline)


def lines(checks: list[Check], *areas: str) -> list[str]:
    return [
        f"{c.outcome.name} {c.area}: {c.detail}" + (f" → {c.fix}" if c.fix else "")
        for c in checks
        if c.area in areas
    ]


def the_service_signs_in(settings: Settings, engine: Engine, channel: Channel = INTAKE) -> None:
    """What `socialbot run` does first: its adapter, on the database's sessions, signs in."""
    assert network_for(settings, channel, engine=engine).own_user_id() == CITY_DID


def test_a_working_saved_session_is_checked_without_a_sign_in(
    pds: BlueskyServer, engine: Engine
) -> None:
    settings = on_bluesky(engine)
    the_service_signs_in(settings, engine)
    saved = DatabaseSessions(engine, "bluesky", "intake").load()
    assert pds.sessions_created == 1 and saved is not None
    pds.calls.clear()

    checks = doctor(settings)

    assert failed(checks) == [] and warnings(checks) == []
    assert lines(checks, "credentials") == [
        f"OK credentials: bluesky/intake: {WHO}: the saved session works (no sign-in spent)"
    ]
    assert pds.calls == [f"{PDS_HOST} com.atproto.server.getSession"]
    assert pds.sessions_created == 1
    assert DatabaseSessions(engine, "bluesky", "intake").load() == saved  # nothing written


def test_with_no_saved_session_doctor_signs_in_once_and_saves_it_for_the_service(
    pds: BlueskyServer, engine: Engine
) -> None:
    settings = on_bluesky(engine)

    first = lines(doctor(settings), "credentials")
    second = lines(doctor(settings), "credentials")

    assert first == [
        f"OK credentials: bluesky/intake: {WHO}: signed in with the app password (no saved "
        "session worked; Bluesky allows about 100 sign-ins a day) and saved the session"
    ]
    assert second == [
        f"OK credentials: bluesky/intake: {WHO}: the saved session works (no sign-in spent)"
    ]
    assert pds.sessions_created == 1
    the_service_signs_in(settings, engine)  # the service takes up doctor's session
    assert pds.sessions_created == 1


def test_an_expired_session_is_refreshed_and_saved_again(
    pds: BlueskyServer, engine: Engine
) -> None:
    settings = on_bluesky(engine)
    the_service_signs_in(settings, engine)
    before = DatabaseSessions(engine, "bluesky", "intake").load()
    for token in pds.access:  # the PDS no longer takes the access token the service saved
        pds.access[token] = utc_now() - timedelta(seconds=1)

    checks = doctor(settings)

    assert lines(checks, "credentials") == [
        f"OK credentials: bluesky/intake: {WHO}: the saved session was refreshed and saved "
        "again (no sign-in spent)"
    ]
    assert (pds.sessions_created, pds.refreshes) == (1, 1)
    after = DatabaseSessions(engine, "bluesky", "intake").load()
    assert before is not None and after is not None
    # The refresh retired the service's refresh token: the new one is in the database.
    assert after.secret != before.secret and after.refreshed_at > before.refreshed_at
    the_service_signs_in(settings, engine)
    assert pds.sessions_created == 1


def test_a_refused_app_password_names_its_setting_and_never_shows_it(
    pds: BlueskyServer, engine: Engine
) -> None:
    settings = on_bluesky(engine, bluesky_app_password="wxyz-wxyz-wxyz-wxyz")

    checks = doctor(settings)

    (check,) = failed(checks)
    assert check.area == "credentials"
    assert check.detail.startswith(f"bluesky/intake: Bluesky refused to sign in as {CITY_HANDLE}: ")
    assert check.fix == (
        "check SOCIALBOT_BLUESKY_HANDLE and SOCIALBOT_BLUESKY_APP_PASSWORD: an app password of "
        "that account (Settings → Privacy and security → App passwords; make a new one if it "
        "was revoked)"
    )
    assert "wxyz-wxyz" not in json.dumps([c.detail + (c.fix or "") for c in checks])
    assert DatabaseSessions(engine, "bluesky", "intake").load() is None


def test_a_session_of_a_handle_renamed_since_fails_naming_the_new_one(engine: Engine) -> None:
    server = BlueskyServer(reset=utc_now() + timedelta(minutes=5), clock=utc_now)
    real_get_session = server._get_session

    def renamed(request: httpx.Request) -> httpx.Response:
        answer = real_get_session(request)
        return httpx.Response(answer.status_code, json=answer.json() | {"handle": "311.City.gov"})

    server._get_session = renamed  # type: ignore[method-assign,assignment]
    with respx.mock(assert_all_called=False) as router:
        server.serve(router)
        (check,) = failed(doctor(on_bluesky(engine)))

    assert check.detail == (
        f"bluesky/intake: the session acts as @311.City.gov ({CITY_DID}), but "
        f"SOCIALBOT_BLUESKY_HANDLE is {CITY_HANDLE}: the next sign-in, as {CITY_HANDLE}, would "
        "fail or be another account's"
    )
    assert check.fix == (
        "if the account's handle changed, set SOCIALBOT_BLUESKY_HANDLE=311.city.gov; else set "
        f"the handle and app password of {CITY_HANDLE}"
    )


def test_a_saved_session_of_the_account_the_city_used_before_is_not_acted_with(
    pds: BlueskyServer, engine: Engine
) -> None:
    the_service_signs_in(on_bluesky(engine), engine)
    # The city moved to another account: the adapter signs in as it, not with the old session.
    settings = on_bluesky(engine, bluesky_handle="@Alerts.City.gov")

    (check,) = failed(doctor(settings))

    assert check.detail.startswith(
        "bluesky/intake: Bluesky refused to sign in as alerts.city.gov: "
    )
    assert pds.sessions_created == 1  # the old account's session served nothing


def test_a_did_unlike_the_configured_or_remembered_one_fails(
    pds: BlueskyServer, engine: Engine
) -> None:
    other = "did:plc:0ther0ther0ther0ther0the"
    (check,) = failed(doctor(on_bluesky(engine, bluesky_user_id=other)))
    assert check.detail == (
        f"bluesky/intake: the session acts as @{CITY_HANDLE} ({CITY_DID}), but "
        f"SOCIALBOT_BLUESKY_USER_ID is {other}: replies would go out from the wrong account"
    )
    assert check.fix == (
        f"use the handle and app password of {other}, or set SOCIALBOT_BLUESKY_USER_ID={CITY_DID}"
    )
    assert failed(doctor(on_bluesky(engine, bluesky_user_id=CITY_DID))) == []

    with transaction(engine) as session:  # the first poll remembered another account
        session.add(Account(platform="bluesky", name="intake", user_id=other))
    (check,) = failed(doctor(on_bluesky(engine)))
    assert check.detail.startswith(
        f"bluesky/intake: the session acts as @{CITY_HANDLE} ({CITY_DID}), but the database "
        f"knows this account as {other}: mentions would be read for one account and answered "
        "from another"
    )


def test_a_sign_in_bluesky_rate_limits_says_when_to_run_it_again(
    pds: BlueskyServer, engine: Engine
) -> None:
    pds.session_failures.append("limited")

    (check,) = failed(doctor(on_bluesky(engine)))

    assert check.detail.startswith("bluesky/intake: Bluesky could not be checked: ")
    assert check.fix == f"run it again after {pds.reset:%Y-%m-%d %H:%M} UTC"


def test_a_pds_that_cannot_be_reached_is_one_line(engine: Engine) -> None:
    with respx.mock() as router:
        router.route(host="pds.city.gov").mock(side_effect=httpx.ConnectError("refused"))
        checks = doctor(on_bluesky(engine, bluesky_service="https://pds.city.gov"))

    (check,) = failed(checks)
    assert check.detail.startswith("bluesky/intake: https://pds.city.gov could not be reached: ")
    assert check.fix == "run it again in a few minutes"


def test_the_accounts_own_password_is_a_warning(pds: BlueskyServer, engine: Engine) -> None:
    pds.password = "correct horse battery staple"
    checks = doctor(on_bluesky(engine, bluesky_app_password=pds.password))

    assert failed(checks) == []
    (warning,) = warnings(checks)
    assert warning.detail == (
        "bluesky/intake: SOCIALBOT_BLUESKY_APP_PASSWORD does not look like an app password "
        "(xxxx-xxxx-xxxx-xxxx): if it is the account's own password, socialbot can do anything "
        "the account can, and revoking it locks you out too"
    )
    assert "horse" not in warning.detail + (warning.fix or "")


def test_bluesky_beside_x_and_a_notify_account_there(
    pds: BlueskyServer, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    x_only = {
        "x_consumer_key": "ck-SECRET-1",
        "x_consumer_secret": "cs-SECRET-2",
        "x_access_token": "at-SECRET-3",
        "x_access_token_secret": "ats-SECRET-4",
    }
    # The PDS in memory has one account: the notify account signs in as it too.
    notify = {"network": "bluesky", "bluesky_handle": CITY_HANDLE}
    notify["bluesky_app_password"] = APP_PASSWORD
    settings = on_bluesky(engine, accounts={"notify": notify}, **x_only)

    checks = doctor(settings, offline=True)

    assert lines(checks, "credentials") == [
        "SKIP credentials: x/intake: credentials set; not checked with X (--offline)",
        "SKIP credentials: bluesky/intake: credentials set; not checked with Bluesky (--offline)",
        "SKIP credentials: bluesky/notify: credentials set; not checked with Bluesky (--offline)",
    ]
    assert pds.calls == []

    bluesky_only = on_bluesky(engine, accounts={"notify": notify})
    checks = doctor(bluesky_only)
    assert [c.detail.split(":")[0] for c in checks if c.area == "credentials"] == [
        "bluesky/intake",
        "bluesky/notify",
    ]
    assert failed(checks) == []
    # Each account has its own saved session.
    assert DatabaseSessions(engine, "bluesky", "notify").load() is not None
    assert pds.sessions_created == 2


def test_a_half_set_bluesky_fails_naming_what_it_lacks(engine: Engine) -> None:
    settings = load_settings(
        None,
        database_url=engine.url.render_as_string(hide_password=False),
        bluesky_handle=CITY_HANDLE,
    )
    offline = lines(doctor(settings, offline=True), "credentials")
    assert offline == [
        "SKIP credentials: bluesky/intake: credentials not set yet; not checked with Bluesky "
        "(--offline)"
    ]

    (check,) = [c for c in doctor(settings) if c.area == "credentials"]

    assert check.outcome is Outcome.FAIL
    assert check.detail.startswith(
        "bluesky/intake: SOCIALBOT_BLUESKY_APP_PASSWORD: not set; Bluesky credentials"
    )


def test_a_pds_set_for_the_named_accounts_alone_is_no_half_set_intake(engine: Engine) -> None:
    notify = {"network": "bluesky", "bluesky_handle": CITY_HANDLE}
    notify["bluesky_app_password"] = APP_PASSWORD
    settings = load_settings(
        None,
        database_url=engine.url.render_as_string(hide_password=False),
        bluesky_service="https://pds.city.gov",
        accounts={"notify": notify},
        x_consumer_key="ck-SECRET-1",
        x_consumer_secret="cs-SECRET-2",
        x_access_token="at-SECRET-3",
        x_access_token_secret="ats-SECRET-4",
    )
    assert [c.detail.split(":")[0] for c in doctor(settings, offline=True)[-2:]] == [
        "x/intake",
        "bluesky/notify",
    ]


SESSION_ANSWERS = st.one_of(
    st.dictionaries(
        st.sampled_from(["did", "handle", "active", "didDoc", "error", "message"]),
        st.one_of(
            st.text(max_size=40),
            st.sampled_from([CITY_DID, CITY_HANDLE, "did:plc:x", "InvalidToken", "ExpiredToken"]),
            st.integers(),
            st.none(),
            st.lists(st.text(max_size=5), max_size=2),
        ),
    ),
    st.lists(st.integers(), max_size=3),
    st.text(max_size=20),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    status=st.sampled_from([200, 200, 200, 400, 401, 403, 404, 429, 500, 502]),
    answer=SESSION_ANSWERS,
    raw=st.booleans(),
)
# Found by this test: an XRPC error whose `error` is a list was compared as a str.
@example(status=400, answer={"did": None, "error": []}, raw=False)
def test_whatever_the_pds_answers_getsession_doctor_says_it_in_one_line(
    engine: Engine, status: int, answer: object, raw: bool
) -> None:
    """getSession's answer is outside data: whatever it is, doctor says it in one line (OK, or a
    FAIL naming what to do), never an exception and never a secret."""
    server = BlueskyServer(reset=utc_now() + timedelta(minutes=5), clock=utc_now)
    body = b"\xff not json" if raw else json.dumps(answer).encode()

    def get_session(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, content=body, headers={"Content-Type": "application/json"})

    server._get_session = get_session  # type: ignore[method-assign,assignment]
    settings = on_bluesky(engine)
    with respx.mock(assert_all_called=False) as router:
        server.serve(router)
        checks = check_credentials(
            settings,
            network_for=lambda s, channel: network_for(s, channel, engine=engine),
        )

    assert [c.area for c in checks] == ["credentials"]
    (check,) = checks
    assert "\n" not in check.detail and "the check itself failed" not in check.detail
    assert APP_PASSWORD not in check.detail + (check.fix or "")
    found_city = (
        status == 200 and not raw and isinstance(answer, dict) and answer.get("did") == CITY_DID
    )
    if check.outcome is Outcome.OK:
        assert found_city
        assert check.detail.startswith("bluesky/intake: ")
    else:
        assert check.outcome is Outcome.FAIL and check.fix


def test_a_short_app_password_fails_the_secrets_check(engine: Engine) -> None:
    checks = doctor(on_bluesky(engine, bluesky_app_password="abc"), offline=True)
    assert lines(checks, "secrets")[0].startswith(
        "FAIL secrets: SOCIALBOT_BLUESKY_APP_PASSWORD is shorter than 6 characters"
    )


class QuotesItsToken:
    """An adapter that, as a real one does, tells the logs of the token it got, and then fails
    with a server's message quoting that token in full."""

    name = "bluesky"
    token = "eyJ0eXAiOiJhdCtqd3QifQ.eyJzdWIiOiJkaWQ6cGxjOmNpdHkifQ.c2lnbmF0dXJlLXNlY3JldA"

    def check_session(self) -> SessionCheck:
        add_secrets([self.token])
        raise AuthFailed(f"Bluesky refused the account (403): token {self.token} may not post")


def test_a_token_a_server_quotes_back_is_masked_in_doctors_lines(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logs, "_learned", ())
    adapter = QuotesItsToken()

    def build(_settings: Settings, _channel: Channel) -> Any:
        return adapter

    checks = run_checks(lambda: on_bluesky(engine), network_for=build)

    (check,) = failed(checks)
    assert check.detail == (
        "bluesky/intake: Bluesky refused the account (403): token **** may not post"
    )
