"""Reading a network's JSON answer, whose every value came from outside: the small checks the
wire modules share (Mastodon's, Bluesky's), each failing with a `DataError` that says where."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from socialbot.errors import DataError
from socialbot.storable import clean_text

JSONObject = Mapping[str, Any]


def mapping(value: Any, where: str) -> JSONObject:
    """`value` if it is a JSON object; a DataError naming `where` otherwise."""
    if not isinstance(value, Mapping):
        raise DataError(f"{where}: expected a JSON object, got {kind(value)}")
    return value


def kind(value: Any) -> str:
    """What `value` is, as a message says it: "null", "list", "int"."""
    return "null" if value is None else type(value).__name__


def short(value: Any) -> str:
    """`value` for a message: its repr, storable and cut to 80 characters."""
    return clean_text(repr(value))[:80]
