"""Broadcast templates on disk: `broadcast/<name>.<lang>.j2`, the city's directory before the
shipped one (as for replies), each documenting its variables in its header
(`socialbot.broadcasts.compose`).

`check_all` runs at start-up of every broadcast command and of `socialbot run`: each template's
header must list exactly the variables its text uses, in every language, and it must render with
its own examples. A broken template then fails with one line naming the file before an alert is
due, not while the storm is on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import jinja2
import jinja2.meta

from socialbot import templating
from socialbot.broadcasts.compose import TemplateDoc, parse_header
from socialbot.errors import BroadcastError, SocialbotError, TemplateError
from socialbot.replies import template_dirs
from socialbot.templating import searched_dirs

FOLDER = "broadcast"
SUFFIX = ".j2"


@dataclass(frozen=True, slots=True)
class BroadcastTemplate:
    name: str
    langs: tuple[str, ...]
    doc: TemplateDoc  # the first language's header (English when there is one)


class BroadcastTemplates:
    def __init__(self, template_dirs: list[Path]) -> None:
        self._env = templating.environment(template_dirs)

    @classmethod
    def for_dirs(cls, city_dir: Path, shipped_dir: Path) -> BroadcastTemplates:
        return cls(template_dirs(city_dir, shipped_dir))

    def names(self) -> list[str]:
        found = {
            path.removeprefix(f"{FOLDER}/").rsplit(".", 2)[0]
            for path in self._env.list_templates(extensions=[SUFFIX.lstrip(".")])
            if path.startswith(f"{FOLDER}/") and path.count("/") == 1
        }
        return sorted(found)

    def get(self, name: str) -> BroadcastTemplate:
        langs = self._langs(name)
        if not langs:
            known = ", ".join(self.names()) or "none"
            raise BroadcastError(
                f"no broadcast template {name!r} (templates: {known}; see `socialbot broadcast "
                "templates`)"
            )
        docs = {lang: self._doc(name, lang) for lang in langs}
        first = docs["en"] if "en" in docs else docs[langs[0]]
        for lang, doc in docs.items():
            if doc.names() != first.names():
                raise TemplateError(
                    f"{self._where(self._path(name, lang))}: its variables "
                    f"({', '.join(sorted(doc.names()))}) "
                    f"differ from the {langs[0]} template's ({', '.join(sorted(first.names()))})"
                )
        return BroadcastTemplate(name=name, langs=langs, doc=first)

    def all(self) -> list[BroadcastTemplate]:
        return [self.get(name) for name in self.names()]

    def render(self, name: str, lang: str, values: Mapping[str, str | None]) -> str:
        """The text of template `name` in `lang`, in the sandbox (`socialbot.templating`); any
        mistake in it a TemplateError naming the file and line."""
        path = self._path(name, lang)
        if lang not in self._langs(name):
            raise BroadcastError(f"{name}: no {lang} version ({path} not found)")
        template = templating.load(self._env, [path])
        return templating.render(self._env, template, values, hint="see the header's vars:")

    def check_all(self) -> None:
        """Every template: header agrees with the text in every language, renders its examples."""
        for _, problem in self.check_each():
            if problem is not None:
                raise problem

    def check_each(self) -> Iterator[tuple[str, SocialbotError | None]]:
        """`check_all`, one `(template file, problem or None)` a template and language, lazily:
        `check_all` stops at the first problem, `socialbot doctor` lists them all. Every header
        is read before any text is checked."""
        templates: list[BroadcastTemplate] = []
        for name in self.names():
            try:
                templates.append(self.get(name))
            except (TemplateError, BroadcastError) as exc:  # a header, in any language
                yield f"{FOLDER}/{name}", exc
        for template in templates:
            for lang in template.langs:
                path = self._path(template.name, lang)
                try:
                    self._check(template, lang)
                except (TemplateError, BroadcastError) as exc:
                    yield path, exc
                else:
                    yield path, None

    def _check(self, template: BroadcastTemplate, lang: str) -> None:
        path = self._path(template.name, lang)
        used = self._used(path)
        declared = template.doc.names()
        if used != declared:
            extra, unlisted = sorted(declared - used), sorted(used - declared)
            problem = (
                f"uses {', '.join(unlisted)} without listing it under vars:"
                if unlisted
                else f"lists {', '.join(extra)} under vars: but never uses it"
            )
            raise TemplateError(f"{self._where(path)}: {problem}")
        if not self.render(template.name, lang, template.doc.examples()):
            raise TemplateError(f"{self._where(path)}: renders to an empty text with its examples")

    def _langs(self, name: str) -> tuple[str, ...]:
        prefix = f"{FOLDER}/{name}."
        langs = sorted(
            path.removeprefix(prefix).removesuffix(SUFFIX)
            for path in self._env.list_templates()
            if path.startswith(prefix) and path.endswith(SUFFIX)
        )
        return tuple(sorted(langs, key=lambda lang: (lang != "en", lang)))

    def _source(self, path: str) -> str:
        assert self._env.loader is not None
        try:
            source, _, _ = self._env.loader.get_source(self._env, path)
        except jinja2.TemplateNotFound:
            dirs = ", ".join(str(d) for d in searched_dirs(self._env))
            raise TemplateError(f"{path}: template not found in {dirs}") from None
        return source

    def _doc(self, name: str, lang: str) -> TemplateDoc:
        path = self._path(name, lang)
        return parse_header(self._source(path), self._where(path))

    def _used(self, path: str) -> frozenset[str]:
        try:
            parsed = self._env.parse(self._source(path))
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"{self._where(path)}:{exc.lineno}: {exc.message}") from None
        except Exception as exc:  # the parser on a hostile source (nesting too deep, …)
            problem = f"{type(exc).__name__}: {exc}"[:300]
            where = self._where(path)
            raise TemplateError(f"{where}: cannot be read as a template: {problem}") from None
        return frozenset(jinja2.meta.find_undeclared_variables(parsed))

    def _where(self, path: str) -> str:
        """The file's real path, for messages: the city's copy or the shipped one."""
        return templating.where(self._env, path)

    @staticmethod
    def _path(name: str, lang: str) -> str:
        return f"{FOLDER}/{name}.{lang}{SUFFIX}"
