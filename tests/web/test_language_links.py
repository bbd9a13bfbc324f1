"""The link to a page in the other language stays on this site, whatever address was asked
for: a path that starts with two slashes (`//evil.example/`, or `/\\evil.example/`, which
browsers read the same) is, in a link, another host."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.server import Served

HREFLANG = re.compile(r'<a href="([^"]*)" hreflang=')


def on_this_site(href: str) -> bool:
    """A path-absolute reference: one slash, then anything but another slash or a backslash
    (WHATWG URL parsing takes `\\` for `/` in http links)."""
    return href.startswith("/") and href[1:2] not in ("/", "\\")


@pytest.mark.parametrize("path", ["//evil.example/x", "/%2F%2Fevil.example/x"])
def test_the_other_languages_link_never_leaves_the_site(served: Served, path: str) -> None:
    answer = served.get(path)

    assert answer.status_code == 404
    [href] = HREFLANG.findall(answer.text)
    assert on_this_site(href), href


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(path=st.text(alphabet="/\\.:@%?#abz", min_size=1, max_size=20))
def test_any_address_links_its_other_language_on_this_site(served: Served, path: str) -> None:
    answer = served.get("/" + quote(path, safe="/\\:@%"))

    for href in HREFLANG.findall(answer.text):
        assert on_this_site(href), href
