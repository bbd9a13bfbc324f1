"""Broadcasts, pure: what a template asks for, the values staff gave, and the posts that result.

A broadcast template documents its variables in its header comment, which is what
`socialbot broadcast templates` lists and what `--var` values are checked against:

    {#
    Storm warning: a named storm is on its way.
    vars:
      storm: The storm's name. Example: Sandy
      shelters (optional): Where shelters are open. Example: all public high schools
    #}

A value may differ by language (`--var when="Monday night" --var when.es="lunes por la noche"`).
Optional variables not given are None, so a template writes `{% if shelters %}…{% endif %}`.

The posts: one language that fits is one post; two languages that fit together are one post,
English first; anything longer is a numbered thread per language. During storm mode every post
carries the campaign hashtag, counted within the length.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import regex

from socialbot.errors import BroadcastError, TemplateError
from socialbot.hashtags import extract_hashtags
from socialbot.text_rules import TextRules
from socialbot.threads import split_thread

EXAMPLE_MARK = " Example: "
OPTIONAL_MARK = " (optional)"
# Between the languages of a two-language post.
LANG_SEPARATOR = "\n\n"
_VAR_LINE = regex.compile(
    r"^  (?P<name>[a-z][a-z0-9_]*)(?P<optional> \(optional\))?: (?P<rest>.+)$"
)
_VAR_ARG = regex.compile(
    r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:\.(?P<lang>[a-z]{2}))?=(?P<value>.*)$", regex.S
)


@dataclass(frozen=True, slots=True)
class TemplateVar:
    name: str
    description: str
    example: str
    optional: bool = False


@dataclass(frozen=True, slots=True)
class TemplateDoc:
    """A broadcast template's header: when to use it and the variables it takes."""

    description: str
    variables: tuple[TemplateVar, ...]

    def names(self) -> frozenset[str]:
        return frozenset(v.name for v in self.variables)

    def examples(self) -> dict[str, str]:
        return {v.name: v.example for v in self.variables}


def parse_header(source: str, where: str) -> TemplateDoc:
    """The header comment of a broadcast template; a TemplateError naming `where:line` if it is
    missing or does not follow the format in this module's docstring."""
    lines = source.splitlines()
    if not lines or lines[0].strip() != "{#":
        raise TemplateError(f"{where}:1: a broadcast template starts with a '{{#' header comment")
    try:
        end = next(i for i, line in enumerate(lines) if line.strip() == "#}")
    except StopIteration:
        raise TemplateError(f"{where}:1: the header comment has no closing '#}}' line") from None
    body = lines[1:end]
    if len(body) < 2 or body[1].strip() != "vars:":
        raise TemplateError(
            f"{where}:2: the header is one line of description, then 'vars:' and one variable "
            "a line"
        )
    variables: list[TemplateVar] = []
    for number, line in enumerate(body[2:], start=4):
        match = _VAR_LINE.match(line)
        if match is None or EXAMPLE_MARK not in match["rest"]:
            raise TemplateError(
                f"{where}:{number}: expected '  name: what it is. Example: a value', got {line!r}"
            )
        description, example = match["rest"].rsplit(EXAMPLE_MARK, 1)
        variables.append(
            TemplateVar(
                name=match["name"],
                description=description.strip(),
                example=example.strip(),
                optional=match["optional"] is not None,
            )
        )
    return TemplateDoc(description=body[0].strip(), variables=tuple(variables))


def parse_var_args(args: Sequence[str]) -> dict[str, str]:
    """`--var key=value` and `--var key.es=value` options, as given; BroadcastError on a bad one."""
    values: dict[str, str] = {}
    for arg in args:
        match = _VAR_ARG.match(arg)
        if match is None:
            raise BroadcastError(f"--var {arg!r}: write name=value, e.g. --var storm=Sandy")
        key = match["name"] if match["lang"] is None else f"{match['name']}.{match['lang']}"
        if key in values:
            raise BroadcastError(f"--var {key} is given twice")
        values[key] = match["value"].strip()
    return values


def values_for(
    doc: TemplateDoc, given: Mapping[str, str], langs: Sequence[str], template: str
) -> dict[str, dict[str, str | None]]:
    """Each language's variables: its own `name.lang` value, else the plain one, else None for an
    optional variable. Unknown or missing variables are one BroadcastError listing them all."""
    known = doc.names()
    unknown = sorted(
        key
        for key in given
        if key.split(".")[0] not in known or ("." in key and key.split(".")[1] not in langs)
    )
    if unknown:
        names = ", ".join(sorted(known)) or "none"
        raise BroadcastError(
            f"{template}: unknown --var {', '.join(unknown)} (this template takes: {names}; "
            f"languages: {', '.join(langs)})"
        )
    result: dict[str, dict[str, str | None]] = {}
    missing: list[str] = []
    for lang in langs:
        values: dict[str, str | None] = {}
        for var in doc.variables:
            value = given.get(f"{var.name}.{lang}", given.get(var.name))
            if value == "" and not var.optional:
                value = None
            if value is None and not var.optional:
                missing.append(var.name if len(langs) == 1 else f"{var.name} ({lang})")
            values[var.name] = value or None
        result[lang] = values
    if missing:
        example = doc.variables[0] if doc.variables else None
        hint = f', e.g. --var {example.name}="{example.example}"' if example else ""
        raise BroadcastError(f"{template}: missing --var {', '.join(dict.fromkeys(missing))}{hint}")
    return result


@dataclass(frozen=True, slots=True)
class Thread:
    """The posts of one language (or of two sharing a post: lang "en+es"), in posting order."""

    lang: str
    posts: tuple[str, ...]


def campaign_tail(texts: Sequence[str], hashtag: str | None) -> str:
    """` #Hashtag`, unless there is no campaign or the text already carries the hashtag."""
    if hashtag is None:
        return ""
    wanted = hashtag.casefold()
    if any(tag.casefold() == wanted for text in texts for tag in extract_hashtags(text)):
        return ""
    return f" #{hashtag}"


def compose(
    texts: Sequence[tuple[str, str]],
    rules: TextRules,
    hashtag: str | None = None,
    *,
    where: str = "broadcast",
) -> tuple[Thread, ...]:
    """The posts for `(lang, text)` pairs in posting order, as long as `rules` (the network
    posted to) allow: one post for all when they fit together, else a thread per language.
    BroadcastError if a text cannot be split."""
    cleaned = [(lang, text.strip()) for lang, text in texts]
    empty = [lang for lang, text in cleaned if not text]
    if empty:
        raise BroadcastError(f"{where}: the {empty[0]} text is empty")
    tail = campaign_tail([text for _, text in cleaned], hashtag)
    if len(cleaned) > 1:
        together = LANG_SEPARATOR.join(text for _, text in cleaned) + tail
        if rules.fits(together):
            return (Thread("+".join(lang for lang, _ in cleaned), (together,)),)
    threads: list[Thread] = []
    for lang, text in cleaned:
        try:
            posts = split_thread(
                text, rules=rules, tail=campaign_tail([text], hashtag) if tail else ""
            )
        except ValueError as exc:  # TooLongToSplit, or a character no post may carry
            raise BroadcastError(f"{where} ({lang}): {exc}") from None
        threads.append(Thread(lang, tuple(posts)))
    return tuple(threads)
