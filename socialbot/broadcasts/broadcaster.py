"""Broadcasts for comms staff: prepare (render, split, preview), send now, schedule, fire when due.

Every post of a broadcast is an outbox row of its account, so posting has the reply queue's
guarantees: claimed before the network call, at most once, recovered after a crash; a thread's
rows are chained (`after_id`) so each post threads under the one before. Each row carries the
broadcast's deadline (`expires_at` = due time + grace window): an alert that could not go out in
time is failed and reported, never posted hours late.

A broadcast is a `broadcasts` row (what, which account, when); each time it goes out (or should
have) is a `broadcast_runs` row, the unit of the audit log.

On a network whose broadcasts go to its subscribers one by one (`subscribers`: SMS), a run is
one row per active subscriber at the moment it fires (`consent.active_subscribers`: of its
district, if it names one, and of the whole city; never one who said STOP), each with the text of
the subscriber's language (`broadcasts.audience`), written in one multi-row INSERT, keyed
`broadcast:<run>:to:<subscription>`, and given a deadline that covers the paced send itself
(due + grace + the run's units at the sender's pace), so a long send is not failed by its own
pacing.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, case, func, insert
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from socialbot import media, storable
from socialbot.broadcasts.audience import (
    AlertText,
    Audience,
    SubscriberSending,
    alert_texts,
    by_text_lang,
    lang_for,
    send_duration,
)
from socialbot.broadcasts.compose import Thread, campaign_tail, compose, values_for
from socialbot.broadcasts.schedules import Recurrence, parse_at
from socialbot.broadcasts.storm import mode
from socialbot.broadcasts.templates import BroadcastTemplates
from socialbot.consent import active_subscribers, stopped_clause
from socialbot.districts import district_named
from socialbot.domain import StormMode
from socialbot.errors import BroadcastError, SocialbotError
from socialbot.network_settings import Channel
from socialbot.networks.base import MediaRules
from socialbot.store.db import transaction
from socialbot.store.models import (
    Broadcast,
    BroadcastRun,
    BroadcastState,
    OutboxMessage,
    OutboxState,
    RunState,
)
from socialbot.text_rules import TextRules
from socialbot.timespan import local_time

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]

# A recurring broadcast that was down for long records at most this many missed occurrences.
MAX_MISSED_RECORDED = 20


@dataclass(frozen=True, slots=True)
class BroadcastRequest:
    """What comms staff asked for, as given on the command line. `network`: the one network it
    goes to; None until `Broadcaster.targets` gives it one for each network of the account."""

    account: str
    langs: tuple[str, ...] = ("en",)
    template: str | None = None
    variables: dict[str, str] = field(default_factory=dict)  # from `--var`, see parse_var_args
    texts: tuple[str, ...] = ()  # `--text`, one a language, in the order of `langs`
    media: Path | None = None
    alt: str | None = None
    network: str | None = None
    # `--district` as typed: a subscriber network texts only its subscribers and the whole
    # city's (`Broadcaster.district` reads it against SOCIALBOT_DISTRICTS).
    district: str | None = None


@dataclass(frozen=True, slots=True)
class Preview:
    """Exactly what would be posted, and from where; `rules`: the length rules of the account's
    network, which the posts were measured and split by. `audience`: on a subscriber network,
    who would be texted which text, and what the send takes (each thread is then one text)."""

    account: str
    network: str
    rules: TextRules
    threads: tuple[Thread, ...]
    storm: StormMode | None
    media: Path | None
    alt: str | None
    audience: Audience | None = None

    @property
    def post_count(self) -> int:
        """Posts on a public network; texts (one a subscriber) on a subscriber network."""
        if self.audience is not None:
            return self.audience.subscribers
        return sum(len(t.posts) for t in self.threads)


@dataclass(frozen=True, slots=True)
class RunPost:
    outbox_id: int
    lang: str
    part: int
    parts: int
    text: str
    state: OutboxState
    posted_id: str | None
    error: str | None
    expires_at: datetime | None  # not posted by then: dropped


@dataclass(frozen=True, slots=True)
class TextTally:
    """One text of an alert to subscribers, and how its messages stand: `sent`; `queued`
    (pending or being sent); `opted_out`, not sent and its recipient's newest word a STOP (the
    sender settles those without a request); `failed`, any other that will not go."""

    lang: str
    text: str
    sent: int = 0
    queued: int = 0
    opted_out: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.queued + self.opted_out + self.failed

    def describe(self) -> str:
        """ "9,990 sent, 8 queued, 2 opted out, 0 failed"."""
        return (
            f"{self.sent:,} sent, {self.queued:,} queued, {self.opted_out:,} opted out, "
            f"{self.failed:,} failed"
        )


@dataclass(frozen=True, slots=True)
class RunView:
    """One run of a broadcast, as the log and `broadcast show` present it: its posts, or on a
    subscriber network its texts and how many of each went (`texted`; None elsewhere)."""

    run: BroadcastRun
    broadcast: Broadcast
    posts: tuple[RunPost, ...]
    texted: tuple[TextTally, ...] | None = None

    @property
    def tally(self) -> TextTally | None:
        """Every text of the run added up (lang and text: the first's); None off subscribers."""
        if self.texted is None:
            return None
        first = self.texted[0] if self.texted else TextTally("", "")
        return TextTally(
            first.lang,
            first.text,
            sent=sum(t.sent for t in self.texted),
            queued=sum(t.queued for t in self.texted),
            opted_out=sum(t.opted_out for t in self.texted),
            failed=sum(t.failed for t in self.texted),
        )

    @property
    def outcome(self) -> str:
        """sent, sending, partly sent, failed, missed, or (to subscribers) no subscribers. A
        text not sent because its recipient said STOP is no failure: it must not go."""
        if self.run.state is RunState.MISSED:
            return "missed"
        if self.run.state is RunState.FAILED:
            return "failed"
        tally = self.tally
        if tally is not None and tally.total == 0 and not self.posts:
            return "no subscribers"
        states = {p.state for p in self.posts}
        if tally is not None:
            if tally.sent:
                states.add(OutboxState.SENT)
            if tally.failed:
                states.add(OutboxState.FAILED)
            if tally.queued:
                states.add(OutboxState.PENDING)
        if states <= {OutboxState.SENT}:
            return "sent"
        if OutboxState.FAILED in states:
            return "partly sent" if OutboxState.SENT in states else "failed"
        return "sending"


@dataclass(frozen=True, slots=True)
class FireReport:
    fired: list[int] = field(default_factory=list)  # run ids queued
    missed: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    accounts: set[Channel] = field(default_factory=set)  # whose outbox has new posts


@dataclass(frozen=True, slots=True)
class Broadcaster:
    engine: Engine
    templates: BroadcastTemplates
    # The accounts configured with credentials, on every network: a broadcast from `notify` goes
    # to every network the city has a `notify` account on, one broadcast (and preview) each.
    channels: tuple[Channel, ...]
    zone: ZoneInfo
    grace: timedelta
    clock: Clock
    media_dir: Path  # where a --media image is copied for the service (SOCIALBOT_MEDIA_DIR)
    # Each network's rules, by its short name: a broadcast is split and its image checked by
    # those of its account's network.
    text_rules: Mapping[str, TextRules]
    media_rules: Mapping[str, MediaRules]
    # The networks whose broadcasts go to their subscribers one by one, and how each sends an
    # alert (`NetworkKind.subscribers`); absent: every network posts in public.
    subscribers: Mapping[str, SubscriberSending] = field(default_factory=dict)
    # The names of SOCIALBOT_DISTRICTS, in file order: what `--district` is read against.
    districts: tuple[str, ...] = ()

    # --- preparing ---------------------------------------------------------------------------

    @property
    def several_networks(self) -> bool:
        """Whether the city posts on more than one network: then every message names it."""
        return len({c.network for c in self.channels}) > 1

    def targets(
        self, request: BroadcastRequest, networks: Sequence[str] | None = None
    ) -> list[BroadcastRequest]:
        """`request` once for each network its account posts to, in the city's order, and on
        each subscriber network the city runs, from its account of that name or else its first
        (a subscriber network texts from its one sender, whichever account staff chose);
        only those of `networks` (`--channel`) when given. As it is when it names its network.
        An account configured nowhere gets the first network (of `networks`), so a dry run can
        show its posts (`check` refuses to send it)."""
        if request.network is not None:
            return [request]
        if networks is not None:
            self.check_networks(networks)
        picked: list[Channel] = []
        for channel in self.channels:
            if any(p.network == channel.network for p in picked):
                continue
            if networks is not None and channel.network not in networks:
                continue
            own = channel.account == request.account
            stands_in = channel.network in self.subscribers and (
                Channel(channel.network, request.account) not in self.channels
            )
            if own or stands_in:
                picked.append(channel)
        if not picked:  # the first network the city runs, else the first socialbot knows
            first = networks[0] if networks else None
            if first is None:
                first = self.channels[0].network if self.channels else next(iter(self.text_rules))
            return [dataclasses.replace(request, network=first)]
        return [self._for(request, c) for c in picked]

    def _for(self, request: BroadcastRequest, channel: Channel) -> BroadcastRequest:
        """`request` on `channel`; without its image where no alert can carry one (a text to
        subscribers: the public posts still have it)."""
        target = dataclasses.replace(request, network=channel.network, account=channel.account)
        rules = self.media_rules.get(channel.network)
        if channel.network in self.subscribers and (rules is None or rules.max_count == 0):
            return dataclasses.replace(target, media=None, alt=None)
        return target

    def check_networks(self, networks: Sequence[str]) -> None:
        """`--channel` names: each a network socialbot knows, else one BroadcastError."""
        unknown = [name for name in networks if name not in self.text_rules]
        if unknown or not networks:
            raise BroadcastError(
                f"--channel {(unknown or [''])[0]!r}: not a network (the city's: "
                f"{', '.join(dict.fromkeys(c.network for c in self.channels)) or 'none'}; "
                f"socialbot knows: {', '.join(self.text_rules)})"
            )

    def district(self, typed: str) -> str:
        """The SOCIALBOT_DISTRICTS name `typed` names (case, accents and spacing aside), else a
        BroadcastError listing the names."""
        if not self.districts:
            raise BroadcastError(
                f"--district {typed[:40]!r}: the city has no districts (SOCIALBOT_DISTRICTS is "
                "not set)"
            )
        name = district_named(typed, self.districts)
        if name is None:
            raise BroadcastError(
                f"--district {typed[:40]!r}: no such district (SOCIALBOT_DISTRICTS has: "
                f"{', '.join(self.districts)})"
            )
        return name

    def check(self, request: BroadcastRequest, *, dry_run: bool = False) -> None:
        """Everything about a request that does not need rendering; BroadcastError if wrong.
        A dry run may name an account without credentials: it only shows the posts."""
        channel = Channel(self._network(request), request.account)
        if channel not in self.channels and not dry_run:
            on = f" on {channel.network}" if self.several_networks else ""
            known = ", ".join(
                f"{c.account} on {c.network}" if self.several_networks else c.account
                for c in self.channels
            )
            raise BroadcastError(
                f"--account {request.account}: not configured{on} (accounts with credentials: "
                f"{known or 'none'}); see README 'Broadcasts' to add its credentials"
            )
        if len(set(request.langs)) != len(request.langs) or not request.langs:
            raise BroadcastError(f"--lang {','.join(request.langs)}: name each language once")
        # Stored as typed: checked here so that SQLite and PostgreSQL refuse the same input.
        for lang in request.langs:
            _storable(lang, "--lang", _LANG_LENGTH)
        _storable(",".join(request.langs), "--lang", _LANGS_LENGTH)
        if request.template is not None:
            _storable(request.template, "TEMPLATE", _TEMPLATE_LENGTH)
        if (request.template is None) == (not request.texts):
            raise BroadcastError("give a TEMPLATE name or --text, not both and not neither")
        if request.texts and len(request.texts) != len(request.langs):
            raise BroadcastError(
                f"--text is given {len(request.texts)} time(s) for {len(request.langs)} "
                f"language(s) ({','.join(request.langs)}): give one --text a language, in order"
            )
        if request.texts and request.variables:
            raise BroadcastError("--var goes with a TEMPLATE; --text is posted as written")
        if request.district is not None:
            self.district(request.district)
        if request.media is None:
            if request.alt is not None:
                raise BroadcastError("--alt describes a --media image; give the image too")
            return
        _check_image(request.media, request.alt, self._media_rules(self._network(request)))

    def prepare(self, request: BroadcastRequest, *, dry_run: bool = False) -> Preview:
        """Render and split as it would be posted now (storm mode included), posting nothing."""
        self.check(request, dry_run=dry_run)
        with transaction(self.engine) as session:
            storm = mode(session)
        network = self._network(request)
        sending = self.subscribers.get(network)
        media_path = request.media.resolve() if request.media else None
        if sending is None:
            rules = self._text_rules(network)
            return Preview(
                account=request.account,
                network=network,
                rules=rules,
                threads=self._threads(
                    request.template, request.variables, request.texts, request.langs, storm, rules
                ),
                storm=storm,
                media=media_path,
                alt=request.alt,
            )
        district = self.district(request.district) if request.district is not None else None
        texts = self._alert_texts(
            request.template, request.variables, request.texts, request.langs, storm, sending
        )
        with transaction(self.engine) as session:
            langs = [s.lang for s in active_subscribers(session, network, _within(district))]
        return Preview(
            account=request.account,
            network=network,
            rules=sending.rules,
            threads=tuple(Thread(t.lang, (t.text,)) for t in texts),
            storm=storm,
            media=media_path,
            alt=request.alt,
            audience=Audience(
                texts, by_text_lang(langs, [t.lang for t in texts]), district, sending
            ),
        )

    def _threads(
        self,
        template: str | None,
        variables: dict[str, str],
        texts: Sequence[str],
        langs: Sequence[str],
        storm: StormMode | None,
        rules: TextRules,
    ) -> tuple[Thread, ...]:
        pairs = self._rendered(template, variables, texts, langs)
        return compose(pairs, rules, storm.hashtag if storm else None, where=template or "--text")

    def _alert_texts(
        self,
        template: str | None,
        variables: dict[str, str],
        texts: Sequence[str],
        langs: Sequence[str],
        storm: StormMode | None,
        sending: SubscriberSending,
    ) -> tuple[AlertText, ...]:
        """Each language's one text to subscribers (a subscriber is sent their language's
        only, so two languages are never joined)."""
        pairs = self._rendered(template, variables, texts, langs)
        hashtag = storm.hashtag if storm else None
        return alert_texts(
            pairs,
            sending,
            lambda text: campaign_tail([text], hashtag),
            where=template or "--text",
        )

    def _rendered(
        self,
        template: str | None,
        variables: dict[str, str],
        texts: Sequence[str],
        langs: Sequence[str],
    ) -> list[tuple[str, str]]:
        """`(lang, text)` in posting order: the template rendered, or `--text` as given."""
        if template is not None:
            info = self.templates.get(template)
            absent = [lang for lang in langs if lang not in info.langs]
            if absent:
                raise BroadcastError(
                    f"{template}: no {absent[0]} version (it has {', '.join(info.langs)})"
                )
            values = values_for(info.doc, variables, langs, template)
            return [(lang, self.templates.render(template, lang, values[lang])) for lang in langs]
        return list(zip(langs, texts, strict=True))

    def _network(self, request: BroadcastRequest) -> str:
        """The short name of the network `request` goes to (see `targets`)."""
        network = request.network or self.targets(request)[0].network
        assert network is not None  # `targets` names one
        return network

    def _text_rules(self, network: str) -> TextRules:
        if network not in self.text_rules:
            raise BroadcastError(f"no text rules for the network {network!r}; is it configured?")
        return self.text_rules[network]

    def _media_rules(self, network: str) -> MediaRules:
        if network not in self.media_rules:
            raise BroadcastError(f"no media rules for the network {network!r}; is it configured?")
        return self.media_rules[network]

    # --- sending and scheduling -------------------------------------------------------------

    def send_now(self, request: BroadcastRequest, actor: str) -> RunView:
        """Record the broadcast and queue its posts, due now; the caller then sends the account's
        outbox (`socialbot run` would within seconds anyway)."""
        self.check(request)
        now = self.clock()
        with transaction(self.engine) as session:
            broadcast = self._record(session, request, actor, now, at=None, cron=None)
            broadcast.state, broadcast.next_due_at = BroadcastState.DONE, None
            run_id = self._fire(session, broadcast, now, now)
        return self.run_view(run_id)

    def schedule(
        self, request: BroadcastRequest, actor: str, *, at: datetime | None, cron: str | None
    ) -> Broadcast:
        """Record a broadcast for later: once `at` (UTC) or on every `cron` occurrence."""
        self.check(request)
        if (at is None) == (cron is None):
            raise BroadcastError("give --at or --cron, not both")
        self.prepare(request)  # a broken template or missing --var fails now, not at 7 am
        now = self.clock()
        due = at if at is not None else self.recurrence(cron or "").next_after(now)
        if due is None:
            raise BroadcastError(f"--cron {cron!r} never happens after now")
        with transaction(self.engine) as session:
            broadcast = self._record(session, request, actor, now, at=at, cron=cron)
            broadcast.next_due_at = due
        log.info(
            "event=broadcast_scheduled broadcast_id=%s due=%s cron=%r by=%s",
            broadcast.id,
            due.isoformat(),
            cron,
            actor,
        )
        return broadcast

    def recurrence(self, cron: str) -> Recurrence:
        return Recurrence.parse(cron, self.zone)

    def when(self, at: str | None, cron: str | None) -> datetime | None:
        """`--at` as a UTC moment (None without it), both options checked: a bad time or cron
        expression fails before anything is shown or recorded."""
        if at is not None and cron is not None:
            raise BroadcastError("give --at or --cron, not both")
        if cron is not None:
            _storable(cron, "--cron", _CRON_LENGTH)
            self.recurrence(cron)
        return parse_at(at, self.zone, self.clock()) if at is not None else None

    def cancel(self, broadcast_id: int, actor: str) -> Broadcast:
        """Stop a scheduled broadcast; what already went out stays in the log."""
        with transaction(self.engine) as session:
            broadcast = session.get(Broadcast, broadcast_id, with_for_update=True)
            if broadcast is None:
                raise _no_broadcast(broadcast_id)
            if broadcast.state is not BroadcastState.SCHEDULED:
                raise BroadcastError(
                    f"broadcast #{broadcast_id} is {broadcast.state.value}, not scheduled; "
                    "only a scheduled broadcast can be cancelled"
                )
            broadcast.state = BroadcastState.CANCELLED
            broadcast.cancelled_at, broadcast.cancelled_by = self.clock(), actor
            broadcast.next_due_at = None
        log.info("event=broadcast_cancelled broadcast_id=%s by=%s", broadcast_id, actor)
        return broadcast

    def fire_due(self) -> FireReport:
        """Queue every scheduled broadcast whose time has come; one missed by more than the grace
        window is recorded as missed and never posted. Safe to run in two processes at once."""
        report = FireReport()
        now = self.clock()
        with transaction(self.engine) as session:
            due = session.exec(
                select(Broadcast)
                .where(
                    Broadcast.state == BroadcastState.SCHEDULED,
                    col(Broadcast.next_due_at) <= now,
                )
                .order_by(col(Broadcast.next_due_at))
                .with_for_update(skip_locked=True)
            ).all()
            for broadcast in due:
                self._fire_broadcast(session, broadcast, now, report)
        return report

    def _fire_broadcast(
        self, session: Session, broadcast: Broadcast, now: datetime, report: FireReport
    ) -> None:
        recurrence = self.recurrence(broadcast.cron) if broadcast.cron else None
        occurrence = broadcast.next_due_at
        missed_recorded = 0
        while occurrence is not None and occurrence <= now:
            following = recurrence.next_after(occurrence) if recurrence else None
            superseded = following is not None and following <= now
            if now - occurrence > self.grace or superseded:
                if missed_recorded < MAX_MISSED_RECORDED:
                    report.missed.append(self._missed(session, broadcast, occurrence, now))
                missed_recorded += 1
            elif Channel(broadcast.platform, broadcast.account) not in self.channels:
                # Scheduled while the city ran that account; nothing could post it now.
                gone = BroadcastError(
                    f"account {broadcast.account} on {broadcast.platform} is not configured any "
                    f"more; cancel it (`socialbot broadcast cancel {broadcast.id}`) or configure "
                    "the account again"
                )
                report.failed.append(self._failed(session, broadcast, occurrence, now, gone))
            else:
                try:
                    with session.begin_nested():
                        report.fired.append(self._fire(session, broadcast, occurrence, now))
                        report.accounts.add(Channel(broadcast.platform, broadcast.account))
                except SocialbotError as exc:
                    report.failed.append(self._failed(session, broadcast, occurrence, now, exc))
            occurrence = following
        broadcast.next_due_at = occurrence
        if occurrence is None:
            broadcast.state = BroadcastState.DONE

    def _keep_media(self, path: Path, network: str) -> Path:
        """The service's own copy of the image (`socialbot.media`): a recurring alert posts it
        for months, and the service may not see the folder staff took it from."""
        try:
            return media.keep_photo(path, self.media_dir, "broadcast", self._media_rules(network))
        except SocialbotError as exc:
            raise BroadcastError(f"--media {path}: {exc}") from None

    def _record(
        self,
        session: Session,
        request: BroadcastRequest,
        actor: str,
        now: datetime,
        *,
        at: datetime | None,
        cron: str | None,
    ) -> Broadcast:
        broadcast = Broadcast(
            platform=self._network(request),
            account=request.account,
            template=request.template,
            texts=dict(zip(request.langs, request.texts, strict=False)),
            variables=dict(request.variables),
            langs=",".join(request.langs),
            media_path=str(self._keep_media(request.media, self._network(request)))
            if request.media
            else None,
            media_alt=request.alt,
            district=self.district(request.district) if request.district is not None else None,
            at=at,
            cron=cron,
            timezone=self.zone.key,
            state=BroadcastState.SCHEDULED,
            created_at=now,
            created_by=actor,
        )
        session.add(broadcast)
        session.flush()
        return broadcast

    def _fire(self, session: Session, broadcast: Broadcast, due: datetime, now: datetime) -> int:
        """Render `broadcast` as of now and queue its posts; returns the run's id."""
        storm = mode(session)
        langs = tuple(broadcast.langs.split(","))
        given = [broadcast.texts[lang] for lang in langs] if broadcast.texts else []
        sending = self.subscribers.get(broadcast.platform)
        if sending is not None:
            texts = self._alert_texts(
                broadcast.template, broadcast.variables, given, langs, storm, sending
            )
            threads: tuple[Thread, ...] = ()
        else:
            threads = self._threads(
                broadcast.template,
                broadcast.variables,
                given,
                langs,
                storm,
                self._text_rules(broadcast.platform),
            )
        run = BroadcastRun(
            broadcast_id=_id(broadcast),
            due_at=due,
            fired_at=now,
            state=RunState.QUEUED,
            campaign=storm.hashtag if storm else None,
        )
        session.add(run)
        session.flush()
        if sending is not None:
            self._fan_out(session, broadcast, _id(run), texts, sending, due, now)
        for thread in threads:
            before: OutboxMessage | None = None
            for part, text in enumerate(thread.posts, start=1):
                row = OutboxMessage(
                    platform=broadcast.platform,
                    account=broadcast.account,
                    dedupe_key=f"broadcast:{run.id}:{thread.lang}:{part}",
                    template=broadcast.template or "text",
                    lang=thread.lang,
                    text=text,
                    next_attempt_at=now,
                    created_at=now,
                    broadcast_run_id=run.id,
                    after_id=before.id if before else None,
                    expires_at=due + self.grace,
                    media_path=broadcast.media_path if part == 1 else None,
                    media_alt=broadcast.media_alt if part == 1 else None,
                )
                session.add(row)
                session.flush()
                before = row
        log.info(
            "event=broadcast_queued broadcast_id=%s run_id=%s account=%s posts=%d campaign=%s",
            broadcast.id,
            run.id,
            broadcast.account,
            sum(len(t.posts) for t in threads),
            run.campaign,
        )
        return _id(run)

    def _fan_out(
        self,
        session: Session,
        broadcast: Broadcast,
        run_id: int,
        texts: tuple[AlertText, ...],
        sending: SubscriberSending,
        due: datetime,
        now: datetime,
    ) -> None:
        """One outbox row per subscriber active now, in one multi-row INSERT: a row an ORM
        flush each would take minutes for a city's ten thousand."""
        subscribers = active_subscribers(session, broadcast.platform, _within(broadcast.district))
        by_lang = {t.lang: t for t in texts}
        langs = [t.lang for t in texts]
        chosen = [by_lang[lang_for(s.lang, langs)] for s in subscribers]
        units = sum(t.units for t in chosen)
        expires_at = due + self.grace + send_duration(units, sending.units_per_second)
        rows = [
            {
                "platform": broadcast.platform,
                "account": broadcast.account,
                "dedupe_key": f"broadcast:{run_id}:to:{subscriber.subscription_id}",
                "reply_context": "",
                "template": broadcast.template or "text",
                "lang": text.lang,
                "text": text.text,
                "state": OutboxState.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "posted_context": "",
                "created_at": now,
                "broadcast_run_id": run_id,
                "expires_at": expires_at,
                "recipient": subscriber.address,
            }
            for subscriber, text in zip(subscribers, chosen, strict=True)
        ]
        if rows:
            session.execute(insert(OutboxMessage), rows)
        log.info(
            "event=broadcast_fanned_out broadcast_id=%s run_id=%s district=%r texts=%d units=%d "
            "expires=%s",
            broadcast.id,
            run_id,
            broadcast.district,
            len(rows),
            units,
            expires_at.isoformat(),
        )

    def _missed(self, session: Session, broadcast: Broadcast, due: datetime, now: datetime) -> int:
        late = now - due
        run = BroadcastRun(
            broadcast_id=_id(broadcast),
            due_at=due,
            fired_at=now,
            state=RunState.MISSED,
            error=(
                f"due {local_time(due, self.zone)}, not posted: "
                f"{_minutes(late)} late, past the {_minutes(self.grace)} grace window "
                "(the service was down or busy)"
            ),
        )
        session.add(run)
        session.flush()
        log.warning(
            "event=broadcast_missed broadcast_id=%s run_id=%s due=%s late=%s",
            broadcast.id,
            run.id,
            due.isoformat(),
            late,
        )
        return _id(run)

    def _failed(
        self,
        session: Session,
        broadcast: Broadcast,
        due: datetime,
        now: datetime,
        exc: SocialbotError,
    ) -> int:
        run = BroadcastRun(
            broadcast_id=_id(broadcast),
            due_at=due,
            fired_at=now,
            state=RunState.FAILED,
            error=f"could not be prepared: {exc}",
        )
        session.add(run)
        session.flush()
        log.error("event=broadcast_failed broadcast_id=%s error=%r", broadcast.id, str(exc))
        return _id(run)

    # --- reading -----------------------------------------------------------------------------

    def run_view(self, run_id: int) -> RunView:
        with transaction(self.engine) as session:
            run = session.get(BroadcastRun, run_id)
            if run is None:
                raise BroadcastError(f"no broadcast run #{run_id}")
            return _views(session, [run], self.subscribers)[0]

    def get(self, broadcast_id: int) -> tuple[Broadcast, list[RunView]]:
        with transaction(self.engine) as session:
            broadcast = session.get(Broadcast, broadcast_id)
            if broadcast is None:
                raise _no_broadcast(broadcast_id)
            runs = session.exec(
                select(BroadcastRun)
                .where(BroadcastRun.broadcast_id == broadcast_id)
                .order_by(col(BroadcastRun.due_at))
            ).all()
            return broadcast, _views(session, list(runs), self.subscribers)

    def scheduled(self) -> list[Broadcast]:
        with transaction(self.engine) as session:
            return list(
                session.exec(
                    select(Broadcast)
                    .where(Broadcast.state == BroadcastState.SCHEDULED)
                    .order_by(col(Broadcast.next_due_at))
                ).all()
            )

    def log(self, since: datetime | None) -> list[LogEntry]:
        """Every broadcast event since `since`, oldest first: runs (sent, failed, missed), and
        broadcasts scheduled or cancelled."""
        runs_query = select(BroadcastRun).order_by(col(BroadcastRun.fired_at), col(BroadcastRun.id))
        broadcasts_query = select(Broadcast)
        if since is not None:
            runs_query = runs_query.where(col(BroadcastRun.fired_at) >= since)
            broadcasts_query = broadcasts_query.where(
                (col(Broadcast.created_at) >= since) | (col(Broadcast.cancelled_at) >= since)
            )
        with transaction(self.engine) as session:
            runs = session.exec(runs_query).all()
            entries = [
                LogEntry.of_run(view) for view in _views(session, list(runs), self.subscribers)
            ]
            broadcasts = session.exec(broadcasts_query).all()
            for b in broadcasts:
                scheduled = b.at is not None or b.cron is not None
                if scheduled and (since is None or b.created_at >= since):
                    entries.append(LogEntry.of_broadcast(b, "scheduled", b.created_at))
                if b.cancelled_at is not None and (since is None or b.cancelled_at >= since):
                    entries.append(LogEntry.of_broadcast(b, "cancelled", b.cancelled_at))
        return sorted(entries, key=lambda e: (e.at, e.broadcast_id, e.run_id or 0))


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One line of `broadcast log`: who, when, what exactly, from which account, and the ids."""

    at: datetime
    event: str  # scheduled, cancelled, sent, sending, partly sent, failed, missed
    broadcast_id: int
    run_id: int | None
    network: str
    account: str
    by: str
    template: str | None
    due_at: datetime | None
    campaign: str | None
    texts: tuple[str, ...]
    posted_ids: tuple[str, ...]
    error: str | None
    # To subscribers: how the run's texts stand, all added up (None: a public network's run).
    texted: TextTally | None = None

    @classmethod
    def of_run(cls, view: RunView) -> LogEntry:
        errors = [p.error for p in view.posts if p.error and p.state is OutboxState.FAILED]
        texts = tuple(p.text for p in view.posts)
        if view.texted is not None:
            texts += tuple(t.text for t in view.texted)
        return cls(
            at=view.run.fired_at,
            event=view.outcome,
            broadcast_id=view.broadcast.id or 0,
            run_id=view.run.id,
            network=view.broadcast.platform,
            account=view.broadcast.account,
            by=view.broadcast.created_by,
            template=view.broadcast.template,
            due_at=view.run.due_at,
            campaign=view.run.campaign,
            texts=texts,
            posted_ids=tuple(p.posted_id for p in view.posts if p.posted_id),
            error=view.run.error or (errors[0] if errors else None),
            texted=view.tally,
        )

    @classmethod
    def of_broadcast(cls, broadcast: Broadcast, event: str, at: datetime) -> LogEntry:
        return cls(
            at=at,
            event=event,
            broadcast_id=broadcast.id or 0,
            run_id=None,
            network=broadcast.platform,
            account=broadcast.account,
            by=(broadcast.cancelled_by or "") if event == "cancelled" else broadcast.created_by,
            template=broadcast.template,
            due_at=broadcast.next_due_at or broadcast.at,
            campaign=None,
            texts=tuple(broadcast.texts[lang] for lang in broadcast.texts),
            posted_ids=(),
            error=None,
        )


def _views(
    session: Session, runs: list[BroadcastRun], subscribers: Mapping[str, SubscriberSending]
) -> list[RunView]:
    if not runs:
        return []
    # The public posts row by row; the texts to subscribers (thousands a run) counted.
    rows = session.exec(
        select(OutboxMessage)
        .where(
            col(OutboxMessage.broadcast_run_id).in_([r.id for r in runs]),
            col(OutboxMessage.recipient).is_(None),
        )
        .order_by(col(OutboxMessage.id))
    ).all()
    by_run: dict[int, list[OutboxMessage]] = {}
    for row in rows:
        by_run.setdefault(row.broadcast_run_id or 0, []).append(row)
    broadcasts = {
        b.id: b
        for b in session.exec(
            select(Broadcast).where(col(Broadcast.id).in_({r.broadcast_id for r in runs}))
        ).all()
    }
    tallies = _tallies(
        session, [_id(r) for r in runs if broadcasts[r.broadcast_id].platform in subscribers]
    )
    views = []
    for run in runs:
        posts = by_run.get(_id(run), [])
        parts: dict[str, int] = {}
        for row in posts:
            parts[row.lang] = parts.get(row.lang, 0) + 1
        seen: dict[str, int] = {}
        run_posts = []
        for row in posts:
            seen[row.lang] = seen.get(row.lang, 0) + 1
            run_posts.append(
                RunPost(
                    outbox_id=_id(row),
                    lang=row.lang,
                    part=seen[row.lang],
                    parts=parts[row.lang],
                    text=row.text,
                    state=row.state,
                    posted_id=row.posted_id,
                    error=row.last_error,
                    expires_at=row.expires_at,
                )
            )
        broadcast = broadcasts[run.broadcast_id]
        texted = tuple(tallies.get(_id(run), ())) if broadcast.platform in subscribers else None
        views.append(RunView(run=run, broadcast=broadcast, posts=tuple(run_posts), texted=texted))
    return views


def _tallies(session: Session, run_ids: list[int]) -> dict[int, list[TextTally]]:
    """Each run's texts to subscribers, counted by how they stand, in one GROUP BY: whether a
    row's recipient said STOP is read in a subquery first (PostgreSQL groups no correlated
    subquery over columns it does not group by)."""
    if not run_ids:
        return {}
    stopped = stopped_clause(col(OutboxMessage.platform), col(OutboxMessage.recipient))
    each = (
        sql_select(
            col(OutboxMessage.broadcast_run_id).label("run_id"),
            col(OutboxMessage.lang).label("lang"),
            col(OutboxMessage.text).label("text"),
            col(OutboxMessage.state).label("state"),
            case((stopped, 1), else_=0).label("stopped"),
        )
        .where(
            col(OutboxMessage.broadcast_run_id).in_(run_ids),
            col(OutboxMessage.recipient).is_not(None),
        )
        .subquery()
    )
    counted = session.execute(
        sql_select(
            each.c.run_id, each.c.lang, each.c.text, each.c.state, each.c.stopped, func.count()
        )
        .group_by(each.c.run_id, each.c.lang, each.c.text, each.c.state, each.c.stopped)
        .order_by(each.c.run_id, each.c.lang)
    ).all()
    found: dict[int, dict[tuple[str, str], dict[str, int]]] = {}
    for run_id, lang, text, state, opted, count in counted:
        standing = OutboxState(state)
        if standing is OutboxState.SENT:
            key = "sent"
        elif opted:
            key = "opted_out"
        elif standing is OutboxState.FAILED:
            key = "failed"
        else:
            key = "queued"
        counts = found.setdefault(run_id, {}).setdefault((lang, text), {})
        counts[key] = counts.get(key, 0) + count
    return {
        run_id: [TextTally(lang, text, **counts) for (lang, text), counts in texts.items()]
        for run_id, texts in found.items()
    }


def _within(district: str | None) -> list[str] | None:
    """The districts an alert's subscribers are of: its one, or None for the whole city."""
    return None if district is None else [district]


_LANG_LENGTH = storable.column_length(OutboxMessage.lang)
_LANGS_LENGTH = storable.column_length(Broadcast.langs)
_TEMPLATE_LENGTH = storable.column_length(Broadcast.template)
_CRON_LENGTH = storable.column_length(Broadcast.cron)


def _storable(value: str, what: str, max_length: int) -> None:
    why = storable.problem(value, max_length)
    if why is not None:
        raise BroadcastError(f"{what} {value[:40]!r}: {why}")


def _check_image(path: Path, alt: str | None, rules: MediaRules) -> None:
    if not path.is_file():
        raise BroadcastError(f"--media {path}: no such file")
    if path.suffix.lower() not in rules.suffixes:
        raise BroadcastError(f"--media {path}: not a {media.formats(rules)} image")
    size = path.stat().st_size
    if size > rules.max_bytes:
        raise BroadcastError(
            f"--media {path}: {size / 1024 / 1024:.1f} MB, over {rules.network}'s "
            f"{rules.megabytes} MB for an image"
        )
    if alt is None or not alt.strip():
        raise BroadcastError(
            f"--media {path}: give --alt with a description of the image for residents who "
            "use screen readers"
        )
    if len(alt) > rules.max_alt_text:
        raise BroadcastError(
            f"--alt: {len(alt)} characters, over {rules.network}'s {rules.max_alt_text}"
        )


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"


def _id(row: Broadcast | BroadcastRun | OutboxMessage) -> int:
    assert row.id is not None
    return row.id


def _no_broadcast(broadcast_id: int) -> BroadcastError:
    return BroadcastError(
        f"no broadcast #{broadcast_id}; `socialbot broadcast list` shows the scheduled ones, "
        "`socialbot broadcast log` every one"
    )
