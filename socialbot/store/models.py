"""The tables. Nothing is ever deleted: mentions, cases, events and outbox rows are the audit trail.

accounts ─┐ cursor (opaque, the network's) and looked-up user id per network account
mentions ─┼─▶ cases ◀── case_events
          └─▶ outbox (one row per reply; `dedupe_key` makes "at most one reply per post" a
                      database guarantee, not just a code path)
broadcasts ─▶ broadcast_runs ─▶ outbox (one row per post of the alert's thread(s))
storm_campaigns (at most one without `stopped_at`: storm mode is on)
api_usage, api_endpoints, api_failures (what X was asked, answered and billed: `socialbot usage`,
                                       `status`; failures older than 30 days are let go)
template_failures (replies that went out as the built-in fallback text: `status`)
job_failures (failed runs of the service's jobs, for `status`), rate_holds (X said wait: until when)
network_sessions (a network that signs in keeps its session here: Bluesky's tokens, a secret)
crm_requests (a case forwarded to the city's Open311 CRM: one row a case, its send and its sync)
closed_days (the city's own closures, a snow day: not business days for SLAs; opened again, kept)
mentions ─▶ inbox (a message that is not a report, nor answered, waits for staff: one row a message)
sms_inbound (a text Twilio posted to the webhook: one row a MessageSid; recorded, not yet read)
consent_events (every STOP and START of a recipient, as it came; never changed), subscriptions
(who asked for the city's alerts, for which district, in which language)
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from socialbot.domain import CaseStatus, InboxReason, InboxState, MentionOutcome
from socialbot.store.types import UTCDateTime, str_enum


class OutboxState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed; may or may not have reached the network (see outbox.recover)
    SENT = "sent"
    FAILED = "failed"


class Account(SQLModel, table=True):
    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("platform", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    name: str = Field(max_length=64)
    user_id: str | None = Field(default=None, max_length=64)
    username: str | None = Field(default=None, max_length=64)
    # Where the next poll starts: the network's own cursor, opaque (X: the newest post id seen;
    # Mastodon: the newest notification id), moved in the same transaction as the page it covers.
    cursor: str | None = Field(default=None, sa_type=Text)
    polled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Case(SQLModel, table=True):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status", "status"),
        Index("ix_cases_category", "category"),
        Index("ix_cases_created_at", "created_at"),
        Index("ix_cases_author", "platform", "author_id", "created_at"),  # the daily case limit
        Index("ix_cases_mention_post", "platform", "mention_post_id"),  # a reply's thread
        # The duplicate lookup: same category, in the grid cells around a point (see geocell).
        Index("ix_cases_nearby", "category", "cell", "created_at"),
        Index("ix_cases_due_at", "due_at"),
        Index("ix_cases_district", "district"),
    )

    id: int | None = Field(default=None, primary_key=True)
    category: str = Field(max_length=64)
    department: str = Field(max_length=128)
    priority: str = Field(max_length=16)
    status: CaseStatus = Field(sa_type=str_enum(CaseStatus))
    lat: float | None = None
    lon: float | None = None
    location_source: str = Field(max_length=16)
    place_name: str | None = Field(default=None, max_length=256)
    photo_urls: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    lang: str = Field(max_length=8)
    platform: str = Field(max_length=32)
    mention_post_id: str = Field(max_length=64)  # the post that opened it; replies thread here
    author_id: str = Field(max_length=64)
    author_username: str | None = Field(default=None, max_length=64)
    description: str = Field(default="", sa_type=Text)
    close_reason: str | None = Field(default=None, max_length=32)
    duplicate_of: int | None = Field(default=None, foreign_key="cases.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    district: str | None = Field(default=None, max_length=128)  # from SOCIALBOT_DISTRICTS
    cell: str | None = Field(default=None, max_length=12)  # geohash of the location
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # the category's SLA
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # People who reported this problem: the opener, plus each report linked as a duplicate and
    # each case staff merged into it.
    reporter_count: int = Field(default=1)
    # The opening post could be read by anyone (`Mention.public`). A case from a direct message
    # shows no words and no photo on the web service or in its Open311 answers.
    public: bool = Field(default=True)
    # The photos of `photo_urls` that came from public posts (the opener's, when public, and
    # those of public reports linked to it): the only ones the web service shows. A direct
    # message linked as a duplicate adds its photos for staff, never here.
    public_photo_urls: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    # The address as the resident wrote it ("123 Main St", "Main and 5th"), geocoded or not.
    address: str | None = Field(default=None, sa_type=Text)


class CaseEvent(SQLModel, table=True):
    __tablename__ = "case_events"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=128)
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str = Field(max_length=32)
    note: str = Field(default="", sa_type=Text)


class MentionRecord(SQLModel, table=True):
    __tablename__ = "mentions"
    __table_args__ = (
        UniqueConstraint("platform", "post_id"),
        Index("ix_mentions_author", "platform", "author_id", "received_at"),
        Index("ix_mentions_conversation", "platform", "conversation_id"),  # a reply's thread
        Index("ix_mentions_outcome", "platform", "outcome"),  # /metrics' counts
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    account: str = Field(max_length=64)
    post_id: str = Field(max_length=64)
    author_id: str = Field(max_length=64)
    author_username: str | None = Field(default=None, max_length=64)
    text: str = Field(sa_type=Text)
    lang: str | None = Field(default=None, max_length=8)
    conversation_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime)
    outcome: MentionOutcome = Field(sa_type=str_enum(MentionOutcome))
    detail: str = Field(default="", sa_type=Text)  # why: the hashtag matched, the reason ignored
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    raw: str = Field(sa_type=Text)
    # What the network needs to answer the post beside its id (`domain.PostRef.context`).
    reply_context: str = Field(default="", sa_type=Text)


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox"
    __table_args__ = (
        # Each (network, account) is a queue of its own: what it has due, oldest first.
        Index("ix_outbox_queue", "platform", "account", "state", "next_attempt_at"),
        Index("ix_outbox_posted_id", "posted_id"),  # a reply to our reply; recovering a send
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    account: str = Field(max_length=64)
    # e.g. "reply:x:1234567890": the unique index is what makes a second reply impossible.
    dedupe_key: str = Field(max_length=128, unique=True)
    in_reply_to_post_id: str | None = Field(default=None, max_length=64)
    # The rest of the reference to the post answered (`domain.PostRef.context`), and of ours.
    reply_context: str = Field(default="", sa_type=Text)
    mention_id: int | None = Field(default=None, foreign_key="mentions.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    template: str = Field(max_length=64)
    lang: str = Field(max_length=8)
    text: str = Field(sa_type=Text)
    state: OutboxState = Field(default=OutboxState.PENDING, sa_type=str_enum(OutboxState, 16))
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
    posted_id: str | None = Field(default=None, max_length=64)
    posted_context: str = Field(default="", sa_type=Text)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A photo to attach (`cases resolve --photo`): the absolute path of the file, which must stay
    # there until the reply is sent, and its alt text. `media_id` is set once uploaded, so a retry
    # posts without uploading again (see outbox.MEDIA_ID_FRESH for how long it is trusted). Text:
    # a network's id may be more than an id (Bluesky's is the uploaded blob's JSON with its alt).
    media_path: str | None = Field(default=None, sa_type=Text)
    media_alt: str | None = Field(default=None, sa_type=Text)
    media_id: str | None = Field(default=None, sa_type=Text)
    # A broadcast's post: its run, and for the 2nd post of a thread on, the row it threads under
    # (`in_reply_to_post_id` is filled from that row's `posted_id` when this one is claimed).
    broadcast_run_id: int | None = Field(default=None, foreign_key="broadcast_runs.id", index=True)
    after_id: int | None = Field(default=None, foreign_key="outbox.id")
    # Not posted by then: failed, never posted late (a broadcast's grace window).
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The one person this row is sent to (a reply's resident, an alert's subscriber: on SMS their
    # phone number, which is personal data); None for a post anyone reads. A recipient whose
    # newest `consent_events` row is a STOP is never sent anything.
    recipient: str | None = Field(default=None, max_length=64)


class BlockedAuthor(SQLModel, table=True):
    """An account staff blocked: its posts are recorded, but open nothing and get no reply."""

    __tablename__ = "blocked_authors"
    __table_args__ = (UniqueConstraint("platform", "username"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    username: str = Field(max_length=64)  # lower case, without '@'
    user_id: str | None = Field(default=None, max_length=64, index=True)  # when we have seen it
    blocked_at: datetime = Field(sa_type=UTCDateTime)
    blocked_by: str = Field(max_length=128)
    reason: str = Field(default="", sa_type=Text)


class BroadcastState(enum.StrEnum):
    SCHEDULED = "scheduled"  # waiting for `next_due_at`
    DONE = "done"  # its one run was made (how it went is on the run and its posts)
    CANCELLED = "cancelled"


class Broadcast(SQLModel, table=True):
    """A broadcast as comms staff asked for it: what to post, from which account, and when."""

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_due", "state", "next_due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    account: str = Field(max_length=64)
    template: str | None = Field(default=None, max_length=64)  # None: `texts` were given as is
    texts: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    variables: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    langs: str = Field(max_length=32)  # "en" or "en,es": the order they are posted in
    media_path: str | None = Field(default=None, sa_type=Text)
    media_alt: str | None = Field(default=None, sa_type=Text)
    at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # `--at`, once
    cron: str | None = Field(default=None, max_length=128)  # `--cron`, recurring
    timezone: str = Field(max_length=64)  # the city's, for `cron` and for showing times
    state: BroadcastState = Field(sa_type=str_enum(BroadcastState, 16))
    next_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    created_by: str = Field(max_length=128)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_by: str | None = Field(default=None, max_length=128)
    # `--district`: a name of SOCIALBOT_DISTRICTS as written there (None: the whole city). Only
    # a network whose broadcasts go to its subscribers reads it: that district's and the whole
    # city's subscribers are texted; a public post is one post for everyone.
    district: str | None = Field(default=None, max_length=128)


class RunState(enum.StrEnum):
    QUEUED = "queued"  # its posts are in the outbox: how each went is on its outbox row
    MISSED = "missed"  # due while the service was down, past the grace window: never posted
    FAILED = "failed"  # could not be rendered at its time (e.g. the template changed)


class BroadcastRun(SQLModel, table=True):
    """One time a broadcast went out (or should have): the unit of the audit log."""

    __tablename__ = "broadcast_runs"
    # One run per broadcast and due time: two schedulers firing together cannot post it twice.
    __table_args__ = (UniqueConstraint("broadcast_id", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    broadcast_id: int = Field(foreign_key="broadcasts.id", index=True)
    due_at: datetime = Field(sa_type=UTCDateTime)
    fired_at: datetime = Field(sa_type=UTCDateTime, index=True)
    state: RunState = Field(sa_type=str_enum(RunState, 16))
    campaign: str | None = Field(default=None, max_length=64)  # storm hashtag it carried
    error: str | None = Field(default=None, sa_type=Text)


class StormCampaign(SQLModel, table=True):
    """Storm mode: on while a row has no `stopped_at`."""

    __tablename__ = "storm_campaigns"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    hashtag: str = Field(max_length=64)  # without '#'
    started_at: datetime = Field(sa_type=UTCDateTime)
    started_by: str = Field(max_length=128)
    stopped_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    stopped_by: str | None = Field(default=None, max_length=128)


class ApiUsage(SQLModel, table=True):
    """Calls to one endpoint on one UTC day, by what they were billed as (`usage.Charge`, or ""
    for calls billed nothing: failures and free calls)."""

    __tablename__ = "api_usage"
    __table_args__ = (UniqueConstraint("day", "platform", "account", "endpoint", "charge"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date
    platform: str = Field(max_length=32)
    account: str = Field(max_length=64)
    endpoint: str = Field(max_length=64)
    charge: str = Field(default="", max_length=32)
    calls: int = 0
    errors: int = 0
    units: int = 0


class ApiEndpoint(SQLModel, table=True):
    """The last word of one endpoint for one account: when it last worked, its last failure, and
    the rate limit its last answer reported."""

    __tablename__ = "api_endpoints"

    platform: str = Field(primary_key=True, max_length=32)
    account: str = Field(primary_key=True, max_length=64)
    endpoint: str = Field(primary_key=True, max_length=64)
    last_ok_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status: int | None = None
    last_error: str | None = Field(default=None, sa_type=Text)
    last_error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    rate_limit: int | None = None
    rate_remaining: int | None = None
    rate_reset_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ApiFailure(SQLModel, table=True):
    """One failed call, for `status`'s "failures in the last hour"."""

    __tablename__ = "api_failures"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    platform: str = Field(max_length=32)
    account: str = Field(max_length=64)
    endpoint: str = Field(max_length=64)
    status: int | None = None
    error: str = Field(sa_type=Text)


class TemplateFailure(SQLModel, table=True):
    """A reply that could not be rendered at run time (an error, or over X's length), so a safe
    built-in text went out instead: `status` shows the last day's count and the last one."""

    __tablename__ = "template_failures"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    template: str = Field(max_length=64)  # the message (`filed`, `resolved`, …)
    lang: str = Field(max_length=8)
    case_id: int | None = None
    problem: str = Field(sa_type=Text)


class JobFailure(SQLModel, table=True):
    """One failed run of a job of `socialbot run` (the poll, the send, the broadcasts; "meter"
    for a call the usage meter could not record), for `status`. Written in a transaction of its
    own, when the database takes it; kept 30 days."""

    __tablename__ = "job_failures"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime, index=True)
    job: str = Field(max_length=32)
    error: str = Field(sa_type=Text)


class RateHold(SQLModel, table=True):
    """The network said wait (a 429, or a post that used the last of the quota): no call to
    `endpoint` for the network's `account` before `until`, whichever process or command asks."""

    __tablename__ = "rate_holds"

    platform: str = Field(primary_key=True, max_length=32)
    account: str = Field(primary_key=True, max_length=64)
    endpoint: str = Field(primary_key=True, max_length=64)
    until: datetime = Field(sa_type=UTCDateTime)
    set_at: datetime = Field(sa_type=UTCDateTime)
    reason: str = Field(default="", sa_type=Text)


class NetworkSession(SQLModel, table=True):
    """The signed-in session of one (network, account) that signs in with a password
    (`networks.sessions.SavedSession`): kept across restarts, so that a restart spends no sign-in.
    `secret` holds its tokens: never logged, never shown (`store.sessions`)."""

    __tablename__ = "network_sessions"

    platform: str = Field(primary_key=True, max_length=32)
    account: str = Field(primary_key=True, max_length=64)
    user_id: str = Field(max_length=64)
    handle: str = Field(max_length=256)
    secret: str = Field(sa_type=Text, repr=False)
    created_at: datetime = Field(sa_type=UTCDateTime)
    refreshed_at: datetime = Field(sa_type=UTCDateTime)


class CrmState(enum.StrEnum):
    PENDING = "pending"  # due at `next_attempt_at`
    SENDING = "sending"  # claimed; the POST may or may not have reached the CRM (forwarder.recover)
    TOKEN = "token"  # the CRM took it and gave a token; its request id comes later
    SENT = "sent"  # the CRM's `service_request_id` is known
    REJECTED = "rejected"  # the CRM refused it (a 4xx): `last_error` holds its words; never retried
    DROPPED = "dropped"  # never sent: merged into another case first (`last_error` says which)


class CrmRequest(SQLModel, table=True):
    """A case forwarded to the city's Open311 CRM (`socialbot.open311.forwarder`), at most once:
    the unique `case_id` makes a second request for one case a database refusal. The `crm_*`
    columns are the CRM's word at the last sync (`open311.sync`); `crm_status_notes` is written for
    staff, never posted."""

    __tablename__ = "crm_requests"
    __table_args__ = (
        Index("ix_crm_requests_queue", "state", "next_attempt_at"),
        Index("ix_crm_requests_service_request_id", "service_request_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", unique=True)
    state: CrmState = Field(default=CrmState.PENDING, sa_type=str_enum(CrmState, 16))
    service_code: str = Field(max_length=128)
    service_request_id: str | None = Field(default=None, max_length=128)
    token: str | None = Field(default=None, max_length=128)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
    crm_status: str | None = Field(default=None, max_length=32)
    crm_extended_status: str | None = Field(default=None, max_length=64)
    crm_status_notes: str | None = Field(default=None, sa_type=Text)
    crm_updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    synced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CrmUpdatesMark(SQLModel, table=True):
    """How far the sync has read an endpoint's `servicerequestupdates` (FixMyStreet's
    extension): the next fetch asks from there. One row an endpoint: a city that moves to
    another endpoint starts that one afresh."""

    __tablename__ = "crm_update_marks"

    endpoint: str = Field(primary_key=True, max_length=512)
    fetched_until: datetime = Field(sa_type=UTCDateTime)


class ClosedDay(SQLModel, table=True):
    """A local day the city's offices close beyond weekends and public holidays (a snow day, a
    strike): no business day for SLAs (`socialbot calendar close`, `socialbot.closures`). Opening
    it again keeps the row, with who opened it and when: the city's closures stay in the audit.
    At most one row a day is closed at a time (`ix_closed_days_closed`, a partial unique index)."""

    __tablename__ = "closed_days"
    __table_args__ = (
        Index(
            "ix_closed_days_closed",
            "day",
            unique=True,
            sqlite_where=text("opened_at IS NULL"),
            postgresql_where=text("opened_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    day: date  # in the city's zone, as the business-day rule counts days
    reason: str = Field(sa_type=Text)
    closed_at: datetime = Field(sa_type=UTCDateTime)
    closed_by: str = Field(max_length=128)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    opened_by: str | None = Field(default=None, max_length=128)


class InboxItem(SQLModel, table=True):
    """A message for staff (`socialbot inbox`): one that is not a report, not a thank-you and
    not answered from answers.yaml. Written in the same transaction as its mention, at most once
    (the unique `mention_id`). `state` moves once from OPEN to a final state; the reply staff
    queue is an outbox row (`outbox_id`, dedupe key `inbox:<id>`), so it is sent once."""

    __tablename__ = "inbox"
    __table_args__ = (
        Index("ix_inbox_queue", "state", "created_at"),  # what is waiting, oldest first
    )

    id: int | None = Field(default=None, primary_key=True)
    mention_id: int = Field(foreign_key="mentions.id", unique=True)
    platform: str = Field(max_length=32)
    account: str = Field(max_length=64)
    reason: InboxReason = Field(sa_type=str_enum(InboxReason, 16))
    priority: bool = Field(default=False)  # a storm post: listed first
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)  # its thread's
    state: InboxState = Field(default=InboxState.OPEN, sa_type=str_enum(InboxState, 16))
    created_at: datetime = Field(sa_type=UTCDateTime)  # when the message was received
    assigned_to: str | None = Field(default=None, max_length=128)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_by: str | None = Field(default=None, max_length=128)
    answer_key: str | None = Field(default=None, max_length=64)  # `inbox answer`'s entry
    note: str = Field(default="", sa_type=Text)
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id")
    filed_case_id: int | None = Field(default=None, foreign_key="cases.id")
    # What the message itself carried, for `inbox file` to open the case the resident's post
    # would have: its best location (exact geo, a place, a map link; X's text holds only t.co
    # links, so the text alone cannot tell later), its photos, and whether anyone may read it.
    lat: float | None = None
    lon: float | None = None
    location_source: str | None = Field(default=None, max_length=16)
    photo_urls: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    public: bool = Field(default=True)
    address: str | None = Field(default=None, sa_type=Text)  # as written: see `Case.address`


class SmsInbound(SQLModel, table=True):
    """A text Twilio posted to the web service's webhook (`POST /sms/twilio`), its signature
    checked: one row a `MessageSid` (unique), however often Twilio retries. Only recorded so
    far: nothing reads these rows into intake yet. `sender` is a resident's phone number,
    personal data: never printed in full (`sms.phone.mask`)."""

    __tablename__ = "sms_inbound"

    id: int | None = Field(default=None, primary_key=True)
    message_sid: str = Field(max_length=34, unique=True)  # Twilio's SM…/MM… id
    sender: str = Field(max_length=16)  # `From`, E.164
    recipient: str = Field(max_length=16)  # `To`, E.164: our number the text was sent to
    body: str = Field(sa_type=Text)  # `Body`, made storable (`storable.clean_text`)
    # [{"url": …, "content_type": …}] from `NumMedia`, `MediaUrl{N}`, `MediaContentType{N}`.
    media: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, server_default="[]")
    )
    # Every field of the form as posted (`storable.storable_json`): Twilio adds fields without
    # notice, and what it sent is kept for audit whatever socialbot reads of it today.
    form: str = Field(sa_type=Text)
    received_at: datetime = Field(sa_type=UTCDateTime)


class ConsentAction(enum.StrEnum):
    STOP = "stop"  # send this recipient nothing more, ever, until a START
    START = "start"  # they may be sent replies and the alerts they subscribe to again


class ConsentSource(enum.StrEnum):
    KEYWORD = "keyword"  # they texted STOP, START, … themselves (`mention_id`)
    CARRIER = "carrier"  # the network refused a send because they opted out (Twilio's 21610)


class ConsentEvent(SQLModel, table=True):
    """One STOP or START of a recipient as it came, never updated nor deleted: the record a
    sender must keep of who asked to be sent nothing. A recipient's standing is their newest row
    (`id` order); a recipient with no row may be answered. `address` is personal data (on SMS a
    phone number): never printed in full."""

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_address", "platform", "address", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    address: str = Field(max_length=64)  # as the network names the person: SMS's E.164 number
    action: ConsentAction = Field(sa_type=str_enum(ConsentAction, 8))
    source: ConsentSource = Field(sa_type=str_enum(ConsentSource, 16))
    word: str | None = Field(default=None, max_length=32)  # the keyword as folded ("STOP")
    # The text that said it (unique: a text re-read after a crash records nothing twice).
    mention_id: int | None = Field(default=None, foreign_key="mentions.id", unique=True)
    at: datetime = Field(sa_type=UTCDateTime)


class Subscription(SQLModel, table=True):
    """A recipient who asked for the city's alerts ("ALERTS", "ALERTAS DORCHESTER"): for one
    district (None: the whole city), in the language they asked in. One row a subscribing;
    `ended_at` is set when they stop (STOP) or subscribe anew (the new row replaces it), so the
    active subscriptions are those without it."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        Index("ix_subscriptions_address", "platform", "address"),
        Index("ix_subscriptions_active", "platform", "ended_at", "district"),
    )

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    address: str = Field(max_length=64)  # personal data, as `ConsentEvent.address`
    district: str | None = Field(default=None, max_length=128)  # a name of SOCIALBOT_DISTRICTS
    lang: str = Field(max_length=8)
    mention_id: int | None = Field(default=None, foreign_key="mentions.id")
    created_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_reason: str | None = Field(default=None, max_length=16)  # "stop", "replaced"
