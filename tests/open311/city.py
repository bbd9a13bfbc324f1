"""A city with reports filed and answered, its CRM faked (`crm.FakeCrm`), and the Open311 jobs
wired to both, for the forwarder's and the sync's tests.

    case #1  a pothole on Main St, located, two photos, by resident2001; reported again by
             resident2002 a few metres away (linked to #1 at intake: no case of its own)
    case #2  a pothole with no location yet (needs_location)
    case #3  graffiti, located: a category the city did not map to a CRM service
    case #4  a pothole a block away from #1 (too far to be linked), by resident2004
"""

from __future__ import annotations

from dataclasses import dataclass, field

import responses
from sqlalchemy import Engine
from sqlmodel import col, select

from socialbot.app import Service
from socialbot.config import Settings
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.open311.client import Open311Client, Timeouts
from socialbot.open311.form import ServiceRule
from socialbot.open311.forwarder import Forwarder
from socialbot.open311.wire import Format
from socialbot.store.db import make_engine, transaction
from socialbot.store.models import CrmRequest, OutboxMessage
from tests import xapi
from tests.city import filed
from tests.conftest import Clock
from tests.open311.crm import API_KEY, ENDPOINT, POTHOLE, FakeCrm

MAIN_ST, NEAR_MAIN_ST, A_BLOCK_AWAY = (42.3500, -71.0600), (42.35001, -71.06001), (42.3520, -71.06)
RULES = {"pothole": ServiceRule(POTHOLE, {"source": "{network}", "priority": "normal"})}


def reports() -> ReplayPlatform:
    return ReplayPlatform(
        xapi.CITY_ID,
        [
            xapi.page(
                [
                    xapi.tweet(
                        1,
                        "@DemoCity311 #pothole deep one in front of the bakery",
                        author="2001",
                        coordinates=MAIN_ST,
                        media_keys=["p1", "p2"],
                    ),
                    xapi.tweet(2, "@DemoCity311 #pothole", author="2002", coordinates=NEAR_MAIN_ST),
                    xapi.tweet(3, "@DemoCity311 #pothole somewhere", author="2003"),
                    xapi.tweet(4, "@DemoCity311 #graffiti", author="2005", coordinates=MAIN_ST),
                    xapi.tweet(5, "@DemoCity311 #pothole", author="2004", coordinates=A_BLOCK_AWAY),
                ],
                media=[xapi.photo("p1"), xapi.photo("p2")],
            )
        ],
    )


@dataclass
class City:
    service: Service
    platform: ReplayPlatform
    crm: FakeCrm
    clock: Clock
    engines: list[Engine] = field(default_factory=list)  # the restarted processes' pools

    @property
    def engine(self) -> Engine:
        return self.service.engine

    def client(self, fmt: Format | None = None) -> Open311Client:
        return Open311Client(
            ENDPOINT,
            api_key=API_KEY,
            jurisdiction_id=None,
            fmt=fmt or self.crm.fmt,
            timeouts=Timeouts(),
        )

    def forwarder(self, *, fresh_engine: bool = False) -> Forwarder:
        """The send job; `fresh_engine`: as a restarted process has it, a new connection pool."""
        engine = self.engine
        if fresh_engine:
            # The process before it is gone, and its pool with it: a day of restarts must not
            # hold a day of connections (PostgreSQL allows a hundred).
            for gone in self.engines:
                gone.dispose()
            self.engines.clear()
            engine = make_engine(self.engine.url.render_as_string(hide_password=False))
            self.engines.append(engine)
        return Forwarder(
            engine=engine,
            client=self.client(),
            rules=RULES,
            catalog=self.service.catalog,
            api_key=API_KEY,
        )

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()
        self.service.close()

    def rows(self) -> list[CrmRequest]:
        with transaction(self.engine) as session:
            return list(session.exec(select(CrmRequest).order_by(col(CrmRequest.case_id))).all())

    def row(self, case_id: int) -> CrmRequest:
        (row,) = [r for r in self.rows() if r.case_id == case_id]
        return row

    def status_replies(self) -> list[OutboxMessage]:
        with transaction(self.engine) as session:
            return list(
                session.exec(
                    select(OutboxMessage)
                    .where(col(OutboxMessage.dedupe_key).startswith("status:"))
                    .order_by(col(OutboxMessage.id))
                ).all()
            )


def build_city(
    settings: Settings,
    clock: Clock,
    mock: responses.RequestsMock,
    *,
    fmt: Format = "json",
    tokens: bool = False,
) -> City:
    platform = reports()
    service = filed(settings, clock, platform)
    return City(service, platform, FakeCrm(mock, clock, fmt=fmt, tokens=tokens), clock)
