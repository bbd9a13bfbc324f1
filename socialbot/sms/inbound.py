"""Twilio's inbound message request (a form: `MessageSid`, `From`, `To`, `Body`, `NumMedia`,
`MediaUrl{N}`, `MediaContentType{N}`, and whatever Twilio adds) → `InboundText`, or `Unreadable`
with a one-line reason naming the field; pure.

Only what socialbot records is checked: the message's id, its sender and our number, the body and
the media. Every other field, known or not, is kept as posted in `InboundText.form` and never an
error: Twilio adds parameters without notice. A reason never quotes a value, which may be a
phone number.

The kept form is for audit (what Twilio sent, its new fields included), not a second record of
the resident: the fields that name the sender (`From`, which `sender` holds already, and the
place Twilio derives from the number: `FromCity`, `FromState`, `FromZip`; WhatsApp's `WaId` and
`ProfileName`) are left out of it, and a phone number in any other field is masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from socialbot.sms.phone import is_e164, is_sid, masked_in
from socialbot.storable import clean_text, storable_json

# The fields of the form about the sender, not the message: kept once (`sender`) or not at all.
SENDER_FIELDS = frozenset({"From", "FromCity", "FromState", "FromZip", "WaId", "ProfileName"})
# An inbound text's id: SM… (SMS) or MM… (MMS, on older accounts).
MESSAGE_KINDS = ("SM", "MM")
# A short code, which is what `To` is when residents text the city's five- or six-digit number.
_SHORT_CODE = re.compile(r"[0-9]{3,8}", re.ASCII)
# Twilio sends at most 10 media a message; two digits leave room without reading a huge number.
_MEDIA_COUNT = re.compile(r"[0-9]{1,2}", re.ASCII)


@dataclass(frozen=True, slots=True)
class Media:
    """One photo (or other file) of an MMS: where Twilio keeps it and what it says it is."""

    url: str
    content_type: str


@dataclass(frozen=True, slots=True)
class InboundText:
    """One inbound text as socialbot records it. `sender` is personal data: show it only through
    `sms.phone.mask`."""

    message_sid: str
    sender: str  # E.164
    recipient: str  # E.164, or a short code
    body: str  # storable (`storable.clean_text`)
    media: tuple[Media, ...]
    form: str  # every field as posted, storable JSON: {name: value, or [values] when repeated}

    def __repr__(self) -> str:  # never the number in full, wherever a text is printed
        return f"InboundText(message_sid={self.message_sid!r}, sender={self.sender[-2:]!r}…)"


@dataclass(frozen=True, slots=True)
class Unreadable:
    """Why a form is not an inbound text, one line naming the field."""

    reason: str


def read_form(pairs: Sequence[tuple[str, str]]) -> InboundText | Unreadable:
    """The form's fields, in the order posted, as an inbound text, or why they are not one."""
    fields = _Fields(pairs)
    sid = fields.one("MessageSid")
    if isinstance(sid, Unreadable):
        return sid
    if not is_sid(sid, MESSAGE_KINDS):
        return Unreadable("MessageSid: not a Twilio message SID (SM or MM and 32 hex digits)")
    sender = fields.one("From")
    if isinstance(sender, Unreadable):
        return sender
    if not is_e164(sender):
        return Unreadable("From: not a phone number in E.164 (+ and up to 15 digits)")
    recipient = fields.one("To")
    if isinstance(recipient, Unreadable):
        return recipient
    if not (is_e164(recipient) or _SHORT_CODE.fullmatch(recipient)):
        return Unreadable("To: neither a phone number in E.164 nor a short code")
    body = fields.one("Body", default="")
    if isinstance(body, Unreadable):
        return body
    media = _media(fields)
    if isinstance(media, Unreadable):
        return media
    return InboundText(
        message_sid=sid,
        sender=sender,
        recipient=recipient,
        body=clean_text(body),
        media=media,
        form=storable_json(fields.as_json()),
    )


def _media(fields: _Fields) -> tuple[Media, ...] | Unreadable:
    count = fields.one("NumMedia", default="0")
    if isinstance(count, Unreadable):
        return count
    if not _MEDIA_COUNT.fullmatch(count):
        return Unreadable("NumMedia: not a number of media from 0 to 99")
    media = []
    for index in range(int(count)):
        url = fields.one(f"MediaUrl{index}")
        if isinstance(url, Unreadable):
            return Unreadable(f"{url.reason} (NumMedia is {count})")
        content_type = fields.one(f"MediaContentType{index}", default="")
        if isinstance(content_type, Unreadable):
            return content_type
        media.append(Media(url=clean_text(url), content_type=clean_text(content_type)))
    return tuple(media)


class _Fields:
    """The form's values by name, each name's values in the order posted."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, list[str]] = {}
        for name, value in pairs:
            self._values.setdefault(name, []).append(value)

    def one(self, name: str, default: str | None = None) -> str | Unreadable:
        """`name`'s one value; `default` when it is absent (else it is missing); a name given
        twice is ambiguous, whatever its values."""
        values = self._values.get(name)
        if values is None:
            return default if default is not None else Unreadable(f"{name}: missing")
        if len(values) > 1:
            return Unreadable(f"{name}: given {len(values)} times; Twilio sends it once")
        return values[0]

    def as_json(self) -> dict[str, str | list[str]]:
        """The fields as kept for audit: every one but `SENDER_FIELDS`, a phone number in a
        value masked (`Body` is kept whole in its own column: it is what the resident said)."""
        return {
            name: masked_in(v[0]) if len(v) == 1 else [masked_in(x) for x in v]
            for name, v in self._values.items()
            if name not in SENDER_FIELDS
        }
