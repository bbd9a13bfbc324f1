"""Each distinct reply text is rendered once and the numbers put in (socialbot.render_once): the
text is always the one a render makes, errors included, for the shipped templates and for city
templates that do anything with the numbers; and the shipped ones do take the fast path."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialbot import templating
from socialbot.catalog import Catalog, load_catalog
from socialbot.config import SHIPPED_HASHTAGS, SHIPPED_TEMPLATES
from socialbot.domain import TEMPLATED_REPLIES, CaseStatus, Reply, StormMode
from socialbot.errors import TemplateError
from socialbot.networks.bluesky.rules import BLUESKY_TEXT
from socialbot.networks.fake import FAKE_TEXT
from socialbot.networks.x.rules import X_TEXT
from socialbot.render_once import substitutable
from socialbot.replies import LANGS, NUMBERED, Replies, ReplyContext
from socialbot.text_rules import TextRules

CATALOG: Catalog = load_catalog(SHIPPED_HASHTAGS)
TIGHT = TextRules(network="Tight", limit=90, measure=len, mention_author=True)
RULES = [X_TEXT, BLUESKY_TEXT, FAKE_TEXT, TIGHT]
# The stand-ins' digits and pieces of them, as a city's text or a value might hold them.
STAND_IN_LIKE = ["700000000000000000", "800000000000000000", "900000000000000000", "7000", "0"]

cases = st.one_of(st.none(), st.just(0), st.integers(1, 10**7))
case_urls = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "https://311.example.gov/requests/{case}",
            "https://311.example.gov/r?id={case}&x=1",
            " {case} ",
            "{case}",
            "",
            "https://7000.example/{case}/700000000000000000",
        ]
    ),
)
handles = st.one_of(st.none(), st.sampled_from(["li", "@Li", "a" * 15, "7000", "x@m.example"]))
names = st.one_of(st.none(), st.sampled_from(["Pothole", "Bache", *STAND_IN_LIKE]))
hashtags = st.lists(st.sampled_from(["#pothole", "#7000", "#900000000000000000"]), max_size=3)


def outcome(
    replies: Replies,
    message: Reply,
    lang: str,
    context: ReplyContext,
    rules: TextRules,
    key: str | None,
    handle: str | None,
) -> str:
    try:
        return replies.render(message, lang, context, rules, category_key=key, handle=handle)
    except TemplateError as exc:
        return f"TemplateError: {exc}"


def context_of(
    case: int | None,
    url: str | None,
    duplicate_of: int | None,
    category: str | None,
    status: str | None,
    tags: list[str],
) -> ReplyContext:
    return ReplyContext(
        case=case,
        category=category,
        hashtags=tuple(tags),
        case_url=url.replace("{case}", str(case)) if url is not None else None,
        duplicate_of=duplicate_of,
        status=status,
    )


# Kept across examples, so most examples are served from the cache.
SHIPPED = Replies([SHIPPED_TEMPLATES])
SHIPPED_UNCACHED = Replies([SHIPPED_TEMPLATES], cache_size=0)
KEYS = [None, *(c.key for c in CATALOG.categories)]


@settings(max_examples=400, deadline=None)
@given(
    message=st.sampled_from(TEMPLATED_REPLIES),
    lang=st.sampled_from(LANGS),
    key=st.sampled_from(KEYS),
    case=cases,
    duplicate_of=cases,
    url=case_urls,
    handle=handles,
    rules=st.sampled_from(RULES),
    status=st.one_of(st.none(), st.sampled_from([s.value for s in CaseStatus])),
    tags=hashtags,
)
def test_a_shipped_reply_is_the_text_a_render_makes(
    message: Reply,
    lang: str,
    key: str | None,
    case: int | None,
    duplicate_of: int | None,
    url: str | None,
    handle: str | None,
    rules: TextRules,
    status: str | None,
    tags: list[str],
) -> None:
    category = next((c.name(lang) for c in CATALOG.categories if c.key == key), None)
    context = context_of(case, url, duplicate_of, category, status, tags)
    assert outcome(SHIPPED, message, lang, context, rules, key, handle) == outcome(
        SHIPPED_UNCACHED, message, lang, context, rules, key, handle
    )


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("message", TEMPLATED_REPLIES)
def test_every_shipped_template_takes_the_fast_path(message: Reply, lang: str) -> None:
    replies = Replies([SHIPPED_TEMPLATES])
    for key in KEYS:
        name = replies._chosen(message, lang, key)
        template = templating.load(replies._env, [name])
        assert substitutable(getattr(template, "tree", None), NUMBERED), name
        category = next((c.name(lang) for c in CATALOG.categories if c.key == key), "Other")
        before = replies.once.renders
        for case in range(1, 40):
            context = ReplyContext(
                case=case * 997,
                category=category,
                case_url=f"https://311.example.gov/{case * 997}",
                duplicate_of=case,
                status="new",
            )
            replies.render(message, lang, context, X_TEXT, category_key=key, handle="li")
        # One render for 39 case numbers: the rest were filled in.
        assert replies.once.renders - before == 1, name


def test_the_per_category_resolved_text_takes_the_fast_path() -> None:
    replies = Replies([SHIPPED_TEMPLATES])
    context = ReplyContext(case=1, category="Pothole")
    first = replies.render(Reply.RESOLVED, "en", context, X_TEXT, category_key="pothole")
    assert "filled the pothole from case #1." in first
    for case in (22, 333, 4444, 9_999_999):
        text = replies.render(
            Reply.RESOLVED, "en", ReplyContext(case=case, category="Pothole"), X_TEXT,
            category_key="pothole",
        )  # fmt: skip
        assert f"case #{case}." in text
    assert replies.once.renders == 1


def test_the_storm_line_is_rendered_once_a_storm() -> None:
    replies = Replies([SHIPPED_TEMPLATES])
    storm = StormMode(name="Ida", hashtag="IdaHelp")
    lines = {replies.storm_line("en", storm) for _ in range(5)}
    assert lines == {"Storm Ida: in danger? Call 911 #IdaHelp"}
    assert replies.once.renders == 1
    assert replies.storm_line("en", StormMode(name="Bo", hashtag="B")).startswith("Storm Bo:")
    assert replies.once.renders == 2


# City templates that do anything with the numbers. True: the fast path may be taken.
ADVERSARIAL = {
    "Case #{{ case }} ({{ category }}).{% if case_url %} {{ case_url }}{% endif %}": True,
    "{{ case }}{{ case }} {{ duplicate_of }}{{ case_url }}": True,
    "7{{ case }}0 7000{{ duplicate_of }}0{{ case_url }}7": True,
    "700000000000000000 #{{ case }}": True,  # the stand-in's digits, typed in
    "{{ '7' ~ '00000000000000000' }} #{{ case }}": True,
    "{{ hashtags|join(' ') }} #{{ case }} {{ category }}": True,
    "{% if case %}#{{ case }}{% elif duplicate_of %}d{% else %}none{% endif %}": True,
    "{% for h in hashtags %}{{ case }}{{ h }}{% else %}-{% endfor %}": True,
    "   {{ case_url }}   ": True,
    "{% for i in range(1000) %}{{ case }}{{ case }}{% endfor %}": True,  # over MAX_SIZE stood in
    "{{ case }} {{ nope }}": True,  # fails as it would
    "{% if not case %}none {% endif %}{{ case }}": False,
    "{% if case > 5000 %}big {% endif %}#{{ case }}": False,
    "{{ case|string|length }} {{ case }}": False,
    "{{ case + 1 }}": False,
    "{% for d in case|string %}{{ d }}-{% endfor %}": False,
    "{% set n = case %}{{ n }}": False,
    "{% set case = 5 %}{{ case }}": False,
    "{% macro m(x) %}{{ x }}{% endmacro %}{{ m(case) }}": False,
    "{% macro m() %}{{ case }}{% endmacro %}{{ m() }}": False,
    "{% macro case() %}c{% endmacro %}{{ case }}": False,
    "{% include 'replies/help.en.j2' %} {{ case }}": False,
    "{% from 'replies/help.en.j2' import x %}{{ category }}": False,
    "{{ case_url|upper }}": False,
    "{% filter upper %}{{ case_url }}{% endfilter %}": False,
    "{% autoescape true %}{{ case_url }}{% endautoescape %}": False,
    "{% set t %}{{ case }}{% endset %}{{ t }}{{ t }}": False,
    "{% for h in hashtags recursive %}{{ case }}{% endfor %}": False,
    "{% for case in hashtags %}{{ case }}{% endfor %}": False,
    "{% with x = 1 %}{{ case }}{% endwith %}": False,
    "{{ 'x' if case else 'y' }}{{ case }}": False,
    "{{ case.real }}": False,
    "{{ [1, 2]|random }}{{ category }}": False,
}
SOURCES = list(ADVERSARIAL)


@pytest.fixture(scope="module")
def cities() -> Iterator[dict[str, tuple[Replies, Replies]]]:
    """For each source, a city whose filed reply (English) is it: cached, and not."""
    made: dict[str, tuple[Replies, Replies]] = {}
    with tempfile.TemporaryDirectory() as root:
        for number, source in enumerate(SOURCES):
            city = Path(root) / str(number)
            (city / "replies").mkdir(parents=True)
            (city / "replies" / "filed.en.j2").write_text(source, encoding="utf-8")
            dirs = [city, SHIPPED_TEMPLATES]
            made[source] = (Replies(dirs), Replies(dirs, cache_size=0))
        yield made


@pytest.mark.parametrize("source", SOURCES)
def test_the_fast_path_is_taken_only_where_the_numbers_are_printed_or_tested(
    cities: dict[str, tuple[Replies, Replies]], source: str
) -> None:
    replies, _ = cities[source]
    template = templating.load(replies._env, ["replies/filed.en.j2"])
    assert substitutable(getattr(template, "tree", None), NUMBERED) is ADVERSARIAL[source]


@settings(
    max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    source=st.sampled_from([s for s in SOURCES if "random" not in s]),
    case=cases,
    duplicate_of=cases,
    url=case_urls,
    handle=handles,
    rules=st.sampled_from(RULES),
    category=names,
    tags=hashtags,
)
def test_a_city_template_gives_the_text_a_render_makes(
    cities: dict[str, tuple[Replies, Replies]],
    source: str,
    case: int | None,
    duplicate_of: int | None,
    url: str | None,
    handle: str | None,
    rules: TextRules,
    category: str | None,
    tags: list[str],
) -> None:
    cached, uncached = cities[source]
    context = context_of(case, url, duplicate_of, category, None, tags)
    args = (Reply.FILED, "en", context, rules, None, handle)
    assert outcome(cached, *args) == outcome(uncached, *args)


def test_a_stand_in_the_text_holds_is_never_taken_for_the_number(
    cities: dict[str, tuple[Replies, Replies]],
) -> None:
    cached, _ = cities["700000000000000000 #{{ case }}"]
    for case in (5, 6, 7):
        text = cached.render(Reply.FILED, "en", ReplyContext(case=case), FAKE_TEXT)
        assert text == f"700000000000000000 #{case}"
    concat, _ = cities["{{ '7' ~ '00000000000000000' }} #{{ case }}"]
    assert concat.render(Reply.FILED, "en", ReplyContext(case=5), FAKE_TEXT) == (
        "700000000000000000 #5"
    )


def test_a_text_over_the_limit_raises_as_a_render_does() -> None:
    replies = Replies([SHIPPED_TEMPLATES])
    short = replies.render(Reply.FILED, "en", ReplyContext(case=1, category="Pothole"), FAKE_TEXT)
    limit = len(short) + 5
    tight = TextRules(network="Tight", limit=limit, measure=len, mention_author=True)
    context = ReplyContext(case=1, category="Pothole")
    assert replies.render(Reply.FILED, "en", context, tight, handle="abc") == f"@abc {short}"
    over = f"renders to {limit + 1} characters"
    with pytest.raises(TemplateError, match=f"{over} with the resident's @-mention, over Tight's"):
        replies.render(Reply.FILED, "en", context, tight, handle="abcd")
    with pytest.raises(TemplateError, match=f"{over}, over Tight's {limit}; shorten"):
        replies.render(Reply.FILED, "en", ReplyContext(case=10**6, category="Pothole"), tight)
    assert replies.once.renders == 1


def test_a_template_loaded_again_is_rendered_again(tmp_path: Path) -> None:
    # The environment reads a template once (auto_reload off) and again only once it has
    # forgotten it; the cache goes by the template the environment serves, so it follows.
    (tmp_path / "replies").mkdir()
    filed = tmp_path / "replies" / "filed.en.j2"
    filed.write_text("Old #{{ case }}", encoding="utf-8")
    cached = Replies([tmp_path, SHIPPED_TEMPLATES])
    uncached = Replies([tmp_path, SHIPPED_TEMPLATES], cache_size=0)
    for replies in (cached, uncached):
        assert replies.render(Reply.FILED, "en", ReplyContext(case=1), X_TEXT) == "Old #1"
    filed.write_text("New #{{ case }}", encoding="utf-8")
    for replies in (cached, uncached):
        assert replies.render(Reply.FILED, "en", ReplyContext(case=2), X_TEXT) == "Old #2"
        replies._env.cache.clear()  # type: ignore[union-attr]
        assert replies.render(Reply.FILED, "en", ReplyContext(case=3), X_TEXT) == "New #3"
