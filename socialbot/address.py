"""An address in words in a resident's text: "123 Main St", "Main and 5th", "Calle Main 123".

Pure and offline: this finds the words, a geocoder (`socialbot.geocoding`) may later find the
point. What is found is conservative on purpose, since a wrong address sends a crew to the wrong
street while no address only costs a question: a sentence that merely holds "and" is no
intersection ("salt and pepper", "Tom and Jerry"), a number before a few words is no house
number unless a street type ends them ("3 big dogs on the way", "2 new street lights"), and
hashtags, @handles and links are never part of an address.

What is found, best first:
- a numbered street: a house number, one to four name words and a street type (English "St",
  "Avenue", …; "123 Main Street Apt 4", "12 St James Ave N"), or a Spanish street type first
  and the number last ("Calle Main 123", "Av. Juárez #45");
- an intersection: two streets joined by "and", "&", "/", "at" or "y" ("Main St & 5th Ave",
  "Main and 5th"), where at least one side is plainly a street (a type or an ordinal: "5th"),
  a side without either is capitalised, and "at" joins two typed streets only; or any two
  street-like phrases after "corner of", "intersection of", "esquina (de)" or "cruce (de)"
  ("corner of Elm and Oak", "esquina de Main y 5th", "esquina con").

The work is linear in the text, which is cut at `MAX_SCANNED_CHARS` first: one hostile text
cannot stall a poll.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from socialbot._urls import find_urls

MAX_SCANNED_CHARS = 1_000
# The longest name a street is given here, in words (e.g. "Martin Luther King Jr Blvd").
_MAX_NAME_WORDS = 4
_MAX_WORD_CHARS = 30


class AddressKind(enum.StrEnum):
    STREET = "street"  # a house number on a street
    INTERSECTION = "intersection"  # two streets that cross


@dataclass(frozen=True, slots=True)
class FoundAddress:
    """An address found in a text: `text` as the resident wrote it (spaces collapsed, unit
    included), what the case keeps; `query`, what a geocoder is asked (no apartment or suite,
    an intersection as "A & B")."""

    text: str
    query: str
    kind: AddressKind


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# English street types, and the abbreviations USPS lists for them (a dot after one is its own).
_EN_TYPES = _words(
    """
    st street ave av avenue rd road blvd boulevard dr drive ln lane way pl place ct court ter
    terrace pkwy parkway hwy highway sq square cir circle row plz plaza aly alley path trl trail
    xing crossing expy expressway fwy freeway tpke turnpike wy ext
    """
)
# Full words that name other things as often as streets: only a capitalised name makes them a
# street ("12 Elm Way", not "3 big dogs on the way"), or their abbreviation does.
_AMBIGUOUS_TYPES = _words(
    "way drive place court square circle row plaza path trail crossing lane terrace alley"
)
# Spanish street types, which come before the name: "Calle Main 123".
_ES_TYPES = _words(
    """
    calle c avenida av avda paseo camino carrera cra calzada carretera callejon callejón bulevar
    boulevard diagonal transversal pasaje prolongacion prolongación
    """
)
_DIRECTIONS = _words("n s e w ne nw se sw north south east west norte sur este oeste")
_UNITS = _words(
    "apt apartment unit suite ste fl floor rm room depto dpto departamento int interior piso"
)
# Words that join the name of a Spanish street ("Calle de la Paz 12") but no English one.
_ES_JOINERS = _words("de del la las los el")
# Never part of a street's name, whatever their case: function words of English and Spanish and
# the words a report is made of.
_STOP = _words(
    """
    a an the and or but nor of on in at to for from by with without near into onto over under
    up down out off across past behind between before after around about since ago until
    is are was were be been being am it its it's this that these those there here where when
    what which who whom whose how why not no yes ok okay please thanks thank thx hi hello hey
    again still just also very so too some any all every each much more most less few many lot
    lots i me my mine we us our you your he him his she her they them their has have had do
    does did done can could will would should may might must shall get got going go gone see
    saw seen call called report reported reporting problem issue help fix fixed broken
    if then than because while as via per
    el la los las un una unos unas y o u e de del al en con por para sin sobre entre hay es son
    está están esta este estos estas eso esa ese esos esas que qué cuando cuándo donde dónde
    como cómo muy más menos ya no sí si gracias hola favor mi mis su sus tu tus nuestro nuestra
    lo le les se me te nos hace desde hasta otra otro otros mismo cerca frente junto
    """
)
# Words that are street names when capitalised ("Old Colony Ave", "First St") but, written in
# lower case, a count or a description: "2 new street lights", "3 big holes road".
_COMMON = _words(
    """
    new old big small huge large little long short bad good great same other another next last
    first second third fourth fifth sixth seventh eighth ninth tenth one two three four five six
    seven eight nine ten dozen hour hours minute minutes day days week weeks month months year
    years time times mile miles block blocks foot feet inch inches meter meters metre metres
    deep wide dark open closed whole entire huge massive giant tiny dangerous
    pothole potholes hole holes light lights lamp lamps sign signs tree trees car cars truck
    trucks dog dogs cat cats people kids man woman guy guys trash garbage water snow ice
    """
)
# The nouns "street" names when it comes before them: "5 main street lights" is lights.
_COMPOUND_HEADS = _words(
    "light lights lamp lamps sign signs sweeper sweeping cleaning parking vendor vendors food art "
    "fair festival party crossing"
)
_CONNECTORS = frozenset({"and", "&", "/", "at", "y"})
# Words before an intersection that say one follows: (first word, optional second word).
_CUES: tuple[tuple[str, ...], ...] = (
    ("corner", "of"),
    ("intersection", "of"),
    ("esquina", "de"),
    ("esquina", "con"),
    ("cruce", "de"),
    ("esquina",),
    ("cruce",),
)
_NUMBER = re.compile(r"[0-9]{1,6}(?:-[0-9]{1,6})?[a-z]?", re.IGNORECASE)
_ORDINAL = re.compile(r"[0-9]{1,3}(?:st|nd|rd|th|ra|da|ta|va|na|er|°|º)", re.IGNORECASE)
_UNIT_VALUE = re.compile(r"[0-9]{1,5}[a-z]?|[a-z]", re.IGNORECASE)
# A token: a word (letters, digits, inner apostrophes and hyphens, an ordinal's degree sign,
# one trailing dot), or one sign.
_TOKEN = re.compile(r"[^\W_]+(?:['\u2019\-][^\W_]+)*[°º]?\.?|&|/|#|\S")
# A hashtag holds a letter ("#45" is a number, "Av. Juárez #45"); a handle may be Mastodon's
# "@city@mastodon.social" or Bluesky's "@boston.bsky.social".
_HASHTAG_OR_HANDLE = re.compile(
    r"(?<!\w)(?:[#\uff03](?=[\d_]*+[^\W\d_])\w+|[@\uff20][^\W_][\w.@-]*)"
)
_SCHEME_URL = re.compile(r"[a-z][a-z0-9+.\-]*://\S+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Word:
    raw: str  # as written, its dot included
    low: str  # folded, without a trailing dot
    start: int
    end: int

    @property
    def capitalised(self) -> bool:
        return self.raw[:1].isupper() or self.raw[:1].isdigit()


def find_address(text: str) -> FoundAddress | None:
    """The first numbered street in `text`, else its first intersection, else None."""
    text = text[:MAX_SCANNED_CHARS]
    runs = _runs(_blanked(text))
    for run in runs:
        found = _first_street(text, run)
        if found is not None:
            return found
    for run in runs:
        found = _first_intersection(text, run)
        if found is not None:
            return found
    return None


def _blanked(text: str) -> str:
    """`text` with links, hashtags and handles replaced by a sign that no address crosses."""
    spans = [(span.start, span.end) for span in find_urls(text)]
    spans += [m.span() for m in _SCHEME_URL.finditer(text)]
    spans += [m.span() for m in _HASHTAG_OR_HANDLE.finditer(text)]
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        chars[start:end] = "|" * (end - start)
    return "".join(chars)


def _runs(text: str) -> list[list[_Word]]:
    """The text's words in runs that no address crosses: a sentence's end, a line's, most
    punctuation, a blanked link or hashtag. A comma ends a run too, but for a unit after it
    ("123 Main St, Apt 4"), which `_unit_after` reads from the run's own words."""
    runs: list[list[_Word]] = [[]]
    previous_end = 0
    for match in _TOKEN.finditer(text):
        raw = match.group(0)
        if "\n" in text[previous_end : match.start()]:
            runs.append([])
        previous_end = match.end()
        if raw in ("&", "/", "#") or raw[:1].isalnum():
            low = raw.casefold().rstrip(".").replace("\u2019", "'")
            word = _Word(raw, low, match.start(), match.end())
            if len(low) > _MAX_WORD_CHARS:
                runs.append([])
                continue
            if not runs[-1] or not _ends_sentence(runs[-1][-1]):
                runs[-1].append(word)
            else:
                runs.append([word])
        elif raw == "," and runs[-1]:
            runs[-1].append(_Word(",", ",", match.start(), match.end()))
        else:
            runs.append([])
    return [run for run in runs if run]


def _ends_sentence(word: _Word) -> bool:
    """A word with a dot that is no abbreviation ("St.", "Ave.", "N.", "Av.") ends its sentence."""
    if not word.raw.endswith("."):
        return False
    return not (
        word.low in _EN_TYPES
        or word.low in _ES_TYPES
        or word.low in _DIRECTIONS
        or word.low in _UNITS
        or word.low in ("no", "núm", "num", "jr", "sr", "mt", "ft")
        or (len(word.low) == 1 and word.low.isalpha())
    )


def _is_name(word: _Word) -> bool:
    """Whether `word` may be part of a street's name."""
    low = word.low
    if low in _STOP or low in (",", "&", "/", "#") or not word.raw[:1].isalnum():
        return False
    if _ORDINAL.fullmatch(low):
        return True
    if not any(c.isalpha() for c in low) or any(c.isdigit() for c in low):
        return False
    return word.capitalised or low not in _COMMON


def _is_type(word: _Word) -> bool:
    return word.low in _EN_TYPES


def _span(text: str, words: Sequence[_Word]) -> str:
    return " ".join(text[words[0].start : words[-1].end].split()).rstrip(",")


# ---------------------------------------------------------------------------------------------
# Numbered streets


def _first_street(text: str, run: list[_Word]) -> FoundAddress | None:
    for i, word in enumerate(run):
        if _NUMBER.fullmatch(word.low) and not _ORDINAL.fullmatch(word.low):
            found = _english_street(text, run, i)
            if found is not None:
                return found
        if word.low in _ES_TYPES and word.raw[:1].isalpha():
            found = _spanish_street(text, run, i)
            if found is not None:
                return found
    return None


def _english_street(text: str, run: list[_Word], i: int) -> FoundAddress | None:
    """ "123 Main St", "12 St James Ave N Apt 4" from the house number at `run[i]`."""
    if i > 0 and run[i - 1].low in ("#", "no", "apt", "unit", "suite", "ste"):
        return None  # "apt 4 Main St": the number is a unit's
    j = i + 1
    if j < len(run) and run[j].low in _DIRECTIONS and run[j].capitalised:
        j += 1  # "45 W Broadway St"
    names: list[_Word] = []
    last_type: int | None = None
    while j < len(run) and len(names) < _MAX_NAME_WORDS + 1:
        word = run[j]
        if _is_type(word) and names:
            last_type = j
        elif not _is_name(word):
            break
        names.append(word)
        j += 1
    if last_type is None:
        return None
    kind_word = run[last_type]
    name_words = run[i + 1 : last_type]
    if not any(_is_name(w) and not _is_type(w) for w in name_words):
        return None
    end = last_type + 1
    if kind_word.low in _AMBIGUOUS_TYPES and not all(w.capitalised for w in name_words):
        return None  # "3 big dogs on the way": a lower-case full word is only a word
    if end < len(run) and run[end].low in _COMPOUND_HEADS and not run[end].capitalised:
        return None  # "5 main street lights"
    if end < len(run) and run[end].low in _DIRECTIONS and run[end].capitalised:
        end += 1  # "1600 Pennsylvania Ave NW"
    street = run[i:end]
    unit = _unit_after(run, end)
    written = street + unit
    return FoundAddress(_span(text, written), _span(text, street), AddressKind.STREET)


def _unit_after(run: list[_Word], j: int) -> list[_Word]:
    """The apartment or suite after a street ("Apt 4", ", Unit 2B", "#3"), or nothing."""
    k = j + 1 if j < len(run) and run[j].low == "," else j
    if k < len(run) and run[k].low == "#":
        if k + 1 < len(run) and _UNIT_VALUE.fullmatch(run[k + 1].low):
            return run[j : k + 2]
        return []
    if k + 1 < len(run) and run[k].low in _UNITS:
        value = k + 2 if run[k + 1].low == "#" else k + 1
        if value < len(run) and _UNIT_VALUE.fullmatch(run[value].low):
            return run[j : value + 1]
    return []


def _spanish_street(text: str, run: list[_Word], i: int) -> FoundAddress | None:
    """ "Calle Main 123", "Av. Juárez #45", "Calle de la Paz No. 12" from the type at `run[i]`."""
    if run[i].low == "c" and not run[i].raw.endswith("."):
        return None  # a lone "c" is no "C." (calle)
    j = i + 1
    names: list[_Word] = []
    while j < len(run) and len(names) < _MAX_NAME_WORDS:
        word = run[j]
        if _is_name(word) or (word.low in _ES_JOINERS and (bool(names) or j + 1 < len(run))):
            names.append(word)
        else:
            break
        j += 1
    while names and names[-1].low in _ES_JOINERS:
        names.pop()
        j -= 1
    if not any(w.low not in _ES_JOINERS for w in names):
        return None
    if j < len(run) and run[j].low in ("#", "no", "núm", "num", "número", "numero"):
        j += 1
    if j >= len(run) or not _NUMBER.fullmatch(run[j].low) or _ORDINAL.fullmatch(run[j].low):
        return None
    if not run[i].capitalised and not all(w.capitalised for w in names if w.low not in _STOP):
        return None  # "camino a casa 2 veces": lower case throughout is a sentence
    street = run[i : j + 1]
    unit = _unit_after(run, j + 1)
    return FoundAddress(_span(text, street + unit), _span(text, street), AddressKind.STREET)


# ---------------------------------------------------------------------------------------------
# Intersections


@dataclass(frozen=True, slots=True)
class _Side:
    words: list[_Word]
    typed: bool  # has a street type ("St", "Calle")
    ordinal: bool  # is a numbered street ("5th", "5ta")

    @property
    def strong(self) -> bool:
        return self.typed or self.ordinal

    @property
    def capitalised(self) -> bool:
        return all(w.capitalised for w in self.words if w.low not in _ES_JOINERS)


def _side(words: list[_Word]) -> _Side | None:
    if not words or not any(_is_name(w) for w in words):
        return None
    typed = any(_is_type(w) or w.low in _ES_TYPES for w in words)
    ordinal = any(_ORDINAL.fullmatch(w.low) for w in words)
    return _Side(words, typed, ordinal)


def _first_intersection(text: str, run: list[_Word]) -> FoundAddress | None:
    for k, word in enumerate(run):
        connector = word.low
        if connector not in _CONNECTORS and not (connector == "con" and _cued(run, k)):
            continue
        cue = _cue_before(run, k)
        left = _left_side(run, k, cue)
        right = _right_side(run, k, cued=cue is not None)
        if left is None or right is None:
            continue
        if [w.low for w in left.words] == [w.low for w in right.words]:
            continue
        if cue is None and not _plain_intersection(left, right, connector):
            continue
        written = " ".join(text[left.words[0].start : right.words[-1].end].split())
        query = f"{_span(text, left.words)} & {_span(text, right.words)}"
        return FoundAddress(written, query, AddressKind.INTERSECTION)
    return None


def _plain_intersection(left: _Side, right: _Side, connector: str) -> bool:
    """Two streets with no "corner of" before them: one plainly a street, the other capitalised
    or plainly one too; "at" only between two typed streets ("Main St at 5th Ave")."""
    if connector == "at":
        return left.typed and right.typed
    if not (left.strong or right.strong):
        return False
    symbol = connector in ("&", "/")
    return all(side.strong or side.capitalised or symbol for side in (left, right))


def _cued(run: list[_Word], k: int) -> bool:
    return _cue_before(run, k) is not None


def _cue_before(run: list[_Word], k: int) -> tuple[int, int] | None:
    """The (first index, last index) of a cue such as "corner of" within the few words before
    the connector at `k`, or None."""
    for start in range(max(0, k - _MAX_NAME_WORDS - 2), k):
        for cue in _CUES:
            stop = start + len(cue)
            if stop < k and tuple(w.low for w in run[start:stop]) == cue:
                between = run[stop:k]
                if between and all(_streetish(w) for w in between):
                    return (start, stop - 1)
    return None


def _streetish(word: _Word) -> bool:
    return _is_name(word) or _is_type(word) or word.low in _ES_TYPES or word.low in _DIRECTIONS


def _left_side(run: list[_Word], k: int, cue: tuple[int, int] | None) -> _Side | None:
    """The street before the connector at `k`: after the cue, when there is one; else back to
    the word that starts it (at most a street type, a direction and two names)."""
    if cue is not None:
        return _side(run[cue[1] + 1 : k])
    j = k - 1
    words: list[_Word] = []
    if j >= 0 and _is_type(run[j]):
        words.insert(0, run[j])
        j -= 1
    names = 0
    while j >= 0 and names < 2 and _is_name(run[j]) and not _is_type(run[j]):
        if not run[j].capitalised and names:
            break
        words.insert(0, run[j])
        names += 1
        j -= 1
    if j >= 0 and run[j].low in _ES_TYPES and run[j].capitalised:
        words.insert(0, run[j])  # "Calle Main y …"
    elif j >= 0 and run[j].low in _DIRECTIONS and run[j].capitalised and names:
        words.insert(0, run[j])  # "W Broadway & …"
    return _side(words) if names else None


def _right_side(run: list[_Word], k: int, *, cued: bool) -> _Side | None:
    """The street after the connector at `k`: a type or direction first ("Calle 5", "W 4th"),
    then names up to a street type (at most four), else the first name alone (two capitalised
    ones, "West Newton"); a direction after a type ("5th Ave N")."""
    j = k + 1
    words: list[_Word] = []
    if j < len(run) and (run[j].low in _ES_TYPES or run[j].low in _DIRECTIONS):
        after = run[j + 1] if j + 1 < len(run) else None
        numbered = after is not None and run[j].low in _ES_TYPES and _NUMBER.fullmatch(after.low)
        if run[j].capitalised and after is not None and (_is_name(after) or numbered):
            words.append(run[j])
            j += 1
    names: list[_Word] = []
    while j < len(run) and len(names) < _MAX_NAME_WORDS:
        if _is_type(run[j]) and names:
            names.append(run[j])
            j += 1
            if j < len(run) and run[j].low in _DIRECTIONS and run[j].capitalised:
                names.append(run[j])
            return _side(words + names)
        if not _is_name(run[j]) and not (words and _NUMBER.fullmatch(run[j].low)):
            break
        names.append(run[j])
        j += 1
    if not names:
        return None
    keep = 1
    if len(names) > 1 and names[0].capitalised and names[1].capitalised:
        keep = 2 if not _ORDINAL.fullmatch(names[0].low) else 1
    return _side(words + names[:keep])
