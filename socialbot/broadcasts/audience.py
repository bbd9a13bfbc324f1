"""Alerts to a network's subscribers, pure: the one text each subscriber is sent, who gets which
language, and what the whole send takes and costs.

A network whose broadcasts go to its subscribers one by one (SMS: a text to each number that
texted ALERTS) declares how it sends them (`SubscriberSending`): the rules an alert is measured
by, in the network's units (segments), how many units a second it may send and what a unit
costs. An alert there is one message per subscriber and language, never a thread: a thread's
parts would arrive out of order on a phone and are billed as much as one long text, so a text
longer than `rules.limit` is refused with its length, for staff to shorten. Each subscriber is
sent the text of the language they subscribed in; a language the alert lacks gets its first.

Network-neutral: nothing here asks which network it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from socialbot.errors import BroadcastError
from socialbot.text_rules import TextRules

# An SMS alert's limit: 6 segments (918 GSM-7 characters, 402 UCS-2 ones) says a full alert
# (what, where, until when, what to do, a link) even in Spanish, whose accents force UCS-2,
# while a typo that pasted a page is refused rather than billed 30 times to each subscriber.
# Carriers deliver up to 10 joined segments reliably; older phones show more as pieces.
ALERT_SEGMENTS = 6


@dataclass(frozen=True, slots=True)
class SubscriberSending:
    """How a subscriber network sends an alert: `rules` (its limit the most units an alert may
    be), `units_per_second` (the pace its sender keeps), `price_per_unit` (US dollars), and
    `encoding`, a text's encoding as staff read it ("GSM-7", "UCS-2")."""

    rules: TextRules
    units_per_second: float
    price_per_unit: float
    encoding: Callable[[str], str]


@dataclass(frozen=True, slots=True)
class AlertText:
    """One language's text of an alert, as each of its subscribers is sent it."""

    lang: str
    text: str
    units: int
    encoding: str


def alert_texts(
    texts: Sequence[tuple[str, str]],
    sending: SubscriberSending,
    hashtag_tail: Callable[[str], str],
    *,
    where: str,
) -> tuple[AlertText, ...]:
    """Each `(lang, text)` as one message, the campaign's tail (`hashtag_tail(text)`) added;
    BroadcastError naming the language and its length when one is empty or over the limit."""
    rules = sending.rules
    found: list[AlertText] = []
    for lang, written in texts:
        text = written.strip()
        if not text:
            raise BroadcastError(f"{where}: the {lang} text is empty")
        text += hashtag_tail(text)
        units = rules.length(text)
        if units > rules.limit:
            raise BroadcastError(
                f"{where} ({lang}): {units} {rules.unit} ({sending.encoding(text)}), over the "
                f"{rules.limit} an alert on {rules.network} may be; shorten it"
            )
        found.append(AlertText(lang, text, units, sending.encoding(text)))
    return tuple(found)


def lang_for(subscriber_lang: str, langs: Sequence[str]) -> str:
    """The language of the alert a subscriber is sent: theirs if the alert has it, else its
    first."""
    return subscriber_lang if subscriber_lang in langs else langs[0]


def by_text_lang(subscriber_langs: Iterable[str], langs: Sequence[str]) -> dict[str, int]:
    """How many subscribers get each language's text, every language of the alert named."""
    counts = dict.fromkeys(langs, 0)
    for lang in subscriber_langs:
        counts[lang_for(lang, langs)] += 1
    return counts


@dataclass(frozen=True, slots=True)
class Audience:
    """What an alert to a subscriber network will take: its texts, how many subscribers get
    each (`counts`, by the text's language) and, from those, units, cost and duration."""

    texts: tuple[AlertText, ...]
    counts: Mapping[str, int]
    district: str | None
    sending: SubscriberSending

    @property
    def subscribers(self) -> int:
        return sum(self.counts.values())

    @property
    def units(self) -> int:
        return sum(self.counts.get(t.lang, 0) * t.units for t in self.texts)

    @property
    def cost(self) -> float:
        return self.units * self.sending.price_per_unit

    @property
    def duration(self) -> timedelta:
        return send_duration(self.units, self.sending.units_per_second)


def send_duration(units: int, units_per_second: float) -> timedelta:
    """How long `units` take at the sender's pace (whole seconds, rounded up)."""
    return timedelta(seconds=math.ceil(units / units_per_second))


def about(duration: timedelta) -> str:
    """ "about 2 h 47 min", "about 12 min", "about 40 s": how long a send takes, as staff
    plan by it (to the minute from a minute on)."""
    seconds = math.ceil(duration.total_seconds())
    if seconds < 60:
        return f"about {seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    return f"about {minutes // 60} h {minutes % 60} min"
