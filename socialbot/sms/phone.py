"""Phone numbers as Twilio writes them (E.164), and masked wherever one would be shown.

A phone number is personal data: it is stored only to answer and to honour STOP, and never
logged or printed in full. `mask` hides all but its last two digits; `masked_in` does that to
every number in a free text (what `socialbot.logs` runs over every line it writes).
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from socialbot.errors import DataError

MIN_DIGITS = 8  # the shortest numbers in use (a few small countries' national numbers)
MAX_DIGITS = 15  # ITU-T E.164's longest
HIDDEN = "•"
SHOWN_DIGITS = 2

# What Twilio sends in `From`/`To` for a phone: "+", a country code (never 0), the rest.
_E164 = regex.compile(rf"\+[1-9][0-9]{{{MIN_DIGITS - 1},{MAX_DIGITS - 1}}}")
# In a free text: "+" (or its URL encoding, as a logged form body writes it) and 8 digits or
# more, however many more: a longer run is no valid number, and is hidden all the same.
_IN_TEXT = regex.compile(rf"(\+|%2[Bb])([0-9]{{{MIN_DIGITS},}})")


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """An E.164 number: "+" and 8 to 15 ASCII digits, the first not 0. Build it with `parse`.
    Its `str()` and `repr()` are masked: only `e164` spells it, for Twilio and the database."""

    e164: str

    def __post_init__(self) -> None:
        if not _E164.fullmatch(self.e164):
            raise DataError(_refusal("e164", self.e164))

    def __str__(self) -> str:
        return mask(self)

    def __repr__(self) -> str:
        return f"PhoneNumber({mask(self)!r})"


def parse(value: str, field: str = "From") -> PhoneNumber:
    """`value` (Twilio's `field`: `From`, `To`) as a `PhoneNumber`, or a `DataError` naming the
    field. Anything but E.164 is refused: a short code, an alphanumeric sender, a
    "whatsapp:" address, a number with spaces, or one whose "+" a form decoder made a space.
    The error never repeats the value: it could be a number."""
    if not isinstance(value, str) or not _E164.fullmatch(value):
        raise DataError(_refusal(field, value))
    return PhoneNumber(value)


def _refusal(field: str, value: object) -> str:
    got = f"{len(value)} characters" if isinstance(value, str) else type(value).__name__
    return (
        f"{field}: not an E.164 phone number ('+' and {MIN_DIGITS} to {MAX_DIGITS} digits, "
        f"the first not 0), got {got}"
    )


def mask(number: PhoneNumber | str) -> str:
    """`number` with all but its last two digits hidden: "+", one "•" for each hidden digit,
    the last two digits; "+15551234567" is "+•••••••••67". Its length stays visible (and so a
    hint of its country), nothing else. A text that is no E.164 number is masked as
    `masked_in` would mask it, or hidden whole if it holds no such number."""
    text = number.e164 if isinstance(number, PhoneNumber) else number
    if _E164.fullmatch(text):
        return _hidden(text[1:], "+")
    masked = masked_in(text)
    return masked if masked != text else HIDDEN * len(text)


def masked_in(text: str) -> str:
    """`text` with every E.164-looking number in it masked as `mask` does ("+" or "%2B" and
    8 digits or more, whatever comes before). A number written otherwise (with spaces, without
    its "+") is not recognised: ours are all written in E.164."""
    if "+" not in text and "%2" not in text:  # most log lines: skip the search
        return text
    return _IN_TEXT.sub(lambda found: _hidden(found.group(2), found.group(1)), text)


def _hidden(digits: str, plus: str) -> str:
    return plus + HIDDEN * (len(digits) - SHOWN_DIGITS) + digits[-SHOWN_DIGITS:]


# Twilio's ids: two upper-case letters naming the kind (AC an account, MG a Messaging Service,
# SM/MM a message), then 32 hexadecimal digits.
_SID = regex.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
SID_LENGTH = 34


def is_e164(value: str) -> bool:
    """`value` is a phone number as E.164 writes it (see `PhoneNumber`), e.g. +14155550100."""
    return _E164.fullmatch(value) is not None


def is_sid(value: str, kinds: tuple[str, ...]) -> bool:
    """`value` is a Twilio id of one of `kinds` (e.g. ("SM", "MM")) as Twilio writes them."""
    return _SID.fullmatch(value) is not None and value[:2] in kinds


def check_account_sid(value: str) -> str:
    """`value` as a Twilio account SID; a ValueError saying what one looks like."""
    value = value.strip()
    if not is_sid(value, ("AC",)):
        raise ValueError(
            "not a Twilio account SID: AC and 32 hexadecimal digits (the console's Account Info)"
        )
    return value


def check_sender(value: str) -> str:
    """`value` as what Twilio sends from: our number in E.164 or a Messaging Service SID; a
    ValueError saying which two it may be."""
    value = value.strip()
    if not (is_e164(value) or is_sid(value, ("MG",))):
        raise ValueError(
            "neither a phone number in E.164 (e.g. +16175550100) nor a Messaging Service SID "
            "(MG and 32 hexadecimal digits)"
        )
    return value


def check_auth_token(value: str) -> str:
    """`value` as a Twilio auth token; a ValueError (which never quotes it) when it cannot be
    one."""
    if not value or not value.isprintable() or any(c.isspace() for c in value):
        raise ValueError("empty, or holds spaces or control characters (copy it again)")
    return value
