"""The city's hashtag → category catalog (`hashtags.yaml`): loading, validation and matching.

Pure apart from reading the one file: `parse_catalog` turns text into a `Catalog`, `load_catalog`
reads the file first. The file is edited by city staff, not programmers, so every problem is a
`CatalogError` reading `file:line: problem`, naming the line to look at and what to change.

The YAML is walked node by node (`socialbot.yaml_fields`, shared with answers.yaml: line numbers,
a pasted-twice field refused rather than silently the last, scalars read as the text written, so
`featured: yes` or an alias `#no` cannot turn into a boolean behind our back); what is the
catalog's own, its entries and the wording of its messages, is here.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from socialbot.errors import CatalogError
from socialbot.geocell import MAX_RADIUS_M
from socialbot.memo import Memo
from socialbot.sla import Target, parse_target
from socialbot.text import weighted_length
from socialbot.yaml_fields import (
    BOOL_TAG,
    FLOAT_TAG,
    INT_TAG,
    MERGE_TAG,
    Field,
    Reader,
    Wording,
    is_null,
    kind,
    line_of,
    value_of,
)

SUPPORTED_VERSION = 1
LANGS = ("en", "es")
DEFAULT_LANG = "en"

_KEY_SLUG = re.compile(r"[a-z0-9_]+")
_TOP_FIELDS = ("version", "categories")
_CATEGORY_FIELDS = (
    "key",
    "names",
    "description",
    "aliases",
    "department",
    "priority",
    "featured",
    "sla",
    "duplicate_radius_m",
    "open311_service_code",
    "open311_attributes",
)
# What an `open311_attributes` value may be besides a fixed text: one of ours, resolved per case
# (the category's key, the case's district, the network it was reported on).
OPEN311_PLACEHOLDERS = ("{category}", "{district}", "{network}")
# Open311 clients show a service's description in a list: a sentence or two, not a page.
MAX_DESCRIPTION = 500
# The spec says nothing of a code's length; a longer one is a paste gone wrong.
MAX_OPEN311_CODE = 100
# Reports further apart than this are never one problem, and the grid lookup stays small.
MAX_DUPLICATE_RADIUS_M = MAX_RADIUS_M  # what the duplicate look-up's grid covers
_REQUIRED_CATEGORY_FIELDS = ("key", "names", "aliases", "department", "priority")
# The full-width number sign (U+FF03) is what CJK phone keyboards type; X accepts it for '#'.
_HASH_SIGNS = ("#", "\uff03")


# The most words of a storm post read as one alias ("water main break": #watermainbreak).
WORDS_IN_ALIAS = 3
# The fewest: one word alone is a topic, not a report ("snow day, stay safe" is no #snow case,
# "no trash pickup tomorrow" no #trash one); two written as an alias name a problem ("tree down").
MIN_WORDS_IN_ALIAS = 2
# The most categories a numbered menu offers (`Catalog.menu`): a choice is one digit.
MENU_SIZE = 9


@functools.lru_cache(maxsize=4096)  # pure; a storm repeats a few dozen tags thousands of times
def normalize_tag(tag: str) -> str:
    """The key a hashtag is matched by: no leading '#', no accents, case-folded.

    Residents type `#Pothole`, `#POTHOLE`, `#Baché` or `#bache` for the same thing, and phones add
    or drop accents on their own, so all of these must land on one key. NFKD splits accented
    letters into letter + combining mark (and folds compatibility forms such as full-width
    letters); dropping the marks and case-folding leaves the plain form. It is done twice because
    case folding can itself produce characters that decompose further.
    """
    if tag.startswith(_HASH_SIGNS):
        tag = tag[1:]
    return _strip_marks(_strip_marks(tag).casefold())


def _strip_marks(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


class Priority(enum.StrEnum):
    """How fast the crew should come; `emergency` categories are also phoned in by dispatch."""

    EMERGENCY = "emergency"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


@dataclass(frozen=True, slots=True)
class Alias:
    """One hashtag (without '#', as written in the catalog) and the language it implies."""

    tag: str
    lang: str


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of problem the city takes reports for, and the hashtags that name it."""

    key: str
    name_en: str
    name_es: str
    aliases: tuple[Alias, ...]
    department: str
    priority: Priority = Priority.NORMAL
    featured: bool = False
    sla: Target | None = None  # None: no target, the case is never overdue
    duplicate_radius_m: float | None = None  # None: the SOCIALBOT_DUPLICATE_RADIUS_M default
    # The city's Open311 service this category is sent to; None: never forwarded.
    open311_service_code: str | None = None
    # (attribute code, value) sent with each request: a fixed text or an `OPEN311_PLACEHOLDERS`.
    open311_attributes: tuple[tuple[str, str], ...] = ()
    # What the category covers, in a sentence, for the Open311 service list; None: its name.
    description_en: str | None = None
    description_es: str | None = None

    def name(self, lang: str) -> str:
        """The display name in `lang`; English for any language the catalog does not carry."""
        return self.name_es if lang == "es" else self.name_en

    def description(self, lang: str) -> str:
        """What the category covers in `lang`: its description there, else the English one,
        else its name."""
        written = self.description_es if lang == "es" else None
        return written or self.description_en or self.name(lang)

    def aliases_in(self, lang: str) -> tuple[Alias, ...]:
        return tuple(alias for alias in self.aliases if alias.lang == lang)


@dataclass(frozen=True, slots=True)
class CategoryMatch:
    """The category a post names, the hashtag that named it (no '#') and that alias's language."""

    category: Category
    hashtag: str
    lang: str


@dataclass(frozen=True, slots=True)
class Catalog:
    """All categories, in file order, with a lookup table from normalised hashtag to category.

    Built by `load_catalog`/`parse_catalog`, which report problems with line numbers; building one
    directly (tests, tools) still refuses duplicate keys and aliases, with a plain ValueError.
    """

    categories: tuple[Category, ...]
    _by_key: dict[str, Category] = field(init=False, repr=False, compare=False)
    _by_tag: dict[str, tuple[Category, Alias]] = field(init=False, repr=False, compare=False)
    # Aliases and names written as one folded word ("streetlightout"): `match_words`' table.
    _by_words: dict[str, tuple[Category, Alias]] = field(init=False, repr=False, compare=False)
    # `featured_hashtags` by language, as asked: every help and filed reply lists them.
    _featured: dict[str, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_key: dict[str, Category] = {}
        by_tag: dict[str, tuple[Category, Alias]] = {}
        for category in self.categories:
            if category.key in by_key:
                raise ValueError(f"duplicate category key {category.key!r}")
            by_key[category.key] = category
            for alias in category.aliases:
                normal = normalize_tag(alias.tag)
                if normal in by_tag:
                    raise ValueError(f"alias {alias.tag!r} of {category.key!r} is already taken")
                by_tag[normal] = (category, alias)
        # Frozen dataclass: the tables are derived once here, then never change.
        object.__setattr__(self, "_by_key", by_key)
        object.__setattr__(self, "_by_tag", by_tag)
        by_words = dict(by_tag)
        for category in self.categories:
            for lang in LANGS:
                name = "".join(normalize_tag(category.name(lang)).split())
                by_words.setdefault(name, (category, Alias(name, lang)))
        object.__setattr__(self, "_by_words", by_words)
        object.__setattr__(self, "_featured", {})

    def get(self, key: str) -> Category:
        """The category with this key; KeyError if there is none."""
        return self._by_key[key]

    def find(self, key: str) -> Category | None:
        """The category with this key; None if the catalog no longer has it."""
        return self._by_key.get(key)

    def match(self, hashtags: Iterable[str]) -> CategoryMatch | None:
        """The first hashtag, in the order given, that names a category; None if none does.

        First rather than "best": a resident who writes `#pothole #streetlight` most likely means
        the first, and a rule anyone can predict beats a clever one.
        """
        for hashtag in hashtags:
            found = self._by_tag.get(normalize_tag(hashtag))
            if found is not None:
                category, alias = found
                written = hashtag[1:] if hashtag.startswith(_HASH_SIGNS) else hashtag
                return CategoryMatch(category=category, hashtag=written, lang=alias.lang)
        return None

    def match_words(
        self, words: Sequence[str], *, min_words: int = MIN_WORDS_IN_ALIAS
    ) -> CategoryMatch | None:
        """The first category the folded `words` of a text name without a '#': from
        `min_words` to `WORDS_IN_ALIAS` words in a row written as one, that are an alias
        or a category's name ("tree down" is #treedown, "streetlight out" the name "Streetlight
        out"); by default a single word never is ("snow", "parking": the words of any storm
        notice). At each word the longest run wins. Storm posts are read this way (`intake`),
        and the private texts of a conversing network, one word sufficing there ("bache": a
        text to the city's number is written to report): everywhere else a category takes a
        hashtag, which no ordinary sentence trips over by chance."""
        for start in range(len(words)):
            longest = min(WORDS_IN_ALIAS, len(words) - start)
            for size in range(longest, max(min_words, 1) - 1, -1):
                found = self._by_words.get("".join(words[start : start + size]))
                if found is not None:
                    category, alias = found
                    return CategoryMatch(category=category, hashtag=alias.tag, lang=alias.lang)
        return None

    def menu(self) -> tuple[Category, ...]:
        """The categories a conversing network's numbered menu offers, numbered from 1 in this
        order: the featured ones in file order (the city's choice, as for the help reply), at
        most `MENU_SIZE`, a choice being one digit."""
        return tuple(c for c in self.categories if c.featured)[:MENU_SIZE]

    def featured_hashtags(self, lang: str) -> list[str]:
        """`#tag` of each featured category in file order: its first alias in `lang` (else `en`).

        These go into the help reply, so the file's order and first aliases are the city's choice.
        """
        known = self._featured.get(lang)
        if known is None:
            tags: list[str] = []
            for category in self.categories:
                if category.featured:
                    aliases = category.aliases_in(lang) or category.aliases_in(DEFAULT_LANG)
                    if aliases:
                        tags.append("#" + aliases[0].tag)
            known = self._featured[lang] = tuple(tags)
        return list(known)

    def longest_name(self, lang: str) -> str:
        """The category name in `lang` that weighs most as X counts (`weighted_length`: an emoji
        or CJK character counts 2); the first of equally heavy names wins. (The reply templates
        are checked with every name, not only this one: a template may branch on the name.)"""
        names = [category.name(lang) for category in self.categories]
        return max(names, key=weighted_length, default="")


# --- loading ----------------------------------------------------------------------------------


def load_catalog(path: Path) -> Catalog:
    """Read and validate the catalog file; any problem is a CatalogError naming file and line."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CatalogError(
            path, None, "file not found; check the 'hashtags' setting (SOCIALBOT_HASHTAGS)"
        ) from None
    except IsADirectoryError:
        raise CatalogError(
            path, None, "is a directory; point 'hashtags' at the YAML file"
        ) from None
    except OSError as exc:
        raise CatalogError(path, None, f"cannot be read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CatalogError(
            path, line, f"byte 0x{data[exc.start]:02x} is not UTF-8; save the file as UTF-8"
        ) from None
    # Parsed once a process for the same bytes (socialbot.memo): every command checks it first.
    return _PARSED.get(
        (str(path), hashlib.blake2b(data).digest()), lambda: parse_catalog(text, path)
    )


_PARSED: Memo[Catalog] = Memo(size=16)


def parse_catalog(text: str, path: Path) -> Catalog:
    """Validate catalog YAML `text`; `path` is only used to name the file in errors."""
    return _Parser(path).parse(text)


def _invalid_yaml(exc: yaml.MarkedYAMLError, text: str) -> str:
    mark = exc.problem_mark or exc.context_mark
    problem = f"invalid YAML: {exc.problem or exc.context or 'cannot parse'}"
    if exc.problem and exc.context:
        where = ""
        if exc.context_mark is not None and (mark is None or exc.context_mark.line != mark.line):
            where = f" on line {exc.context_mark.line + 1}"
        problem += f" ({exc.context}{where})"
    # The mistake this file invites: `[#pothole]` makes the rest of the line a comment.
    last = mark.line if mark is not None else 0
    first = exc.context_mark.line if exc.context_mark is not None else last
    if any(re.search(r"[\[,-]\s*#", line) for line in text.splitlines()[first : last + 1]):
        problem += "; note that '#' starts a comment in YAML, so write hashtags without it"
    return problem


# The catalog's voice: the problem, then what to do after '; '.
_WORDING = Wording(
    invalid=_invalid_yaml,
    empty_file="the file is empty; it needs 'version: 1' and 'categories:'",
    top_level="the top level must be a mapping with 'version' and 'categories', not {kind}",
    merge_key="merge keys ('<<') are not supported {where}; write the fields out",
    repeated="field {name} appears twice {where} (lines {first} and {line}); keep one",
    unknown="unknown field {name} {where} (expected one of: {allowed})",
    missing_version="missing 'version' at the top level; add 'version: {version}'",
    bad_version="unsupported version {kind}; this socialbot reads 'version: {version}'",
    empty_text="{what} is empty",
)


@dataclass(slots=True)
class _Parser:
    path: Path
    # For messages naming the first occurrence: normalised alias → (as written, line, category key).
    _seen_aliases: dict[str, tuple[str, int, str]] = field(default_factory=dict)
    _seen_keys: dict[str, int] = field(default_factory=dict)
    _yaml: Reader[CatalogError] = field(init=False)

    def __post_init__(self) -> None:
        self._yaml = Reader(self.path, CatalogError, _WORDING)

    def error(self, node: yaml.Node | None, problem: str) -> CatalogError:
        return self._yaml.error(node, problem)

    def parse(self, text: str) -> Catalog:
        root, fields = self._yaml.document(text, _TOP_FIELDS, SUPPORTED_VERSION)
        categories = fields.get("categories")
        if categories is None:
            raise self.error(root, "missing 'categories' (the list of categories) at the top level")
        if not isinstance(categories.value, yaml.SequenceNode):
            raise self.error(
                categories.value,
                f"'categories' must be a list of categories ('- key: ...'), "
                f"not {kind(categories.value)}",
            )
        if not categories.value.value:
            raise self.error(categories.value, "'categories' is empty; add at least one category")
        return Catalog(
            tuple(
                self.category(node, index) for index, node in enumerate(categories.value.value, 1)
            )
        )

    def category(self, node: yaml.Node, index: int) -> Category:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(
                node,
                f"category #{index} must be a mapping with {', '.join(_REQUIRED_CATEGORY_FIELDS)}, "
                f"not {kind(node)}",
            )
        # Find the key first, so that every later message can name the category.
        key_node = value_of(node, "key")
        key = self.category_key(key_node, index) if key_node is not None else None
        label = f"category {key!r}" if key else f"category #{index}"
        fields = self._yaml.fields_of(node, f"in {label}", _CATEGORY_FIELDS)
        self._yaml.required(node, fields, _REQUIRED_CATEGORY_FIELDS, label)
        assert key is not None  # 'key' is required, so category_key ran
        names = self.names(fields["names"].value, label)
        descriptions = self.descriptions(fields.get("description"), label)
        aliases = self.aliases(fields["aliases"].value, key, label)
        priority_text = self._yaml.text(fields["priority"].value, f"priority of {label}")
        try:
            priority = Priority(priority_text)
        except ValueError:
            raise self.error(
                fields["priority"].value,
                f"priority {priority_text!r} of {label} must be one of: {', '.join(Priority)}",
            ) from None
        return Category(
            key=key,
            name_en=names["en"],
            name_es=names["es"],
            aliases=aliases,
            department=self._yaml.text(fields["department"].value, f"department of {label}"),
            priority=priority,
            featured=self.featured(fields.get("featured"), label),
            sla=self.sla(fields.get("sla"), label),
            duplicate_radius_m=self.radius(fields.get("duplicate_radius_m"), label),
            open311_service_code=self.service_code(fields.get("open311_service_code"), label),
            open311_attributes=self.attributes(
                fields.get("open311_attributes"), fields.get("open311_service_code"), label
            ),
            description_en=descriptions.get("en"),
            description_es=descriptions.get("es"),
        )

    def category_key(self, node: yaml.Node, index: int) -> str:
        key = self._yaml.text(node, f"the key of category #{index}")
        if not _KEY_SLUG.fullmatch(key):
            suggestion = re.sub(r"[^a-z0-9]+", "_", normalize_tag(key)).strip("_") or "pothole"
            raise self.error(
                node,
                f"category key {key!r} must be a lowercase slug of a-z, 0-9 and '_' "
                f"(e.g. {suggestion!r})",
            )
        first = self._seen_keys.get(key)
        if first is not None:
            raise self.error(
                node,
                f"category key {key!r} is used twice (lines {first} and {line_of(node)}); "
                "keys must be unique",
            )
        self._seen_keys[key] = line_of(node)
        return key

    def names(self, node: yaml.Node, label: str) -> dict[str, str]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(
                node,
                f"names of {label} must be a mapping like {{en: Pothole, es: Bache}}, "
                f"not {kind(node)}",
            )
        fields = self._yaml.fields_of(node, f"in names of {label}", LANGS)
        names: dict[str, str] = {}
        for lang in LANGS:
            if lang not in fields:
                raise self.error(node, f"missing field 'names.{lang}' in {label}")
            names[lang] = self._yaml.text(fields[lang].value, f"names.{lang} of {label}")
        return names

    def descriptions(self, description: Field | None, label: str) -> dict[str, str]:
        """The optional `description: {en: ..., es: ...}`; either language may be left out."""
        if description is None:
            return {}
        node = description.value
        if not isinstance(node, yaml.MappingNode):
            raise self.error(
                node,
                f"description of {label} must be a mapping like "
                f"{{en: Holes in the road, es: Hoyos en la calle}}, not {kind(node)}",
            )
        fields = self._yaml.fields_of(node, f"in description of {label}", LANGS)
        if not fields:
            raise self.error(node, f"description of {label} is empty; give en, es or both")
        texts: dict[str, str] = {}
        for lang, value in fields.items():
            text = self._yaml.text(value.value, f"description.{lang} of {label}")
            if len(text) > MAX_DESCRIPTION:
                raise self.error(
                    value.value,
                    f"description.{lang} of {label} is {len(text)} characters; "
                    f"keep it to {MAX_DESCRIPTION} (one or two sentences)",
                )
            texts[lang] = text
        return texts

    def aliases(self, node: yaml.Node, key: str, label: str) -> tuple[Alias, ...]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(
                node,
                f"aliases of {label} must map languages to hashtag lists, like "
                f"{{en: [pothole], es: [bache]}}, not {kind(node)}",
            )
        if not node.value:
            raise self.error(node, f"aliases of {label} is empty; list hashtags under en and es")
        for lang_node, _ in node.value:
            if (
                isinstance(lang_node, yaml.ScalarNode)
                and lang_node.value not in LANGS
                and lang_node.tag != MERGE_TAG
            ):
                raise self.error(
                    lang_node,
                    f"unknown alias language {str(lang_node.value)!r} in {label} "
                    f"(expected one of: {', '.join(LANGS)})",
                )
        fields = self._yaml.fields_of(node, f"in aliases of {label}", LANGS)
        aliases: list[Alias] = []
        for lang in LANGS:
            if lang not in fields:
                raise self.error(node, f"missing field 'aliases.{lang}' in {label}")
            aliases.extend(self.alias_list(fields[lang].value, lang, key, label))
        return tuple(aliases)

    def alias_list(self, node: yaml.Node, lang: str, key: str, label: str) -> Iterator[Alias]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(
                node,
                f"aliases.{lang} of {label} must be a list like [pothole, potholes], "
                f"not {kind(node)}",
            )
        if not node.value:
            raise self.error(node, f"aliases.{lang} of {label} is empty; list at least one hashtag")
        for item in node.value:
            tag = self.alias_tag(item, lang, label)
            normal = normalize_tag(tag)
            seen = self._seen_aliases.get(normal)
            if seen is not None:
                first_tag, first_line, first_key = seen
                raise self.error(
                    item,
                    f"alias {tag!r} (line {line_of(item)}) duplicates {first_tag!r} of category "
                    f"{first_key!r} (line {first_line})",
                )
            self._seen_aliases[normal] = (tag, line_of(item), key)
            yield Alias(tag=tag, lang=lang)

    def alias_tag(self, node: yaml.Node, lang: str, label: str) -> str:
        """One alias: something X would recognise as a whole hashtag, written without the '#'."""
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(
                node, f"an alias in aliases.{lang} of {label} must be a hashtag, not {kind(node)}"
            )
        tag = str(node.value)
        if not tag or is_null(node):
            # `- #pothole` parses as an empty item, the '#' having started a comment.
            raise self.error(
                node,
                f"empty alias in aliases.{lang} of {label} (a '#' starts a YAML comment: "
                f"write hashtags without it)",
            )
        if tag.startswith(_HASH_SIGNS):
            raise self.error(
                node, f"alias {tag!r} in {label} must not start with '#'; write {tag[1:]!r}"
            )
        if any(c.isspace() for c in tag):
            joined = "".join(tag.split())
            raise self.error(
                node,
                f"alias {tag!r} in {label} contains a space, which ends a hashtag; "
                f"write {joined!r}",
            )
        # X ends a hashtag at the first character that is not a letter, digit, mark or '_', so an
        # alias containing one could never match; and a tag of digits alone is not a hashtag at all.
        bad = next(
            (c for c in tag if not (c.isalnum() or c == "_" or unicodedata.combining(c))), None
        )
        if bad is not None:
            raise self.error(
                node,
                f"alias {tag!r} in {label} contains {bad!r}; "
                "a hashtag has only letters, digits and '_'",
            )
        if not any(c.isalpha() for c in tag):
            raise self.error(
                node, f"alias {tag!r} in {label} has no letter; X does not treat it as a hashtag"
            )
        return tag

    def sla(self, sla: Field | None, label: str) -> Target | None:
        if sla is None:
            return None
        text = self._yaml.text(sla.value, f"sla of {label}")
        try:
            return parse_target(text)
        except ValueError as exc:
            raise self.error(sla.value, f"sla of {label}: {exc}") from None

    def radius(self, radius: Field | None, label: str) -> float | None:
        if radius is None:
            return None
        node = radius.value
        text = self._yaml.text(node, f"duplicate_radius_m of {label}")
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0 <= value <= MAX_DUPLICATE_RADIUS_M or node.tag not in (INT_TAG, FLOAT_TAG):
            raise self.error(
                node,
                f"duplicate_radius_m of {label} must be a number of metres from 0 to "
                f"{MAX_DUPLICATE_RADIUS_M:.0f} (0: never merge), not {kind(node)}",
            )
        return value

    def featured(self, featured: Field | None, label: str) -> bool:
        if featured is None:
            return False
        node = featured.value
        if (
            isinstance(node, yaml.ScalarNode)
            and node.tag == BOOL_TAG
            and str(node.value).lower() in ("true", "false")
        ):
            return str(node.value).lower() == "true"
        raise self.error(node, f"featured of {label} must be true or false, not {kind(node)}")

    def service_code(self, code: Field | None, label: str) -> str | None:
        if code is None:
            return None
        return self.open311_code(code.value, f"open311_service_code of {label}")

    def open311_code(self, node: yaml.Node, what: str) -> str:
        """A service or attribute code as the CRM lists it (`socialbot open311 services`)."""
        value = self._yaml.text(node, what)
        if len(value) > MAX_OPEN311_CODE or not value.isprintable():
            raise self.error(
                node,
                f"{what} must be a code as `socialbot open311 services` lists it, one line of "
                f"at most {MAX_OPEN311_CODE} characters",
            )
        return value

    def attributes(
        self, attributes: Field | None, code: Field | None, label: str
    ) -> tuple[tuple[str, str], ...]:
        if attributes is None:
            return ()
        node = attributes.value
        if code is None:
            raise self.error(
                attributes.key,
                f"open311_attributes of {label} without open311_service_code: add the service "
                "they belong to, or remove them",
            )
        if not isinstance(node, yaml.MappingNode):
            raise self.error(
                node,
                f"open311_attributes of {label} must map attribute codes to values, like "
                f"{{ward: '{{district}}', size: large}}, not {kind(node)}",
            )
        pairs: list[tuple[str, str]] = []
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == MERGE_TAG:
                raise self.error(
                    key_node,
                    f"merge keys ('<<') are not supported in open311_attributes of {label}; "
                    "write the attributes out",
                )
            what = f"an attribute code in open311_attributes of {label}"
            name = self.open311_code(key_node, what)
            if name in seen:
                raise self.error(
                    key_node,
                    f"attribute {name!r} appears twice in open311_attributes of {label} (lines "
                    f"{seen[name]} and {line_of(key_node)}); keep one",
                )
            seen[name] = line_of(key_node)
            pairs.append((name, self.attribute_value(value_node, name, label)))
        return tuple(pairs)

    def attribute_value(self, node: yaml.Node, name: str, label: str) -> str:
        value = self._yaml.text(node, f"attribute {name!r} in open311_attributes of {label}")
        # `{distrct}` is a misspelt placeholder, not a value the CRM should receive.
        if ("{" in value or "}" in value) and value not in OPEN311_PLACEHOLDERS:
            raise self.error(
                node,
                f"attribute {name!r} of {label}: {value!r} is not one of ours; use "
                f"{', '.join(OPEN311_PLACEHOLDERS)} or a fixed value without braces",
            )
        return value
