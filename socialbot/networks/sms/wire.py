"""SMS's data, pure: a recorded inbound text (`sms_inbound`, as the webhook wrote it) made a
`Mention` or a `Malformed`, and Twilio's REST answers (a message, a page of messages, an error)
read from their JSON. Nothing here quotes a phone number in a reason: it is personal data.

A text is private (`Mention.public` False: the web never shows it), has no username (the
resident is their number) and carries its sender's number as the reply context, which is what
`publish` answers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from socialbot.domain import Media, MediaType, Mention
from socialbot.errors import DataError
from socialbot.networks.base import Malformed
from socialbot.sms.inbound import MESSAGE_KINDS
from socialbot.sms.phone import is_e164, is_sid
from socialbot.storable import clean_text, storable_json

PLATFORM = "sms"
# The columns of `sms_inbound` a mention is read from, as the adapter selects them.
COLUMNS = ("id", "message_sid", "sender", "body", "media", "received_at")
_PHOTO = "image/"


def parse_row(row: Mapping[str, Any]) -> Mention | Malformed:
    """One `sms_inbound` row as a mention, or a `Malformed` naming the column that cannot be
    read (a row written by hand, or by a later version): never an exception."""
    sid = row.get("message_sid")
    post_id = sid if isinstance(sid, str) and is_sid(sid, MESSAGE_KINDS) else None
    try:
        return _mention(row, post_id)
    except DataError as exc:
        return Malformed.of(post_id, exc, _auditable(row))


def _mention(row: Mapping[str, Any], post_id: str | None) -> Mention:
    if post_id is None:
        raise DataError("message_sid: not a Twilio message SID (SM or MM and 32 hex digits)")
    sender = row.get("sender")
    if not isinstance(sender, str) or not is_e164(sender):
        raise DataError("sender: not a phone number in E.164")
    body = row.get("body")
    if not isinstance(body, str):
        raise DataError("body: not text")
    received = row.get("received_at")
    if not isinstance(received, datetime):
        raise DataError("received_at: not a time")
    if received.tzinfo is None:  # SQLite hands back what UTCDateTime wrote: UTC, naive
        received = received.replace(tzinfo=UTC)
    return Mention(
        platform=PLATFORM,
        post_id=post_id,
        author_id=sender,
        author_username=None,
        text=clean_text(body),
        created_at=received.astimezone(UTC),
        media=_media(row.get("media"), post_id),
        reply_context=sender,
        public=False,
        raw=storable_json(_auditable(row)),
    )


def _media(value: Any, post_id: str) -> tuple[Media, ...]:
    """The MMS's photos; a file of another type (a vCard, a video) is not one, and is left
    out (Twilio keeps it; staff see it in its console)."""
    if not isinstance(value, list):
        raise DataError("media: not a list")
    photos = []
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise DataError(f"media[{index}]: not an object")
        url, kind = item.get("url"), item.get("content_type")
        if not isinstance(url, str) or not url.startswith("https://"):
            raise DataError(f"media[{index}].url: not an https URL")
        if not isinstance(kind, str):
            raise DataError(f"media[{index}].content_type: not text")
        if kind.lower().startswith(_PHOTO):
            photos.append(
                Media(
                    key=f"{post_id}/{index}",
                    type=MediaType.PHOTO,
                    url=clean_text(url),
                    preview_image_url=None,
                )
            )
    return tuple(photos)


def _auditable(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row as kept with its record: every column but the sender, which the record holds
    already as its author (one copy of a number, not two)."""
    kept = {k: v for k, v in row.items() if k != "sender"}
    received = kept.get("received_at")
    if isinstance(received, datetime):
        kept["received_at"] = received.isoformat()
    return kept


# --- Twilio's REST answers ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message of ours as Twilio shows it (`Messages.json`): its SID, whom it went to, from
    which number or service, its text and when Twilio took it."""

    sid: str
    to: str
    sender: str | None  # `from`: our number (None until a Messaging Service picked one)
    service: str | None  # `messaging_service_sid`
    body: str
    created_at: datetime | None

    def __repr__(self) -> str:  # never the number in full
        return f"SentMessage(sid={self.sid!r}, to={self.to[-2:]!r}…)"


@dataclass(frozen=True, slots=True)
class TwilioError:
    """Twilio's error body: its error code (21610, 20429, …) and message, when it sent them."""

    code: int | None
    message: str


def loads(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError, TypeError):
        raise DataError("the answer is not JSON") from None


def parse_message(payload: Any) -> SentMessage:
    """One message resource; DataError naming the field it lacks."""
    if not isinstance(payload, Mapping):
        raise DataError("message: not an object")
    sid = payload.get("sid")
    if not isinstance(sid, str) or not is_sid(sid, MESSAGE_KINDS):
        raise DataError("sid: not a Twilio message SID")
    to = payload.get("to")
    if not isinstance(to, str):
        raise DataError("to: not text")
    sender, service, body = (
        payload.get("from"),
        payload.get("messaging_service_sid"),
        payload.get("body"),
    )
    return SentMessage(
        sid=sid,
        to=to,
        sender=sender if isinstance(sender, str) else None,
        service=service if isinstance(service, str) else None,
        body=body if isinstance(body, str) else "",
        created_at=_twilio_time(payload.get("date_created")),
    )


def parse_message_page(payload: Any) -> tuple[list[SentMessage], str | None]:
    """A page of `Messages.json` (newest first, as Twilio lists them): the messages that can
    be read (one that cannot is no message of ours to find) and the next page's URI."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("messages"), list):
        raise DataError("messages: missing from the page")
    messages = []
    for item in payload["messages"]:
        try:
            messages.append(parse_message(item))
        except DataError:
            continue
    following = payload.get("next_page_uri")
    return messages, following if isinstance(following, str) and following else None


@dataclass(frozen=True, slots=True)
class TwilioAccount:
    """The account as Twilio answers `GET Accounts/{sid}.json`: its SID, name and standing
    (`active`, `suspended`, `closed`)."""

    sid: str
    friendly_name: str
    status: str


def parse_account(payload: Any) -> TwilioAccount:
    """The account resource; DataError naming the field it lacks. Its name is made one short
    line (it is shown by `doctor`)."""
    if not isinstance(payload, Mapping):
        raise DataError("account: not an object")
    sid, name, status = payload.get("sid"), payload.get("friendly_name"), payload.get("status")
    if not isinstance(sid, str) or not is_sid(sid, ("AC",)):
        raise DataError("sid: not a Twilio account SID")
    if not isinstance(status, str) or not status.isprintable() or len(status) > 32:
        raise DataError("status: not text")
    shown = " ".join(name.split())[:80] if isinstance(name, str) else ""
    return TwilioAccount(sid, "".join(c for c in shown if c.isprintable()), status)


def parse_error(text: str) -> TwilioError:
    """Twilio's error body (`{"code": 21610, "message": …, "more_info": …, "status": 400}`),
    what of it can be read; an answer that is no such body is an error without a code."""
    try:
        payload = loads(text)
    except DataError:
        return TwilioError(None, "")
    if not isinstance(payload, Mapping):
        return TwilioError(None, "")
    code, message = payload.get("code"), payload.get("message")
    return TwilioError(
        code if isinstance(code, int) and not isinstance(code, bool) else None,
        " ".join(message.split())[:300] if isinstance(message, str) else "",
    )


def _twilio_time(value: Any) -> datetime | None:
    """Twilio's RFC 2822 times ("Thu, 30 Jul 2015 20:12:31 +0000"), in UTC."""
    if not isinstance(value, str):
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
