"""`start_date`/`end_date` as clients really send them: a `+` offset written into the query
string unencoded (`?start_date=2026-11-24T12:49:18+05:00`) reaches us as a space, since a
query string's `+` is a space. A W3C date-time never holds a space, so that space is the `+`;
refusing it would tell an integrator their date has no zone, which they can see it has."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from socialbot.errors import QueryError
from socialbot.open311.queries import parse_w3c


@pytest.mark.parametrize(
    "sent",
    ["2026-11-24T12:49:18 05:00", "2026-11-24T12:49:18.5 05:00", "2026-11-24T12:49 0500"],
)
def test_an_unencoded_plus_offset_is_read_as_plus(sent: str) -> None:
    moment = parse_w3c("start_date", sent)

    assert moment is not None
    assert moment.replace(second=0, microsecond=0) == datetime(2026, 11, 24, 7, 49, tzinfo=UTC)


@pytest.mark.parametrize("sent", ["2026-11-24 12:49:18", "2026-11-24T12:49:18 EST", "2026 11 24"])
def test_any_other_space_is_still_no_w3c_date_time(sent: str) -> None:
    with pytest.raises(QueryError):
        parse_w3c("start_date", sent)
