"""How a text is sent as SMS: its encoding, its length in that encoding, its segments.

A text every character of which is in the GSM 03.38 default alphabet (3GPP TS 23.038 §6.2.1)
or its extension table (§6.2.1.1) is sent in GSM-7: a character of the alphabet is one septet,
one of the extension table (`\\f ^ { } \\ [ ] ~ | €`) two (the escape 0x1B and its code).
Any other character, even one, sends the whole text in UCS-2, counted as UTF-16 code units: a
character outside the Basic Multilingual Plane (most emoji) is two, a surrogate pair. No national
language shift table is assumed (US carriers use none: "á" forces UCS-2 though "é" does not).

One segment holds 160 septets or 70 units; a longer text is sent concatenated, each segment's
user-data header leaving 153 septets or 67 units. A segment never ends between the two septets of
an escape or the two units of a surrogate pair: the pair moves to the next segment whole, as
carriers and Twilio split and count it, so a text's segments are not always its units / 153
rounded up.

Not modelled: Twilio's optional "smart encoding" (a Messaging Service setting that replaces
curly quotes and the like by GSM characters before sending). A text is measured as written.
"""

from __future__ import annotations

import enum
import itertools
from dataclasses import dataclass

# 3GPP TS 23.038 §6.2.1, the default alphabet in code order (0x00–0x7F), without 0x1B (the
# escape to the extension table, which is no character).
_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ" + "ÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# §6.2.1.1, the extension table's characters and their codes (each sent after 0x1B).
_EXTENSION = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}
_ESCAPE = 0x1B
_CODES = {char: code for code, char in enumerate(_ALPHABET[:0x1B])} | {
    char: code for code, char in enumerate(_ALPHABET[0x1B:], start=0x1C)
}
GSM7_CHARACTERS = frozenset(_CODES) | frozenset(_EXTENSION)

SINGLE_GSM7 = 160  # septets in a text sent as one segment
CONCATENATED_GSM7 = 153  # septets a segment of a longer text (the header takes 7)
SINGLE_UCS2 = 70  # UTF-16 code units in one segment
CONCATENATED_UCS2 = 67


class Encoding(enum.StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True, slots=True)
class SmsMeasure:
    """A text as SMS: its `encoding`, its length in `units` of it (septets for GSM-7, UTF-16
    code units for UCS-2), and the `segments` it is sent (and billed) as. The empty text is 0
    segments: there is nothing to send."""

    encoding: Encoding
    units: int
    segments: int


def encoding_of(text: str) -> Encoding:
    """GSM-7 when every character of `text` has a GSM-7 code, else UCS-2."""
    return Encoding.GSM7 if GSM7_CHARACTERS.issuperset(text) else Encoding.UCS2


def _weights(text: str, encoding: Encoding) -> list[int]:
    """Each character's units in `encoding`: 1 or 2 (an escape pair, a surrogate pair). A lone
    surrogate is one UTF-16 code unit, as `str.encode("utf-16", "surrogatepass")` writes it."""
    if encoding is Encoding.GSM7:
        return [2 if char in _EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _split_points(weights: list[int], encoding: Encoding) -> list[int]:
    """Where each segment after the first starts (character indexes), never inside a pair."""
    single, each = (
        (SINGLE_GSM7, CONCATENATED_GSM7)
        if encoding is Encoding.GSM7
        else (SINGLE_UCS2, CONCATENATED_UCS2)
    )
    if sum(weights) <= single:
        return []
    starts: list[int] = []
    room = each
    for index, weight in enumerate(weights):
        if weight > room:
            starts.append(index)
            room = each
        room -= weight
    return starts


def measure(text: str) -> SmsMeasure:
    """`text` as SMS (see the module docstring). Never raises, whatever the `str`."""
    encoding = encoding_of(text)
    weights = _weights(text, encoding)
    segments = 1 + len(_split_points(weights, encoding)) if text else 0
    return SmsMeasure(encoding, sum(weights), segments)


def segments(text: str) -> int:
    """The segments `text` is sent as: the measure of the SMS `TextRules`."""
    return measure(text).segments


def parts(text: str) -> tuple[str, ...]:
    """`text` cut where its segments are cut: what each segment carries, in order. Joined they
    are `text`; the empty text has none."""
    if not text:
        return ()
    encoding = encoding_of(text)
    bounds = [0, *_split_points(_weights(text, encoding), encoding), len(text)]
    return tuple(text[start:end] for start, end in itertools.pairwise(bounds))


def gsm7_septets(text: str) -> bytes:
    """`text` in GSM-7, one septet a byte (unpacked): an extension character as 0x1B and its
    code. Raises `ValueError` naming the first character GSM-7 has no code for."""
    septets = bytearray()
    for char in text:
        if char in _EXTENSION:
            septets += bytes((_ESCAPE, _EXTENSION[char]))
        elif char in _CODES:
            septets.append(_CODES[char])
        else:
            raise ValueError(f"text: {char!r} (U+{ord(char):04X}) has no GSM-7 code")
    return bytes(septets)
