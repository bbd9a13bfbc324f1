"""Phone numbers and Twilio's ids as settings and forms carry them; pure.

A phone number is personal data: `masked` is how any line shows one (all but its last two
digits hidden), and nothing else in socialbot prints one.
"""

from __future__ import annotations

import re

# E.164: a plus, a country code that does not start with 0, at most 15 digits in all.
_E164 = re.compile(r"\+[1-9][0-9]{1,14}", re.ASCII)
# Twilio's ids: two upper-case letters naming the kind (AC an account, MG a Messaging Service,
# SM/MM a message), then 32 hexadecimal digits.
_SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}", re.ASCII)
E164_MAX = 16  # "+" and 15 digits
SID_LENGTH = 34


def is_e164(value: str) -> bool:
    """`value` is a phone number as E.164 writes it, e.g. +14155550100."""
    return _E164.fullmatch(value) is not None


def is_sid(value: str, kinds: tuple[str, ...]) -> bool:
    """`value` is a Twilio id of one of `kinds` (e.g. ("SM", "MM")) as Twilio writes them."""
    return _SID.fullmatch(value) is not None and value[:2] in kinds


def masked(number: str) -> str:
    """`number` with every character but its last two digits hidden: +14155550100 →
    `**********00`. What is no E.164 number is hidden whole (its length at most 16 stars)."""
    if not is_e164(number):
        return "*" * min(len(number), E164_MAX)
    return "*" * (len(number) - 2) + number[-2:]


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
