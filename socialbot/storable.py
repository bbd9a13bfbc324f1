"""Text from outside made storable: what PostgreSQL and SQLite both take, whatever arrived.

Pure: adapters call it on every string they hand the core, so that no post can fail an insert.
"""

from __future__ import annotations

import json
from typing import Any


def clean_text(value: str) -> str:
    """`value` as any database can store it: without NUL (PostgreSQL refuses it in text), and
    each lone surrogate (UTF-8 has none) made U+FFFD. No resident meant either."""
    value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in value)
    return value


def storable_json(value: Any) -> str:
    """`value` as JSON text any database can store, however odd it is: lone surrogates escaped
    (JSON escapes NUL itself), and whatever JSON cannot say, given as its text."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, TypeError, RecursionError):
        return json.dumps({"unstorable": clean_text(repr(value)[:10_000])})
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(value, ensure_ascii=True, default=str)
    return text
