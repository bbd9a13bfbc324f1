"""Which photo of a case anyone may see (Open311's media_url): the public post's, never one
from a private message that intake linked to the case."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from socialbot.app import Service
from socialbot.config import Settings
from socialbot.scheduler import Jobs
from socialbot.store.queries import list_cases
from socialbot.web.reads import read_case
from tests.conftest import Clock
from tests.x_and_mastodon import demo_timeline, x_and_mastodon

DIRECT_STREETLIGHT = "113500000000000012"  # the demo's direct mention, at 42.312, -71.114
PRIVATE_PHOTO = "https://social.example.gov/media_attachments/files/1/original/ben-private.jpg"


def with_private_photo(sample: Any) -> Any:
    """The demo's Mastodon timeline, its direct streetlight status carrying a photo."""
    sample = copy.deepcopy(sample)

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if value.get("id") == DIRECT_STREETLIGHT:
                value["media_attachments"] = [
                    {"id": "900", "type": "image", "url": PRIVATE_PHOTO, "description": None}
                ]
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(sample)
    return sample


@pytest.fixture
def service(settings: Settings, clock: Clock) -> Iterator[Service]:
    # X's public report has no photo; Mastodon's direct one, at the same place, links to it.
    with x_and_mastodon(
        settings,
        clock,
        "@DemoCity311 #streetlight out at 42.31200, -71.11400",
        with_private_photo(demo_timeline()),
    ) as service:
        yield service


def test_a_photo_from_a_direct_message_linked_to_a_public_case_is_never_shown(
    service: Service,
) -> None:
    Jobs(service).poll()
    [x_case] = [c for c in list_cases(service.engine) if c.category == "streetlight"]
    assert x_case.platform == "x" and x_case.public
    assert PRIVATE_PHOTO in x_case.photo_urls  # staff see it: the resident sent it to the city

    assert x_case.id is not None
    shown = read_case(service.engine, x_case.id, show_words=True)

    assert shown is not None
    assert shown.photo_url != PRIVATE_PHOTO
