"""SMS through Twilio: the only module that imports `twilio` for the channel's REST calls.

What residents text is not fetched from Twilio: the web service's webhook records each text in
`sms_inbound` (`sms.record`), and `fetch_mentions` reads those rows through the store, in id
order, each made a mention by `wire` (and, again, the recent rows below the cursor that are no
mention yet: on PostgreSQL two requests at once may commit their ids out of order, and a poll
between the two commits would otherwise step past the lower one for good), and an MMS's photos
are fetched from Twilio into the media folder (`photos`: the account's credentials to
api.twilio.com only). Publishing is one REST call, `POST Messages.json`, made through the
`twilio` package's client (its auth, user agent and host), its answer read by `wire` as Twilio
sent it. Twilio's failures are translated
here, at the boundary:

    429, or Twilio code 20429            → RateLimited (Retry-After when sent; Twilio documents
                                           none, and the outbox then holds for its minute)
    401, 403                             → AuthFailed (names SOCIALBOT_TWILIO_AUTH_TOKEN)
    code 21610 (the number opted out)    → OptedOut, a Rejected that never names the number
    other 4xx                            → Rejected (Twilio's own message and code)
    5xx, timeouts, connection errors     → Unavailable; `maybe_done` for the POST

Twilio keeps no idempotency key: after a lost answer, `published` lists our messages to the
draft's number and finds the draft by its text.

`socialbot run` polls and sends it (`app.NETWORKS["sms"]`). STOP is honoured by the outbox, not
here: a row whose recipient said STOP is never sent, and `OptedOut` (21610) records their STOP.
The send rate (segments a second) is the outbox's `Pacer`; `check_account` is `doctor`'s call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import Engine, exists, select
from sqlalchemy.exc import SQLAlchemyError

from socialbot.domain import Mention, PostRef
from socialbot.errors import (
    AuthFailed,
    DataError,
    OptedOut,
    RateLimited,
    Rejected,
    Unavailable,
)
from socialbot.networks.base import Draft, Endpoints, Malformed, MediaRules, MentionPage, Receipt
from socialbot.networks.metering import UnbilledCalls
from socialbot.networks.sms import wire
from socialbot.networks.sms.photos import PhotoFetch
from socialbot.networks.timeline import same_text
from socialbot.sms.phone import is_sid, mask, masked_in, parse
from socialbot.sms.rules import sms_text_rules
from socialbot.sms.segments import segments
from socialbot.store.models import MentionRecord, SmsInbound
from socialbot.text_rules import TextRules
from socialbot.usage import ApiCall, Charge, Meter, Prices

log = logging.getLogger(__name__)

API = "https://api.twilio.com/2010-04-01"
# The endpoints, as metered, held and shown. Mentions are no call to Twilio: the webhook's rows.
INBOUND = "sms_inbound"
POST_MESSAGE = "POST /2010-04-01/Messages"
LIST_MESSAGES = "GET /2010-04-01/Messages"
GET_ACCOUNT = "GET /2010-04-01/Accounts"  # doctor's check of the credentials
ENDPOINTS = Endpoints(mentions=INBOUND, post=POST_MESSAGE, own_posts=LIST_MESSAGES)

# A text committed after a later one is looked for this far below the cursor: the webhook's
# requests at once are a few dozen; within the hour, so that a row that is no mention (one
# written by hand) is not read for ever.
LATE_IDS = 1000
LATE_FOR = timedelta(hours=1)
PAGE = 100  # recorded texts a page: one page is one intake transaction
MAX_PAGES = 20  # a deeper backlog is caught up on the next poll
LIST_PAGE = 50  # our messages to one number, newest first, looked through after a lost answer
LIST_PAGES = 4
TOKEN_SETTING = "SOCIALBOT_TWILIO_AUTH_TOKEN"
RATE_LIMIT_CODE = 20429
OPTED_OUT_CODE = 21610
_MOMENTARY = (408, 425)  # client errors that mean "not now"

# SMS sends no photos here (MMS out is not built): no media at all.
SMS_MEDIA = MediaRules(
    network="SMS",
    suffixes=(),
    max_bytes=0,
    max_count=0,
    max_alt_text=0,
    id_lifetime=timedelta(0),
)


@dataclass(frozen=True, slots=True)
class TwilioCredentials:
    """The account, its auth token and what we send from: our number in E.164 or a Messaging
    Service SID (`MG…`)."""

    account_sid: str
    auth_token: str
    sender: str

    def __repr__(self) -> str:  # never the token, nor our number in full
        return f"TwilioCredentials({self.account_sid!r}, ****, {mask_sender(self.sender)!r})"

    @property
    def is_service(self) -> bool:
        return is_sid(self.sender, ("MG",))


def mask_sender(sender: str) -> str:
    return sender if is_sid(sender, ("MG",)) else mask(sender)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _client(credentials: TwilioCredentials, timeout: float) -> Any:
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    return Client(
        credentials.account_sid,
        credentials.auth_token,
        http_client=TwilioHttpClient(timeout=timeout),
    )


class SmsNetwork:
    """The `Network` for one Twilio sender. Every REST call is reported to `meter` under
    `account`'s name; a text sent is charged by its segments (`Charge.SMS_SEGMENT`), what
    Twilio bills it by, and its receipt's `cost` is those segments at `price_per_segment`: the
    price Twilio sets comes only once the carrier took the text, never in the answer to a send."""

    name = wire.PLATFORM
    endpoints = ENDPOINTS

    def __init__(
        self,
        credentials: TwilioCredentials,
        engine: Engine | None,
        *,
        account: str = "intake",
        meter: Meter | None = None,
        clock: Callable[[], datetime] = _utc_now,
        page_size: int = PAGE,
        timeout: float = 30.0,
        price_per_segment: float = Prices().sms_segment,
        media_dir: Path | None = None,
    ) -> None:
        self._credentials, self._engine = credentials, engine
        self._meter, self._price = meter, price_per_segment
        self._account, self._clock = account, clock
        self._calls = UnbilledCalls(meter, self.name, account, clock)
        self._page_size = page_size
        self._api = _client(credentials, timeout)
        self._messages = f"{API}/Accounts/{credentials.account_sid}/Messages.json"
        self._account_url = f"{API}/Accounts/{credentials.account_sid}.json"
        self._rules = sms_text_rules()
        # Where an MMS's photos are kept (`photos`); None: a text's photos are not fetched, and
        # the mention goes on without them (its Twilio address is never the case's photo).
        self._photos = (
            PhotoFetch(credentials.account_sid, credentials.auth_token, media_dir)
            if media_dir is not None
            else None
        )

    # --- the Network protocol --------------------------------------------------------------

    @property
    def text_rules(self) -> TextRules:
        return self._rules

    @property
    def media_rules(self) -> MediaRules:
        return SMS_MEDIA

    def own_user_id(self) -> str:
        """What we send from, as configured: no call (Twilio has no "who am I" for a number)."""
        return self._credentials.sender

    def fetch_mentions(self, user_id: str, cursor: str | None) -> list[MentionPage]:
        """The recorded texts after `cursor` (a row id of `sms_inbound`; None: from the first),
        oldest first in pages of `page_size`, returned newest page first, each page's cursor
        its newest row's id. A row that cannot be read is a `Malformed` of its page."""
        after = _row_id(cursor)
        # Only their mentions: a malformed one was reported when it was read the first time.
        late = [m for m in map(wire.parse_row, self._late_rows(after)) if isinstance(m, Mention)]
        pages: list[MentionPage] = []
        while len(pages) < MAX_PAGES:
            rows = self._rows(after)
            if not rows and not (late and not pages):
                break
            items = [*(late if not pages else ()), *(wire.parse_row(row) for row in rows)]
            after = max((int(row["id"]) for row in rows), default=after)
            pages.append(
                MentionPage(
                    mentions=tuple(i for i in items if not isinstance(i, Malformed)),
                    malformed=tuple(i for i in items if isinstance(i, Malformed)),
                    cursor=str(after),
                )
            )
            if len(rows) < self._page_size:
                break
        else:
            log.warning("event=mentions_page_cap network=sms pages=%d", MAX_PAGES)
        return list(reversed(self._with_photos(pages))) or [MentionPage(mentions=())]

    def _with_photos(self, pages: list[MentionPage]) -> list[MentionPage]:
        """The pages' photos fetched into the media folder (`photos`), or, without one, left
        out and said missing: a private text's Twilio address is never a case's photo."""
        if self._photos is not None:
            return self._photos.kept(pages)
        return [
            replace(
                page,
                mentions=tuple(
                    replace(
                        m,
                        media=(),
                        missing=(*m.missing, f"{len(m.media)} photo(s) not kept: no media folder"),
                    )
                    if m.media
                    else m
                    for m in page.mentions
                ),
            )
            for page in pages
        ]

    def _rows(self, after: int) -> list[dict[str, Any]]:
        table = SmsInbound.__table__  # type: ignore[attr-defined]
        return self._read(table.c.id > after)

    def _late_rows(self, after: int) -> list[dict[str, Any]]:
        """The rows at or below the cursor `after`, recent, whose text is no mention yet: those
        committed after a later row the cursor moved past (module docstring)."""
        if after <= 0:
            return []
        table = SmsInbound.__table__  # type: ignore[attr-defined]
        mentions = MentionRecord.__table__  # type: ignore[attr-defined]
        return self._read(
            table.c.id > after - LATE_IDS,
            table.c.id <= after,
            table.c.received_at >= self._clock() - LATE_FOR,
            ~exists().where(
                mentions.c.platform == wire.PLATFORM, mentions.c.post_id == table.c.message_sid
            ),
        )

    def _read(self, *where: Any) -> list[dict[str, Any]]:
        table = SmsInbound.__table__  # type: ignore[attr-defined]
        query = (
            select(*(table.c[name] for name in wire.COLUMNS))
            .where(*where)
            .order_by(table.c.id)
            .limit(self._page_size)
        )
        if self._engine is None:  # built only to send or be checked (`doctor`)
            raise Unavailable("the recorded texts cannot be read: this adapter has no database")
        try:
            with self._engine.connect() as connection:
                return [dict(row) for row in connection.execute(query).mappings()]
        except SQLAlchemyError as exc:
            raise Unavailable(f"the recorded texts cannot be read: {type(exc).__name__}") from exc

    def publish(self, draft: Draft) -> Receipt:
        """Text `draft` to its recipient, else the number of the text it answers
        (`reply_to.context`), from our number or Messaging Service. A draft with neither has no
        one to go to."""
        number = _recipient(draft)
        data = {"To": number, "Body": draft.text}
        data["MessagingServiceSid" if self._credentials.is_service else "From"] = (
            self._credentials.sender
        )
        billed = segments(draft.text)
        answer = self._call(
            "POST", POST_MESSAGE, self._messages, data=data, posting=True, segments=billed
        )
        try:
            sent = wire.parse_message(wire.loads(answer.content))
        except DataError as exc:  # a 2xx without a SID: the text was probably taken
            raise Unavailable(
                f"Twilio answered without a message SID: {exc}", maybe_done=True
            ) from exc
        log.info("event=published network=sms sid=%s to=%s", sent.sid, mask(number))
        return Receipt(ref=PostRef(sent.sid, number), budget=None, cost=billed * self._price)

    def check_account(self) -> wire.TwilioAccount:
        """`doctor`'s one call: `GET Accounts/{sid}.json`, which the auth token must open (401
        otherwise) and whose `status` says whether the account may send (`active`)."""
        answer = self._call("GET", GET_ACCOUNT, self._account_url)
        try:
            return wire.parse_account(wire.loads(answer.content))
        except DataError as exc:
            raise Unavailable(f"Twilio served an account that cannot be read: {exc}") from exc

    def upload_media(self, path: Path, alt_text: str) -> str:
        raise Rejected("SMS sends no photos: a text goes out as text alone", parameter="media")

    def published(
        self, user_id: str, drafts: Sequence[Draft], since: datetime
    ) -> Mapping[str, Sequence[PostRef]]:
        """Of interrupted `drafts`, the ones among our messages to their numbers since `since`,
        found by their text (`timeline.same_text`), newest first. Listed by `To` (and `From`
        for a number; a service's messages are told by their `messaging_service_sid`), not by
        `DateSent`: a text Twilio still queues has no date sent, and would be missed."""
        found: dict[str, list[PostRef]] = {}
        for draft in drafts:
            try:
                number = _recipient(draft)
            except Rejected:
                continue  # never sent: `publish` refuses a draft with no number
            wanted = same_text(draft.text)
            hits = [
                PostRef(m.sid, number)
                for m in self._ours_to(number, since)
                if same_text(m.body) == wanted
            ]
            if hits:
                found[draft.key] = hits
        return found

    def _ours_to(self, number: str, since: datetime) -> list[wire.SentMessage]:
        params = {"To": number, "PageSize": str(LIST_PAGE)}
        if not self._credentials.is_service:
            params["From"] = self._credentials.sender
        url: str | None = self._messages
        messages: list[wire.SentMessage] = []
        for _ in range(LIST_PAGES):
            if url is None:
                break
            answer = self._call("GET", LIST_MESSAGES, url, params=params)
            try:
                page, following = wire.parse_message_page(wire.loads(answer.content))
            except DataError as exc:
                raise Unavailable(
                    f"Twilio served a message list that cannot be read: {exc}"
                ) from exc
            messages.extend(m for m in page if self._sent_by_us(m) and m.to == number)
            oldest = min((m.created_at for m in page if m.created_at), default=None)
            if oldest is not None and oldest < since:
                break
            url, params = (f"https://api.twilio.com{following}" if following else None), {}
        return [m for m in messages if m.created_at is None or m.created_at >= since]

    def _sent_by_us(self, message: wire.SentMessage) -> bool:
        ours = self._credentials.sender
        return message.service == ours if self._credentials.is_service else message.sender == ours

    # --- the boundary ----------------------------------------------------------------------

    def _call(
        self,
        method: str,
        endpoint: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        data: dict[str, str] | None = None,
        posting: bool = False,
        segments: int = 0,
    ) -> Any:
        """One REST call through the twilio client, its failure one of our errors, the call
        reported to the meter answered or not; a text taken is charged its `segments`."""
        try:
            answer = self._api.request(method, url, params=params, data=data)
        except requests.RequestException as exc:
            message = f"Twilio unreachable: {type(exc).__name__}"
            self._calls.report(endpoint, status=None, error=message)
            raise Unavailable(message, maybe_done=posting) from exc
        status = int(answer.status_code)
        if 200 <= status < 300:
            if segments and self._meter is not None:
                self._meter.record(
                    ApiCall(
                        network=self.name,
                        account=self._account,
                        endpoint=endpoint,
                        at=self._clock(),
                        status=status,
                        charge=Charge.SMS_SEGMENT,
                        units=segments,
                    )
                )
            else:
                self._calls.report(endpoint, status=status, units=1)
            return answer
        error = self._error(status, answer, posting=posting)
        self._calls.report(endpoint, status=status, error=str(error))
        raise error

    def _error(self, status: int, answer: Any, *, posting: bool) -> Exception:
        said = wire.parse_error(answer.content if isinstance(answer.content, str) else "")
        # Twilio's message may quote the number (21211: "The 'To' number +1… is not valid"), and
        # it becomes the outbox row's stored and shown error: masked here, at the boundary.
        text = f": {masked_in(said.message)}" if said.message else ""
        code = f" (code {said.code})" if said.code is not None else ""
        if status == 429 or said.code == RATE_LIMIT_CODE:
            reset_at = _retry_after(answer.headers, self._clock())
            return RateLimited(f"Twilio asked us to slow down ({status}){code}", reset_at)
        if status in (401, 403):
            return AuthFailed(
                f"Twilio refused the credentials ({status}){code}{text}; check "
                f"{TOKEN_SETTING} and SOCIALBOT_TWILIO_ACCOUNT_SID"
            )
        if said.code == OPTED_OUT_CODE:  # Twilio's message quotes no number, but say ours
            return OptedOut("the resident's number has opted out (STOP): Twilio sends it nothing")
        if 400 <= status < 500 and status not in _MOMENTARY:
            return Rejected(f"Twilio refused the message ({status}){code}{text}")
        return Unavailable(f"Twilio answered {status}{code}{text}", maybe_done=posting)


def _recipient(draft: Draft) -> str:
    """The number `draft` goes to: its `recipient` (an alert's subscriber), else that of the text
    it answers."""
    if draft.recipient is not None:
        field, number = "recipient", draft.recipient
    elif draft.reply_to is not None:
        field, number = "reply_to.context", draft.reply_to.context
    else:
        raise Rejected("an SMS goes to a person: this draft names no recipient nor a text")
    try:
        return parse(number, field).e164
    except DataError as exc:
        raise Rejected(str(exc), parameter="To") from exc


def _row_id(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
        # Only ever written by this adapter; read from the start, which intake deduplicates.
        log.warning("event=cursor_unreadable network=sms")
        return 0
    return int(cursor)


def _retry_after(headers: Any, now: datetime) -> datetime | None:
    """`Retry-After` in seconds, if Twilio sent one (it documents none for its REST API)."""
    value = headers.get("Retry-After") if headers is not None else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 7:
        return now + timedelta(seconds=int(value))
    return None
