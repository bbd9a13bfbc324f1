"""Render each distinct text once: a template rendered again with the same values but another case
number makes the same text with another number in it, so the text is rendered once with stand-ins
for the numbers and the numbers are put in their places afterwards.

Only where that is provably the text a render would make (`RenderOnce.render`):

- The template (its syntax tree, as compiled: `templating.ParsedTemplate.tree`) includes,
  extends and imports nothing, uses no `random` filter, and uses each substituted variable only
  as a plain `{{ name }}` output or as the bare test of an `{% if name %}`, outside any macro,
  call, filter or `set` block, recursive loop, `with` or `autoescape` scope (where an output is
  buffered or escaped), and never binds the name itself (`set`, loop target, macro). So the
  variable's value decides nothing but its truthiness, and it reaches the text as `str(value)`,
  once each time such an output runs.
- The key holds everything else: the template object (a template edited on disk is a new object
  exactly when the environment would load it again), every other value, and for each
  substituted variable whether it is truthy (a falsy value, None, 0 or '', is in the key itself
  and rendered as it is).
- A stand-in counts how often it is written out. Stand-ins are digits that cannot overlap one
  another or themselves (each starts with a digit that is nowhere else in any of them), so their
  occurrences in the text are disjoint; the fast path is kept only if each occurs exactly as often
  as it was written. A stand-in the template's own text or other values happen to contain would
  make one more: that text is always rendered for real.
- The sandbox's bounds hold as in a real render: the one render runs under them, each real value
  must pass the sandbox's own check of an output, and the substituted text before stripping must
  stay within `templating.MAX_SIZE`; anything else (and any render that fails) is rendered for
  real, every time, so errors are the real render's own.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import jinja2
import jinja2.nodes as nodes

from socialbot import templating
from socialbot.errors import TemplateError

# Distinct leading digits, nothing but zeros after: no stand-in overlaps itself or another.
_STAND_INS = ("7" + "0" * 17, "8" + "0" * 17, "9" + "0" * 17, "6" + "0" * 17)
# What a template's own code reaches that is built here, refused: it would not be the same twice.
_UNREPEATABLE_FILTERS = frozenset({"random"})
# Where an output is not written straight into the text (a buffer, an escape, another scope).
_TOP_LEVEL = (nodes.Template, nodes.If, nodes.For)


class _CountedInt(int):
    """An int stand-in that counts how often it is written out."""

    written: int = 0

    def __str__(self) -> str:
        self.written += 1
        return int.__repr__(self)


class _CountedStr(str):
    """A text stand-in that counts how often it is written out."""

    written: int = 0

    def __str__(self) -> str:
        self.written += 1
        return str.__str__(self)


class _Slow(Exception):
    """This render cannot take the fast path: render for real."""


@dataclass(frozen=True, slots=True)
class _Text:
    """A rendered text, unstripped, in pieces: `parts[0] value parts[1] value …`, the value
    before `parts[i + 1]` being the substituted variable numbered `slots[i]`."""

    parts: tuple[str, ...]
    slots: tuple[int, ...]

    def filled(self, values: tuple[str, ...]) -> str:
        pieces = [self.parts[0]]
        for slot, part in zip(self.slots, self.parts[1:], strict=True):
            pieces.append(values[slot])
            pieces.append(part)
        return "".join(pieces)


# A key found to need the real render (a failing render, a stand-in in the text).
_RENDER_FOR_REAL = _Text((), ())


def substitutable(tree: nodes.Template | None, names: frozenset[str]) -> bool:
    """Whether `tree` uses each of `names` only as a plain output or bare `if` test at the top
    level, and nothing that makes a render unrepeatable (see the module)."""
    if tree is None:
        return False
    return _safe(tree, names, top=True)


def _safe(node: nodes.Node, names: frozenset[str], *, top: bool) -> bool:
    if isinstance(node, nodes.Extends | nodes.Include | nodes.Import | nodes.FromImport):
        return False
    if isinstance(node, nodes.Filter) and node.name in _UNREPEATABLE_FILTERS:
        return False
    if isinstance(node, nodes.EvalContextModifier):
        return False  # `{% autoescape %}`: an output escaped, not as it is
    if isinstance(node, nodes.Macro) and node.name in names:
        return False  # `{% macro case() %}` would be the `case` the template sees
    if isinstance(node, nodes.Name):
        return node.name not in names  # any other place a substituted name is used or bound
    if isinstance(node, nodes.Output):
        return all(
            top if _is_load(child, names) else _safe(child, names, top=False)
            for child in node.nodes
        )
    if isinstance(node, nodes.If):
        test_ok = top if _is_load(node.test, names) else _safe(node.test, names, top=False)
        return test_ok and all(
            _safe(child, names, top=top) for child in (*node.body, *node.elif_, *node.else_)
        )
    if isinstance(node, nodes.For):
        body_top = top and not node.recursive  # a recursive loop writes into a buffer
        heads = [node.target, node.iter] + ([node.test] if node.test is not None else [])
        return all(_safe(child, names, top=False) for child in heads) and all(
            _safe(child, names, top=body_top) for child in (*node.body, *node.else_)
        )
    inner_top = top and isinstance(node, nodes.Template)
    return all(_safe(child, names, top=inner_top) for child in node.iter_child_nodes())


def _is_load(node: nodes.Node, names: frozenset[str]) -> bool:
    return isinstance(node, nodes.Name) and node.name in names and node.ctx == "load"


def _key_of(value: object) -> object:
    """`value` as part of a key: a number with its type (1 and True are equal, not the same), a
    list or tuple as its type and items; anything else not kept."""
    kind = type(value)
    if kind is str or value is None:
        return value
    if kind is int or kind is bool:
        return (kind, value)
    if kind is list or kind is tuple:
        assert isinstance(value, list | tuple)
        return (kind, tuple(_key_of(item) for item in value))
    raise _Slow


class RenderOnce:
    """`templating.render`, each distinct text rendered once (see the module); at most `size`
    texts kept, the least recently used forgotten first. `renders` counts the real renders it
    made (a hook for tests: the fast path is taken when it does not grow)."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.renders = 0
        self._texts: OrderedDict[tuple[object, ...], _Text] = OrderedDict()
        self._safe: dict[int, tuple[jinja2.Template, bool]] = {}
        self._lock = threading.Lock()

    def render(
        self,
        env: jinja2.Environment,
        template: jinja2.Template,
        values: Mapping[str, object],
        *,
        substituted: frozenset[str] = frozenset(),
        hint: str = "",
    ) -> str:
        """`templating.render(env, template, values, hint)`, exactly; the values of
        `substituted` (ints or texts) put into a text rendered once for everything else."""
        if self.size <= 0:
            return self._real(env, template, values, hint)
        try:
            key, kinds, real = self._key(template, values, substituted)
        except _Slow:
            return self._real(env, template, values, hint)
        with self._lock:
            text = self._texts.get(key)
            if text is not None:
                self._texts.move_to_end(key)
        if text is None:
            text = self._rendered_once(env, template, values, kinds, hint)
            with self._lock:
                self._texts[key] = text
                if len(self._texts) > self.size:
                    self._texts.popitem(last=False)
        if text is _RENDER_FOR_REAL:
            return self._real(env, template, values, hint)
        filled = text.filled(real)
        if len(filled) > templating.MAX_SIZE:
            return self._real(env, template, values, hint)  # which refuses it, as it would
        return filled.strip()

    def _real(
        self,
        env: jinja2.Environment,
        template: jinja2.Template,
        values: Mapping[str, object],
        hint: str,
    ) -> str:
        self.renders += 1
        return templating.render(env, template, values, hint)

    def _key(
        self, template: jinja2.Template, values: Mapping[str, object], substituted: frozenset[str]
    ) -> tuple[tuple[object, ...], dict[str, type], tuple[str, ...]]:
        """The key, the type of each truthy substituted value (each gets a stand-in), and their
        texts in the same order; _Slow where the fast path does not apply."""
        if not self._substitutable(template, substituted):
            raise _Slow
        key: list[object] = [template]
        kinds: dict[str, type] = {}
        real: list[str] = []
        for name, value in values.items():
            if name not in substituted or not value:
                key.append((name, _key_of(value)))
                continue
            kind = type(value)
            if len(kinds) == len(_STAND_INS) or not (kind is int or kind is str):
                raise _Slow
            # The sandbox's check of each output (templating.checked), which a stand-in passes:
            # a text of up to MAX_SIZE, a number of up to 64 bits pass it too.
            heavy = (
                len(value) > templating.MAX_SIZE
                if isinstance(value, str)
                else isinstance(value, int) and value.bit_length() > 64
            )
            if heavy:
                try:
                    templating.checked(value, "an output")
                except templating.Refused:
                    raise _Slow from None
            kinds[name] = kind
            key.append((name, kind))
            real.append(str(value))
        return tuple(key), kinds, tuple(real)

    def _substitutable(self, template: jinja2.Template, substituted: frozenset[str]) -> bool:
        # By the template object: the environment keeps it (and its id) as long as it serves it,
        # and this holds it too, so an id is never another template's.
        known = self._safe.get(id(template))
        if known is None or known[0] is not template:
            tree = getattr(template, "tree", None)
            known = (template, substitutable(tree, substituted))
            with self._lock:
                if len(self._safe) >= self.size:
                    self._safe.clear()
                self._safe[id(template)] = known
        return known[1]

    def _rendered_once(
        self,
        env: jinja2.Environment,
        template: jinja2.Template,
        values: Mapping[str, object],
        kinds: Mapping[str, type],
        hint: str,
    ) -> _Text:
        """The text rendered with stand-ins for the values of `kinds`, cut where they are;
        _RENDER_FOR_REAL if the render fails or a stand-in occurs other than where it was
        written."""
        self.renders += 1
        stand_ins: dict[str, _CountedInt | _CountedStr] = {
            name: (_CountedInt if kind is int else _CountedStr)(digits)
            for (name, kind), digits in zip(kinds.items(), _STAND_INS, strict=False)
        }
        try:
            raw = templating.render_unstripped(env, template, {**values, **stand_ins}, hint)
        except TemplateError:
            return _RENDER_FOR_REAL
        if not stand_ins:
            return _Text((raw,), ())
        order = {digits: slot for slot, digits in enumerate(_STAND_INS[: len(stand_ins)])}
        parts: list[str] = []
        slots: list[int] = []
        at = 0
        for found in re.finditer("|".join(order), raw):
            parts.append(raw[at : found.start()])
            slots.append(order[found.group()])
            at = found.end()
        parts.append(raw[at:])
        for slot, stand_in in enumerate(stand_ins.values()):
            if slots.count(slot) != stand_in.written:
                return _RENDER_FOR_REAL
        return _Text(tuple(parts), tuple(slots))
