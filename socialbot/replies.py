"""Reply texts from Jinja2 templates: one file a message and language, `replies/<name>.<lang>.j2`.

One environment, built here: the city's directory first, the shipped `templates/` second, so a
city overrides only the messages it wants to. Undefined variables are errors, not blanks. Every
rendered reply is checked against X's weighted length, and `check_all` renders every message with
the longest values the catalog can produce, so a too-long template fails at start-up, never mid-run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from socialbot.catalog import Catalog
from socialbot.errors import TemplateError
from socialbot.intake import Reply
from socialbot.text import weighted_length

LANGS = ("en", "es")
MAX_WEIGHTED_LENGTH = 280
# The largest case number the length check assumes (ten million cases).
LONGEST_CASE_NUMBER = 9_999_999


@dataclass(frozen=True, slots=True)
class ReplyContext:
    """The only values a reply template sees. Never the resident's text, never a handle."""

    case: int | None = None
    category: str | None = None
    hashtags: tuple[str, ...] = field(default=())
    case_url: str | None = None


class Replies:
    def __init__(self, template_dirs: list[Path]) -> None:
        missing = [d for d in template_dirs if not d.is_dir()]
        if missing:
            raise TemplateError(f"{missing[0]}: template directory not found (SOCIALBOT_TEMPLATES)")
        self._env = jinja2.Environment(
            loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(d) for d in template_dirs]),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # plain text for X, not HTML
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )

    @classmethod
    def for_dirs(cls, city_dir: Path, shipped_dir: Path) -> Replies:
        dirs = (
            [city_dir] if city_dir.resolve() == shipped_dir.resolve() else [city_dir, shipped_dir]
        )
        return cls(dirs)

    def render(self, message: Reply, lang: str, context: ReplyContext) -> str:
        name = f"replies/{message.value}.{lang}.j2"
        try:
            template = self._env.get_template(name)
            text = template.render(
                case=context.case,
                category=context.category,
                hashtags=list(context.hashtags),
                case_url=context.case_url,
            ).strip()
        except jinja2.TemplateNotFound:
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

    def check_all(self, catalog: Catalog, case_url: str | None) -> None:
        """Render every message and language with the longest values; raise on the first problem."""
        for lang in LANGS:
            context = ReplyContext(
                case=LONGEST_CASE_NUMBER,
                category=catalog.longest_name(lang),
                hashtags=tuple(catalog.featured_hashtags(lang)),
                case_url=case_url.replace("{case}", str(LONGEST_CASE_NUMBER)) if case_url else None,
            )
            for message in Reply:
                self.render(message, lang, context)

    def _dirs(self) -> str:
        loader = self._env.loader
        assert isinstance(loader, jinja2.ChoiceLoader)
        return ", ".join(
            str(p)
            for sub in loader.loaders
            if isinstance(sub, jinja2.FileSystemLoader)
            for p in sub.searchpath
        )
