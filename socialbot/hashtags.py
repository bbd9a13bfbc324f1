"""Hashtags as X reads them, so a report is routed by the same tags the citizen saw linked.

X decides what is a hashtag with twitter-text; any difference (a tag we route that X did not
link, or the reverse) would confuse people. This follows twitter-text's Java ``Regex.VALID_HASHTAG``
and ``Extractor.extractHashtagsWithIndices`` (commit 30e2430) and passes its conformance cases.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from socialbot._urls import find_urls

# twitter-text lists these Private Use code points as letters (Apple's vendor-specific CJK
# forms); everything else it adds to Java's \p{L}\p{M} is a letter in current Unicode anyway.
_LETTERS_AND_MARKS = r"\p{L}\p{M}\uf870-\uf87f\uf882\uf884-\uf89f\uf8b8\uf8c1-\uf8d6"
_NUMERALS = r"\p{Nd}"
# Joiners and the punctuation that is part of words in some scripts: ZWNJ/ZWJ (Persian, Sinhala),
# Hebrew maqaf and geresh, Japanese wave dashes, sound marks and middle dot, Tibetan tsheg...
_SPECIAL = (
    r"_\u200c\u200d\ua67e\u05be\u05f3\u05f4\uff5e\u301c\u309b\u309c\u30a0\u30fb\u3003"
    r"\u0f0b\u0f0c\u00b7"
)
_TAG_CHARS = _LETTERS_AND_MARKS + _NUMERALS + _SPECIAL

_FULLWIDTH_HASH = "\uff03"  # FULLWIDTH NUMBER SIGN, which X reads as #

# Group 1, the character before the hash, is consumed as in twitter-text: it decides whether a
# hash right after a rejected tag can start another one. "&#39;" is an entity, not a tag; emoji
# variation selectors are marks, yet a tag may follow them. A hash followed by U+FE0F or U+20E3
# is the keycap emoji #️⃣. A tag needs at least one letter: "#16" is a bus, not a topic.
_HASHTAG = regex.compile(
    rf"(^|[\uFE0E\uFE0F]|[^&{_TAG_CHARS}])"
    r"[#\uFF03](?![\uFE0F\u20E3])"
    rf"([{_TAG_CHARS}]*[{_LETTERS_AND_MARKS}][{_TAG_CHARS}]*)"
)
# "#a#b" is neither tag, and "#http://x" is a URL someone put a hash in front of.
_INVALID_AFTER = ("#", _FULLWIDTH_HASH, "://")


@dataclass(frozen=True, slots=True)
class HashtagSpan:
    """A hashtag without its hash; ``start`` is the hash's str index, ``end`` exclusive.

    Indices count code points (Python str indices), as twitter-text's conformance data does.
    """

    hashtag: str
    start: int
    end: int


def extract_hashtags(text: str) -> list[str]:
    """The hashtags of ``text`` without '#', in order, repeats kept."""
    return [span.hashtag for span in extract_hashtags_with_indices(text)]


def extract_hashtags_with_indices(text: str) -> list[HashtagSpan]:
    """The hashtags of ``text`` with where they are, in order."""
    if "#" not in text and _FULLWIDTH_HASH not in text:
        return []
    spans = [
        HashtagSpan(match.group(2), match.start(2) - 1, match.end(2))
        for match in _HASHTAG.finditer(text)
        if not text.startswith(_INVALID_AFTER, match.end())
    ]
    return _outside_urls(spans, text) if spans else spans


def _outside_urls(spans: list[HashtagSpan], text: str) -> list[HashtagSpan]:
    """Drop hashtags that overlap a URL ("city.gov/#faq"), as twitter-text does.

    Like twitter-text, walk all entities by start and drop whichever overlaps the last one kept;
    sorted() is stable and hashtags go first, matching its tie-breaking.
    """
    urls = find_urls(text)
    if not urls:
        return spans
    entities = [(s.start, s.end, s) for s in spans] + [(u.start, u.end, None) for u in urls]
    kept: list[HashtagSpan] = []
    last_end = -1
    for start, end, hashtag in sorted(entities, key=lambda entity: entity[0]):
        if start < last_end:
            continue
        last_end = end
        if hashtag is not None:
            kept.append(hashtag)
    return kept
