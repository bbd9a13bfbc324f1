"""Reply texts from Jinja2 templates: one file a message and language, `replies/<name>.<lang>.j2`,
and optionally one a category, `replies/<name>/<category>.<lang>.j2`, which wins over the generic.

One environment (the sandbox of `socialbot.templating`): the city's directory first, the shipped
`templates/` second, so a city overrides only the messages it wants to. Undefined variables are
errors, not blanks. Every rendered reply is checked against the text rules of the network it goes
to (`socialbot.text_rules`; on a network whose replies must name the resident, with the `@handle`
it starts with), and `check_all` renders every message as each category makes it against every
network the city runs, so a too-long or broken template fails at start-up. One that still fails
at run time gives way to `fallback_reply` (`render_or_fallback`).
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from socialbot import templating
from socialbot.catalog import Catalog, Category, Priority
from socialbot.domain import TEMPLATED_REPLIES, CaseStatus, Reply, StormMode
from socialbot.errors import TemplateError
from socialbot.render_once import RenderOnce
from socialbot.text_rules import LONGEST_HANDLE, TextRules

log = logging.getLogger(__name__)

LANGS = ("en", "es")
# The largest case number the length check assumes (ten million cases).
LONGEST_CASE_NUMBER = 9_999_999
# During storm mode the filed reply of an emergency category gets this message as a last line.
STORM_LINE = "storm_line"
# The longest storm name and hashtag `storm start` accepts (see socialbot.broadcasts.storm).
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
    # A conversing network's replies (SMS): the city's name (`SOCIALBOT_CITY_NAME`), the district
    # alerts were subscribed for (None: the whole city), the city's districts (as many as fit)
    # and the menu's category names, numbered from 1 in this order.
    city: str = ""
    district: str | None = None
    districts: tuple[str, ...] = ()
    menu: tuple[str, ...] = ()


def template_environment(template_dirs: list[Path]) -> jinja2.Environment:
    """The one way templates are read: the sandbox of `socialbot.templating`, the city's
    directory first, the shipped one second."""
    return templating.environment(template_dirs)


def template_dirs(city_dir: Path, shipped_dir: Path) -> list[Path]:
    """The city's directory, then the shipped one (once, when they are the same)."""
    return [city_dir] if city_dir.resolve() == shipped_dir.resolve() else [city_dir, shipped_dir]


# What a reply says when its template fails at run time: constant texts (only our case number is
# filled in), never the resident's words, far under any network's limit. A report is never lost
# over a template: the case is opened, this goes out, and `socialbot status` shows the failure.
FALLBACK_NO_CASE = {
    "en": "Thank you for your message. We have received it.",
    "es": "Gracias por su mensaje. Lo hemos recibido.",
}
FALLBACK_CASE = {
    "en": "Thank you! Case #{case} is {status}.",
    "es": "¡Gracias! El caso #{case} está {status}.",
}
FALLBACK_STATUS = {
    "en": {
        CaseStatus.NEW: "filed; we will reply here with news",
        CaseStatus.NEEDS_LOCATION: "filed; please reply here with a map link or pin",
        CaseStatus.ACKNOWLEDGED: "with the crew",
        CaseStatus.IN_PROGRESS: "being worked on",
        CaseStatus.RESOLVED: "resolved",
        CaseStatus.CLOSED: "closed",
    },
    "es": {
        CaseStatus.NEW: "registrado; le responderemos aquí",
        CaseStatus.NEEDS_LOCATION: "registrado; responda aquí con un enlace de mapa o un pin",
        CaseStatus.ACKNOWLEDGED: "con el equipo",
        CaseStatus.IN_PROGRESS: "en proceso",
        CaseStatus.RESOLVED: "resuelto",
        CaseStatus.CLOSED: "cerrado",
    },
}
VARIABLES = (
    "variables: case, category, hashtags, case_url, duplicate_of, status, city, district, "
    "districts, menu"
)
# The longest district name the replies that name one are checked with: a district file's names
# are not read at start-up, and a longer one gets the fallback text, not a failed reply.
LONGEST_DISTRICT = "D" * 30
# The values that differ from reply to reply: each distinct text is rendered once for the rest and
# these put in (socialbot.render_once), where the template only prints or tests them.
NUMBERED = frozenset({"case", "case_url", "duplicate_of"})


def fallback_reply(lang: str, case: int | None, status: CaseStatus | None) -> str:
    """The built-in reply used when a template fails at run time (see FALLBACK_CASE)."""
    lang = lang if lang in FALLBACK_CASE else "en"
    if case is None or status is None:
        return FALLBACK_NO_CASE[lang]
    return FALLBACK_CASE[lang].format(case=int(case), status=FALLBACK_STATUS[lang][status])


@dataclass(frozen=True, slots=True)
class Rendered:
    """A reply's text; `problem` says why it is the fallback text, or lacks the storm line."""

    text: str
    problem: str | None = None


class Replies:
    def __init__(self, template_dirs: list[Path], *, cache_size: int = 512) -> None:
        """`cache_size`: how many distinct texts to keep rendered (0: render every reply)."""
        self._env = template_environment(template_dirs)
        self.once = RenderOnce(cache_size)

    @classmethod
    def for_dirs(cls, city_dir: Path, shipped_dir: Path) -> Replies:
        return cls(template_dirs(city_dir, shipped_dir))

    def render(
        self,
        message: Reply,
        lang: str,
        context: ReplyContext,
        rules: TextRules,
        *,
        category_key: str | None = None,
        handle: str | None = None,
    ) -> str:
        """The reply's text as posted to `handle` on the network of `rules` (led by `@handle`
        where the network needs it); a TemplateError naming the file (and line) when it cannot
        be made, is empty, or is longer than the network allows."""
        template = templating.load(self._env, [self._chosen(message, lang, category_key)])
        path = template.filename or template.name or "replies"
        text = self.once.render(
            self._env,
            template,
            {
                "case": context.case,
                "category": context.category,
                "hashtags": list(context.hashtags),
                "case_url": context.case_url,
                "duplicate_of": context.duplicate_of,
                "status": context.status,
                "city": context.city,
                "district": context.district,
                "districts": list(context.districts),
                "menu": list(context.menu),
            },
            substituted=NUMBERED,
            hint=VARIABLES,
        )
        if not text:
            raise TemplateError(f"{path}: renders to an empty reply")
        addressed = rules.addressed(text, handle)
        length = rules.length(addressed)
        if length > rules.limit:
            mention = " with the resident's @-mention" if addressed != text else ""
            raise TemplateError(
                f"{path}: renders to {length} {rules.unit}{mention}, over {rules.network}'s "
                f"{rules.limit}; shorten the template"
            )
        return addressed

    def render_or_fallback(
        self,
        message: Reply,
        lang: str,
        context: ReplyContext,
        rules: TextRules,
        *,
        handle: str | None = None,
        category_key: str | None = None,
        case_status: CaseStatus | None = None,
        storm: StormMode | None = None,
    ) -> Rendered:
        """`render`, and the storm line when `storm` is given; never raises over a template:
        the fallback text (`fallback_reply`, addressed as `render` would) instead, with the
        problem, logged."""
        try:
            text = self.render(
                message, lang, context, rules, category_key=category_key, handle=handle
            )
        except TemplateError as exc:
            log.error(
                "event=template_fallback template=%s lang=%s case=%s problem=%r",
                message.value,
                lang,
                context.case,
                str(exc),
            )
            fallback = fallback_reply(lang, context.case, case_status)
            return Rendered(rules.addressed(fallback, handle), str(exc))
        if storm is None:
            return Rendered(text)
        try:
            return Rendered(self.with_storm_line(text, lang, storm, rules))
        except TemplateError as exc:
            log.error(
                "event=template_fallback template=%s lang=%s problem=%r", STORM_LINE, lang, str(exc)
            )
            return Rendered(text, str(exc))

    def storm_line(self, lang: str, storm: StormMode) -> str:
        template = templating.load(self._env, [f"replies/{STORM_LINE}.{lang}.j2"])
        return self.once.render(
            self._env,
            template,
            {"storm": storm.name, "hashtag": storm.hashtag},
            hint="variables: storm, hashtag",
        )

    def with_storm_line(self, text: str, lang: str, storm: StormMode, rules: TextRules) -> str:
        """The filed reply (as `render` made it) with the storm line added as its last
        paragraph, if the network of `rules` takes them together."""
        joined = f"{text}\n\n{self.storm_line(lang, storm)}"
        if not rules.fits(joined):
            # check_all rules this out for the longest values; a reply is never lost over it.
            return text
        return joined

    @staticmethod
    def gets_storm_line(message: Reply, priority: Priority | None) -> bool:
        return message is Reply.FILED and priority is Priority.EMERGENCY

    def check_all(
        self,
        catalog: Catalog,
        case_url: str | None,
        *,
        rules: Sequence[TextRules],
        city: str = "",
    ) -> None:
        """Render every message and language as `check_each` does, for each network's `rules`
        the city runs; raise on the first problem (its message names the network)."""
        for network in rules:
            for _, problem in self.check_each(catalog, case_url, network, city=city):
                if problem is not None:
                    raise problem

    def check_each(
        self, catalog: Catalog, case_url: str | None, rules: TextRules, *, city: str = ""
    ) -> Iterator[tuple[str, TemplateError | None]]:
        """Render every message in every language as each category makes it, measured by
        `rules`: with that category's name and its own text (`replies/<message>/<category>.
        <lang>.j2`) when it has one, case number 9,999,999, the case URL, every status for the
        status reply, and `LONGEST_HANDLE` where the network's replies name the resident; the
        help reply, which has no category, without one. One `(template, problem or None)` a
        render, lazily: `check_all` stops at the first problem, `socialbot doctor` lists them
        all. So a branch such as `{% if category == 'Pothole' %}` is measured too. The city's
        name is `city`, the menu the catalog's (`Catalog.menu`), a district `LONGEST_DISTRICT`
        and the list of districts empty (the reply takes as many as fit)."""
        handle = LONGEST_HANDLE if rules.mention_author else None
        for lang in LANGS:
            context = ReplyContext(
                case=LONGEST_CASE_NUMBER,
                hashtags=tuple(catalog.featured_hashtags(lang)),
                case_url=case_url.replace("{case}", str(LONGEST_CASE_NUMBER)) if case_url else None,
                duplicate_of=LONGEST_CASE_NUMBER,
                city=city,
                district=LONGEST_DISTRICT,
                menu=tuple(category.name(lang) for category in catalog.menu()),
            )
            for message in TEMPLATED_REPLIES:
                categories: list[Category | None] = (
                    [None] if message in NO_CATEGORY else list(catalog.categories)
                )
                statuses = list(CaseStatus) if message is Reply.STATUS else [None]
                for category in categories:
                    key = category.key if category is not None else None
                    name = self._chosen(message, lang, key)
                    for status in statuses:
                        with_values = dataclasses.replace(
                            context,
                            category=category.name(lang) if category is not None else None,
                            status=status.value if status is not None else None,
                        )
                        try:
                            text = self.render(
                                message, lang, with_values, rules, category_key=key, handle=handle
                            )
                        except TemplateError as exc:
                            yield name, _with_values(exc, category, lang, status)
                            continue
                        yield name, None
                        if category is not None and self.gets_storm_line(
                            message, category.priority
                        ):
                            yield (
                                f"replies/{STORM_LINE}.{lang}.j2",
                                _problem(
                                    functools.partial(self._check_storm_line, text, lang, rules)
                                ),
                            )

    def _chosen(self, message: Reply, lang: str, category_key: str | None) -> str:
        """The template `render` uses for this message, language and category."""
        own = f"replies/{message.value}/{category_key}.{lang}.j2"
        return (
            own
            if category_key is not None and self._has(own)
            else (f"replies/{message.value}.{lang}.j2")
        )

    def _check_storm_line(self, filed: str, lang: str, rules: TextRules) -> None:
        length = rules.length(f"{filed}\n\n{self.storm_line(lang, LONGEST_STORM)}")
        if length > rules.limit:
            raise TemplateError(
                f"{templating.where(self._env, f'replies/{STORM_LINE}.{lang}.j2')}: the filed "
                f"reply with this line renders to {length} {rules.unit} with a "
                f"{StormMode.MAX_NAME}-character storm name and hashtag, over {rules.network}'s "
                f"{rules.limit}; shorten one of them"
            )

    @functools.cached_property
    def _names(self) -> frozenset[str]:
        return frozenset(self._env.list_templates(extensions=["j2"]))

    def _has(self, name: str) -> bool:
        return name in self._names


# The replies about no case, rendered once a language rather than once a category.
NO_CATEGORY = frozenset(
    {
        Reply.HELP,
        Reply.ABOUT,
        Reply.STARTED,
        Reply.NO_CASE,
        Reply.ALERTS_ON,
        Reply.ALERTS_UNKNOWN,
        Reply.MENU,
    }
)


def _with_values(
    exc: TemplateError, category: Category | None, lang: str, status: CaseStatus | None
) -> TemplateError:
    """`exc`, saying which category (and status) it was rendered for."""
    if category is None:
        return exc
    said = f"category {category.name(lang)!r}" + (f", status {status.value}" if status else "")
    return TemplateError(f"{exc} (rendered for {said})")


def _problem(check: Callable[[], object]) -> TemplateError | None:
    """The TemplateError `check` raises, or None when it passes."""
    try:
        check()
    except TemplateError as exc:
        return exc
    return None
