"""What a whole text means as a keyword: the carrier's (STOP, START, HELP) and the bot's
(STATUS, ALERTS, a menu choice), in English and Spanish.

A text is a keyword only when it *is* the keyword: its words, folded (case, accents, and any
punctuation, symbol or spacing between and around them dropped), are one of the keyword's
spellings. "Stop.", " STOP ", "opt-out" and "Stop 🛑" are STOP; "stop sign knocked down" is a
report. Only ALERTS takes words after it, the district the resident names.

The carrier words are those Twilio itself honours on a long code by default, so what we record
matches what Twilio does (its block of a number that sent STOP, error 21610 after it):

- opt-out: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT;
- opt-in: START, UNSTOP, YES (Twilio lifts its block on each: a YES from a number that never
  opted out is no opt-in, and the caller, who knows, reads `Keyword.word`);
- help: HELP, INFO.

A STOP read here where Twilio blocks nothing is honoured all the same: we send less, never
more. So are the ways people plainly ask to stop, as US carriers' guidance (CTIA's) asks a sender
to honour any reasonable opt-out: "Stop please", "stop texting me", "no more texts", and in
Spanish, which Twilio has no default words for, PARAR, ALTO, BAJA, CANCELAR, "darme de baja",
"no más mensajes" (Twilio itself still texts such a number until it sends one of its words: a
Messaging Service's Advanced Opt-Out can add them there too). A whole text only: "stop sign
knocked down" is a report. AYUDA (help), ESTADO (status) and ALERTAS are the bot's own Spanish
words.

A subscriber who stops the alerts in words, an opt-out word with ALERTS in either order ("STOP
ALERTS", "alertas stop", "ALERTS OFF"), says STOP too: read as anything else they would get the
menu, or ALERTS of a district named "STOP", and go on getting the alerts they asked to end.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass

import regex

# The most words any keyword but ALERTS is spelled with ("stop texting me", "no mas mensajes"):
# a longer text is a message, never a keyword.
MAX_WORDS = 3
# A menu choice longer than this is no choice (and `int` of a long enough run of digits raises).
_MAX_CHOICE_DIGITS = 3

# A word: letters (with their marks) and digits; everything else is a gap.
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")
_AROUND = regex.compile(r"^[^\p{L}\p{M}\p{N}]+|[^\p{L}\p{M}\p{N}]+$")


class KeywordKind(enum.StrEnum):
    STOP = "stop"  # opt out: nothing more is ever sent to the number
    START = "start"  # opt back in
    HELP = "help"
    STATUS = "status"  # the newest case's status
    ALERTS = "alerts"  # subscribe to alerts, of a district or all
    CHOICE = "choice"  # a number of the menu the bot sent


@dataclass(frozen=True, slots=True)
class Keyword:
    """A text read as a keyword.

    `word`: the keyword as folded ("stopall", "yes", "2"). `lang`: "en" or "es", the language
    its word is of (None for a menu choice, which has none). `district`: for ALERTS, the words
    after it as the resident wrote them, spacing collapsed and punctuation around them dropped
    (None: no district, every alert). `choice`: for CHOICE, the number chosen."""

    kind: KeywordKind
    word: str
    lang: str | None
    district: str | None = None
    choice: int | None = None


_SPELLINGS: dict[tuple[str, ...], tuple[KeywordKind, str]] = {}
for _kind, _lang, _written in (
    (KeywordKind.STOP, "en", "stop|stopall|stop all|unsubscribe|cancel|end|quit|revoke|optout"),
    (KeywordKind.STOP, "en", "opt out"),  # OPT-OUT, Opt Out: OPTOUT with a gap
    # Plain words for the same (we send less, never more); a whole text only.
    (
        KeywordKind.STOP,
        "en",
        "stop please|please stop|stop texting|stop texting me|stop messaging me|stop sending"
        "|stop sending texts|stop the texts|no more texts|no more messages|unsubscribe me"
        "|remove me",
    ),
    (
        KeywordKind.STOP,
        "es",
        "parar|alto|baja|cancelar|detener|basta|darme de baja|dar de baja|no mas mensajes"
        "|no mas textos|no me escriban",
    ),
    (KeywordKind.START, "en", "start|unstop|yes"),
    (KeywordKind.HELP, "en", "help|info"),
    (KeywordKind.HELP, "es", "ayuda"),
    (KeywordKind.STATUS, "en", "status"),
    (KeywordKind.STATUS, "es", "estado"),
):
    for _spelling in _written.split("|"):
        _SPELLINGS[tuple(_spelling.split())] = (_kind, _lang)
_ALERTS = {"alerts": "en", "alert": "en", "alertas": "es", "alerta": "es"}
# The one-word opt-outs, and OFF, which only says so after ALERTS ("ALERTS OFF").
_OPT_OUT_WORDS = frozenset(
    spelling[0]
    for spelling, (kind, _) in _SPELLINGS.items()
    if kind is KeywordKind.STOP and len(spelling) == 1
)
for _stop in _OPT_OUT_WORDS:
    for _alerts, _alerts_lang in _ALERTS.items():
        _SPELLINGS[(_stop, _alerts)] = (KeywordKind.STOP, _alerts_lang)


def fold(word: str) -> str:
    """`word` as keywords are compared: casefolded, accents and other marks dropped, compatibility
    forms made plain (full-width letters, ligatures)."""
    plain = unicodedata.normalize("NFKD", word.casefold())
    return "".join(char for char in plain if not unicodedata.combining(char))


def words(text: str) -> list[str]:
    """The folded words of `text`, in order: runs of letters and digits."""
    return [fold(match.group()) for match in _WORD.finditer(text)]


def keyword_of(text: str, menu_size: int = 0) -> Keyword | None:
    """The keyword `text` is, or None when it is none (a report, a question, a choice beyond
    `menu_size`, which is 0 when no menu was sent). Never raises, whatever the `str`."""
    found = list(_WORD.finditer(text))
    if not found:
        return None
    first = fold(found[0].group())
    if first in _ALERTS:
        after = [fold(match.group()) for match in found[1:]]
        if len(after) == 1 and (after[0] in _OPT_OUT_WORDS or after[0] == "off"):
            return Keyword(KeywordKind.STOP, f"{first} {after[0]}", _ALERTS[first])
        rest = " ".join(_AROUND.sub("", text[found[0].end() :]).split())
        return Keyword(KeywordKind.ALERTS, first, _ALERTS[first], district=rest or None)
    if len(found) > MAX_WORDS:
        return None
    folded = tuple(fold(match.group()) for match in found)
    if folded in _SPELLINGS:
        kind, lang = _SPELLINGS[folded]
        return Keyword(kind, " ".join(folded), lang)
    if len(folded) == 1 and first.isdecimal() and len(first) <= _MAX_CHOICE_DIGITS:
        number = int(first)
        if 1 <= number <= menu_size:
            return Keyword(KeywordKind.CHOICE, str(number), None, choice=number)
    return None
