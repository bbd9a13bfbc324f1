"""A broadcast too long for one post, as a numbered thread that still reads naturally.

Parts end where a reader would pause (a blank line, a line break, a sentence end) when one is
near the end of the part, else between words. Nothing a reader taps (a URL, #hashtag, @mention,
$cashtag) or sees as one character (👨‍👩‍👧, 🇲🇽, 👍🏽, é written as e + accent) is ever cut: a
single word longer than a whole post is cut between characters only when it holds none of those,
and is refused with `TooLongToSplit` otherwise.

Lengths are the network's, as its `TextRules` measure them (X: weighted lengths, a URL weighs 23
whatever its length, an emoji 2, CJK 2). A measure need only grow with the text and count a URL
as a whole. Weighing a whole part for every word tried would be quadratic, so each word is
weighed once and parts are filled by adding weights up. A measure is at best nearly additive (on
X a tail glued to a word can make a URL appear, NFC can merge characters), so every finished
post is weighed again as a whole and a part that came out too long is refilled with a smaller
budget.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import regex

from socialbot._urls import find_urls
from socialbot.hashtags import extract_hashtags_with_indices
from socialbot.text_rules import TextRules

Measure = Callable[[str], int]

# How good a place to end a part is, best last; a part ends at the best one in its latter half.
_BETWEEN_WORDS = 0
_SENTENCE_END = 1
_LINE_BREAK = 2
_PARAGRAPH_BREAK = 3

_GRAPHEME = regex.compile(r"\X")
# Where a sentence ends; only a hint for where to cut a run of text with no spaces (Chinese,
# Japanese): after these.
_SENTENCE_PUNCTUATION = frozenset(".!?…。\uff01\uff1f‼⁇⁈⁉")
# Closing quotes and brackets may follow the full stop: «Cerrado.» or (see below.)
_ENDS_SENTENCE = regex.compile(
    f"[{regex.escape(''.join(sorted(_SENTENCE_PUNCTUATION)))}][\"'\u201d\u2019»)\\]]*$"
)
# Spanish opens questions and exclamations: "... hoy. ¿Dónde?" A ¿ or ¡ begins a new clause
# even after a comma, so breaking before one keeps the question whole.
_OPENS_SENTENCE = ("¿", "¡")
# twitter-text's mention and cashtag rules, loosened: over-detecting only means refusing to
# cut a long word, which is the safe mistake.
_MENTION = regex.compile(r"(?<![a-zA-Z0-9_!#$%&*@\uff20])[@\uff20][a-zA-Z0-9_]{1,20}")
_CASHTAG = regex.compile(
    r"(?:^|(?<=\p{Pd}))[$\uff04][a-zA-Z]{1,6}(?:[._][a-zA-Z]{1,2})?(?=$|\p{P})"
)
_SHOWN_IN_ERRORS = 40
# Byte-order marks and a noncharacter, refused in any post (see _check_postable).
_REFUSED = frozenset("\ufffe\ufeff\uffff")


class TooLongToSplit(ValueError):
    """Something that must stay whole in one post (a URL, hashtag, mention, cashtag, one
    character, or the tail with the numbering) leaves no room: the message names it."""


def split_thread(text: str, *, rules: TextRules, tail: str = "") -> list[str]:
    """``text`` as posts of at most ``rules.limit`` as ``rules`` measure, each ending with
    ``tail``.

    Text that fits with its tail is one post, unnumbered: ``[text + tail]``. Otherwise part i of
    n is ``chunk + tail + f" {i}/{n}"``, so a reader of any part sees the tail (e.g. the
    broadcast's hashtag, ``" #BoSandy"``: give it its leading space) and where they are in the
    thread. The whitespace where the text is cut is dropped; whitespace inside a part is kept.

    Raises ``TooLongToSplit`` when something that must not be cut does not fit in a post, and
    ``ValueError`` when there is no text or it holds a character no post may carry, or when
    ``rules`` measure no sum of words (``TextRules.by_words``: SMS segments).
    """
    limit, measure = rules.limit, rules.measure
    if not rules.by_words:
        raise ValueError(f"{rules.network}'s {rules.unit} are not measured by words: no thread")
    if limit <= 0:
        raise ValueError(f"{rules.network}'s limit must be at least 1, got {limit}")
    text = text.strip()
    if not text:
        raise ValueError("there is no text to post")
    whole = text + tail
    if measure(whole) <= limit:
        _check_postable(whole)
        return [whole]

    words = _words(text, measure)
    suffix_weights: dict[tuple[int, int], int] = {}
    penalties: dict[int, int] = {}

    def budget(index: int, width: int) -> int:
        # Every number of the same width weighs the same, so "9" stands for any digit.
        key = (len(str(index)), width)
        if key not in suffix_weights:
            suffix_weights[key] = measure(f"{tail} {index}/{'9' * width}")
        if suffix_weights[key] >= limit:
            raise TooLongToSplit(
                f"the tail {_shown(tail)!r} with the numbering leaves no room for text in a post"
            )
        return limit - suffix_weights[key] - penalties.get(index, 0)

    # The numbering's width is guessed, then widened when the parts outnumber it (9 → 10). Only
    # ever widened, so this ends; a thread numbered narrower than guessed is merely shorter.
    width = 1
    while True:
        chunks = _fill(words, functools.partial(budget, width=width), measure)
        count = len(chunks)
        if len(str(count)) > width:
            width = len(str(count))
            continue
        posts = [f"{chunk}{tail} {index}/{count}" for index, chunk in enumerate(chunks, 1)]
        overflows = {
            index: excess
            for index, post in enumerate(posts, 1)
            if (excess := measure(post) - limit) > 0
        }
        if not overflows:
            for post in posts:
                _check_postable(post)
            return posts
        # Rare (see the module docstring): refill with those parts' budgets cut by the excess.
        # Budgets only shrink, so this ends, at worst in TooLongToSplit.
        for index, excess in overflows.items():
            penalties[index] = penalties.get(index, 0) + excess


@dataclass(frozen=True, slots=True)
class _Word:
    """A run of text without whitespace, and the whitespace after it ("" after the last)."""

    text: str
    weight: int
    gap: str
    gap_weight: int
    # How good a place the gap is to end a part.
    rank: int


def _words(text: str, measure: Measure) -> list[_Word]:
    """``text`` cut at whitespace, weighed word by word.

    Whitespace is found grapheme by grapheme: a space carrying a combining accent (" ́") is one
    character to the reader and stays inside its word.
    """
    runs: list[str] = []  # word, gap, word, gap, ..., word
    current: list[str] = []
    in_gap = False
    for grapheme in _GRAPHEME.findall(text):
        if grapheme.isspace() != in_gap:
            runs.append("".join(current))
            current = []
            in_gap = not in_gap
        current.append(grapheme)
    runs.append("".join(current))
    runs.append("")  # the last word's gap
    words = []
    for at in range(0, len(runs) - 1, 2):
        word, gap = runs[at], runs[at + 1]
        following = runs[at + 2] if at + 2 < len(runs) else ""
        # Whitespace alone may weigh nothing (to X it is no post), so a gap is weighed behind a
        # letter.
        gap_weight = _weight(measure, "x" + gap) - _weight(measure, "x")
        words.append(
            _Word(word, _weight(measure, word), gap, gap_weight, _rank(word, gap, following))
        )
    return words


@functools.lru_cache(maxsize=4096)
def _weight(measure: Measure, piece: str) -> int:
    # Words and letters repeat, within a text and across the refills of split_thread.
    return measure(piece)


def _rank(word: str, gap: str, following: str) -> int:
    line_breaks = len((gap + "x").splitlines()) - 1
    if line_breaks >= 2:
        return _PARAGRAPH_BREAK
    if line_breaks:
        return _LINE_BREAK
    if _ENDS_SENTENCE.search(word) or following.startswith(_OPENS_SENTENCE):
        return _SENTENCE_END
    return _BETWEEN_WORDS


def _fill(words: list[_Word], budget: Callable[[int], int], measure: Measure) -> list[str]:
    """Greedy: each part takes words while they fit, then gives back the words after its best
    break in its latter half, so parts end at paragraphs and sentences rather than mid-phrase.
    ``budget(i)`` is the weight part i's text may have."""
    chunks: list[str] = []
    first = 0
    # What is left of words[first] once a word too long for any part has been cut, and its weight.
    head: str | None = None
    head_weight = 0
    while first < len(words):
        room = budget(len(chunks) + 1)
        head_text = words[first].text if head is None else head
        used = words[first].weight if head is None else head_weight
        if used > room:
            if head is None:
                _refuse_entities(head_text)
            piece, head, piece_weight = _cut_word(head_text, room, measure)
            head_weight = used - piece_weight
            chunks.append(piece)
            continue
        last = first
        best: int | None = None  # the best break in the latter half
        while True:
            if 2 * used >= room and (best is None or words[last].rank >= words[best].rank):
                best = last
            if last + 1 == len(words):
                break
            grown = used + words[last].gap_weight + words[last + 1].weight
            if grown > room:
                # Nothing more fits: give back what follows the best break, if any is late enough.
                last = best if best is not None else last
                break
            used, last = grown, last + 1
        parts = [head_text, words[first].gap]
        for word in words[first + 1 : last + 1]:
            parts += [word.text, word.gap]
        chunks.append("".join(parts[:-1]))
        first, head = last + 1, None
    return chunks


# Cuts tried, from the best back, before deciding the word cannot be cut without harm.
_CUTS_TRIED = 8
# How much of what follows a cut to search for a link or tag the cut would start. Searching all
# of it at every cut would be quadratic in the word, and URL matching is slow on long runs.
_LOOKAHEAD = 512


def _cut_word(word: str, room: int, measure: Measure) -> tuple[str, str, int]:
    """The longest start of ``word`` (which holds no URL, hashtag, mention or cashtag) that
    weighs at most ``room``, cut between graphemes, the rest, and the start's weight. The cut
    goes after a full stop in the latter half if there is one, as Chinese and Japanese put no
    spaces between sentences.

    A cut must not make a link or tag appear in either half ("x#a|#b", "…example.com|xyz"): a
    post must not link what the text did not. Such cuts are skipped."""
    cuts: list[tuple[int, int]] = []  # (end in str indices, weight up to there), in order
    used = 0
    for match in _GRAPHEME.finditer(word):
        used += _weight(measure, match.group())
        if used > room:
            break
        cuts.append((match.end(), used))
    if not cuts:
        character = _GRAPHEME.match(word)
        shown = character.group() if character else word
        raise TooLongToSplit(f"the character {shown!r} alone is longer than a post")
    sentence_ends = [
        at
        for at, (end, weight) in enumerate(cuts)
        if 2 * weight >= room and word[end - 1] in _SENTENCE_PUNCTUATION
    ]
    best = sentence_ends[-1] if sentence_ends else len(cuts) - 1
    # The sentence end first, then the fullest cuts.
    order = [best, *(at for at in range(len(cuts) - 1, -1, -1) if at != best)]
    for at in order[:_CUTS_TRIED]:
        end, weight = cuts[at]
        piece, rest = word[:end], word[end:]
        # The text around the cut is unchanged, so what the cut makes begins or ends at it.
        made = _entities(piece) + [e for e in _entities(rest[:_LOOKAHEAD]) if e[0] == 0]
        if not made:
            return piece, rest, weight
    raise TooLongToSplit(
        f"{_shown(word)} is longer than a post and cannot be cut without making a link, hashtag"
        " or mention of part of it"
    )


def _entities(text: str) -> list[tuple[int, str, str]]:
    """What X would make tappable in ``text``: (where, what it is, its text), in order."""
    found = [(url.start, "the URL", url.url) for url in find_urls(text)]
    found += [
        (tag.start, "the hashtag", text[tag.start : tag.end])
        for tag in extract_hashtags_with_indices(text)
    ]
    found += [(m.start(), "the mention", m.group()) for m in _MENTION.finditer(text)]
    found += [(m.start(), "the cashtag", m.group()) for m in _CASHTAG.finditer(text)]
    return sorted(found)


def _refuse_entities(word: str) -> None:
    """Raise if ``word`` holds something that would stop working if cut."""
    found = _entities(word)
    if not found:
        return
    _, kind, token = found[0]
    if token == word:
        raise TooLongToSplit(f"{kind} {_shown(token)} alone is longer than a post")
    raise TooLongToSplit(
        f"{kind} {_shown(token)} cannot be split, and with the text attached to it"
        f" ({_shown(word)}) it is longer than a post"
    )


def _check_postable(post: str) -> None:
    # Called on posts within the limit. Blank or control characters alone is no post (X says
    # so as Java's String.trim() does), and byte-order marks and noncharacters are refused (X
    # refuses them; no network has a use for them in a resident's reply).
    if all(ch <= " " for ch in post):
        raise ValueError("there is no text to post")
    if not _REFUSED.isdisjoint(post):
        raise ValueError(
            f"{_shown(post)!r} contains U+FEFF, U+FFFE or U+FFFF, which no post may carry"
        )


def _shown(token: str) -> str:
    """``token`` short enough for an error message."""
    if len(token) <= _SHOWN_IN_ERRORS:
        return token
    return token[: _SHOWN_IN_ERRORS - 1] + "…"
