"""Post length as X counts it, so a reply we render is never rejected for being too long.

X does not count characters: it weighs them (twitter-text "v3" configuration). Latin, Cyrillic,
Greek... weigh 1, CJK and most other scripts 2, every URL 23 whatever its length, and an emoji 2
however many code points it is made of. The text is NFC-normalised first. This follows
twitter-text's Java ``TwitterTextParser.parseTweet`` (commit 30e2430) and its conformance cases.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import regex

from socialbot._urls import find_urls


@dataclass(frozen=True, slots=True)
class WeightRange:
    """Code points ``start``..``end`` (inclusive) weigh ``weight`` (in units of 1/scale)."""

    start: int
    end: int
    weight: int


@dataclass(frozen=True, slots=True)
class TextConfig:
    """A twitter-text weighting configuration, embedded so that nothing is read at runtime."""

    version: int
    max_weighted_length: int
    scale: int
    default_weight: int
    transformed_url_length: int
    emoji_parsing_enabled: bool
    ranges: tuple[WeightRange, ...]


# twitter-text config/v3.json: what X uses today.
V3 = TextConfig(
    version=3,
    max_weighted_length=280,
    scale=100,
    default_weight=200,
    transformed_url_length=23,
    emoji_parsing_enabled=True,
    ranges=(
        WeightRange(0, 4351, 100),  # Latin to Georgian: Latin, Greek, Cyrillic, Arabic, Indic...
        WeightRange(8192, 8205, 100),  # spaces, ZWNJ and ZWJ
        WeightRange(8208, 8223, 100),  # dashes and quotes
        WeightRange(8242, 8247, 100),  # primes
    ),
)

# Emoji sequences per Unicode TS #51, weighed as one default-weight character. twitter-text uses a
# generated list of the sequences known in 2020; Unicode properties keep newer emoji counted right.
#
# Emoji that have both a text and an emoji form, so U+FE0F after them belongs to them: the
# text-default ones (except keycap bases) and these emoji-default ones, as listed in
# emoji-variation-sequences.txt. After any other emoji a U+FE0F is stray and counted on its own,
# as twitter-text does.
_HAS_VARIANTS = (
    r"(?:(?![#*0-9]|\p{Emoji_Presentation})\p{Emoji}"
    r"|[\u231a\u231b\u25fd\u25fe\u2614\u2615\u2648-\u2653\u267f\u2693\u26a1\u26aa\u26ab\u26bd"
    r"\u26be\u26c4\u26c5\u26d4\u26ea\u26f2\u26f3\u26f5\u26fa\u26fd\u2757\u2b1b\u2b1c\u2b50\u2b55"
    r"\U0001f004\U0001f21a\U0001f22f])"
)
_EMOJI_ELEMENT = (
    r"(?:\p{Emoji_Modifier_Base}\p{Emoji_Modifier}"  # 👍🏽
    rf"|(?=\p{{Emoji_Modifier_Base}}){_HAS_VARIANTS}\uFE0F\p{{Emoji_Modifier}}"  # ✌️🏽
    rf"|{_HAS_VARIANTS}\uFE0F"  # ❤️, ©️
    r"|\U0001F3F4[\U000E0020-\U000E007E]+\U000E007F"  # subdivision flags such as 🏴󠁧󠁢󠁳󠁣󠁴󠁿
    r"|(?![©®])[\p{Extended_Pictographic}\p{Emoji_Presentation}]"  # 😷, ☺; bare © and ® are text
    r")"
)
_EMOJI = regex.compile(
    r"[#*0-9]\uFE0F?\u20E3"  # keycaps 1️⃣
    r"|\p{Regional_Indicator}{2}"  # flags 🇲🇽
    rf"|{_EMOJI_ELEMENT}(?:\u200D{_EMOJI_ELEMENT})*"  # ZWJ sequences 👨‍👩‍👧
    r"|\uFE0F"  # a stray selector counts once, as in twitter-text
)
# Byte-order marks and a noncharacter: X refuses posts containing them.
_INVALID_CHARACTERS = frozenset("\ufffe\ufeff\uffff")


@dataclass(frozen=True, slots=True)
class ParsedText:
    """What X would say about a post: its weighted length, whether it can be posted, and how full
    it is in thousandths of the limit (over 1000 when too long)."""

    weighted_length: int
    valid: bool
    permillage: int


def parse(text: str, config: TextConfig = V3) -> ParsedText:
    """Weigh ``text`` as X does and say whether X would accept it as a post."""
    # Java's String.trim(): empty or only control characters and spaces is not a post.
    if all(ch <= " " for ch in text):
        return ParsedText(weighted_length=0, valid=False, permillage=0)
    normalized = unicodedata.normalize("NFC", text)
    url_ends = {url.start: url.end for url in find_urls(normalized)}
    emoji_ends = (
        {m.start(): m.end() for m in _EMOJI.finditer(normalized)}
        if config.emoji_parsing_enabled
        else {}
    )
    first = config.ranges[0] if config.ranges else None
    if (
        not url_ends
        and not emoji_ends
        and first is not None
        and first.start == 0
        and ord(max(normalized)) <= first.end
        and max(normalized) < min(_INVALID_CHARACTERS)
    ):
        # Every character is in the first range (a reply in Latin script, say): no need to weigh
        # them one by one.
        length = len(normalized) * first.weight // config.scale
        return ParsedText(
            weighted_length=length,
            valid=length <= config.max_weighted_length,
            permillage=length * 1000 // config.max_weighted_length,
        )
    url_weight = config.transformed_url_length * config.scale
    weight = 0
    has_invalid = False
    offset = 0
    while offset < len(normalized):
        if offset in url_ends:
            weight += url_weight
            offset = url_ends[offset]
            continue
        char = normalized[offset]
        has_invalid = has_invalid or char in _INVALID_CHARACTERS
        if offset in emoji_ends:
            weight += config.default_weight
            offset = emoji_ends[offset]
        else:
            weight += _char_weight(ord(char), config)
            offset += 1
    length = weight // config.scale
    return ParsedText(
        weighted_length=length,
        valid=not has_invalid and length <= config.max_weighted_length,
        permillage=length * 1000 // config.max_weighted_length,
    )


def _char_weight(code_point: int, config: TextConfig) -> int:
    for weight_range in config.ranges:
        if weight_range.start <= code_point <= weight_range.end:
            return weight_range.weight
    return config.default_weight


def weighted_length(text: str, config: TextConfig = V3) -> int:
    """The length X counts for ``text``: at most 280 in a valid post."""
    return parse(text, config).weighted_length


def is_valid_post(text: str, config: TextConfig = V3) -> bool:
    """Whether X would accept ``text``: not blank, no forbidden characters, not too long."""
    return parse(text, config).valid
