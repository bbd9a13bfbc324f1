"""A method a route does not take is a 405 that says which it does take (`Allow`, which RFC 9110
requires of a 405), on every part of the service: Open311, the operators', the status page."""

from __future__ import annotations

import httpx
import pytest

from tests.web.server import Served


@pytest.mark.parametrize(
    "path",
    ["/open311/v2/services.json", "/open311/v2/requests/1.xml", "/healthz", "/metrics", "/cases/1"],
)
@pytest.mark.parametrize("method", ["POST", "DELETE", "TRACE"])
def test_a_method_not_taken_is_a_405_saying_which_are(
    served: Served, path: str, method: str
) -> None:
    answer = httpx.request(method, served.base_url + path, timeout=10.0)

    assert answer.status_code == 405
    assert "GET" in answer.headers.get("allow", "")
    assert "content-security-policy" in answer.headers
