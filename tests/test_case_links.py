"""Replies that link the case's status page: free where links are free (Mastodon, Bluesky), off
on X unless the city asks (X bills a post with a URL about 13 times a plain one), and an explicit
SOCIALBOT_CASE_URL wins everywhere."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from socialbot.app import (
    NETWORKS,
    Service,
    build_staff,
    case_url_for,
    load_content,
)
from socialbot.config import Settings, load_settings
from socialbot.errors import TemplateError
from socialbot.lifecycle import Action
from socialbot.scheduler import Jobs
from socialbot.staff import Request
from socialbot.store.db import transaction
from socialbot.store.models import Case, OutboxMessage
from tests.conftest import Clock
from tests.x_and_mastodon import x_and_mastodon

PUBLIC = "https://311.example.gov"


def links(**settings: str) -> dict[str, str | None]:
    chosen = load_settings(database_url="sqlite://", **settings)
    return {network: case_url_for(chosen, network) for network in NETWORKS}


def test_by_default_links_go_where_they_are_free_and_not_on_x() -> None:
    assert links(web_public_url=PUBLIC) == {
        "x": None,
        "mastodon": f"{PUBLIC}/cases/{{case}}",
        "bluesky": f"{PUBLIC}/cases/{{case}}",
        "sms": None,  # a link costs segments, each billed
    }


def test_all_links_every_network_x_included_and_none_links_none() -> None:
    assert set(links(web_public_url=PUBLIC, web_case_links="all").values()) == {
        f"{PUBLIC}/cases/{{case}}"
    }
    assert set(links(web_public_url=PUBLIC, web_case_links="none").values()) == {None}


def test_without_a_public_address_no_reply_links_anything() -> None:
    assert set(links(web_case_links="all").values()) == {None}


def test_an_explicit_case_url_wins_on_every_network() -> None:
    explicit = "https://crm.example.gov/track?id={case}"

    assert set(links(case_url=explicit, web_public_url=PUBLIC).values()) == {explicit}
    assert set(links(case_url=explicit, web_case_links="none").values()) == {explicit}


def test_only_x_and_sms_bill_their_links() -> None:
    # X bills a post with a link about 13 times a plain one; on SMS a link costs segments.
    assert [name for name, kind in NETWORKS.items() if kind.links_billed] == ["x", "sms"]


@pytest.fixture
def city(database_url: str, clock: Clock) -> Iterator[Service]:
    settings = load_settings(database_url=database_url, web_public_url=PUBLIC)
    yield from _city(settings, clock)


def _city(settings: Settings, clock: Clock) -> Iterator[Service]:
    with x_and_mastodon(
        settings, clock, "@DemoCity311 #pothole on Boylston St at 42.35040, -71.07600"
    ) as service:
        yield service


def replies(service: Service, template: str) -> dict[str, list[tuple[int, str]]]:
    """Each network's replies of `template`: (case, text)."""
    with transaction(service.engine) as session:
        rows = session.exec(select(OutboxMessage).where(OutboxMessage.template == template)).all()
        found: dict[str, list[tuple[int, str]]] = {}
        for row in rows:
            assert row.case_id is not None
            found.setdefault(row.platform, []).append((row.case_id, row.text))
    return found


def test_a_filed_reply_links_its_page_on_mastodon_and_not_on_x(city: Service, clock: Clock) -> None:
    Jobs(city).poll()

    filed = replies(city, "filed")

    assert filed["x"] and all("http" not in text for _, text in filed["x"])
    assert filed["mastodon"]
    for case, text in filed["mastodon"]:
        assert text.endswith(f" Track it: {PUBLIC}/cases/{case}")


def test_the_staffs_replies_link_it_too_on_the_same_networks(city: Service, clock: Clock) -> None:
    Jobs(city).poll()
    with transaction(city.engine) as session:
        opened = {
            c.platform: c.id
            for c in session.exec(select(Case).where(Case.lat.is_not(None))).all()  # type: ignore[union-attr]
        }
    staff = build_staff(city.settings)
    try:
        for case in opened.values():
            assert case is not None
            staff.act(Request(case, Action.RESOLVE, "ana"), clock())
    finally:
        staff.engine.dispose()

    resolved = replies(city, "resolved")

    assert [text for _, text in resolved["x"]] and all("http" not in t for _, t in resolved["x"])
    (mastodon_case, mastodon_text), *_ = resolved["mastodon"]
    assert mastodon_text.endswith(f" See it: {PUBLIC}/cases/{mastodon_case}")


def test_with_all_the_x_reply_carries_the_link_too(database_url: str, clock: Clock) -> None:
    # The city runs X and Mastodon, and its templates are measured by those two: with `all`,
    # the shipped Spanish filed reply, its storm line and a link would not fit SMS's segments.
    settings = load_settings(
        database_url=database_url,
        web_public_url=PUBLIC,
        web_case_links="all",
        x_consumer_key="ck",
        x_consumer_secret="cs",
        x_access_token="at",
        x_access_token_secret="ats",
        mastodon_api_base_url="https://city.social",
        mastodon_access_token="t",
    )
    for service in _city(settings, clock):
        Jobs(service).poll()

        (case, text), *_ = replies(service, "filed")["x"]

        assert text.endswith(f" Track it: {PUBLIC}/cases/{case}")


def test_a_link_too_long_for_a_network_is_refused_at_start_up_only_where_it_goes() -> None:
    long = PUBLIC + "/" + "p" * 260

    with pytest.raises(TemplateError, match="over Bluesky's 300"):
        load_content(load_settings(database_url="sqlite://", web_public_url=long))
    # `none` puts it in no reply: the service starts.
    load_content(
        load_settings(database_url="sqlite://", web_public_url=long, web_case_links="none")
    )
