"""The resident's words on the status page, where the city shows them, carry no @handle: the
city's own account, or anyone else a resident named in their post (as Open311's description)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.web.server import serve

HANDLE = re.compile(r"(?<![\w@])[@\uff20][\w.\-]+")


def test_the_residents_words_on_a_status_page_name_no_handle(
    demo_database: Path, tmp_path: Path
) -> None:
    env = {"SOCIALBOT_WEB_PUBLIC_DESCRIPTIONS": "true"}
    with serve(demo_database, tmp_path / "serve.log", env) as served:
        pages = {n: served.get(f"/cases/{n}?lang=en").text for n in range(1, 15)}

    shown = {n: html for n, html in pages.items() if "What the resident wrote" in html}
    assert len(shown) == 13  # every public case's words; #11 came in a direct message
    for number, html in shown.items():
        words = html.split("<blockquote>", 1)[1].split("</blockquote>", 1)[0]
        assert not HANDLE.search(words), (number, words)
        assert "#" in words  # the words themselves are there
