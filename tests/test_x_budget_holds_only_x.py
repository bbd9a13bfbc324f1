"""SOCIALBOT_MONTHLY_BUDGET is X's spend; Mastodon bills nothing."""

from __future__ import annotations

from socialbot.app import build_service
from socialbot.config import INTAKE_ACCOUNT, Settings
from socialbot.network_settings import Channel
from socialbot.networks.mastodon.replay import MastodonReplay
from socialbot.networks.x.replay import ReplayPlatform
from tests import xapi
from tests.conftest import Clock


def test_the_x_budget_does_not_hold_mastodons_replies(settings: Settings, clock: Clock) -> None:
    service = build_service(
        settings.model_copy(update={"monthly_budget": 5}),
        clock=clock,
        networks={
            Channel("x", INTAKE_ACCOUNT): ReplayPlatform(xapi.CITY_ID),
            Channel("mastodon", INTAKE_ACCOUNT): MastodonReplay("113400000000000001"),
        },
    )
    try:
        # With X's spend near the budget, `send_once` holds (and after a day drops) the
        # non-essential replies of any outbox that has this budget: Mastodon's must not.
        assert service.outbox_for(INTAKE_ACCOUNT, "x").budget is not None
        assert service.outbox_for(INTAKE_ACCOUNT, "mastodon").budget is None
    finally:
        service.close()
