"""The filters of Open311's `GET requests` as a client writes them → what to read. Pure.

The spec's rules: `service_request_id` (a comma list) overrides every other filter;
`service_code` and `status` may be comma lists too; `start_date` and `end_date` are W3C
date-times with a time zone, and the range they make "may not span more than 90 days"; without
them, the most recent 90 days. We enforce the 90 days (a 400 naming both dates) rather than cut
the range silently: a client asking for a year and getting a quarter would believe it had a year.
Anything we cannot answer is a `QueryError` naming the parameter, which the service answers
with the spec's errors body and a 400.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from socialbot.errors import QueryError

MAX_SPAN = timedelta(days=90)
MAX_ROWS = 1000  # the spec's "first 1000 requests returned"
MAX_IDS = MAX_ROWS
MAX_CODES = 100
MAX_CODE = 100  # our category keys are short slugs; anything longer names none of them
MAX_CASE_NUMBER = 2**63 - 1  # the database's integer: a larger one is no case of ours
_STATUSES = ("open", "closed")
# A `+` offset a client wrote into the query string unencoded arrives as a space (a query
# string's `+` is one); a W3C date-time holds no space, so a time then a space then an offset
# can only be that `+`.
_UNENCODED_PLUS = re.compile(r"(T[0-9:.,]+) ([0-9]{2}(?::?[0-9]{2})?)$")


@dataclass(frozen=True, slots=True)
class RequestsQuery:
    """What `GET requests` asked for: `numbers` alone when given, else the rest."""

    numbers: tuple[int, ...] | None = None
    codes: tuple[str, ...] | None = None
    open: bool | None = None  # True: open only; False: closed only; None: both
    start: datetime | None = None
    end: datetime | None = None


def parse_requests_query(
    *,
    now: datetime,
    service_request_id: str | None = None,
    service_code: str | None = None,
    status: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
) -> RequestsQuery:
    """The query these parameters make; a QueryError naming the first one that is wrong.
    `now` (aware) anchors the default range."""
    ids = _list(service_request_id)
    if ids:
        if len(ids) > MAX_IDS:
            raise QueryError("service_request_id", f"at most {MAX_IDS} ids, not {len(ids)}")
        return RequestsQuery(numbers=tuple(dict.fromkeys(_case_number(i) for i in ids)))
    codes = _list(service_code)
    if len(codes) > MAX_CODES:
        raise QueryError("service_code", f"at most {MAX_CODES} codes, not {len(codes)}")
    start = parse_w3c("start_date", start_date)
    end = parse_w3c("end_date", end_date)
    start, end = _range(start, end, now)
    return RequestsQuery(
        codes=tuple(dict.fromkeys(c for c in codes if len(c) <= MAX_CODE)) if codes else None,
        open=_status(status),
        start=start,
        end=end,
    )


def parse_case_number(text: str) -> int | None:
    """A request id from a path (`requests/{id}`) as our case number; None if it is none."""
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 19:
        return None
    number = int(digits)
    return number if 0 < number <= MAX_CASE_NUMBER else None


def parse_w3c(parameter: str, text: str | None) -> datetime | None:
    """A W3C date-time with its zone (`2026-11-24T12:49:18-05:00`, `…Z`); None when absent."""
    if text is None or not text.strip():
        return None
    value = text.strip().upper()  # RFC 3339 allows a lower-case t and z
    example = "a W3C date-time with its time zone, e.g. 2026-11-24T12:49:18-05:00"
    if len(value) > 40:
        raise QueryError(parameter, f"not {example}")
    value = _UNENCODED_PLUS.sub(r"\1+\2", value)
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise QueryError(parameter, f"not {example}") from None
    if "T" not in value or moment.tzinfo is None or moment.utcoffset() is None:
        raise QueryError(parameter, f"has no time zone; write {example}")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before the calendar's first day
        raise QueryError(parameter, "is out of range") from None


def _range(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime | None, datetime | None]:
    if start is not None and end is not None:
        if end < start:
            raise QueryError("end_date", "is before start_date")
        if end - start > MAX_SPAN:
            raise QueryError(
                "start_date", f"to end_date spans more than {MAX_SPAN.days} days (the spec's most)"
            )
        return start, end
    if start is not None:
        return start, _shifted(start, MAX_SPAN)
    if end is not None:
        return _shifted(end, -MAX_SPAN), end
    return now - MAX_SPAN, None


def _shifted(moment: datetime, by: timedelta) -> datetime | None:
    """`moment + by`; None (no bound) past the calendar's first or last day."""
    try:
        return moment + by
    except OverflowError:
        return None


def _list(text: str | None) -> list[str]:
    """A comma list's items, stripped, empty ones dropped."""
    if text is None:
        return []
    return [item.strip() for item in text.split(",") if item.strip()]


def _case_number(text: str) -> int:
    number = parse_case_number(text)
    if number is None:
        raise QueryError("service_request_id", f"{text[:40]!r} is not a request id of ours")
    return number


def _status(text: str | None) -> bool | None:
    words = {word.lower() for word in _list(text)}
    unknown = sorted(words - set(_STATUSES))
    if unknown:
        raise QueryError("status", f"{unknown[0][:40]!r} is neither open nor closed")
    if len(words) == 1:
        return words == {"open"}
    return None
