"""The status page with the residents' words shown (`[web] public_descriptions`) never carries
a handle: the words a resident posted name the city's account, and may name other people's, and
the page is as public as the Open311 answers, which take every @handle out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from socialbot.web.public import public_text
from tests.web.server import serve

HANDLE = re.compile(r"(?<![\w@])@[\w.\-]+")


def test_the_residents_words_on_the_page_carry_no_handle(
    demo_database: Path, tmp_path: Path
) -> None:
    env = {"SOCIALBOT_WEB_PUBLIC_DESCRIPTIONS": "true"}
    with serve(demo_database, tmp_path / "serve.log", env) as served:
        pages = {n: served.get(f"/cases/{n}?lang=en").text for n in range(1, 15)}

    words = pages[1].split("<blockquote><p>", 1)[1].split("</p>", 1)[0]
    assert words == "Huge #pothole on Boylston St by the library, two cars already blew a tire"
    for number, html in pages.items():
        assert not HANDLE.findall(html.split("<main>", 1)[1]), number


@pytest.mark.parametrize(
    ("posted", "shown"),
    [
        ("@DemoCity311 pothole here, @kim saw it too", "pothole here, saw it too"),
        ("@democity311.bsky.social tree down", "tree down"),
        ("@City311 @sam@mastodon.social broken light", "broken light"),
        ("@City311", None),
    ],
)
def test_public_words_are_the_residents_without_any_handle(posted: str, shown: str | None) -> None:
    assert public_text(posted, public=True, show_words=True) == shown


def test_an_email_address_in_the_words_is_no_handle() -> None:
    posted = "write to parks@example.gov about it"
    assert public_text(posted, public=True, show_words=True) == posted
