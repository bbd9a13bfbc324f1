"""`socialbot doctor` for a city on Mastodon: one `verify_credentials` an account, the instance's
limits and the intake account's notification policy, each answered by the recordings of a live
server (../shared/fixtures/mastodon/) in their real wire format."""

from __future__ import annotations

import dataclasses
import json

import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from socialbot.config import Settings, load_settings
from socialbot.doctor import Check, Outcome, check_credentials, failed, run_checks, warnings
from socialbot.store.db import transaction
from socialbot.store.models import Account
from tests import xapi
from tests.networks.mastodon import cassettes

BASE = cassettes.BASE_URL
TOKEN = "mat-SECRET-7-mastodon"
X_SECRETS = {
    "x_consumer_key": "ck-SECRET-1",
    "x_consumer_secret": "cs-SECRET-2",
    "x_access_token": "at-SECRET-3",
    "x_access_token_secret": "ats-SECRET-4",
}
VERIFY = cassettes.find("test_status_reply", "GET", "/api/v1/accounts/verify_credentials")
ADMIN_ID = VERIFY.json()["id"]  # the recorded server's @admin
INSTANCE = cassettes.find("test_instance", "GET", "/api/v2/instance/")
DEFAULT_POLICY, FILTERING_POLICY, ACCEPTING_POLICY = (
    # As set up, then with for_not_following=filter, then with every rule set to accept: the
    # answers of PATCH, served as the GET that reads them.
    dataclasses.replace(answer, method="GET")
    for answer in cassettes.load("test_notifications_policy")
)
POLICY_URL = f"{BASE}/api/v2/notifications/policy"

CITY_ZONE = "America/New_York"


def on_mastodon(engine: Engine, **more: object) -> Settings:
    return load_settings(
        None,
        database_url=engine.url.render_as_string(hide_password=False),
        mastodon_api_base_url=BASE,
        mastodon_access_token=TOKEN,
        **({"timezone": CITY_ZONE} | more),  # a city's: the UTC default is a warning of its own
    )


def doctor(settings: Settings, *, offline: bool = False) -> list[Check]:
    return run_checks(lambda: settings, offline=offline)


def lines(checks: list[Check], *areas: str) -> list[str]:
    return [
        f"{c.outcome.name} {c.area}: {c.detail}" + (f" → {c.fix}" if c.fix else "")
        for c in checks
        if c.area in areas
    ]


def with_instance(**changes: object) -> cassettes.Interaction:
    """The recorded instance document with some of its top-level fields changed."""
    document = INSTANCE.json() | changes
    return dataclasses.replace(INSTANCE, body=json.dumps(document))


ADMIN = f"@admin@localhost:3000 (account id {ADMIN_ID}) on {BASE}"
LIMITS = (
    "mastodon/intake: localhost:3000, Mastodon 4.6.4: posts of up to 500 characters, photos of "
    "up to 16 MB, 4 a post"
)


@responses.activate
def test_a_city_on_mastodon_alone_is_checked_account_instance_and_policy(engine: Engine) -> None:
    cassettes.serve(VERIFY, INSTANCE, ACCEPTING_POLICY)

    checks = doctor(on_mastodon(engine))

    assert failed(checks) == [] and warnings(checks) == []
    assert lines(checks, "credentials", "field names", "instance", "policy") == [
        f"OK credentials: mastodon/intake: {ADMIN}",
        f"OK instance: {LIMITS}",
        "OK policy: mastodon/intake: the notification policy lets every resident's mention through",
    ]
    assert [c.request.path_url for c in responses.calls] == [
        "/api/v1/accounts/verify_credentials",
        "/api/v2/instance/",
        "/api/v2/notifications/policy",
    ]


@responses.activate
def test_a_city_on_x_and_mastodon_names_each_lines_network(engine: Engine) -> None:
    responses.get(xapi.ME_URL, json=xapi.me())
    responses.get(xapi.MENTIONS_URL, json=xapi.page([]))
    cassettes.serve(VERIFY, INSTANCE, ACCEPTING_POLICY)

    checks = doctor(on_mastodon(engine, **X_SECRETS))

    assert [(c.outcome, c.area, c.detail.split(":")[0]) for c in checks[-5:]] == [
        (Outcome.OK, "credentials", "x/intake"),
        (Outcome.OK, "field names", "SOCIALBOT_X_FIELD_NAMES=tweet"),
        (Outcome.OK, "credentials", "mastodon/intake"),
        (Outcome.OK, "instance", "mastodon/intake"),
        (Outcome.OK, "policy", "mastodon/intake"),
    ]
    assert checks[-5].detail == f"x/intake: @{xapi.CITY} (user id {xapi.CITY_ID})"


@responses.activate
def test_a_notify_account_on_mastodon_beside_x_is_asked_who_it_is(engine: Engine) -> None:
    responses.get(xapi.ME_URL, json=xapi.me())
    responses.get(xapi.MENTIONS_URL, json=xapi.page([]))
    cassettes.serve(VERIFY)
    settings = load_settings(
        None,
        database_url=engine.url.render_as_string(hide_password=False),
        mastodon_api_base_url=BASE,  # the notify account's instance, the intake's being on X
        accounts={"notify": {"network": "mastodon", "mastodon_access_token": "nmat-SECRET-8"}},
        **X_SECRETS,
    )

    checks = doctor(settings)

    # Only an intake account reads mentions: no instance or policy lines for notify.
    assert lines(checks, "credentials", "instance", "policy") == [
        f"OK credentials: x/intake: @{xapi.CITY} (user id {xapi.CITY_ID})",
        f"OK credentials: mastodon/notify: {ADMIN}",
    ]
    assert responses.calls[-1].request.headers["Authorization"] == "Bearer nmat-SECRET-8"


@responses.activate
def test_a_policy_that_filters_strangers_is_a_warning_not_a_failure(engine: Engine) -> None:
    cassettes.serve(VERIFY, INSTANCE, FILTERING_POLICY)

    checks = doctor(on_mastodon(engine))

    assert failed(checks) == []
    (warning,) = warnings(checks)
    assert warning.area == "policy"
    assert warning.detail.startswith(
        "mastodon/intake: the account's notification policy filters mentions from people the "
        "account does not follow, unsolicited private mentions: those residents' reports never "
        "arrive."
    )
    assert f"({BASE}/notifications)" in warning.detail


@responses.activate
def test_mastodons_default_policy_warns_of_private_mentions(engine: Engine) -> None:
    cassettes.serve(VERIFY, INSTANCE, DEFAULT_POLICY)

    (warning,) = warnings(doctor(on_mastodon(engine)))

    assert "filters mentions from unsolicited private mentions" in warning.detail


@responses.activate
def test_an_instance_older_than_the_policy_is_skipped_saying_so(engine: Engine) -> None:
    cassettes.serve(VERIFY, with_instance(version="4.2.10"))
    responses.get(POLICY_URL, status=404, json={"error": "Record not found"})

    checks = doctor(on_mastodon(engine))

    assert failed(checks) == [] and warnings(checks) == []
    assert lines(checks, "policy") == [
        "SKIP policy: mastodon/intake: not checked: Mastodon 4.2.10 has no notification policy "
        "(Mastodon refused the request (404): Record not found); Mastodon 4.3 added it → make "
        "sure the account's notification settings do not block notifications from people it "
        "does not follow"
    ]


@responses.activate
def test_a_refused_token_names_its_setting_and_the_scopes_it_needs(engine: Engine) -> None:
    responses.get(
        f"{BASE}/api/v1/accounts/verify_credentials",
        status=401,
        json={"error": "The access token is invalid"},
    )

    checks = doctor(on_mastodon(engine))

    (check,) = failed(checks)
    assert (check.area, check.detail) == (
        "credentials",
        "mastodon/intake: Mastodon refused the access token (401): The access token is invalid; "
        "check SOCIALBOT_MASTODON_ACCESS_TOKEN and the token's scopes (read, write)",
    )
    assert check.fix is not None
    assert check.fix.startswith(
        f"check SOCIALBOT_MASTODON_ACCESS_TOKEN: make a new access token on {BASE}"
    )
    assert "the scopes read and write" in check.fix
    assert [c for c in checks if c.area in ("instance", "policy")] == []  # not asked
    assert TOKEN not in "\n".join(lines(checks, *(c.area for c in checks)))


@responses.activate
def test_a_token_of_another_account_than_the_configured_id_fails(engine: Engine) -> None:
    cassettes.serve(VERIFY)

    checks = doctor(on_mastodon(engine, mastodon_user_id="42"))

    assert lines(checks, "credentials") == [
        f"FAIL credentials: mastodon/intake: the access token is @admin@localhost:3000 (account "
        f"id {ADMIN_ID}), but SOCIALBOT_MASTODON_USER_ID is 42: replies would go out from the "
        "wrong account → use the access token of account 42, or set "
        f"SOCIALBOT_MASTODON_USER_ID={ADMIN_ID}"
    ]


@responses.activate
def test_a_token_of_another_account_than_the_database_knows_fails(engine: Engine) -> None:
    with transaction(engine) as session:
        session.add(Account(platform="mastodon", name="intake", user_id="109000000000000001"))
        session.add(Account(platform="x", name="intake", user_id=ADMIN_ID))  # not Mastodon's
    cassettes.serve(VERIFY)

    (check,) = failed(doctor(on_mastodon(engine)))

    assert "the database knows this account as account id 109000000000000001" in check.detail
    assert check.fix is not None and f"set SOCIALBOT_MASTODON_USER_ID={ADMIN_ID}" in check.fix


@responses.activate
def test_a_longer_max_characters_than_the_instance_takes_fails(engine: Engine) -> None:
    cassettes.serve(VERIFY, INSTANCE, ACCEPTING_POLICY)

    checks = doctor(on_mastodon(engine, mastodon_max_characters=1000))

    assert lines(checks, "instance") == [
        f"OK instance: {LIMITS}",
        "FAIL instance: mastodon/intake: SOCIALBOT_MASTODON_MAX_CHARACTERS is 1000, but "
        "localhost:3000 takes 500 characters a post: replies measured against 1000 would be "
        "refused → unset SOCIALBOT_MASTODON_MAX_CHARACTERS (the instance says its own), or set "
        "it to 500 or less",
    ]


@responses.activate
def test_an_unreachable_instance_says_to_retry(engine: Engine) -> None:
    responses.get(
        f"{BASE}/api/v1/accounts/verify_credentials", status=503, body="<html>Bad gateway</html>"
    )

    (check,) = failed(doctor(on_mastodon(engine)))

    assert check.detail.startswith(f"mastodon/intake: {BASE} could not be reached: Mastodon ")
    assert check.fix == "run it again in a few minutes"


@responses.activate
def test_offline_notes_each_channel_and_calls_nobody(engine: Engine) -> None:
    settings = on_mastodon(
        engine,
        accounts={"notify": {"network": "mastodon", "mastodon_access_token": "nmat-SECRET-8"}},
        **X_SECRETS,
    )
    half = load_settings(
        None,
        database_url=engine.url.render_as_string(hide_password=False),
        mastodon_api_base_url=BASE,  # no token yet
    )

    assert lines(doctor(settings, offline=True), "credentials") == [
        "SKIP credentials: x/intake: credentials set; not checked with X (--offline)",
        "SKIP credentials: mastodon/intake: credentials set; not checked with Mastodon (--offline)",
        "SKIP credentials: mastodon/notify: credentials set; not checked with Mastodon (--offline)",
    ]
    assert lines(doctor(half, offline=True), "credentials") == [
        "SKIP credentials: mastodon/intake: credentials not set yet; not checked with Mastodon "
        "(--offline)"
    ]
    assert len(responses.calls) == 0


def test_a_half_set_mastodon_fails_naming_what_it_lacks(engine: Engine) -> None:
    settings = load_settings(
        None,
        database_url=engine.url.render_as_string(hide_password=False),
        mastodon_api_base_url=BASE,
    )

    (check,) = [c for c in doctor(settings) if c.area == "credentials"]

    assert check.outcome is Outcome.FAIL
    assert check.detail.startswith("mastodon/intake: SOCIALBOT_MASTODON_ACCESS_TOKEN: not set")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    acct=st.text(max_size=40),
    version=st.one_of(st.none(), st.text(max_size=80), st.integers()),
    rules=st.dictionaries(
        st.sampled_from(
            ["for_not_following", "for_not_followers", "for_new_accounts", "for_private_mentions"]
        ),
        st.one_of(st.sampled_from(["accept", "filter", "drop"]), st.text(max_size=8), st.none()),
    ),
)
def test_whatever_the_instance_answers_doctor_says_it_in_lines(
    engine: Engine, acct: str, version: object, rules: dict[str, object]
) -> None:
    """A server's answers are outside data: whatever account name, version or policy it sends,
    doctor says it in its three lines (the policy OK or WARN as it filters), never an
    exception."""
    account = VERIFY.json() | {"acct": acct}
    with responses.RequestsMock() as mock:
        mock.get(f"{BASE}/api/v1/accounts/verify_credentials", json=account)
        mock.get(f"{BASE}/api/v2/instance/", json=INSTANCE.json() | {"version": version})
        mock.get(POLICY_URL, json=rules)

        checks = check_credentials(on_mastodon(engine))

    assert [c.area for c in checks] == ["credentials", "instance", "policy"]
    assert checks[0].outcome is Outcome.OK and checks[1].outcome is Outcome.OK
    filtering = {"filter", "drop"} & set(rules.values())
    assert checks[2].outcome is (Outcome.WARN if filtering else Outcome.OK)
