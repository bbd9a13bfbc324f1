"""Reading a YAML file city staff edit, node by node: what `hashtags.yaml` and `answers.yaml` share.

Both files are walked as `yaml.compose` nodes rather than loaded into dicts: only nodes keep line
numbers, PyYAML's loader silently keeps the last of two equal keys, and scalars are read as the
text written (`featured: yes` is not turned into a boolean behind our back). A `Reader` does the
part that is the same for both: the document, its version, a mapping's fields, a text value. Each
file keeps its own error type and its own voice (the catalog puts a hint after '; ', answers.yaml
in parentheses), so the words of every problem come from that file's `Wording`.

Pure: text and nodes in, values or the file's error out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import yaml

from socialbot.errors import SocialbotError

# Resolver tags of plain scalars: the only way, short of constructing, to tell `1` from `"1"`.
INT_TAG = "tag:yaml.org,2002:int"
FLOAT_TAG = "tag:yaml.org,2002:float"
BOOL_TAG = "tag:yaml.org,2002:bool"
NULL_TAG = "tag:yaml.org,2002:null"
MERGE_TAG = "tag:yaml.org,2002:merge"

E = TypeVar("E", bound=SocialbotError)


def line_of(node: yaml.Node) -> int:
    """The 1-based line a node starts on, as an editor numbers them."""
    return int(node.start_mark.line) + 1


def kind(node: yaml.Node, cut: int | None = None) -> str:
    """What a node is, in words for a city editor rather than YAML terms; a scalar is quoted as
    written, its first `cut` characters only when `cut` is given."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    value = str(node.value)
    return repr(value[:cut]) if value != "" else "nothing"


def is_null(node: yaml.Node) -> bool:
    """Whether a node is YAML's null (`~`, `null` or nothing at all)."""
    return isinstance(node, yaml.ScalarNode) and node.tag == NULL_TAG


def value_of(node: yaml.MappingNode, name: str) -> yaml.Node | None:
    """The value of field `name`, looked up before the mapping is checked, so that every later
    message can name the entry by it; None if the mapping has no such field."""
    return next(
        (v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == name), None
    )


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a mapping: its key (for the line of a repeated key) and its value."""

    key: yaml.ScalarNode
    value: yaml.Node


@dataclass(frozen=True, slots=True)
class Wording:
    """A file's words for the problems every such file can have. Templates are `str.format`ted
    with the names given in each field's comment; what a resident or editor wrote only ever
    arrives as an argument, never as a template."""

    # The problem of a YAML syntax error, from the error and the file's text.
    invalid: Callable[[yaml.MarkedYAMLError, str], str]
    empty_file: str
    top_level: str  # {kind}
    merge_key: str  # {where}
    repeated: str  # {name} {where} {first} {line}
    unknown: str  # {name} {where} {allowed}
    missing_version: str  # {version}
    bad_version: str  # {kind} {version}
    empty_text: str  # {what}
    # How many characters of a written name or value a message quotes; None: all of it.
    cut: int | None = None


@dataclass(frozen=True, slots=True)
class Reader(Generic[E]):
    """The shared checks of one file, raising that file's error (`CatalogError`, `AnswersError`)
    made by `make(path, line, problem)`."""

    path: Path
    make: Callable[[Path, int | None, str], E]
    wording: Wording

    def error(self, node: yaml.Node | None, problem: str) -> E:
        return self.make(self.path, line_of(node) if node is not None else None, problem)

    def kind(self, node: yaml.Node) -> str:
        return kind(node, self.wording.cut)

    def quoted(self, name: str) -> str:
        return repr(name[: self.wording.cut])

    def compose(self, text: str) -> yaml.Node:
        """The document's root node; a syntax error names its line, an empty file says so."""
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = int(mark.line) + 1 if mark is not None else None
            raise self.make(self.path, line, self.wording.invalid(exc, text)) from None
        except yaml.YAMLError as exc:  # e.g. a control character: no position to report
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise self.make(self.path, None, f"invalid YAML: {first}") from None
        if root is None:
            raise self.make(self.path, None, self.wording.empty_file)
        return root

    def document(
        self, text: str, fields: tuple[str, ...], version: int
    ) -> tuple[yaml.MappingNode, dict[str, Field]]:
        """The top-level mapping and its `fields` (one of which is `version`), its version
        checked to be `version`."""
        root = self.compose(text)
        if not isinstance(root, yaml.MappingNode):
            raise self.error(root, self.wording.top_level.format(kind=self.kind(root)))
        found = self.fields_of(root, "at the top level", fields)
        self.check_version(root, found.get("version"), version)
        return root, found

    def fields_of(
        self, node: yaml.MappingNode, where: str, allowed: tuple[str, ...]
    ) -> dict[str, Field]:
        """The fields of a mapping, refusing non-text keys, merge keys, repeated keys and
        unknown keys; `where` ("in entry 'x'") places the mapping in messages."""
        fields: dict[str, Field] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                raise self.error(key, f"a field name {where} must be a word, not {self.kind(key)}")
            if key.tag == MERGE_TAG:
                raise self.error(key, self.wording.merge_key.format(where=where))
            name = str(key.value)
            if name in fields:
                raise self.error(
                    key,
                    self.wording.repeated.format(
                        name=self.quoted(name),
                        where=where,
                        first=line_of(fields[name].key),
                        line=line_of(key),
                    ),
                )
            if name not in allowed:
                raise self.error(
                    key,
                    self.wording.unknown.format(
                        name=self.quoted(name), where=where, allowed=", ".join(allowed)
                    ),
                )
            fields[name] = Field(key, value)
        return fields

    def required(
        self, node: yaml.MappingNode, fields: dict[str, Field], names: tuple[str, ...], label: str
    ) -> None:
        """Refuse a mapping without one of the `names` fields; `label` names the mapping."""
        for name in names:
            if name not in fields:
                raise self.error(node, f"missing field {name!r} in {label}")

    def check_version(self, root: yaml.Node, field: Field | None, version: int) -> None:
        """`version: N` written as the plain number `version`: a quoted "1" is refused too, so
        that the file says what it means."""
        if field is None:
            raise self.error(root, self.wording.missing_version.format(version=version))
        node = field.value
        if not (
            isinstance(node, yaml.ScalarNode) and node.tag == INT_TAG and node.value == str(version)
        ):
            raise self.error(
                node, self.wording.bad_version.format(kind=self.kind(node), version=version)
            )

    def text(self, node: yaml.Node, what: str) -> str:
        """A scalar as written, stripped, refusing lists, mappings and empty values."""
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, f"{what} must be text, not {self.kind(node)}")
        value = str(node.value).strip()
        if not value or node.tag == NULL_TAG:
            raise self.error(node, self.wording.empty_text.format(what=what))
        return value
