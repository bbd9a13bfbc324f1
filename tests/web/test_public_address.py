"""The address a resident wrote, on the status page and in Open311's answers: a public post's
is public (they posted it for anyone to read), a private message's or a text's never."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import httpx
from sqlalchemy import Engine

from socialbot.catalog import load_catalog
from socialbot.config import SHIPPED_HASHTAGS, load_settings
from socialbot.domain import GeoPoint, Mention
from socialbot.ingest.cases import open_case
from socialbot.intake import IntakeRules, decide
from socialbot.store.db import transaction
from socialbot.store.models import Case
from socialbot.web.app import create_app
from socialbot.web.public import public_address
from socialbot.web.reads import read_case
from socialbot.web.server import build_web

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def file(engine: Engine, text: str, n: int, *, public: bool) -> int:
    rules = IntakeRules(
        catalog=load_catalog(SHIPPED_HASHTAGS),
        own_user_id="city",
        geocoded={"123 Main St": GeoPoint(42.3523, -71.0552)},
    )
    mention = Mention(
        platform="mastodon",
        post_id=f"p{n}",
        author_id=f"resident-{n}",
        author_username=f"resident{n}",
        text=text,
        created_at=NOW,
        public=public,
    )
    row, _ = open_case(mention, decide(mention, rules), rules, NOW)
    with transaction(engine) as session:
        case = Case(**row)
        session.add(case)
        session.flush()
        assert case.id is not None
        return case.id


def test_a_public_posts_address_is_shown_and_a_private_ones_never(
    engine: Engine, database_url: str
) -> None:
    public = file(engine, "@city #pothole at 123 Main St, Apt 4", 1, public=True)
    private = file(engine, "@city #pothole at Main and 5th", 2, public=False)

    shown, hidden = (
        read_case(engine, public, show_words=False),
        read_case(engine, private, show_words=False),
    )
    assert shown is not None and shown.address == "123 Main St, Apt 4"
    assert hidden is not None and hidden.address is None and hidden.point is None

    web = build_web(load_settings(database_url=database_url))

    async def ask(path: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(web))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get(path)

    try:
        page = asyncio.run(ask(f"/cases/{public}?lang=es")).text
        private_page = asyncio.run(ask(f"/cases/{private}?lang=en")).text
        [request] = json.loads(asyncio.run(ask(f"/open311/v2/requests/{public}.json")).text)
        [other] = json.loads(asyncio.run(ask(f"/open311/v2/requests/{private}.json")).text)
    finally:
        web.engine.dispose()
    assert "<dt>Dirección</dt><dd>123 Main St, Apt 4</dd>" in page
    assert "Main and 5th" not in private_page and "Address" not in private_page
    assert request["address"] == "123 Main St, Apt 4" and request["lat"] == 42.3523
    assert "address" not in other


def test_an_address_is_shown_without_any_handle() -> None:
    assert public_address("12 Elm St @kim", public=True) == "12 Elm St"
    assert public_address("12 Elm St", public=False) is None
    assert public_address(None, public=True) is None
