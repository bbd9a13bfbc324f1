"""Reply texts from Jinja2 templates: one file a message and language, `replies/<name>.<lang>.j2`,
and optionally one a category, `replies/<name>/<category>.<lang>.j2`, which wins over the generic.

One environment, built here: the city's directory first, the shipped `templates/` second, so a
city overrides only the messages it wants to. Undefined variables are errors, not blanks. Every
rendered reply is checked against X's weighted length, and `check_all` renders every message with
the longest values the catalog can produce, so a too-long template fails at start-up, never mid-run.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from socialbot.catalog import Catalog, Priority
from socialbot.domain import CaseStatus, Reply, StormMode
from socialbot.errors import TemplateError
from socialbot.text import V3, weighted_length

LANGS = ("en", "es")
MAX_WEIGHTED_LENGTH = V3.max_weighted_length  # 280
# The largest case number the length check assumes (ten million cases).
LONGEST_CASE_NUMBER = 9_999_999
# During storm mode the filed reply of an emergency category gets this message as a last line.
STORM_LINE = "storm_line"
# The longest storm name and hashtag `storm start` accepts (see socialbot.storm).
LONGEST_STORM = StormMode(name="S" * StormMode.MAX_NAME, hashtag="H" * StormMode.MAX_HASHTAG)


@dataclass(frozen=True, slots=True)
class ReplyContext:
    """The only values a reply template sees. Never the resident's text, never a handle."""

    case: int | None = None
    category: str | None = None
    hashtags: tuple[str, ...] = field(default=())
    case_url: str | None = None
    duplicate_of: int | None = None  # the case a duplicate was closed in favour of
    status: str | None = None  # the case's status, for the status reply


def searched_dirs(env: jinja2.Environment) -> list[Path]:
    """The directories `env` reads templates from, in order (`template_environment`)."""
    loader = env.loader
    assert isinstance(loader, jinja2.ChoiceLoader)
    return [
        Path(p)
        for sub in loader.loaders
        if isinstance(sub, jinja2.FileSystemLoader)
        for p in sub.searchpath
    ]


def template_environment(template_dirs: list[Path]) -> jinja2.Environment:
    """The one way templates are read: the city's directory first, the shipped one second;
    plain text (no HTML escaping); an undefined variable is an error, not a blank."""
    missing = [d for d in template_dirs if not d.is_dir()]
    if missing:
        raise TemplateError(f"{missing[0]}: template directory not found (SOCIALBOT_TEMPLATES)")
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(d) for d in template_dirs]),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain text for X, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def template_dirs(city_dir: Path, shipped_dir: Path) -> list[Path]:
    """The city's directory, then the shipped one (once, when they are the same)."""
    return [city_dir] if city_dir.resolve() == shipped_dir.resolve() else [city_dir, shipped_dir]


class Replies:
    def __init__(self, template_dirs: list[Path]) -> None:
        self._env = template_environment(template_dirs)

    @classmethod
    def for_dirs(cls, city_dir: Path, shipped_dir: Path) -> Replies:
        return cls(template_dirs(city_dir, shipped_dir))

    def render(
        self, message: Reply, lang: str, context: ReplyContext, *, category_key: str | None = None
    ) -> str:
        names = [f"replies/{message.value}.{lang}.j2"]
        if category_key is not None:
            names.insert(0, f"replies/{message.value}/{category_key}.{lang}.j2")
        name = names[-1]
        try:
            template = self._env.select_template(names)
            name = template.name or name
            text = template.render(
                case=context.case,
                category=context.category,
                hashtags=list(context.hashtags),
                case_url=context.case_url,
                duplicate_of=context.duplicate_of,
                status=context.status,
            ).strip()
        except jinja2.TemplatesNotFound:
            raise TemplateError(f"{name}: template not found in {self._dirs()}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"{exc.filename or name}:{exc.lineno}: {exc.message}") from None
        except jinja2.UndefinedError as exc:
            raise TemplateError(
                f"{name}: {exc.message} (variables: case, category, hashtags, case_url)"
            ) from None
        length = weighted_length(text)
        if not text:
            raise TemplateError(f"{name}: renders to an empty reply")
        if length > MAX_WEIGHTED_LENGTH:
            raise TemplateError(
                f"{name}: renders to {length} weighted characters, over X's {MAX_WEIGHTED_LENGTH}; "
                "shorten the template"
            )
        return text

    def storm_line(self, lang: str, storm: StormMode) -> str:
        name = f"replies/{STORM_LINE}.{lang}.j2"
        try:
            text = self._env.get_template(name).render(storm=storm.name, hashtag=storm.hashtag)
        except jinja2.TemplateNotFound:
            raise TemplateError(f"{name}: template not found in {self._dirs()}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateError(f"{exc.filename or name}:{exc.lineno}: {exc.message}") from None
        except jinja2.UndefinedError as exc:
            raise TemplateError(f"{name}: {exc.message} (variables: storm, hashtag)") from None
        return text.strip()

    def with_storm_line(self, text: str, lang: str, storm: StormMode) -> str:
        """The filed reply with the storm line added as its last paragraph."""
        joined = f"{text}\n\n{self.storm_line(lang, storm)}"
        length = weighted_length(joined)
        if length > MAX_WEIGHTED_LENGTH:
            # check_all rules this out for the longest values; a reply is never lost over it.
            return text
        return joined

    @staticmethod
    def gets_storm_line(message: Reply, priority: Priority | None) -> bool:
        return message is Reply.FILED and priority is Priority.EMERGENCY

    def check_all(self, catalog: Catalog, case_url: str | None) -> None:
        """Render every message and language with the longest values; raise on the first problem."""
        for _, problem in self.check_each(catalog, case_url):
            if problem is not None:
                raise problem

    def check_each(
        self, catalog: Catalog, case_url: str | None
    ) -> Iterator[tuple[str, TemplateError | None]]:
        """Render every message and language with the longest values the catalog can produce, one
        `(template, problem or None)` a render, lazily: `check_all` stops at the first problem,
        `socialbot doctor` lists them all."""
        for lang in LANGS:
            context = ReplyContext(
                case=LONGEST_CASE_NUMBER,
                category=catalog.longest_name(lang),
                hashtags=tuple(catalog.featured_hashtags(lang)),
                case_url=case_url.replace("{case}", str(LONGEST_CASE_NUMBER)) if case_url else None,
                duplicate_of=LONGEST_CASE_NUMBER,
            )
            for message in Reply:
                name = f"replies/{message.value}.{lang}.j2"
                if message is Reply.STATUS:  # rendered once for every status it may state
                    for status in CaseStatus:
                        with_status = dataclasses.replace(context, status=status.value)
                        render = functools.partial(self.render, message, lang, with_status)
                        yield name, _problem(render)
                    continue
                try:
                    text = self.render(message, lang, context)
                except TemplateError as exc:
                    yield name, exc
                else:
                    yield name, None
                    if message is Reply.FILED:
                        yield (
                            f"replies/{STORM_LINE}.{lang}.j2",
                            _problem(functools.partial(self._check_storm_line, text, lang)),
                        )
                for category in catalog.categories:  # the per-category texts a city added
                    own = f"replies/{message.value}/{category.key}.{lang}.j2"
                    if self._has(own):
                        render = functools.partial(
                            self.render, message, lang, context, category_key=category.key
                        )
                        yield own, _problem(render)

    def _check_storm_line(self, filed: str, lang: str) -> None:
        length = weighted_length(f"{filed}\n\n{self.storm_line(lang, LONGEST_STORM)}")
        if length > MAX_WEIGHTED_LENGTH:
            raise TemplateError(
                f"replies/{STORM_LINE}.{lang}.j2: the filed reply with this line renders to "
                f"{length} weighted characters with a {StormMode.MAX_NAME}-character storm name "
                f"and hashtag, over X's {MAX_WEIGHTED_LENGTH}; shorten one of them"
            )

    def _has(self, name: str) -> bool:
        return name in self._env.list_templates(extensions=["j2"])

    def _dirs(self) -> str:
        return ", ".join(str(d) for d in searched_dirs(self._env))


def _problem(check: Callable[[], object]) -> TemplateError | None:
    """The TemplateError `check` raises, or None when it passes."""
    try:
        check()
    except TemplateError as exc:
        return exc
    return None
