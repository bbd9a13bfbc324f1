"""networks/sms/adapter: Twilio's REST answers (mocked with `responses` in its wire format) as
our receipts and errors, and a lost answer found again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
import responses
from sqlalchemy import Engine

from socialbot.domain import PostRef
from socialbot.errors import AuthFailed, OptedOut, RateLimited, Rejected, Unavailable
from socialbot.networks.base import Draft
from socialbot.networks.sms.adapter import SmsNetwork, TwilioCredentials
from socialbot.usage import Prices
from tests.conftest import Clock
from tests.networks.sms import server

RESIDENT = server.resident(1)
REPLY = Draft(key="outbox:1", text="Case #1 is open: thanks!", reply_to=PostRef("SM1", RESIDENT))


@pytest.fixture
def twilio(clock: Clock) -> Iterator[server.TwilioServer]:
    made = server.TwilioServer(clock=clock)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        made.serve(mock)
        yield made


def network(engine: Engine, clock: Clock, sender: str = server.CITY_NUMBER) -> SmsNetwork:
    credentials = TwilioCredentials(server.ACCOUNT_SID, server.AUTH_TOKEN, sender)
    return SmsNetwork(credentials, engine, clock=clock)


def test_a_reply_is_one_text_to_the_number_it_answers(
    engine: Engine, clock: Clock, twilio: server.TwilioServer
) -> None:
    receipt = network(engine, clock).publish(REPLY)
    [form] = twilio.posted_forms
    assert form == {"To": [RESIDENT], "From": [server.CITY_NUMBER], "Body": [REPLY.text]}
    assert receipt.ref == PostRef(twilio.sent[0]["sid"], RESIDENT)
    assert receipt.cost == pytest.approx(Prices().sms_segment)  # one GSM-7 segment


def test_a_messaging_service_sends_by_its_sid(
    engine: Engine, clock: Clock, twilio: server.TwilioServer
) -> None:
    sms = network(engine, clock, sender=server.SERVICE_SID)
    sms.publish(REPLY)
    [form] = twilio.posted_forms
    assert form["MessagingServiceSid"] == [server.SERVICE_SID] and "From" not in form
    assert sms.own_user_id() == server.SERVICE_SID


@pytest.mark.parametrize(
    ("answer", "raised"),
    [
        ((401, {}, server.error(401, 20003, "Authenticate")), AuthFailed),
        ((403, {}, server.error(403, 20003, "Permission Denied")), AuthFailed),
        ((429, {}, server.error(429, 20429, "Too Many Requests")), RateLimited),
        ((400, {}, server.error(400, 20429, "Too Many Requests")), RateLimited),
        (
            (400, {}, server.error(400, 21610, "Attempt to send to unsubscribed recipient")),
            OptedOut,
        ),
        ((400, {}, server.error(400, 21211, "Invalid 'To' Phone Number")), Rejected),
        ((404, {}, server.error(404, 20404, "The requested resource was not found")), Rejected),
    ],
)
def test_twilio_errors_are_ours(
    engine: Engine,
    clock: Clock,
    twilio: server.TwilioServer,
    answer: server.Answer,
    raised: type[Exception],
) -> None:
    twilio.failures.append(answer)
    with pytest.raises(raised) as failed:
        network(engine, clock).publish(REPLY)
    assert type(failed.value) is raised
    assert RESIDENT[3:] not in str(failed.value)  # the number never, not even in part
    if raised is AuthFailed:
        assert "SOCIALBOT_TWILIO_AUTH_TOKEN" in str(failed.value)
    if raised is Rejected:
        assert "Twilio refused" in str(failed.value)
    assert twilio.sent == []


def test_a_rate_limit_reads_retry_after_when_sent_else_no_reset(
    engine: Engine, clock: Clock, twilio: server.TwilioServer
) -> None:
    twilio.failures += [server.LIMITED, (429, {"Retry-After": "30"}, server.LIMITED[2])]
    sms = network(engine, clock)
    with pytest.raises(RateLimited) as bare:
        sms.publish(REPLY)
    with pytest.raises(RateLimited) as timed:
        sms.publish(REPLY)
    assert bare.value.reset_at is None
    assert timed.value.reset_at == clock() + timedelta(seconds=30)


@pytest.mark.parametrize("kind", ["down", "lost"])
def test_a_5xx_or_a_lost_answer_may_have_sent_the_text(
    engine: Engine, clock: Clock, twilio: server.TwilioServer, kind: str
) -> None:
    twilio.failures.append(kind)
    with pytest.raises(Unavailable) as failed:
        network(engine, clock).publish(REPLY)
    assert failed.value.maybe_done
    assert len(twilio.sent) == (1 if kind == "lost" else 0)


def test_a_connection_refused_is_unavailable(engine: Engine, clock: Clock) -> None:
    with responses.RequestsMock() as mock:
        mock.add("POST", server.MESSAGES_URL, body=requests.exceptions.ConnectionError("refused"))
        with pytest.raises(Unavailable) as failed:
            network(engine, clock).publish(REPLY)
    assert failed.value.maybe_done


def test_a_lost_answer_is_found_by_its_number_and_text_and_never_another(
    engine: Engine, clock: Clock, twilio: server.TwilioServer
) -> None:
    sms = network(engine, clock)
    sms.publish(Draft(key="outbox:0", text="An older text", reply_to=REPLY.reply_to))
    other = Draft(key="outbox:2", text=REPLY.text, reply_to=PostRef("SM2", server.resident(2)))
    twilio.failures.append("lost")
    with pytest.raises(Unavailable):
        sms.publish(REPLY)

    found = sms.published(sms.own_user_id(), [REPLY, other], clock() - timedelta(hours=1))
    assert found == {REPLY.key: [PostRef(twilio.sent[1]["sid"], RESIDENT)]}
    assert sms.published(sms.own_user_id(), [REPLY], clock() + timedelta(minutes=1)) == {}


def test_a_draft_with_no_number_or_a_photo_is_refused_without_a_call(
    engine: Engine, clock: Clock, twilio: server.TwilioServer, tmp_path: Path
) -> None:
    sms = network(engine, clock)
    with pytest.raises(Rejected):
        sms.publish(Draft(key="outbox:3", text="an alert"))
    with pytest.raises(Rejected):
        sms.publish(Draft(key="outbox:4", text="hi", reply_to=PostRef("SM4", "not a number")))
    with pytest.raises(Rejected):
        sms.upload_media(tmp_path / "photo.jpg", "a pothole")
    assert twilio.posted_forms == []
    assert sms.media_rules.max_count == 0


def test_twilios_message_quoting_the_number_is_kept_masked(
    engine: Engine, clock: Clock, twilio: server.TwilioServer
) -> None:
    # Twilio's 21211 says which number, in full; its message becomes the outbox row's
    # last_error, stored and shown: the number is masked before it leaves the adapter.
    said = f"The 'To' number {RESIDENT} is not a valid phone number."
    twilio.failures.append((400, {}, server.error(400, 21211, said)))
    with pytest.raises(Rejected) as failed:
        network(engine, clock).publish(REPLY)
    assert RESIDENT not in str(failed.value) and RESIDENT[3:] not in str(failed.value)
    assert "is not a valid phone number" in str(failed.value) and RESIDENT[-2:] in str(failed.value)
