"""Record keys we choose ourselves: a TID (timestamp identifier) per post, named from the outbox
row, so that a retry after a lost answer names the same record and a crash between posting and
recording is healed by reading that record back, never by posting again.

A TID is 64 bits written as 13 characters of base32-sortable ("234567abcdefghijklmnopqrstuvwxyz",
so that text order is time order): the top bit 0, then 53 bits of microseconds since the Unix
epoch, then 10 bits of "clock id". Ours takes the time from the draft's `created_at` and the clock
id from a digest of its key (SHA-256, never Python's `hash()`, which changes between runs), so
the same draft always gets the same key and two drafts of one microsecond most likely not.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
LENGTH = 13
_TIMESTAMP_BITS = 53
_CLOCK_BITS = 10
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# The first character carries the top bit, which is always 0: only the first 16 letters.
_TID = re.compile(f"[{ALPHABET[:16]}][{ALPHABET}]{{{LENGTH - 1}}}")


def record_key(key: str, created_at: datetime) -> str:
    """The TID of the post an outbox row with idempotency `key`, queued at `created_at`, is
    published as. A naive `created_at` is UTC (as the database gives it back). ValueError for a
    time before 1970 or after the 53 bits of microseconds run out (in the year 2255)."""
    when = created_at if created_at.tzinfo is not None else created_at.replace(tzinfo=UTC)
    delta = when - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    if not 0 <= micros < 1 << _TIMESTAMP_BITS:
        raise ValueError(f"no record key for a post created at {created_at.isoformat()}")
    digest = hashlib.sha256(key.encode("utf-8", errors="surrogatepass")).digest()
    clock_id = int.from_bytes(digest[:2], "big") & ((1 << _CLOCK_BITS) - 1)
    return _encode((micros << _CLOCK_BITS) | clock_id)


def _encode(value: int) -> str:
    chars = []
    for _ in range(LENGTH):
        chars.append(ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_tid(value: str) -> bool:
    """Whether `value` is a TID as atproto writes them (13 characters, top bit 0)."""
    return isinstance(value, str) and _TID.fullmatch(value) is not None


def tid_time(value: str) -> datetime:
    """The time a TID names (microseconds, UTC). ValueError if `value` is not a TID."""
    if not is_tid(value):
        raise ValueError(f"not a TID: {value[:20]!r}")
    number = 0
    for char in value:
        number = number * 32 + ALPHABET.index(char)
    micros = number >> _CLOCK_BITS
    return _EPOCH + timedelta(microseconds=micros)
