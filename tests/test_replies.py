"""Reply texts: shipped templates fit X's 280 weighted characters with the longest values, a city
can override any one of them, and a broken template is caught at start-up with its file and line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from socialbot.catalog import Catalog, load_catalog
from socialbot.config import SHIPPED_HASHTAGS, SHIPPED_TEMPLATES
from socialbot.domain import TEMPLATED_REPLIES, CaseStatus, Reply
from socialbot.errors import TemplateError
from socialbot.networks.x.rules import X_TEXT
from socialbot.replies import LANGS, LONGEST_CASE_NUMBER, Replies, ReplyContext
from socialbot.text import weighted_length
from socialbot.text_rules import TextRules
from tests.made_up import TINY


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(SHIPPED_HASHTAGS)


@pytest.fixture
def shipped() -> Replies:
    return Replies([SHIPPED_TEMPLATES])


def longest(catalog: Catalog, lang: str) -> ReplyContext:
    return ReplyContext(
        case=LONGEST_CASE_NUMBER,
        category=catalog.longest_name(lang),
        hashtags=tuple(catalog.featured_hashtags(lang)),
    )


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("message", TEMPLATED_REPLIES)
def test_every_shipped_reply_fits_with_the_longest_values(
    shipped: Replies, catalog: Catalog, message: Reply, lang: str
) -> None:
    context = longest(catalog, lang)
    statuses = [s.value for s in CaseStatus] if message is Reply.STATUS else [None]
    for status in statuses:
        text = shipped.render(message, lang, dataclasses.replace(context, status=status), X_TEXT)
        assert 0 < weighted_length(text) <= 280
        assert "@" not in text  # never mentions anyone
        assert "http" not in text  # no URL unless the city configures one


def test_the_filed_reply_names_the_case_and_category(shipped: Replies) -> None:
    text = shipped.render(Reply.FILED, "en", ReplyContext(case=123, category="Pothole"), X_TEXT)
    assert text == (
        "Thanks! Your report is filed as case #123 (Pothole). "
        "We'll reply here when the crew has fixed it."
    )


def test_the_spanish_filed_reply(shipped: Replies) -> None:
    text = shipped.render(Reply.FILED, "es", ReplyContext(case=7, category="Bache"), X_TEXT)
    assert text.startswith("¡Gracias! Su reporte quedó registrado como caso #7 (Bache).")


def test_the_help_reply_lists_the_featured_hashtags(shipped: Replies, catalog: Catalog) -> None:
    text = shipped.render(
        Reply.HELP, "es", ReplyContext(hashtags=tuple(catalog.featured_hashtags("es"))), X_TEXT
    )
    assert "#bache" in text and "#grafiti" in text


def test_a_configured_case_url_is_added_and_still_fits(shipped: Replies, catalog: Catalog) -> None:
    shipped.check_all(
        catalog, "https://311.springfield.example.gov/requests/{case}", rules=[X_TEXT]
    )
    text = shipped.render(
        Reply.FILED,
        "en",
        ReplyContext(case=5, category="Pothole", case_url="https://311.example.gov/c/5"),
        X_TEXT,
    )
    assert text.endswith("Track it: https://311.example.gov/c/5")


def test_check_all_passes_for_the_shipped_templates(shipped: Replies, catalog: Catalog) -> None:
    shipped.check_all(catalog, None, rules=[X_TEXT])


def city_templates(tmp_path: Path, name: str, body: str) -> Replies:
    (tmp_path / "replies").mkdir()
    (tmp_path / "replies" / name).write_text(body, encoding="utf-8")
    return Replies.for_dirs(tmp_path, SHIPPED_TEMPLATES)


def test_a_city_overrides_one_message_and_keeps_the_rest(tmp_path: Path) -> None:
    replies = city_templates(
        tmp_path, "filed.en.j2", "Got it: case #{{ case }}. Thank you, Springfield!"
    )
    assert replies.render(Reply.FILED, "en", ReplyContext(case=9, category="Pothole"), X_TEXT) == (
        "Got it: case #9. Thank you, Springfield!"
    )
    assert replies.render(
        Reply.FILED, "es", ReplyContext(case=9, category="Bache"), X_TEXT
    ).startswith("¡Gracias!")


def test_a_too_long_template_is_refused_with_its_length(tmp_path: Path, catalog: Catalog) -> None:
    replies = city_templates(
        tmp_path, "help.en.j2", "Please use: {{ hashtags | join(' ') }}. " + "x" * 250
    )
    with pytest.raises(
        TemplateError,
        match=rf"^{tmp_path}/replies/help\.en\.j2: renders to \d+ weighted characters, over X's",
    ):
        replies.check_all(catalog, None, rules=[X_TEXT])


def test_an_unknown_variable_is_an_error_not_a_blank(tmp_path: Path) -> None:
    replies = city_templates(tmp_path, "filed.en.j2", "Case #{{ case }} at {{ street }}")
    with pytest.raises(
        TemplateError, match=rf"^{tmp_path}/replies/filed\.en\.j2:1: 'street' is undefined"
    ):
        replies.render(Reply.FILED, "en", ReplyContext(case=1, category="Pothole"), X_TEXT)


def test_a_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    replies = city_templates(tmp_path, "filed.en.j2", "Thanks!\nCase #{{ case }\n")
    with pytest.raises(TemplateError, match=rf"^{tmp_path}/replies/filed\.en\.j2:2: "):
        replies.render(Reply.FILED, "en", ReplyContext(case=1, category="Pothole"), X_TEXT)


def test_a_missing_template_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="nowhere: template directory not found"):
        Replies.for_dirs(tmp_path / "nowhere", SHIPPED_TEMPLATES)


# --- another network's rules ------------------------------------------------------------------


def test_a_reply_on_a_network_that_needs_the_name_starts_with_it_once(tmp_path: Path) -> None:
    replies = city_templates(tmp_path, "filed.en.j2", "Case #{{ case }} ({{ category }}) filed.")
    context = ReplyContext(case=9, category="Pothole")

    for handle in ("li_backbay", "@li_backbay"):
        text = replies.render(Reply.FILED, "en", context, TINY, handle=handle)
        assert text == "@li_backbay Case #9 (Pothole) filed."
    on_mastodon = replies.render(Reply.FILED, "en", context, TINY, handle="li@boston.social")
    assert on_mastodon == "@li@boston.social Case #9 (Pothole) filed."
    on_x = replies.render(Reply.FILED, "en", context, X_TEXT, handle="li_backbay")
    assert on_x == "Case #9 (Pothole) filed."


def test_the_mention_counts_toward_the_length(tmp_path: Path) -> None:
    replies = city_templates(tmp_path, "filed.en.j2", "Filed. " + "x" * 88)  # 95 characters
    context = ReplyContext(case=9, category="Pothole")
    assert len(replies.render(Reply.FILED, "en", context, TINY)) == 95
    with pytest.raises(
        TemplateError,
        match=r"renders to 107 characters with the resident's @-mention, over Tiny's 100; ",
    ):
        replies.render(Reply.FILED, "en", context, TINY, handle="li_backbay")

    rendered = replies.render_or_fallback(
        Reply.FILED, "en", context, TINY, handle="li_backbay", case_status=CaseStatus.NEW
    )
    assert rendered.problem is not None and "over Tiny's 100" in rendered.problem
    assert rendered.text.startswith("@li_backbay Thank you! Case #9 is filed")
    assert rendered.text.count("@li_backbay") == 1 and len(rendered.text) <= TINY.limit


def test_check_all_measures_each_network_with_its_longest_handle(
    tmp_path: Path, catalog: Catalog
) -> None:
    def problems(body: str, rules: TextRules) -> list[TemplateError]:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        replies = city_templates(folder, "help.en.j2", body)
        return [
            problem
            for name, problem in replies.check_each(catalog, None, rules)
            if name == "replies/help.en.j2" and problem is not None
        ]

    # 30-character usernames, and "@" and a space: 32 more characters.
    assert problems("h" * 68, TINY) == []
    (too_long,) = problems("h" * 69, TINY)
    assert "renders to 101 characters with the resident's @-mention, over Tiny's 100" in str(
        too_long
    )
    assert problems("h" * 69, dataclasses.replace(TINY, mention_author=False)) == []

    shipped = Replies([SHIPPED_TEMPLATES])
    shipped.check_all(catalog, None, rules=[X_TEXT])
    with pytest.raises(TemplateError, match="over Tiny's 100"):
        shipped.check_all(catalog, None, rules=[X_TEXT, TINY])
