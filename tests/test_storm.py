"""Storm mode in the residents' threads: filed replies of emergency categories say so."""

from __future__ import annotations

from sqlmodel import select

from socialbot.app import build_service
from socialbot.broadcasts import storm
from socialbot.config import Settings
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.poller import poll_once
from socialbot.store.db import transaction
from socialbot.store.models import OutboxMessage
from socialbot.text import weighted_length
from tests import xapi
from tests.conftest import Clock

HERE = (42.3551, -71.0602)


def filed_replies(settings: Settings, clock: Clock, *texts: str) -> list[str]:
    platform = ReplayPlatform(
        xapi.CITY_ID,
        [
            xapi.page(
                # Blocks apart: separate problems, not duplicates of one another.
                [
                    xapi.tweet(n, text, coordinates=(HERE[0] + n * 0.003, HERE[1]))
                    for n, text in enumerate(texts, 1)
                ]
            )
        ],
    )
    service = build_service(
        settings.model_copy(update={"x_user_id": xapi.CITY_ID}), platform, clock
    )
    try:
        poll_once(service.intake, clock)
        with transaction(service.engine) as session:
            return [
                row.text for row in session.exec(select(OutboxMessage).order_by(OutboxMessage.id))
            ]  # type: ignore[arg-type]
    finally:
        service.close()


def test_during_a_storm_emergency_reports_get_the_storm_line(
    settings: Settings, clock: Clock, engine: object
) -> None:
    storm.start(engine, "Sandy", "BoSandy", "lead", clock)  # type: ignore[arg-type]
    emergency, ordinary, spanish = filed_replies(
        settings,
        clock,
        "@DemoCity311 #watermainbreak on Tremont",
        "@DemoCity311 #pothole on Tremont",
        "@DemoCity311 #roturadetubería en Tremont",
    )
    assert "Sandy" in emergency and "#BoSandy" in emergency
    assert emergency.startswith("Thanks! Your report is filed as case #1")
    assert "Sandy" not in ordinary and "#BoSandy" not in ordinary
    assert "#BoSandy" in spanish and spanish.startswith("¡Gracias!")
    assert weighted_length(emergency) <= 280 and weighted_length(spanish) <= 280


def test_without_storm_mode_the_filed_reply_is_the_usual_one(
    settings: Settings, clock: Clock
) -> None:
    (reply,) = filed_replies(settings, clock, "@DemoCity311 #watermainbreak on Tremont")
    assert "#BoSandy" not in reply and "Sandy" not in reply
