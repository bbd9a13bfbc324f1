"""A page whose mentions link duplicates to a case the same page opened, follow it up from the
duplicates' conversations and edit a duplicate, written at once, writes what one mention at a
time writes: the same rows, to the id and the reporter count."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests import xapi
from tests.test_poller_pages import written_both_ways

AT = (42.35, -71.06)
NEAR = (42.35003, -71.06003)


def _in(conversation: int, item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "conversation_id": xapi.post_id(conversation)}


def _edit(item: dict[str, Any], *versions: int) -> dict[str, Any]:
    return {**item, "edit_history_tweet_ids": [xapi.post_id(v) for v in versions]}


def tangled_pages() -> list[list[dict[str, Any]]]:
    reply = "replied_to"
    first = xapi.page(
        [
            xapi.tweet(1, "@DemoCity311 #pothole here", author="2001", coordinates=AT),
            xapi.tweet(
                2,
                "@DemoCity311 #pothole same one",
                author="2002",
                coordinates=NEAR,
                media_keys=["m2"],
            ),
            _in(
                2,
                xapi.tweet(
                    3,
                    "@DemoCity311 it is getting deeper",
                    author="2002",
                    media_keys=["m3"],
                    in_reply_to_user_id="2002",
                    referenced=[(reply, xapi.post_id(2))],
                ),
            ),
            xapi.tweet(
                4, "@DemoCity311 #pothole huge", author="2003", coordinates=NEAR, media_keys=["m4"]
            ),
            _in(
                1,
                xapi.tweet(
                    5,
                    "@DemoCity311 photo of it",
                    author="2001",
                    media_keys=["m5"],
                    in_reply_to_user_id="2001",
                    referenced=[(reply, xapi.post_id(1))],
                ),
            ),
            _edit(
                xapi.tweet(
                    6,
                    "@DemoCity311 #pothole same one, edited",
                    author="2002",
                    coordinates=NEAR,
                    media_keys=["m2", "m6"],
                ),
                2,
                6,
            ),
            xapi.tweet(
                7, "@DemoCity311 #pothole again", author="2004", coordinates=NEAR, media_keys=["m7"]
            ),
            _in(
                4,
                xapi.tweet(
                    8,
                    "@DemoCity311 any news?",
                    author="2003",
                    in_reply_to_user_id="2003",
                    referenced=[(reply, xapi.post_id(4))],
                ),
            ),
        ],
        media=[xapi.photo(k) for k in ("m2", "m3", "m4", "m5", "m6", "m7")],
    )
    second = xapi.page(
        [
            xapi.tweet(
                9, "@DemoCity311 #pothole still", author="2005", coordinates=NEAR, media_keys=["m9"]
            ),
            _in(
                2,
                xapi.tweet(
                    10,
                    "@DemoCity311 thanks",
                    author="2002",
                    in_reply_to_user_id="2002",
                    referenced=[(reply, xapi.post_id(3))],
                ),
            ),
        ],
        media=[xapi.photo("m9")],
    )
    return [[first], [second]]


def test_a_tangled_page_at_once_writes_what_one_mention_at_a_time_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = tangled_pages()
    at_once, one_by_one = written_both_ways(tmp_path, monkeypatch, pages)

    assert len(at_once["cases"]) == 1, at_once["cases"]
    assert at_once == one_by_one
