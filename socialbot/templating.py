"""The one Jinja2 environment every city-editable template runs in (replies, broadcasts): a sandbox
with bounded work, and every mistake a `TemplateError` of one line naming the file and line.

Templates are edited by comms staff and may be pointed elsewhere by whoever controls the settings,
so a template is untrusted code:

- It runs in Jinja2's `ImmutableSandboxedEnvironment`: no attribute starting with `_`, no
  method that changes a list or dict, so `cycler.__init__.__globals__…` is refused. `lipsum`, whose
  argument sets how much text it makes, is not offered at all.
- Its work is bounded. Every value it builds or hands on (an operator's result, a concatenation,
  a literal, a filter's or call's input and result, an output) weighs at most `MAX_SIZE` (a
  string's length, a container's elements counted through every level), checked before anything
  large is made where a single operation could make it (`'x' * n`, `2 ** n`, a width of `n`, a
  width or text that a call repeats per tab, line, link or format field);
  `range` yields at most `MAX_RANGE` numbers; one render takes at most `MAX_STEPS` steps of
  Python (counted by a trace function, so loops over anything and recursion stop; past a limit
  it stops the render from the template's own code, where no `except` can swallow it) and
  `RENDER_SECONDS` of wall-clock time; the output stops at `MAX_SIZE` characters; a file is at
  most `MAX_SOURCE_BYTES` and must be UTF-8.
- Anything a template does wrong, at load or at render, comes out as a `TemplateError`
  `<full path>:<line>: <problem>`, never a traceback; the line is the template's own (Jinja2
  rewrites its tracebacks to point at template lines).
"""

from __future__ import annotations

import os
import posixpath
import re
import string
import sys
import threading
import time
import types
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import jinja2
import jinja2.compiler
import jinja2.nodes
import jinja2.runtime
import jinja2.sandbox
from jinja2.loaders import split_template_path

from socialbot.errors import TemplateError

MAX_SOURCE_BYTES = 64 * 1024
# The most any one value or the whole output may weigh. A reply is 280 weighted characters and a
# long broadcast a thread of a few posts; nothing a city writes comes near this.
MAX_SIZE = 20_000
MAX_INT_BITS = 4 * MAX_SIZE
MAX_RANGE = 1_000
# Templates one render may include or import (a template that includes itself stops here).
MAX_LOADS = 100
MAX_STEPS = 200_000
RENDER_SECONDS = 5.0
# Jinja2's default globals less `lipsum` (its argument sets how much text it makes).
GLOBALS = ("range", "dict", "cycler", "joiner", "namespace")


class Refused(Exception):
    """A template went over one of the bounds above (caught and reported as a TemplateError)."""


def weight(value: object, limit: int = MAX_SIZE) -> int:
    """How much `value` weighs: a string's length, an int's bits / 4, a container's elements
    through every level (a list holding the same big string twice weighs twice). Every element
    weighs at least 1, even an empty string, so the count stops once over `limit` after at most
    that many elements, and weighing is cheap whatever the value (were `''` to weigh nothing,
    a list of 2000 lists of 2000 `''` would weigh 2001 and take millions of steps to weigh)."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str | bytes):
            total += len(item) or 1
        elif isinstance(item, bool):
            total += 1
        elif isinstance(item, int):
            total += item.bit_length() // 4 + 1
        elif isinstance(item, Mapping):
            total += 1
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += 1
            stack.extend(item)
        else:
            total += 1
        if total > limit:
            return total
    return total


def checked(value: Any, what: str = "a value") -> Any:
    """`value`, unless it weighs more than MAX_SIZE."""
    if weight(value) > MAX_SIZE:
        raise Refused(f"{what} larger than {MAX_SIZE} characters; templates make short texts")
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise Refused(f"a number of more than {MAX_INT_BITS} bits")
    return value


def bounded_range(*args: int) -> range:
    """`range`, at most MAX_RANGE numbers."""
    _check_meter()
    numbers = range(*args)
    if len(numbers) > MAX_RANGE:
        raise Refused(f"range of {len(numbers)} numbers, over the {MAX_RANGE} a template may use")
    return numbers


# What one call would make is computed before the call wherever an argument multiplies it: a
# width is at most MAX_SIZE, but `expandtabs(w)` makes w per tab, `indent(w)` w per line, a
# format string w (or its argument) per field. Each check refuses a result over MAX_SIZE.
_NUMBER = re.compile(r"\d+")
# After a `%` and its `(key)` and flags: width, precision, length modifier, conversion.
_PERCENT_SPEC = re.compile(r"(\*|\d*)(?:\.(\*|\d*))?[hlL]?(.?)", re.DOTALL)
_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
# Filters whose number arguments are widths or counts of things they make.
_WIDTH_FILTERS = frozenset(
    {"center", "indent", "slice", "batch", "wordwrap", "truncate", "tojson", "urlize"}
)


def _refuse_over(size: int, what: str) -> None:
    if size > MAX_SIZE:
        raise Refused(f"{what} would make a text over {MAX_SIZE} characters")


def _number(digits: str, what: str) -> int:
    # A width of 20000 digits is refused before int() is asked to read it.
    if len(digits) > 6 or (digits and int(digits) > MAX_SIZE):
        raise Refused(f"a {what} width over {MAX_SIZE}")
    return int(digits) if digits else 0


class _TextBounds:
    """At most how long each value is as text, each value measured once (a format string may
    name the same argument thousands of times)."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, bool], int] = {}
        self._values: list[object] = []  # kept alive, so that an id() is not reused

    def __call__(self, value: object, as_repr: bool = False) -> int:
        key = (id(value), as_repr)
        if key not in self._known:
            self._values.append(value)
            self._known[key] = _text_bound(value, as_repr)
        return self._known[key]


def _text_bound(value: object, as_repr: bool) -> int:
    if isinstance(value, bool):
        return 5
    if isinstance(value, int):
        return value.bit_length() + 3  # in binary, the longest way to write it
    if isinstance(value, float):
        return 330  # '%f' of 1e308 has 309 digits
    if isinstance(value, str | bytes) and not as_repr:
        return len(value)
    try:
        return len(ascii(value))  # repr() and str() of a container are never longer
    except Exception:  # a value that cannot be shown cannot be formatted either
        return weight(value)


def _check_percent(fmt: str | bytes, values: object) -> None:
    """`fmt % values` would stay within MAX_SIZE: each conversion costs its width, precision
    and value (a `%(key)s` may name the same value any number of times)."""
    text = fmt.decode("latin-1") if isinstance(fmt, bytes) else fmt
    mapping = values if isinstance(values, Mapping) else None
    positional = values if isinstance(values, tuple) else (values,)
    bound = _TextBounds()
    size, at, next_value = 0, 0, 0
    while (percent := text.find("%", at)) >= 0:
        size += percent - at
        at = percent + 1
        key = None
        if text.startswith("(", at):  # a key, with its own parentheses balanced, as Python reads it
            depth, start = 1, at + 1
            at += 1
            while at < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[at], 0)
                at += 1
            key = text[start : at - 1]
        while at < len(text) and text[at] in "#0- +":
            at += 1
        spec = _PERCENT_SPEC.match(text, at)
        assert spec is not None  # every part of it may be empty
        width, precision, kind = spec.group(1), spec.group(2) or "", spec.group(3)
        at = spec.end()
        if "*" in (width, precision):
            raise Refused("a '%' format width given by an argument ('*')")
        size += _number(width, "'%' format") + _number(precision, "'%' format")
        if kind == "%":
            size += 1
            continue
        if key is not None and mapping is not None:
            value = mapping.get(key.encode("latin-1") if isinstance(fmt, bytes) else key)
        elif next_value < len(positional):
            value = positional[next_value]
            next_value += 1
        else:
            continue  # too few values: Python refuses the format itself
        size += bound(value, kind in ("r", "a"))
        _refuse_over(size, "'%' formatting")
    _refuse_over(size + len(text) - at, "'%' formatting")


def _check_format(
    fmt: str, args: tuple[Any, ...] = (), kwargs: Mapping[str, Any] | None = None
) -> None:
    """`fmt.format(*args, **kwargs)` would stay within MAX_SIZE: each field costs its width and
    precision and the value it names (`{0}{0}{0}…` names one value many times)."""
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError as exc:
        raise Refused(f"bad format string: {exc}") from None
    named = kwargs or {}
    bound = _TextBounds()
    size, auto = 0, 0
    for literal, field, spec, conversion in fields:
        size += len(literal)
        if field is None:
            continue
        spec = spec or ""
        if "{" in spec:
            raise Refused("a format() width given by another field")
        numbers = sum(_number(n, "format()") for n in _NUMBER.findall(spec))
        root = re.match(r"[^.\[]*", field)
        assert root is not None  # it may match nothing
        name = root.group()
        value: object = None
        if name == "":
            value = args[auto] if auto < len(args) else None
            auto += 1
        elif name.isdigit():
            index = _number(name, "format() field index")
            value = args[index] if index < len(args) else None
        else:
            value = named.get(name)
        # `{0.x}` or `{0[1]}`: a part of the value, never longer than the whole one shown.
        text = bound(value, conversion in ("r", "a") or len(name) < len(field))
        cost = numbers + text
        size += 2 * cost if ("," in spec or "_" in spec) else cost  # digits grouped
        _refuse_over(size, "format()")


def _check_widths(args: Iterable[object]) -> None:
    for arg in args:
        if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > MAX_SIZE:
            raise Refused(f"a width or count of {arg}, over {MAX_SIZE}")


def _check_replace(text: object, old: object, new: object, count: object = -1) -> None:
    if isinstance(text, str | bytes) and type(old) is type(text) and type(new) is type(text):
        assert isinstance(old, str | bytes) and isinstance(new, str | bytes)
        times = len(text) + 1 if not old else text.count(old)  # type: ignore[arg-type]
        if isinstance(count, int) and count >= 0:
            times = min(times, count)
        _refuse_over(len(text) + times * len(new), "replace()")


def _check_join(separator: object, items: object) -> None:
    """What joining `items` with `separator` would make, before it is made. A text joins its
    characters; a dict, set or view its keys or members; an iterator is read by the caller
    first (weighing it here would leave the join nothing)."""
    if not isinstance(separator, str | bytes):
        return
    if isinstance(items, str | bytes):
        _refuse_over(len(items) * (len(separator) + 1), "join()")
        return
    if not isinstance(items, list | tuple):
        if isinstance(items, Iterator) or not isinstance(items, Iterable):
            return
        items = list(items)
    checked(items, "the items joined")
    _refuse_over(len(separator) * len(items), "join()")


def _check_expandtabs(text: str | bytes, tabsize: object) -> None:
    if isinstance(tabsize, int) and tabsize > 0:
        tabs = text.count("\t" if isinstance(text, str) else b"\t")  # type: ignore[arg-type]
        _refuse_over(len(text) + tabs * tabsize, "expandtabs()")


def _check_translate(text: str, table: object) -> None:
    # A table may map one character to a long text, which then comes once per that character.
    if not hasattr(table, "__getitem__"):
        return  # Python refuses the call itself
    size = 0
    for char in set(text):
        try:
            into = table[ord(char)]
        except LookupError:
            into = char
        size += text.count(char) * (len(into) if isinstance(into, str) else 1)
        _refuse_over(size, "translate()")


class _Args:
    """A filter's arguments after what Jinja2 passes first, read and replaced by position or
    keyword, as the filter's signature has them."""

    def __init__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        first = next((i for i, a in enumerate(args) if not isinstance(a, _PASSED)), len(args))
        self.passed, self.values = args[:first], list(args[first:])
        self.kwargs = dict(kwargs)

    def get(self, position: int, name: str, default: Any = None) -> Any:
        if position < len(self.values):
            return self.values[position]
        return self.kwargs.get(name, default)

    def call_with(self, func: Callable[..., Any], position: int, **replaced: Any) -> Any:
        """`func` called with these arguments, the named ones (from `position` on) replaced."""
        values, kwargs = list(self.values), dict(self.kwargs)
        for offset, (name, value) in enumerate(replaced.items()):
            if position + offset < len(values):
                values[position + offset] = value
            else:
                kwargs[name] = value
        return func(*self.passed, *values, **kwargs)


def _check_filter_size(name: str, func: Callable[..., Any], given: _Args) -> None:
    """The filters whose result an argument multiplies, checked before they make it (where the
    size is easiest known from the filter itself, it is run first with that argument at its
    smallest: once more on an input already within MAX_SIZE)."""
    text = given.get(0, "")
    if name == "indent" and isinstance(text, str):
        width = given.get(1, "width", 4)
        per_line = len(width) if isinstance(width, str) else max(width, 0)
        lines = len((text + "\n").splitlines())
        _refuse_over(len(text) + (lines + 1) * per_line, "indent()")
    elif name == "wordwrap" and isinstance(text, str):
        wrapstring = given.get(3, "wrapstring")
        if isinstance(wrapstring, str) and len(wrapstring) > 1:
            # Wrapped lines hold no newline of their own: each '\n' is one wrapstring.
            once = given.call_with(func, 3, wrapstring="\n")
            _refuse_over(len(once) + once.count("\n") * (len(wrapstring) - 1), "wordwrap()")
    elif name == "urlize" and isinstance(text, str):
        target, rel = given.get(3, "target"), given.get(4, "rel")
        # Both are written, escaped (at most 6 characters each), into every link.
        extra = 6 * sum(_text_bound(v, False) for v in (target, rel) if v is not None)
        if extra:
            once = str(given.call_with(func, 3, target=None, rel=None))
            _refuse_over(len(once) + once.count("<a href=") * extra, "urlize()")
    elif name == "tojson":
        indent = given.get(1, "indent")
        per_level = len(indent) if isinstance(indent, str) else indent
        if isinstance(per_level, int) and per_level > 1:
            flat = str(given.call_with(func, 1, indent=0))
            levels = len(str(given.call_with(func, 1, indent=1))) - len(flat)
            _refuse_over(len(flat) + levels * per_level, "tojson()")
    elif name == "format" and isinstance(text, str):
        _check_percent(text, given.kwargs or tuple(given.values[1:]))
    elif name == "replace":  # old and new given by position or by name
        old, new = given.get(1, "old"), given.get(2, "new")
        if old is not None and new is not None:
            _check_replace(text, old, new, given.get(3, "count", -1))


def _bounded_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """`func` (a Jinja2 filter or test), with its input, arguments and result weighed."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _check_meter()
        values = [a for a in args if not isinstance(a, _PASSED)]
        for arg in (*values, *kwargs.values()):
            checked(arg, f"the input of {name!r}")
        if name in _WIDTH_FILTERS:
            _check_widths([*values[1:], *kwargs.values()])
        _check_filter_size(name, func, _Args(args, kwargs))
        if name == "join" and values:
            separator = values[1] if len(values) > 1 else kwargs.get("d", "")
            items = values[0]
            if isinstance(items, Iterator):
                # Read once, here, and the list joined: an iterator weighed is then empty.
                items = list(items)
                first = len(args) - len(values)  # what Jinja2 passes comes first
                args = (*args[:first], items, *args[first + 1 :])
            _check_join(separator, items)
        return checked(func(*args, **kwargs), f"the result of {name!r}")

    for attr in ("jinja_pass_arg",):  # pass_context / pass_eval_context / pass_environment
        if hasattr(func, attr):
            setattr(wrapper, attr, getattr(func, attr))
    wrapper.__name__ = getattr(func, "__name__", name)
    return wrapper


# What Jinja2 passes a `pass_context` / `pass_eval_context` / `pass_environment` filter first.
_PASSED = (jinja2.runtime.Context, jinja2.nodes.EvalContext, jinja2.Environment)


class _BoundedCodeGenerator(jinja2.compiler.CodeGenerator):
    """Jinja2's code generator, with what a template builds without an operator or a call
    (concatenations with `~`, list, tuple and dict literals) weighed as it is built, and the
    sides of a comparison weighed before they are compared (comparing two huge lists is slow)."""

    def _wrapped(self, visit: Callable[[], None]) -> None:
        self.write("environment.checked(")
        visit()
        self.write(")")

    def visit_Concat(self, node: jinja2.nodes.Concat, frame: Any) -> None:
        self._wrapped(lambda: super(_BoundedCodeGenerator, self).visit_Concat(node, frame))

    def visit_List(self, node: jinja2.nodes.List, frame: Any) -> None:
        self._wrapped(lambda: super(_BoundedCodeGenerator, self).visit_List(node, frame))

    def visit_Dict(self, node: jinja2.nodes.Dict, frame: Any) -> None:
        self._wrapped(lambda: super(_BoundedCodeGenerator, self).visit_Dict(node, frame))

    def visit_Tuple(self, node: jinja2.nodes.Tuple, frame: Any) -> None:
        if node.ctx != "load":  # an assignment target (`{% for a, b in … %}`), not a value
            super().visit_Tuple(node, frame)
            return
        self._wrapped(lambda: super(_BoundedCodeGenerator, self).visit_Tuple(node, frame))

    def visit_Compare(self, node: jinja2.nodes.Compare, frame: Any) -> None:
        self.write("(environment.checked(")
        self.visit(node.expr, frame)
        self.write(")")
        for op in node.ops:
            self.visit(op, frame)
        self.write(")")

    def visit_Operand(self, node: jinja2.nodes.Operand, frame: Any) -> None:
        self.write(f" {jinja2.compiler.operators[node.op]} environment.checked(")
        self.visit(node.expr, frame)
        self.write(")")


class ParsedTemplate(jinja2.Template):
    """A compiled template that keeps the syntax tree it was compiled from (`tree`), so that a
    caller can tell what the template does with a variable (`socialbot.render_once`) from the
    very source this object runs, not from the file as it is on disk now."""

    tree: jinja2.nodes.Template | None = None

    @classmethod
    def from_code(
        cls,
        environment: jinja2.Environment,
        code: types.CodeType,
        globals: MutableMapping[str, Any],
        uptodate: Callable[[], bool] | None = None,
    ) -> jinja2.Template:
        template = super().from_code(environment, code, globals, uptodate)
        assert isinstance(template, ParsedTemplate)
        step = getattr(_compiling, "step", None)
        if step is not None and step[0] is code:
            template.tree = step[1]
        _compiling.step = None
        return template


# The tree of the template being compiled in this thread, with what was last made of it.
_compiling = threading.local()


class SandboxEnvironment(jinja2.sandbox.ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox with the bounds of this module's docstring."""

    intercepted_binops = frozenset({"+", "*", "**", "%", "//", "/", "-"})
    intercepted_unops = frozenset({"-", "+"})
    code_generator_class = _BoundedCodeGenerator
    template_class = ParsedTemplate

    # Jinja2 compiles a source as _parse → _generate → _compile, then the loader makes the
    # template with from_code; each step here hands the tree on to the next, in this thread, by
    # the identity of what it made, so a template never carries a tree it was not made of.

    def _generate(
        self,
        source: jinja2.nodes.Template,
        name: str | None,
        filename: str | None,
        defer_init: bool = False,
    ) -> str:
        python = super()._generate(source, name, filename, defer_init)
        _compiling.step = (python, source)
        return python

    def _compile(self, source: str, filename: str) -> types.CodeType:
        code = super()._compile(source, filename)
        step = getattr(_compiling, "step", None)
        _compiling.step = (code, step[1]) if step is not None and step[0] is source else None
        return code

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(finalize=self._finalize, **kwargs)
        defaults = self.globals
        self.globals = {name: defaults[name] for name in GLOBALS if name in defaults}
        self.globals["range"] = bounded_range
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        tests: dict[str, Any] = dict(self.tests)
        self.tests = {name: _bounded_filter(name, f) for name, f in tests.items()}

    # Each hook below also refuses once the render has reached a limit (see _Meter).

    @staticmethod
    def checked(value: Any) -> Any:
        _check_meter()
        return checked(value)

    @staticmethod
    def _finalize(value: Any) -> Any:
        _check_meter()
        return checked(value, "an output")

    def getattr(self, obj: Any, attribute: str) -> Any:
        _check_meter()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _check_meter()
        return super().getitem(obj, argument)

    def _load_template(
        self, name: str, globals: MutableMapping[str, Any] | None
    ) -> jinja2.Template:
        # Every include, import and extends comes here, at render time as at start-up.
        meter = getattr(_rendering, "meter", None)
        if meter is not None:
            meter.check()
            meter.loads += 1
            if meter.loads > MAX_LOADS:
                raise Refused(
                    f"includes or imports templates more than {MAX_LOADS} times in one render "
                    "(does it include itself?)"
                )
        return super()._load_template(name, globals)

    def concat(self, pieces: Iterable[str]) -> str:
        # Block `set`s, macros and filter blocks join their output with this.
        _check_meter()
        return str(checked("".join(pieces), "a block's text"))

    def call_binop(
        self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any
    ) -> Any:
        _check_meter()
        checked(left), checked(right)
        if (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and right > 0
            and abs(left) > 1
            and abs(left).bit_length() * right > MAX_INT_BITS
        ):
            raise Refused(f"{left} ** {right} is a number of more than {MAX_INT_BITS} bits")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                # A list's own weight of 1 is not repeated, its elements are.
                own = 1 if isinstance(seq, list | tuple) else 0
                if (
                    isinstance(seq, str | list | tuple)
                    and isinstance(times, int)
                    and (weight(seq) - own) * times + own > MAX_SIZE
                ):
                    raise Refused(f"repeating a value {times} times makes more than {MAX_SIZE}")
        if operator == "%" and isinstance(left, str | bytes):
            _check_percent(left, right)
        return checked(super().call_binop(context, operator, left, right), "a result")

    def call_unop(self, context: jinja2.runtime.Context, operator: str, arg: Any) -> Any:
        _check_meter()
        return checked(super().call_unop(context, operator, checked(arg)), "a result")

    def call(
        __self,  # Jinja2's signature: names that cannot clash with the call's keywords
        __context: jinja2.runtime.Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        _check_meter()
        for arg in (*args, *kwargs.values()):
            checked(arg, "an argument")
        if isinstance(__obj, types.BuiltinMethodType | types.MethodType):
            name, owner = __obj.__name__, getattr(__obj, "__self__", None)
            if isinstance(owner, str | bytes):
                checked(owner)
                if name in _WIDTH_METHODS:
                    _check_widths([*args, *kwargs.values()])
                if name == "expandtabs":
                    _check_expandtabs(owner, args[0] if args else kwargs.get("tabsize", 8))
                if name == "translate" and args and isinstance(owner, str):
                    _check_translate(owner, args[0])
                if name == "replace" and len(args) >= 2:
                    count = args[2] if len(args) > 2 else kwargs.get("count", -1)
                    _check_replace(owner, args[0], args[1], count)
                if name == "join" and args:
                    if isinstance(args[0], Iterator):  # read once, and the list joined
                        args = (list(args[0]), *args[1:])
                    _check_join(owner, args[0])
                if name in ("format", "format_map") and isinstance(owner, str):
                    _check_format(owner, args, kwargs)
        return checked(
            jinja2.sandbox.ImmutableSandboxedEnvironment.call(
                __self, __context, __obj, *args, **kwargs
            ),
            "a call's result",
        )

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        fmt = value.__self__
        is_format_map = value.__name__ == "format_map"

        def checked_format(*args: Any, **kwargs: Any) -> str:
            if is_format_map:
                _check_format(fmt, (), args[0] if args and isinstance(args[0], Mapping) else {})
            else:
                _check_format(fmt, args, kwargs)
            return str(checked(wrapped(*args, **kwargs), "a format() result"))

        return checked_format


class CityLoader(jinja2.FileSystemLoader):
    """A FileSystemLoader that refuses a file too big or not UTF-8, with its path and line."""

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)
        for searchpath in self.searchpath:
            filename = posixpath.join(searchpath, *pieces)
            if os.path.isfile(filename):
                break
        else:
            raise jinja2.TemplateNotFound(template)
        filename = os.path.abspath(filename)  # messages name the full path
        try:
            size = os.path.getsize(filename)
            if size > MAX_SOURCE_BYTES:
                raise TemplateError(
                    f"{filename}: {size} bytes, over the {MAX_SOURCE_BYTES} a template may have"
                )
            with open(filename, "rb") as file:
                data = file.read(MAX_SOURCE_BYTES + 1)
            mtime = os.path.getmtime(filename)
        except OSError as exc:
            raise TemplateError(f"{filename}: cannot be read: {exc.strerror}") from None
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise TemplateError(
                f"{filename}:{line}: not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as "
                "UTF-8"
            ) from None

        def uptodate() -> bool:
            try:
                return os.path.getmtime(filename) == mtime
            except OSError:
                return False

        return source, filename, uptodate


def environment(template_dirs: list[Path]) -> SandboxEnvironment:
    """The sandbox reading `template_dirs` in order (the city's first, the shipped second):
    plain text (no HTML escaping); an undefined variable is an error, not a blank."""
    missing = [d for d in template_dirs if not d.is_dir()]
    if missing:
        raise TemplateError(f"{missing[0]}: template directory not found (SOCIALBOT_TEMPLATES)")
    return SandboxEnvironment(
        loader=jinja2.ChoiceLoader([CityLoader(d) for d in template_dirs]),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text for X, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        auto_reload=False,  # a template is read once: what start-up checked is what runs
    )


def searched_dirs(env: jinja2.Environment) -> list[Path]:
    """The directories `env` reads templates from, in order."""
    loader = env.loader
    assert isinstance(loader, jinja2.ChoiceLoader)
    return [
        Path(p)
        for sub in loader.loaders
        if isinstance(sub, jinja2.FileSystemLoader)
        for p in sub.searchpath
    ]


def where(env: jinja2.Environment, name: str) -> str:
    """The full path of template `name` (the city's copy or the shipped one), for messages."""
    for root in searched_dirs(env):
        if (root / name).is_file():
            return os.path.abspath(root / name)
    return name


def load(env: jinja2.Environment, names: list[str]) -> jinja2.Template:
    """The first of `names` that exists, compiled; any problem a TemplateError naming the file."""
    try:
        return env.select_template(names)
    except TemplateError:
        raise
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(_syntax(env, exc)) from None
    except jinja2.TemplatesNotFound:
        dirs = ", ".join(str(d) for d in searched_dirs(env))
        raise TemplateError(f"{names[-1]}: template not found in {dirs}") from None
    except Exception as exc:  # the compiler on a hostile source (nesting too deep, …)
        problem = _describe(exc)
        raise TemplateError(f"{where(env, names[0])}: cannot be compiled: {problem}") from None


def render(
    env: jinja2.Environment, template: jinja2.Template, values: Mapping[str, object], hint: str = ""
) -> str:
    """`template` rendered with `values`, bounded (see the module), stripped; any problem a
    TemplateError `<path>:<line>: <problem>`. `hint` follows an undefined-variable message."""
    return render_unstripped(env, template, values, hint).strip()


def render_unstripped(
    env: jinja2.Environment, template: jinja2.Template, values: Mapping[str, object], hint: str = ""
) -> str:
    """`render`, before the text is stripped: what the template made, at most MAX_SIZE
    characters (more is refused)."""
    path = template.filename or template.name or "<template>"
    meter = _Meter()
    previous = sys.gettrace()
    pieces: list[str] = []
    size = 0
    try:
        _rendering.meter = meter
        sys.settrace(meter.trace)
        try:
            for piece in template.generate(**values):
                meter.check()
                size += len(piece)
                if size > MAX_SIZE:
                    raise Refused(f"renders more than {MAX_SIZE} characters")
                pieces.append(piece)
            # A limit reached where its exception was swallowed: the output is not kept.
            meter.check()
        finally:
            sys.settrace(previous)
            _rendering.meter = None
    except TemplateError:
        raise
    except jinja2.TemplateSyntaxError as exc:  # in a template it includes
        raise TemplateError(_syntax(env, exc)) from None
    except Exception as exc:
        at = _template_line(exc, searched_dirs(env)) or (path, None)
        where_ = f"{at[0]}:{at[1]}" if at[1] is not None else at[0]
        # Past a limit, whatever failed next failed because of it.
        problem = meter.tripped or _describe(exc)
        if isinstance(exc, jinja2.UndefinedError) and hint:
            problem += f" ({hint})"
        raise TemplateError(f"{where_}: {problem}") from None
    return "".join(pieces)


# The render under way in this thread (the scheduler renders in worker threads).
_rendering = threading.local()


class _Meter:
    """The trace function that bounds a render's steps and time, and its count of loads.

    Over a limit, it raises only in a frame of the template's own compiled code. Raised in library
    code, the Refused could be caught there (Jinja2's `is sequence` calls len() inside `try: …
    except Exception`), and Python drops a trace function that raises: the render would go on
    with no limit at all. So once `tripped`, it keeps tracing (returns itself) until the next
    event in template code, which has no `except` that catches it; and the sandbox's hooks and
    `render` itself refuse too once it has tripped, whatever became of that exception."""

    def __init__(self) -> None:
        self.steps = 0
        self.loads = 0
        self.deadline = time.monotonic() + RENDER_SECONDS
        self.tripped: str | None = None  # which limit was reached, once one is

    def trace(self, frame: types.FrameType, event: str, arg: object) -> Callable[..., Any]:
        if self.tripped is None:
            self.steps += 1
            if self.steps > MAX_STEPS:
                self.tripped = f"takes more than {MAX_STEPS} steps (a loop too long, or no end)"
            elif self.steps % 1024 == 0 and time.monotonic() > self.deadline:
                self.tripped = f"takes longer than {RENDER_SECONDS:g} s to render"
            else:
                return self.trace
        if _is_template_code(frame):
            raise Refused(self.tripped)
        return self.trace

    def check(self) -> None:
        """Refuse, if a limit was reached (wherever the trace function's exception went)."""
        if self.tripped is not None:
            raise Refused(self.tripped)


def _is_template_code(frame: types.FrameType) -> bool:
    # Jinja2 runs a template's compiled module in a namespace of its own holding `environment`
    # and `__file__`, the template's file, which is also its code's file name (so a library
    # function holding a name `environment` is not mistaken for one).
    namespace = frame.f_globals
    return (
        isinstance(namespace.get("environment"), SandboxEnvironment)
        and namespace.get("__file__") == frame.f_code.co_filename
    )


def _check_meter() -> None:
    """Refuse, if the render under way in this thread has reached a limit."""
    meter = getattr(_rendering, "meter", None)
    if meter is not None:
        meter.check()


def _syntax(env: jinja2.Environment, exc: jinja2.TemplateSyntaxError) -> str:
    path = exc.filename or (where(env, exc.name) if exc.name else "<template>")
    return f"{path}:{exc.lineno}: {exc.message}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "includes or calls itself without end"
    if isinstance(exc, jinja2.TemplateNotFound):
        return f"includes {exc.name!r}, which is not in the template directories"
    if isinstance(exc, jinja2.exceptions.SecurityError):
        return f"refused: {exc}"
    if isinstance(exc, Refused | jinja2.UndefinedError):
        return str(exc)
    text = " ".join(str(exc).split()) or "no detail"
    return f"{type(exc).__name__}: {text[:300]}"


def _template_line(exc: BaseException, dirs: list[Path]) -> tuple[str, int] | None:
    """The innermost template file and line in `exc`'s traceback (Jinja2 rewrites template
    frames to carry the template's file name and line)."""
    roots = tuple(os.path.abspath(d) + os.sep for d in dirs)
    found = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(roots):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found
