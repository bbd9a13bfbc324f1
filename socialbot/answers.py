"""The city's answers to common questions (`answers.yaml`): loading, validation and matching.

Pure apart from reading the one file: `parse_answers` turns text into `Answers`, `load_answers`
reads the file first. Like the catalog, the file is edited by city staff, so every problem is one
`AnswersError` line, `file:line: problem (hint)`, and the YAML is walked node by node, as the
catalog is, by `socialbot.yaml_fields` (line numbers; a key written twice is refused, never
silently the last one; scalars read as written, so `link: no` is a bad link, not a boolean).

Matching is built for precision: a wrong automatic answer is worse than none, since the message
then goes to staff who answer it properly. The text is cleaned (no @handles, no links, `#` marks
dropped but their words kept), folded as the catalog folds hashtags (no accents, no case) and cut
into words; each phrase an entry lists is compared, with rapidfuzz's `ratio` (a typo or two
forgiven), with every run of as many words in the message (one fewer or one more, for a word
joined or split: `#snowemergency`). An entry scores its best phrase. The best entry answers only
when it scores at least `threshold`, no other entry comes within `margin` of it (unless the
other's words lie inside its own longer phrase: "bulk trash pickup" is not "trash pickup"), and
the message reads as a question (a '?', a question word) rather than a report, a rant or a
thank-you.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

import yaml
from rapidfuzz import fuzz, process

from socialbot._urls import find_urls
from socialbot.catalog import Catalog, normalize_tag
from socialbot.errors import AnswersError
from socialbot.memo import Memo
from socialbot.text_rules import LONGEST_HANDLE, TextRules
from socialbot.yaml_fields import Field, Reader, Wording, is_null, line_of, value_of

SUPPORTED_VERSION = 1
LANGS = ("en", "es")
DEFAULT_LANG = "en"

MAX_KEY = 40
# A phrase is what residents say, not a paragraph: the window of words each is compared with
# stays small, and so does the work.
MAX_ASK_WORDS = 6
MAX_ASK_CHARS = 80
# Far more than any post allows; a longer text is a paste gone wrong.
MAX_TEXT = 1000
MAX_LINK = 500
# Only the start of a message is read: bounded work on any input (a post is 280-500 characters).
MAX_SCANNED = 1000
# Tuned on tests/answers/labelled.yaml (see test_precision.py for the figures it gives).
DEFAULT_THRESHOLD = 88.0
DEFAULT_MARGIN = 6.0
# Below this many characters a phrase must match exactly: "dog tag" is one letter from "dog bag".
MIN_FUZZY_CHARS = 8

_KEY_SLUG = re.compile(r"[a-z0-9_]+")
_TOP_FIELDS = ("version", "answers")
_ENTRY_FIELDS = ("key", "asks", "answer", "link", "category")
_REQUIRED_FIELDS = ("key", "asks", "answer")

# --- the words of a message ---------------------------------------------------------------------

_HANDLE = re.compile(r"(?<![\w.])[@\uff20][\w.@-]+")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S*")
_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# What makes a message a question or a request ("need a permit"), in both languages, folded: a
# '?', one of these words anywhere, or an English yes/no question's verb first ("is the library
# open"). A message with none is a statement (a rant, a report) and is never answered.
_ASKING = _words(
    "when where what whats wheres how hows who whos which need want looking anyone info "
    "cuando donde como que cual quien puedo hay necesito quiero busco tienen informacion"
)
_ASKING_FIRST = _words("is are do does can could will would should may am")
# Words that make a message a report, a complaint or a thank-you: these go to staff (or get the
# thank-you handling), never an automatic answer. Folded word sequences.
_NOT_A_QUESTION = tuple(
    tuple(phrase.split())
    for phrase in (
        "thank you",
        "thanks",
        "thx",
        "gracias",
        "wasn t picked up",
        "weren t picked up",
        "was not picked up",
        "not picked up",
        "didn t pick up",
        "never picked up",
        "was missed",
        "were missed",
        "got missed",
        "missed again",
        "still hasn t",
        "still haven t",
        "there is a",
        "there s a",
        "no recogieron",
        "no pasaron",
        "no han pasado",
        "no han recogido",
        "no funciona",
    )
)
# Function words that tell the two languages apart when a phrase of each scores alike.
_SPANISH = _words("el la los las de del que en por para mi como donde cuando hay es")
_ENGLISH = _words("the is my of to for in on how where when what do does can i")


def fold_words(text: str) -> tuple[str, ...]:
    """The words of `text` as they are compared: accents and case folded as the catalog folds a
    hashtag (`normalize_tag`), punctuation and emoji dropped."""
    return tuple(_WORD.findall(normalize_tag(text)))


def message_words(text: str) -> tuple[str, ...]:
    """The words of a resident's message: its start only (`MAX_SCANNED`), without @handles and
    links, `#` dropped from hashtags (their word kept), folded."""
    scanned = text[:MAX_SCANNED]
    scanned = _URL.sub(" ", _HANDLE.sub(" ", scanned))
    return fold_words(scanned.replace("#", " ").replace("\uff03", " "))


# --- the answers --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    """One entry: how residents ask (phrases by language), the answer in each language, the link
    the networks that do not bill links add, and the category it suggests reporting under."""

    key: str
    asks: Mapping[str, tuple[str, ...]]
    texts: Mapping[str, str]
    link: str | None = None
    category: str | None = None
    # The entry's line in the file, for messages; None for an entry made in code.
    line: int | None = field(default=None, compare=False)

    def text(self, lang: str, *, with_link: bool = True) -> str:
        """The answer in `lang` (English when the entry has none in it), its link after it when
        `with_link` and it has one."""
        written = self.texts.get(lang) or self.texts[DEFAULT_LANG]
        return f"{written} {self.link}" if with_link and self.link else written


@dataclass(frozen=True, slots=True)
class AnswerMatch:
    """The entry a message asks for, the language to answer in (the message's, by its function
    words, else that of the phrase that matched best), the score."""

    answer: Answer
    lang: str
    score: float  # 0..100


@dataclass(frozen=True, slots=True)
class _Phrase:
    answer: int  # index in Answers.entries
    lang: str
    text: str  # folded words joined by one space
    words: int


@dataclass(frozen=True, slots=True)
class _Hit:
    """An entry's best phrase in one message: its score, where it lay, how many words it had."""

    answer: int
    lang: str
    score: float
    start: int
    end: int
    words: int

    def covers(self, other: _Hit) -> bool:
        """Whether `other` lies inside this hit's span, a shorter phrase within a longer one."""
        return (
            self.start <= other.start
            and other.end <= self.end
            and (self.end - self.start) > (other.end - other.start)
        )


@dataclass(frozen=True, slots=True)
class Answers:
    """Every entry in file order, matched against residents' messages by `match`."""

    entries: tuple[Answer, ...]
    threshold: float = DEFAULT_THRESHOLD
    margin: float = DEFAULT_MARGIN
    # The file the entries came from, for messages; None for answers made in code.
    path: Path | None = field(default=None, compare=False)
    _by_key: dict[str, Answer] = field(init=False, repr=False, compare=False)
    # Phrases by word count: each is compared with the message's runs of n-1..n+1 words only.
    _phrases: dict[int, tuple[_Phrase, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_key: dict[str, Answer] = {}
        grouped: dict[int, list[_Phrase]] = {}
        for index, answer in enumerate(self.entries):
            if answer.key in by_key:
                raise ValueError(f"duplicate answer key {answer.key!r}")
            by_key[answer.key] = answer
            for lang, asks in answer.asks.items():
                for ask in asks:
                    words = fold_words(ask)
                    if words:
                        phrase = _Phrase(index, lang, " ".join(words), len(words))
                        grouped.setdefault(len(words), []).append(phrase)
        # Frozen dataclass: the tables are derived once here, then never change.
        object.__setattr__(self, "_by_key", by_key)
        object.__setattr__(self, "_phrases", {n: tuple(p) for n, p in grouped.items()})

    def get(self, key: str) -> Answer | None:
        return self._by_key.get(key)

    @property
    def source(self) -> str:
        """How messages name the file."""
        return str(self.path) if self.path is not None else "answers.yaml"

    def match(self, text: str) -> AnswerMatch | None:
        """The entry that answers `text` confidently, else None. Never raises; reads at most
        `MAX_SCANNED` characters of it."""
        try:
            return self._match(text)
        except Exception:  # a matcher bug must cost an answer, never a message
            return None

    def _match(self, text: str) -> AnswerMatch | None:
        words = message_words(text)
        if not words or _contains_any(words, _NOT_A_QUESTION):
            return None
        asked = (
            "?" in text[:MAX_SCANNED]
            or words[0] in _ASKING_FIRST
            or any(w in _ASKING for w in words)
        )
        if not asked:
            return None
        hits = sorted(self._hits(words), key=lambda h: (-h.score, -h.words))
        if not hits or hits[0].score < self.threshold:
            return None
        best = hits[0]
        rivals = (h for h in hits[1:] if not best.covers(h))
        rival = next(rivals, None)
        if rival is not None and rival.score > best.score - self.margin:
            return None  # two entries alike: staff decide
        # The message's language where its own words tell it: a Spanish question often names
        # the thing in English ("¿dónde pago un parking ticket?").
        lang = "es" if _guess_lang(words) == "es" else best.lang
        return AnswerMatch(self.entries[best.answer], lang, best.score)

    def _hits(self, words: tuple[str, ...]) -> Iterator[_Hit]:
        """Each entry's best phrase in `words` (one per entry, the best language's)."""
        runs: dict[int, list[tuple[str, int]]] = {}
        longest = min(MAX_ASK_WORDS + 1, len(words))
        for size in range(1, longest + 1):
            runs[size] = [
                (" ".join(words[start : start + size]), start)
                for start in range(len(words) - size + 1)
            ]
        best: dict[int, _Hit] = {}
        lang_guess = _guess_lang(words)
        for count, phrases in self._phrases.items():
            candidates = [
                run for size in (count - 1, count, count + 1) for run in runs.get(size, ())
            ]
            if not candidates:
                continue
            choices = [run for run, _ in candidates]
            for phrase in phrases:
                cutoff = 100.0 if len(phrase.text) < MIN_FUZZY_CHARS else 50.0
                found = process.extractOne(
                    phrase.text, choices, scorer=fuzz.ratio, score_cutoff=cutoff
                )
                if found is None:
                    continue
                _, score, index = found
                run, start = candidates[index]
                hit = _Hit(
                    phrase.answer,
                    phrase.lang,
                    float(score),
                    start,
                    start + run.count(" ") + 1,
                    phrase.words,
                )
                kept = best.get(phrase.answer)
                if kept is None or _better(hit, kept, lang_guess):
                    best[phrase.answer] = hit
        return iter(best.values())


def _better(hit: _Hit, kept: _Hit, lang_guess: str) -> bool:
    if hit.score != kept.score:
        return hit.score > kept.score
    if hit.lang != kept.lang:
        return hit.lang == lang_guess
    return hit.words > kept.words


def _guess_lang(words: tuple[str, ...]) -> str:
    spanish = sum(w in _SPANISH for w in words)
    english = sum(w in _ENGLISH for w in words)
    return "es" if spanish > english else "en"


def _contains_any(words: tuple[str, ...], sequences: tuple[tuple[str, ...], ...]) -> bool:
    for sequence in sequences:
        size = len(sequence)
        if any(words[i : i + size] == sequence for i in range(len(words) - size + 1)):
            return True
    return False


# --- length on each network ---------------------------------------------------------------------


def length_errors(answers: Answers, rules: TextRules, *, with_link: bool) -> list[AnswersError]:
    """Each answer text (each language) that does not fit `rules` once addressed to the longest
    handle where the network names its resident, with its link when `with_link`."""
    problems = []
    handle = LONGEST_HANDLE if rules.mention_author else None
    for answer in answers.entries:
        for lang in LANGS:
            if lang not in answer.texts:
                continue
            posted = rules.addressed(answer.text(lang, with_link=with_link), handle)
            length = rules.length(posted)
            if length > rules.limit:
                linked = " with its link" if with_link and answer.link else ""
                problems.append(
                    AnswersError(
                        answers.source,
                        answer.line,
                        f"entry {answer.key!r} ({lang}) is {length} {rules.unit} on "
                        f"{rules.network}{linked}, over its {rules.limit}; shorten it",
                    )
                )
    return problems


def length_problems(answers: Answers, rules: TextRules, *, with_link: bool) -> list[str]:
    """`length_errors` as lines: "answers.yaml:42: entry 'trash_day' (es) is 312 characters on
    Mastodon, over its 300; shorten it"."""
    return [str(error) for error in length_errors(answers, rules, with_link=with_link)]


# --- loading ------------------------------------------------------------------------------------


def load_answers(path: Path, catalog: Catalog) -> Answers:
    """Read and validate the answers file; any problem is an AnswersError naming file and line."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AnswersError(
            path, None, "file not found (check the 'answers' setting, SOCIALBOT_ANSWERS)"
        ) from None
    except IsADirectoryError:
        raise AnswersError(
            path, None, "is a directory (point 'answers' at the YAML file)"
        ) from None
    except OSError as exc:
        raise AnswersError(path, None, f"cannot be read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise AnswersError(
            path, line, f"byte 0x{data[exc.start]:02x} is not UTF-8 (save the file as UTF-8)"
        ) from None
    # Parsed once a process for the same bytes and catalog: every command may check it first.
    return _PARSED.get(
        (str(path), hashlib.blake2b(data).digest(), _catalog_key(catalog)),
        lambda: parse_answers(text, path, catalog),
    )


_PARSED: Memo[Answers] = Memo(size=16)


def _catalog_key(catalog: Catalog) -> tuple[str, ...]:
    # Only the keys decide whether an answers file is valid against a catalog.
    return tuple(category.key for category in catalog.categories)


def parse_answers(text: str, path: Path, catalog: Catalog) -> Answers:
    """Validate answers YAML `text` against `catalog`; `path` names the file in errors."""
    try:
        return _Parser(path, catalog).parse(text)
    except AnswersError:
        raise
    except RecursionError:  # a document nested thousands deep
        raise AnswersError(path, None, "nested too deeply (is this the answers file?)") from None


def _invalid_yaml(exc: yaml.MarkedYAMLError, text: str) -> str:
    problem = str(exc.problem or exc.context or "cannot parse").splitlines()[0]
    return f"invalid YAML: {problem} (a ':' or '#' in a text needs the text in quotes)"


# The answers file's voice: the problem, then what to do in parentheses; what an editor wrote is
# quoted 40 characters at most, so that one line stays one line.
_WORDING = Wording(
    invalid=_invalid_yaml,
    empty_file="the file is empty (it needs 'version: 1' and 'answers:')",
    top_level="the top level must be a mapping with 'version' and 'answers', not {kind}",
    merge_key="merge keys ('<<') are not supported {where} (write it out)",
    repeated="field {name} appears twice {where} (lines {first} and {line}; keep one)",
    unknown="unknown field {name} {where} (expected one of: {allowed})",
    missing_version="missing 'version' at the top level (add 'version: {version}')",
    bad_version="unsupported version {kind} (this socialbot reads 'version: {version}')",
    empty_text="{what} is empty (write it, or remove the field)",
    cut=40,
)


@dataclass(slots=True)
class _Parser:
    path: Path
    catalog: Catalog
    _keys: dict[str, int] = field(default_factory=dict)
    # A folded phrase → (the entry that has it, its line): a phrase in two entries is refused.
    _phrases: dict[str, tuple[str, int]] = field(default_factory=dict)
    _yaml: Reader[AnswersError] = field(init=False)

    def __post_init__(self) -> None:
        self._yaml = Reader(self.path, AnswersError, _WORDING)

    def error(self, node: yaml.Node | None, problem: str) -> AnswersError:
        return self._yaml.error(node, problem)

    def parse(self, text: str) -> Answers:
        root, fields = self._yaml.document(text, _TOP_FIELDS, SUPPORTED_VERSION)
        listed = fields.get("answers")
        if listed is None:
            raise self.error(root, "missing 'answers' at the top level (the list of entries)")
        node = listed.value
        if is_null(node):
            return Answers((), path=self.path)  # `answers:` with nothing: none, on purpose
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(
                node,
                f"'answers' must be a list of entries ('- key: ...'), not {self._yaml.kind(node)}",
            )
        entries = tuple(self.entry(item, index) for index, item in enumerate(node.value, 1))
        return Answers(entries, path=self.path)

    def entry(self, node: yaml.Node, index: int) -> Answer:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(
                node,
                f"entry #{index} must be a mapping with {', '.join(_REQUIRED_FIELDS)}, "
                f"not {self._yaml.kind(node)}",
            )
        # The key first, so that every later message can name the entry.
        key_node = value_of(node, "key")
        key = self.key(key_node, index) if key_node is not None else None
        label = f"entry {key!r}" if key else f"entry #{index}"
        fields = self._yaml.fields_of(node, f"in {label}", _ENTRY_FIELDS)
        self._yaml.required(node, fields, _REQUIRED_FIELDS, label)
        assert key is not None  # 'key' is required, so key() ran
        return Answer(
            key=key,
            asks=self.asks(fields["asks"].value, key, label),
            texts=self.texts(fields["answer"].value, label),
            link=self.link(fields.get("link"), label),
            category=self.category(fields.get("category"), label),
            line=line_of(node),
        )

    def key(self, node: yaml.Node, index: int) -> str:
        key = self._yaml.text(node, f"the key of entry #{index}")
        if len(key) > MAX_KEY or not _KEY_SLUG.fullmatch(key):
            suggestion = re.sub(r"[^a-z0-9]+", "_", normalize_tag(key)).strip("_")[:MAX_KEY]
            raise self.error(
                node,
                f"entry key {key[:60]!r} must be 1 to {MAX_KEY} of a-z, 0-9 and '_' "
                f"(e.g. {suggestion or 'trash_day'!r})",
            )
        first = self._keys.get(key)
        if first is not None:
            raise self.error(
                node,
                f"entry key {key!r} is used twice (lines {first} and {line_of(node)}; "
                "keys must be unique)",
            )
        self._keys[key] = line_of(node)
        return key

    def languages(self, node: yaml.Node, what: str, example: str) -> dict[str, Field]:
        """A mapping of both languages, each required."""
        if not isinstance(node, yaml.MappingNode):
            raise self.error(
                node, f"{what} must be a mapping like {example}, not {self._yaml.kind(node)}"
            )
        fields = self._yaml.fields_of(node, f"in {what}", LANGS)
        for lang in LANGS:
            if lang not in fields:
                raise self.error(node, f"missing language {lang!r} in {what} (give en and es)")
        return fields

    def asks(self, node: yaml.Node, key: str, label: str) -> Mapping[str, tuple[str, ...]]:
        fields = self.languages(node, f"asks of {label}", "{en: [trash day], es: [dia de basura]}")
        asks: dict[str, tuple[str, ...]] = {}
        for lang in LANGS:
            value = fields[lang].value
            what = f"asks.{lang} of {label}"
            if not isinstance(value, yaml.SequenceNode):
                raise self.error(
                    value,
                    f"{what} must be a list of phrases like [trash day], "
                    f"not {self._yaml.kind(value)}",
                )
            if not value.value:
                raise self.error(value, f"{what} is empty (list the ways residents ask)")
            asks[lang] = tuple(self.ask(item, key, what) for item in value.value)
        return MappingProxyType(asks)

    def ask(self, node: yaml.Node, key: str, what: str) -> str:
        phrase = self._yaml.text(node, f"a phrase in {what}")
        words = fold_words(phrase)
        if not words:
            raise self.error(node, f"phrase {phrase[:40]!r} in {what} has no word to match")
        if len(words) > MAX_ASK_WORDS or len(phrase) > MAX_ASK_CHARS:
            raise self.error(
                node,
                f"phrase {phrase[:40]!r} in {what} is too long (at most {MAX_ASK_WORDS} words "
                f"and {MAX_ASK_CHARS} characters: the words residents use, not a sentence)",
            )
        folded = " ".join(words)
        seen = self._phrases.get(folded)
        if seen is not None:
            other, line = seen
            same = "this entry" if other == key else f"entry {other!r}"
            raise self.error(
                node,
                f"phrase {phrase!r} in {what} is already in {same} (line {line}; "
                "keep it in one entry)",
            )
        self._phrases[folded] = (key, line_of(node))
        return phrase

    def texts(self, node: yaml.Node, label: str) -> Mapping[str, str]:
        fields = self.languages(node, f"answer of {label}", "{en: ..., es: ...}")
        texts: dict[str, str] = {}
        for lang in LANGS:
            value = fields[lang].value
            text = self._yaml.text(value, f"answer.{lang} of {label}")
            if len(text) > MAX_TEXT:
                raise self.error(
                    value,
                    f"answer.{lang} of {label} is {len(text)} characters "
                    f"(keep it to one post; at most {MAX_TEXT})",
                )
            links = find_urls(text)
            if links:
                # X bills a post with a link about 13 times a plain one: its answers leave out
                # `link:`, and a link in the text would go out on every one.
                raise self.error(
                    value,
                    f"answer.{lang} of {label} holds a link ({links[0].url[:60]}): put it in "
                    "'link:', which networks that bill links leave out",
                )
            texts[lang] = text
        return MappingProxyType(texts)

    def link(self, link: Field | None, label: str) -> str | None:
        if link is None:
            return None
        value = self._yaml.text(link.value, f"link of {label}")
        try:
            parts = urlsplit(value)
            ok = parts.scheme == "https" and bool(parts.hostname)
        except ValueError:
            ok = False
        if not ok or len(value) > MAX_LINK or any(c.isspace() for c in value):
            raise self.error(
                link.value,
                f"link of {label} must be an https address like https://www.example.gov/trash, "
                f"not {value[:60]!r}",
            )
        return value

    def category(self, category: Field | None, label: str) -> str | None:
        if category is None:
            return None
        key = self._yaml.text(category.value, f"category of {label}")
        if self.catalog.find(key) is None:
            known = ", ".join(c.key for c in self.catalog.categories[:6])
            raise self.error(
                category.value,
                f"category {key[:40]!r} of {label} is not in the catalog (a key of "
                f"hashtags.yaml, such as {known})",
            )
        return key
