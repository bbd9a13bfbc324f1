"""The status page's language and times, as plain values."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialbot.web.page_text import choose_lang, format_time, preferred_lang

NEW_YORK = ZoneInfo("America/New_York")


def test_a_time_reads_as_people_write_it_in_each_language_naming_the_zone() -> None:
    at = datetime(2026, 11, 24, 17, 49, tzinfo=UTC)

    assert format_time(at, NEW_YORK, "en") == "Tuesday, November 24, 2026, 12:49 PM EST"
    assert format_time(at, NEW_YORK, "es") == "martes, 24 de noviembre de 2026, 12:49 EST"


def test_a_summer_time_names_daylight_time_and_a_stored_time_is_utc() -> None:
    at = datetime(2026, 7, 4, 4, 5)  # as the database hands it back: UTC, no zone

    assert format_time(at, NEW_YORK, "en") == "Saturday, July 4, 2026, 12:05 AM EDT"
    assert format_time(at, NEW_YORK, "es") == "sábado, 4 de julio de 2026, 00:05 EDT"


@pytest.mark.parametrize(
    ("asked", "header", "case", "chosen"),
    [
        ("es", "en", "en", "es"),  # ?lang= wins
        ("ES ", None, None, "es"),
        ("fr", "es", "en", "es"),  # a language we do not carry is no choice
        (None, "en;q=0.2, es;q=0.7", "en", "es"),
        (None, "es-MX, en", "en", "es"),  # first listed among equals
        (None, "es;q=0, en;q=0.1", "es", "en"),  # q=0 refuses
        (None, "fr, *", "es", "es"),  # nothing we carry: the case's language
        (None, "", None, "en"),
        (None, "es;q=abc", "en", "en"),
    ],
)
def test_the_language_is_the_query_then_the_browser_then_the_case(
    asked: str | None, header: str | None, case: str | None, chosen: str
) -> None:
    assert choose_lang(asked, header, case) == chosen


@given(st.text(max_size=300))
def test_any_accept_language_header_gives_a_language_we_carry_or_none(header: str) -> None:
    assert preferred_lang(header) in ("en", "es", None)
