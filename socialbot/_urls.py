"""twitter-text's URL extraction, which both post length and hashtag extraction depend on.

X counts every URL as 23 characters and never reads a hashtag inside a URL, so we must find
URLs exactly where X does, including bare domains such as ``city.gov/311`` (known TLD needed).
This mirrors twitter-text's Java ``Regex.VALID_URL`` and ``Extractor.extractURLsWithIndices``
(commit 30e2430, conformance/extract.yml) piece by piece, so the two can be compared side by side.

Java compiles that regex with CASE_INSENSITIVE but not UNICODE_CASE: only ASCII letters fold.
The ``regex`` module has no such mode (its ASCII flag also blinds ``\\p{..}``), so letters are
spelled ``a-zA-Z`` and literal words go through ``_caseless``.

Like twitter-text's, this regex backtracks over every label of a dotted run that ends in no
TLD, once per label: time grows faster than the square of such a run. A 280-character post
takes at most ~40 ms; a 4,000-character "a.a.a..." takes ~10 s (twitter-text's Java, ~55 s).
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import regex

_TLD_FILE = Path(__file__).resolve().parent / "data" / "tlds.txt"
MAX_URL_LENGTH = 4096
MAX_TCO_SLUG_LENGTH = 40
# A URL without a scheme is checked against the limit as if "https://" were in front of it.
_ASSUMED_PROTOCOL_LENGTH = len("https://")


@dataclass(frozen=True, slots=True)
class UrlSpan:
    """A URL found in text; ``start``/``end`` are str (code point) indices, end exclusive."""

    url: str
    start: int
    end: int


def _load_tlds() -> tuple[list[str], list[str]]:
    """(generic, country) TLDs in twitter-text's order, as scripts/update_tlds.py writes them."""
    text = _TLD_FILE.read_text(encoding="utf-8")
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
        elif current is not None:
            current.append(line)
    return sections["generic"], sections["country"]


def _caseless(word: str) -> str:
    """A pattern for ``word`` with ASCII letters in either case, like Java's CASE_INSENSITIVE."""
    return "".join(
        f"[{c.lower()}{c.upper()}]" if c.isascii() and c.isalpha() else regex.escape(c)
        for c in word
    )


def _tld_alternation(tlds: list[str]) -> str:
    """Any of ``tlds``, ending the host: not followed by anything that could continue a label.

    twitter-text writes a plain alternation, which the regex engine tries name by name after
    every label of every candidate host: on "a.a.a..." that is ten times slower than this trie
    ("c(?:o(?:m)?|...)"), where a name that is not there fails after a character or two.
    It matches the same hosts: where one TLD is a prefix of another that may also end a host
    ("嘉里", "嘉里大酒店"), twitter-text's list puts the longer first and the trie, being greedy,
    also tries the longer first (scripts/update_tlds.py checks that the list keeps that order).
    """
    return "(?:" + _trie_pattern(tlds) + r"(?=[^a-zA-Z0-9@+\-]|$))"


_Trie: TypeAlias = dict[str, "_Trie"]


def _trie_pattern(words: list[str]) -> str:
    trie: _Trie = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here

    def pattern(node: _Trie) -> str:
        branches = [_caseless(char) + pattern(child) for char, child in node.items() if char]
        if not branches:
            return ""
        if len(branches) == 1 and "" not in node:
            return branches[0]
        return "(?:" + "|".join(branches) + (")?" if "" in node else ")")

    return pattern(trie)


_GENERIC_TLDS, _COUNTRY_TLDS = _load_tlds()
_GTLD = _tld_alternation(_GENERIC_TLDS)
_CCTLD = _tld_alternation(_COUNTRY_TLDS)

_INVALID_CHARS = r"\uFFFE\uFEFF\uFFFF"
_LATIN_ACCENTS = (
    r"\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff\u0100-\u024f"
    r"\u0253\u0254\u0256\u0257\u0259\u025b\u0263\u0268\u026f\u0272\u0289\u028b"
    r"\u02bb\u0300-\u036f\u1e00-\u1eff"
)
_CYRILLIC = r"\u0400-\u04ff"

# Directional marks (U+061C, U+200E...) are allowed before a URL simply by not being listed.
# Not after a letter, digit, @, $ or # (nor full-width @ and #), nor U+FFFE, U+FEFF, U+FFFF.
_PRECEDING = r"(?:[^a-zA-Z0-9@\uff20$#\uff03" + _INVALID_CHARS + r"]|^)"
_PROTOCOL = _caseless("http") + "[sS]?://"

_DOMAIN_CHARS = "a-zA-Z0-9" + _LATIN_ACCENTS
_DOMAIN_CHAR = f"[{_DOMAIN_CHARS}]"
# Atomic, as in twitter-text: a subdomain once matched is never re-split.
_SUBDOMAIN = rf"(?>(?:{_DOMAIN_CHAR}[{_DOMAIN_CHARS}\-_]*)?{_DOMAIN_CHAR}\.)"
_DOMAIN_NAME = rf"(?:(?:{_DOMAIN_CHAR}[{_DOMAIN_CHARS}\-]*)?{_DOMAIN_CHAR}\.)"
# After an explicit scheme any script may name the host: anything but space and punctuation.
_UNICODE_DOMAIN_CHAR = r"[^\-_!\"#$%&'()*+,./:;<=>?@\[\]^`{|}~\t\n\x0b\f\r \p{Z}\u2000-\u206f]"
_UNICODE_DOMAIN_NAME = (
    rf"(?:(?:{_UNICODE_DOMAIN_CHAR}(?:{_UNICODE_DOMAIN_CHAR}|-)*)?{_UNICODE_DOMAIN_CHAR}\.)"
)
_PUNYCODE = "(?:" + _caseless("xn--") + r"[\-0-9a-zA-Z]+)"

_DOMAIN = (
    # example.com, foo.co.jp, xn--... : needs a known TLD
    rf"(?:{_SUBDOMAIN}*{_DOMAIN_NAME}(?:{_GTLD}|{_CCTLD}|{_PUNYCODE}))"
    # with a scheme: a unicode host, or a ccTLD host
    rf"|(?:(?<={_PROTOCOL})(?:(?:{_DOMAIN_NAME}{_CCTLD})|(?:{_UNICODE_DOMAIN_NAME}(?:{_GTLD}|{_CCTLD}))))"
    # t.co/ : a ccTLD host followed by a path
    rf"|(?:{_DOMAIN_NAME}{_CCTLD}(?=/))"
)

_PATH_CHAR = rf"[a-zA-Z0-9!*';:=+,.$/%#\[\]\-\u2013_~|&@{_LATIN_ACCENTS}{_CYRILLIC}]"
# Up to two levels of balanced parentheses: /wiki/Primer_(film), /track/A_(B_(C))/
_BALANCED_PARENS = rf"\((?:{_PATH_CHAR}+|(?:{_PATH_CHAR}*\({_PATH_CHAR}+\){_PATH_CHAR}*))\)"
# A path segment ends on one of these, so that "see example.com/foo." leaves the full stop out.
_PATH_ENDING_CHAR = rf"[a-zA-Z0-9=_#/\-+{_LATIN_ACCENTS}{_CYRILLIC}]"
# twitter-text splices its "ending chars or parens" alternation into the path pattern without
# brackets, so "|" splits the whole segment: (chars, parens, ending char) | parens | @user/.
# Bracketing it properly would change which URLs match ("a.co/K@(x)" would grow), so we don't.
_PATH = (
    rf"(?:(?:{_PATH_CHAR}*(?:{_BALANCED_PARENS}{_PATH_CHAR}*)*{_PATH_ENDING_CHAR}"
    rf"|(?:{_BALANCED_PARENS}))"
    rf"|(?:@{_PATH_CHAR}+/))"
)
_QUERY_CHAR = r"[a-zA-Z0-9!?*'();:&=+$/%#\[\]\-_.,~|@]"
_QUERY_ENDING = r"[a-zA-Z0-9\-_&=#/]"


@functools.cache
def _valid_url() -> regex.Pattern[str]:
    """twitter-text's URL pattern, compiled at its first use: with every TLD in it, compiling
    takes most of a second, which every command and every `socialbot serve` start would pay."""
    return regex.compile(
        rf"({_PRECEDING})"  # 1: the character before, consumed as twitter-text does
        rf"((?P<protocol>{_PROTOCOL})?"
        rf"(?P<domain>{_DOMAIN})"
        r"(?::[0-9]++)?"
        rf"(?:/{_PATH}*+)?"
        rf"(?:\?{_QUERY_CHAR}*{_QUERY_ENDING})?)"  # 2: the URL
    )


_TCO_URL = regex.compile(
    "^" + _PROTOCOL + _caseless("t.co") + rf"/([a-zA-Z0-9]+)(?:\?{_QUERY_CHAR}*{_QUERY_ENDING})?"
)
# Without a scheme, "foo_bar.com" or "a/b.com" is part of a larger token, not a URL.
_NOT_BEFORE_BARE_DOMAIN = frozenset("-_./")
# Every host the regex accepts ends in "." and a TLD (or "xn--"), so a text without a dot followed
# by the first letter of one has no URL: most posts and replies, spared the big regex.
_TLD_STARTS = {tld[0] for tld in (*_GENERIC_TLDS, *_COUNTRY_TLDS, "xn--")}
_MAY_HOLD_URL = regex.compile(
    r"\.["
    + "".join(
        regex.escape(variant)
        for start in sorted(_TLD_STARTS)
        for variant in sorted({start.lower(), start.upper()} if start.isascii() else {start})
    )
    + "]"
)


def find_urls(text: str) -> list[UrlSpan]:
    """Every URL twitter-text would link in ``text``, in order."""
    if _MAY_HOLD_URL.search(text) is None:
        return []
    return list(_urls_in(text))


# A post's text is scanned for URLs by its wire (links, hashtags outside them), by intake's
# location (links, then the text without them) and by its reply's length: the same text up to
# four times in a row, the big regex each time. The last texts' answers are kept.
@functools.lru_cache(maxsize=256)
def _urls_in(text: str) -> tuple[UrlSpan, ...]:
    spans = []
    for match in _valid_url().finditer(text):
        protocol = match.group("protocol")
        if protocol is None and match.group(1) in _NOT_BEFORE_BARE_DOMAIN:
            continue
        url, start, end = match.group(2), match.start(2), match.end(2)
        tco = _TCO_URL.match(url)
        if tco is not None:
            # t.co links are never followed by more path, and their slugs are short.
            if len(tco.group(1)) > MAX_TCO_SLUG_LENGTH:
                continue
            url = tco.group(0)
            end = start + len(url)
        if _host_and_length_ok(url, protocol, match.group("domain")):
            spans.append(UrlSpan(url, start, end))
    return tuple(spans)


def _host_and_length_ok(url: str, protocol: str | None, host: str) -> bool:
    """Whether the host survives IDNA (labels of 1 to 63 octets) and the URL fits 4096 chars.

    Python's "idna" codec implements IDNA 2003 with unassigned code points allowed, like Java's
    ``IDN.toASCII(host, ALLOW_UNASSIGNED)`` which twitter-text uses.
    """
    try:
        ascii_host = host.encode("idna")
    except UnicodeError:
        return False
    if not ascii_host or not _bidi_ok(host):
        return False
    length = len(url) + len(ascii_host) - len(host)
    if protocol is None:
        length += _ASSUMED_PROTOCOL_LENGTH
    return length <= MAX_URL_LENGTH


_RTL = ("R", "AL")


def _bidi_ok(host: str) -> bool:
    """RFC 3454's bidi rule per label, judged with today's Unicode data as Java's IDN does.

    The idna codec judges with Unicode 3.2, where e.g. U+061C ARABIC LETTER MARK is unassigned
    and so passes; Java rejects a host that starts with it, and so must we.
    """
    for label in regex.split("[.\u3002\uff0e\uff61]", host):
        classes = [unicodedata.bidirectional(c) for c in label]
        if any(c in _RTL for c in classes) and (
            "L" in classes or classes[0] not in _RTL or classes[-1] not in _RTL
        ):
            return False
    return True
