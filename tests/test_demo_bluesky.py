"""The demo's Bluesky: its sample (`socialbot/demo/bluesky.json`, pages of
`app.bsky.notification.listNotifications`) read by Bluesky's own wire code, each resident
answered in their own thread as Bluesky threads it, and the crew's news told there."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from socialbot.config import Settings, load_settings
from socialbot.demo import DEMO_SETTINGS, DemoRun, run_demo
from socialbot.networks.bluesky.wire import read_reply_context, uri_of
from socialbot.store.queries import list_cases

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SAMIRA = "did:plc:samiraresidentbskyqwerty"  # the neighbour whose thread Devon reported in
ROOT = f"at://{SAMIRA}/app.bsky.feed.post/3m6kq2ablrc2x"


@pytest.fixture
def demo(database_url: str) -> Iterator[DemoRun]:
    settings: Settings = load_settings(None, database_url=database_url, **DEMO_SETTINGS)  # type: ignore[arg-type]
    run = run_demo(settings, lambda: NOW)
    yield run
    run.service.close()


def test_the_bluesky_sample_becomes_cases_with_its_photo_and_map_link(demo: DemoRun) -> None:
    cases = [c for c in list_cases(demo.service.engine) if c.platform == "bluesky"]
    assert [(c.id, c.category, c.location_source) for c in cases] == [
        (13, "streetlight", "map_link"),
        (14, "pothole", "text"),
    ]
    assert demo.first["bluesky"].fetched == 3 and not demo.second["bluesky"].handled


def test_a_report_deep_in_a_neighbours_thread_is_answered_under_that_threads_root(
    demo: DemoRun,
) -> None:
    devon = next(p for p in demo.bluesky.posted if "case #14" in p.text)
    answered = read_reply_context(devon.context)
    assert answered.uri == uri_of(devon.in_reply_to or "")  # the parent: Devon's own post
    assert answered.root_uri == ROOT  # the root: Samira's, not Devon's


def test_the_crews_news_reaches_the_bluesky_resident_in_their_thread(demo: DemoRun) -> None:
    [told] = [p for p in demo.bluesky.posted if "case #13" in p.text and "resolved" in p.text]
    [filed] = [p for p in demo.bluesky.posted if "filed as case #13" in p.text]
    assert told.in_reply_to == filed.in_reply_to  # María's post, where she reported it
    assert demo.bluesky.text_rules.fits(told.text) and not told.text.startswith("@")
