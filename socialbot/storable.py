"""What text must be to be stored, the same on SQLite and PostgreSQL, whatever arrived.

SQLite stores a 200-character string in a VARCHAR(128) column and a NUL byte in TEXT; PostgreSQL
refuses both (DataError), and neither can store a lone surrogate (what JSON's "\\ud800" decodes
to, and what Python makes of bytes in a command-line argument that are not UTF-8). Two answers:

- from a network, text is *repaired* (`clean_text`, `storable_json`): a resident's post is never
  lost to a character nobody meant, and no post can fail an insert;
- from staff, text is *checked* (`check`) where it comes in, the command-line option or the CSV
  line, so the same input gets the same one-line answer on either database before anything is
  written.
"""

from __future__ import annotations

import json
import re
from typing import Any

from socialbot.errors import SocialbotError

_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """`value` as any database can store it: without NUL, and each lone surrogate made U+FFFD.
    No resident meant either."""
    value = value.replace("\x00", "")
    if _SURROGATE.search(value):
        value = _SURROGATE.sub("\ufffd", value)
    return value


def storable_json(value: Any) -> str:
    """`value` as JSON text any database can store, however odd it is: lone surrogates escaped
    (JSON escapes NUL itself), and whatever JSON cannot say, given as its text."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, TypeError, RecursionError):
        return json.dumps({"unstorable": clean_text(repr(value)[:10_000])})
    if _SURROGATE.search(text):
        return json.dumps(value, ensure_ascii=True, default=str)
    return text


def column_length(attribute: Any) -> int:
    """The VARCHAR length of a model's column, e.g. `column_length(CaseEvent.actor)` is 128."""
    length = attribute.property.columns[0].type.length
    assert isinstance(length, int), f"{attribute} has no length"
    return length


def problem(value: str, max_length: int | None = None) -> str | None:
    """Why `value` cannot be stored as typed, or None when it can."""
    if "\x00" in value:
        return "contains a NUL character (\\x00); remove it"
    if _SURROGATE.search(value):
        return "is not valid UTF-8 text (a byte the terminal or file did not encode); type it again"
    if max_length is not None and len(value) > max_length:
        return f"{len(value):,} characters; at most {max_length} fit"
    return None


def check(value: str, what: str, max_length: int | None = None) -> str:
    """`value`, or a SocialbotError `what: why` when it cannot be stored as typed."""
    why = problem(value, max_length)
    if why is not None:
        raise SocialbotError(f"{what}: {why}")
    return value
