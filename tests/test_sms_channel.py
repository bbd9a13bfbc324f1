"""SMS as a running channel: Twilio's three settings make it one of `Settings.channels`, `run`
polls and sends it, a text recorded by the webhook gets its answer as one POST Messages.json to
the number, `moderation block` takes a number, and `doctor` asks Twilio once."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import responses
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from socialbot import moderation
from socialbot.app import NETWORKS, build_service, handle_rules
from socialbot.config import INTAKE_ACCOUNT, load_settings
from socialbot.doctor import Outcome, run_checks
from socialbot.errors import ConfigError, DataError, HandleError
from socialbot.lifecycle import Action
from socialbot.network_settings import Channel
from socialbot.networks.sms.adapter import SmsNetwork
from socialbot.networks.sms.wire import parse_account
from socialbot.outbox import send_once
from socialbot.poller import poll_once
from socialbot.scheduler import LOCAL_POLL_SECONDS, build_scheduler
from socialbot.staff import Request
from socialbot.store.models import MentionRecord, OutboxMessage, OutboxState
from tests.cli.run import invoke
from tests.conftest import Clock
from tests.networks.sms import server
from tests.sms_city import SimulatedSleep, deliver, sms_settings

MAP_LINK = "https://maps.google.com/?q=42.3601,-71.0589"
ACCOUNT_URL = f"https://api.twilio.com/2010-04-01/Accounts/{server.ACCOUNT_SID}.json"


@pytest.fixture
def twilio(clock: Clock) -> Iterator[server.TwilioServer]:
    made = server.TwilioServer(clock=clock)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        made.serve(mock)
        yield made


def test_twilios_three_settings_make_sms_a_channel(database_url: str) -> None:
    settings = sms_settings(database_url)
    assert Channel("sms", INTAKE_ACCOUNT) in settings.channels
    assert settings.networks == ("sms",)
    assert NETWORKS["sms"].user_id(settings, INTAKE_ACCOUNT) == server.CITY_NUMBER
    assert load_settings(database_url=database_url).channels == ()


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({"twilio_auth_token": server.AUTH_TOKEN}, "SOCIALBOT_TWILIO_ACCOUNT_SID, "),
        ({"twilio_account_sid": server.ACCOUNT_SID}, "SOCIALBOT_TWILIO_AUTH_TOKEN, "),
        (
            {"twilio_account_sid": server.ACCOUNT_SID, "twilio_auth_token": server.AUTH_TOKEN},
            "SOCIALBOT_TWILIO_FROM: not set",
        ),
    ],
)
def test_one_or_two_of_the_three_is_a_line_naming_what_is_missing(
    database_url: str, given: dict[str, str], missing: str
) -> None:
    settings = load_settings(
        database_url=database_url,
        mastodon_api_base_url="https://city.social",
        mastodon_access_token="t",
        **given,
    )
    assert Channel("sms", INTAKE_ACCOUNT) not in settings.channels
    with pytest.raises(ConfigError) as refused:
        build_service(settings)
    assert missing in str(refused.value) and "\n" not in str(refused.value)
    assert server.AUTH_TOKEN not in str(refused.value)


def test_sms_has_no_named_accounts(database_url: str) -> None:
    with pytest.raises(ConfigError, match="SMS has no named accounts"):
        sms_settings(database_url).twilio_credentials("notify")


def test_a_text_recorded_by_the_webhook_is_answered_by_one_text_to_its_number(
    database_url: str, clock: Clock, twilio: server.TwilioServer
) -> None:
    service = build_service(sms_settings(database_url), clock=clock, sleep=SimulatedSleep(clock))
    try:
        [network] = service.intake_networks
        assert isinstance(network, SmsNetwork)
        text = deliver(service.engine, 1, "#pothole", clock)
        poll_once(service.intake, clock)
        report = send_once(service.outbox, clock)
        assert report.sent == 1
        [form] = twilio.posted_forms
        assert form["To"] == [server.resident(1)] and form["From"] == [server.CITY_NUMBER]
        with Session(service.engine) as session:
            [mention] = session.exec(select(MentionRecord)).all()
            [row] = session.exec(select(OutboxMessage)).all()
        assert mention.post_id == text.message_sid
        # The one person it goes to, named on the row: what STOP is checked against.
        assert row.recipient == server.resident(1)
        assert row.state is OutboxState.SENT and row.posted_id == twilio.sent[0]["sid"]
        # A second poll and send: the text is no second mention, the reply no second POST.
        poll_once(service.intake, clock)
        send_once(service.outbox, clock)
        assert len(twilio.posted_forms) == 1
    finally:
        service.close()


def test_staff_news_of_a_case_goes_by_text_to_the_one_who_reported_it(
    database_url: str, clock: Clock, twilio: server.TwilioServer
) -> None:
    service = build_service(sms_settings(database_url), clock=clock, sleep=SimulatedSleep(clock))
    try:
        deliver(service.engine, 2, f"#pothole {MAP_LINK}", clock)
        poll_once(service.intake, clock)
        send_once(service.outbox, clock)
        service.staff.act(Request(1, Action.RESOLVE, "J. Rivera", note="filled"), clock())
        send_once(service.outbox, clock)
        filed, resolved = twilio.posted_forms
        assert filed["To"] == resolved["To"] == [server.resident(2)]
        assert "case #1" in resolved["Body"][0]
        with Session(service.engine) as session:
            rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        assert [(r.template, r.recipient) for r in rows] == [
            ("filed", server.resident(2)),
            ("resolved", server.resident(2)),
        ]
    finally:
        service.close()


def test_run_polls_and_sends_sms_its_poll_at_least_every_few_seconds(
    database_url: str, clock: Clock
) -> None:
    service = build_service(
        sms_settings(database_url, poll_seconds=60), clock=clock, sleep=SimulatedSleep(clock)
    )
    try:
        scheduler = build_scheduler(service)
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert {"poll:sms", "send:sms", "broadcasts"} <= set(jobs)
        # A poll of SMS reads our own table: no call, no bill; a resident waits on their phone.
        assert jobs["poll:sms"].trigger.interval.total_seconds() == LOCAL_POLL_SECONDS
        assert Channel("sms", INTAKE_ACCOUNT) in service.pacers
        assert service.outbox_for(INTAKE_ACCOUNT, "sms").pacer is not None
    finally:
        service.close()


def test_the_shutdown_tells_a_paced_send_to_stop(database_url: str, clock: Clock) -> None:
    service = build_service(sms_settings(database_url), clock=clock)
    try:
        scheduler = build_scheduler(service)
        scheduler.start(paused=True)
        assert not service.stopping.is_set()
        scheduler.shutdown(wait=True)
        assert service.stopping.is_set()
    finally:
        service.close()


def test_a_number_is_a_handle_staff_can_block(database_url: str, clock: Clock) -> None:
    settings = sms_settings(database_url)
    rules = handle_rules(settings)
    assert rules["sms"](" +16175552001 ") == "+16175552001"
    with pytest.raises(HandleError, match=r"not a phone number in E\.164"):
        rules["sms"]("617-555-2001")
    account = moderation.account_of("+16175552001", rules, settings.networks)
    assert account == moderation.Account("sms", "+16175552001")
    # No other network's rule takes a number: the handle alone names SMS.
    with pytest.raises(HandleError):
        rules["x"]("+16175552001")


def test_a_blocked_number_opens_nothing_and_hears_nothing(
    database_url: str, clock: Clock, twilio: server.TwilioServer
) -> None:
    service = build_service(sms_settings(database_url), clock=clock, sleep=SimulatedSleep(clock))
    try:
        rules = handle_rules(service.settings)
        blocked = moderation.account_of(server.resident(1), rules, ("sms",))
        moderation.block(service.engine, blocked, by="J. Rivera", reason="abuse", now=clock())
        deliver(service.engine, 1, "#pothole at 1 City Hall Sq", clock)
        deliver(service.engine, 2, "#pothole", clock)
        poll_once(service.intake, clock)
        send_once(service.outbox, clock)
        assert [form["To"] for form in twilio.posted_forms] == [[server.resident(2)]]
    finally:
        service.close()


def _account(status: str, name: str = "City of Demo 311") -> str:
    return json.dumps(
        {
            "sid": server.ACCOUNT_SID,
            "friendly_name": name,
            "status": status,
            "type": "Full",
            "auth_token": "redacted",
            "date_created": "Thu, 30 Jul 2015 20:00:00 +0000",
        }
    )


def _credentials(database_url: str, answer: tuple[int, str]) -> list[tuple[Outcome, str]]:
    with responses.RequestsMock() as mock:
        mock.add("GET", ACCOUNT_URL, status=answer[0], body=answer[1])
        checks = run_checks(lambda: sms_settings(database_url))
        assert len(mock.calls) == 1  # one call to Twilio, and no text sent
    return [(c.outcome, c.detail) for c in checks if c.area == "credentials"]


def test_doctor_checks_the_twilio_account_with_one_call(database_url: str) -> None:
    [(outcome, detail)] = _credentials(database_url, (200, _account("active")))
    assert outcome is Outcome.OK
    assert detail == (
        f"sms/intake: Twilio account 'City of Demo 311' ({server.ACCOUNT_SID}), active; texts "
        "from +•••••••••00"
    )


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ((401, server.error(401, 20003, "Authenticate")), "SOCIALBOT_TWILIO_AUTH_TOKEN"),
        ((200, _account("suspended")), "is suspended: it sends no text"),
        ((503, server.error(503, 20503, "Service Unavailable")), "could not be reached"),
    ],
)
def test_doctor_fails_a_refused_token_or_an_account_that_cannot_send(
    database_url: str, answer: tuple[int, str], said: str
) -> None:
    [(outcome, detail)] = _credentials(database_url, answer)
    assert outcome is Outcome.FAIL and said in detail
    assert server.CITY_NUMBER not in detail and server.AUTH_TOKEN not in detail


def test_doctor_names_a_half_set_twilio(database_url: str) -> None:
    checks = run_checks(
        lambda: load_settings(database_url=database_url, twilio_account_sid=server.ACCOUNT_SID),
        offline=False,
    )
    [line] = [c for c in checks if c.area == "credentials" and c.detail.startswith("sms/")]
    assert line.outcome is Outcome.FAIL
    assert "SOCIALBOT_TWILIO_AUTH_TOKEN, SOCIALBOT_TWILIO_FROM: not set" in line.detail


def test_block_by_number_prints_it_masked(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "SOCIALBOT_DATABASE_URL": database_url,
        "SOCIALBOT_TWILIO_ACCOUNT_SID": server.ACCOUNT_SID,
        "SOCIALBOT_TWILIO_AUTH_TOKEN": server.AUTH_TOKEN,
        "SOCIALBOT_TWILIO_FROM": server.CITY_NUMBER,
        "COLUMNS": "80",
    }.items():
        monkeypatch.setenv(name, value)
    code, out = invoke("block", server.resident(1), "--reason", "abuse", "--as", "J. Rivera")
    assert (code, out.strip()) == (0, "blocked @+•••••••••01")
    code, out = invoke("blocked")
    assert code == 0 and "@+•••••••••01" in out and server.resident(1) not in out


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_any_typed_handle_is_a_number_in_e164_or_a_handle_error(typed: str) -> None:
    rule = handle_rules(load_settings())["sms"]
    try:
        number = rule(typed)
    except HandleError as exc:
        assert "\n" not in str(exc)
        return
    assert number == typed.strip() and number.startswith("+") and number[1:].isdigit()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        JSON,
        st.fixed_dictionaries(
            {"sid": st.just(server.ACCOUNT_SID)},
            optional={"friendly_name": JSON | st.text(), "status": JSON | st.text(max_size=40)},
        ),
    )
)
def test_any_account_answer_is_an_account_or_a_data_error(payload: object) -> None:
    """Twilio's answer to doctor's call is outside input: read as an account of one printable
    line, or a DataError naming the field, never another exception."""
    try:
        account = parse_account(payload)
    except DataError as exc:
        assert str(exc).split(":")[0] in ("account", "sid", "status")
        return
    assert account.sid == server.ACCOUNT_SID
    assert account.friendly_name.isprintable() and len(account.friendly_name) <= 80
    assert account.status.isprintable()
