"""A city that runs SMS: Twilio's three settings, the texts as the webhook records them, and a
sleep on simulated time for the paced sends."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from socialbot.config import Settings, load_settings
from socialbot.sms.inbound import InboundText, read_form
from socialbot.sms.record import record
from tests.conftest import Clock
from tests.networks.sms import server


def sms_settings(database_url: str, **extra: object) -> Settings:
    """SMS alone, as a city that texts sets it up."""
    return load_settings(
        database_url=database_url,
        twilio_account_sid=server.ACCOUNT_SID,
        twilio_auth_token=server.AUTH_TOKEN,
        twilio_from=server.CITY_NUMBER,
        **extra,
    )


def deliver(engine: Engine, n: int, text: str, clock: Clock) -> InboundText:
    """Resident `n`'s text, recorded as the webhook records it."""
    inbound = read_form(server.inbound_form(n, text))
    assert isinstance(inbound, InboundText), inbound
    assert record(engine, inbound, clock())
    return inbound


@dataclass
class SimulatedSleep:
    """`pacing.Sleep` on the test's clock: each wait moves it on, and is kept. `stop_after`
    waits, the next one is stopped (SIGTERM) without moving the clock."""

    clock: Clock
    waits: list[float] = field(default_factory=list)
    stop_after: int | None = None

    def __call__(self, seconds: float) -> bool:
        if self.stop_after is not None and len(self.waits) >= self.stop_after:
            return False
        self.waits.append(seconds)
        self.clock.advance(seconds=seconds)
        return True
