"""`POST /sms/twilio`: Twilio's inbound message request, recorded once and answered with empty
TwiML. The one route of the web service that writes.

Fail closed, in this order: no auth token configured (`TWILIO_AUTH_TOKEN`), a missing or wrong
`X-Twilio-Signature` (`sms.signature`, against `WEB_PUBLIC_URL`), each a 403 before the form is
read for anything else; a signed form that is no inbound text (`sms.inbound`), a 400 naming the
field; nothing recorded in any of them. A text is recorded once a `MessageSid`
(`sms.record`): Twilio's retry of one gets the same 200 and writes nothing. No phone number is
logged but masked (`sms.phone.mask`). Replies are not sent from here, nor yet anywhere.

No token is a 403, not a 503: the request cannot be told to be Twilio's, which is what a 403
says, and it is the same answer a bad signature gets, so a stranger's probe cannot learn whether
the city has set SMS up; a 503 would also read as an outage to a monitor, where a city without
SMS is merely a city without SMS.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine

from socialbot.config import Settings
from socialbot.errors import ConfigError
from socialbot.sms.inbound import Unreadable, read_form
from socialbot.sms.phone import mask
from socialbot.sms.record import record
from socialbot.sms.signature import SIGNATURE_HEADER, WEBHOOK_PATH, is_signed, signed_url
from socialbot.store.db import make_engine
from socialbot.web.context import Web

log = logging.getLogger(__name__)

PREFIX = "/sms/"
# What Twilio is answered when there is nothing to send back: an empty TwiML document.
EMPTY_TWIML = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
# An inbound request is a few kilobytes (a 1,600-character body percent-encoded, ten media URLs);
# a larger one is not Twilio's, and is refused before it is read whole.
MAX_BODY_BYTES = 64 * 1024
NO_STORE = {"cache-control": "no-store"}


@dataclass(slots=True)
class SmsWebhook:
    """What the webhook needs, built only when `TWILIO_AUTH_TOKEN` is set (`sms_webhook_of`):
    the token, the URL Twilio signs, and the one writing engine of the web service, made at the
    first text (the database may not exist yet when the service starts: the bot makes it)."""

    auth_token: str = field(repr=False)
    public_url: str
    database_url: str = field(repr=False)
    _engine: Engine | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def writer(self) -> Engine:
        """The writing engine (one a process); a ConfigError while the database does not
        exist."""
        with self._lock:
            if self._engine is None:
                self._engine = make_engine(self.database_url, create=False)
            return self._engine

    def dispose(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None


def sms_webhook_of(settings: Settings) -> SmsWebhook | None:
    """The webhook's needs from `settings`: None without an auth token (every request is then
    refused); a ConfigError when the token is set but not the address Twilio calls."""
    if settings.twilio_auth_token is None:
        return None
    if settings.web_public_url is None:
        raise ConfigError(
            "SOCIALBOT_WEB_PUBLIC_URL: not set; with SOCIALBOT_TWILIO_AUTH_TOKEN the SMS webhook "
            f"checks each request's signature against it + {WEBHOOK_PATH}, the address Twilio calls"
        )
    return SmsWebhook(
        auth_token=settings.twilio_auth_token.get_secret_value(),
        public_url=settings.web_public_url,
        database_url=settings.database_url,
    )


def install(app: FastAPI) -> None:
    """Add the webhook to `app`."""
    web: Web = app.state.web

    @app.post(
        WEBHOOK_PATH,
        tags=["sms"],
        summary="Twilio's inbound message request: recorded once, answered with empty TwiML",
        response_class=Response,
        responses={
            200: {"content": {"text/xml": {}}, "description": "Recorded, now or before"},
            400: {"description": "Signed, but no inbound text: the field that is wrong"},
            403: {"description": "No valid X-Twilio-Signature, or no auth token configured"},
            413: {"description": "A body larger than any inbound text"},
        },
    )
    async def twilio_inbound(request: Request) -> Response:
        sms = web.sms
        if sms is None:
            log.warning("event=sms_refused reason=no_auth_token")
            return error_response(403, "SMS is not configured here (no TWILIO_AUTH_TOKEN)")
        body = await _body(request)
        if body is None:
            log.warning("event=sms_refused reason=too_large")
            return error_response(413, f"request body: over {MAX_BODY_BYTES:,} bytes")
        # Twilio posts UTF-8; a byte that is not cannot be in what it signed, and fails below.
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        url = signed_url(sms.public_url, request.scope["query_string"].decode("latin-1"))
        if not is_signed(sms.auth_token, url, pairs, request.headers.get(SIGNATURE_HEADER)):
            reason = "bad_signature" if request.headers.get(SIGNATURE_HEADER) else "no_signature"
            log.warning("event=sms_refused reason=%s", reason)
            return error_response(403, "X-Twilio-Signature: missing or not Twilio's for this URL")
        text = read_form(pairs)
        if isinstance(text, Unreadable):
            log.warning("event=sms_unreadable reason=%r", text.reason)
            return error_response(400, text.reason)
        try:
            new = await run_in_threadpool(record, sms.writer(), text, web.clock())
        except ConfigError:  # the database is not there yet: the bot has not made it
            log.warning("event=sms_database_missing")
            return error_response(503, "the database cannot be written now; try again later")
        log.info("event=sms_inbound message_sid=%s from=%s media=%d new=%s",
                 text.message_sid, mask(text.sender), len(text.media), new)  # fmt: skip
        return Response(EMPTY_TWIML, headers={"content-type": "text/xml", **NO_STORE})


async def _body(request: Request) -> bytes | None:
    """The request's body, or None once it is longer than MAX_BODY_BYTES (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def error_response(status: int, description: str) -> Response:
    """The webhook's error body: the reason as one line of plain text (Twilio's debugger shows
    it)."""
    return Response(
        description + "\n", status_code=status, media_type="text/plain", headers=NO_STORE
    )
