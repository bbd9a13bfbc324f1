"""answers.yaml at start-up and in `socialbot doctor`: the setting, the file gone, answers too
long for a network the city runs, and the service built with its answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialbot import app
from socialbot.app import build_service
from socialbot.catalog import Catalog
from socialbot.config import SHIPPED_ANSWERS, Settings, load_settings
from socialbot.doctor import Outcome, check_answers
from socialbot.errors import AnswersError
from socialbot.networks.fake import FakeNetwork
from tests.answers.conftest import GOOD, write

CITY_ZONE = "America/New_York"


def settings_for(**more: object) -> Settings:
    return load_settings(None, timezone=CITY_ZONE, **more)


def with_default_gone(tmp_path: Path) -> Settings:
    """Settings whose default answers file (not a setting anyone gave) does not exist: a city
    that deleted the shipped one."""
    base = settings_for()
    assert "answers" not in base.model_fields_set and base.answers == SHIPPED_ANSWERS
    values = {**dict(base), "answers": tmp_path / "answers.yaml"}
    return Settings.model_construct(_fields_set=set(base.model_fields_set), **values)


def test_the_default_is_the_shipped_file_checked_against_every_network(catalog: Catalog) -> None:
    settings = settings_for()
    answers = app.load_answers(settings, catalog)
    assert len(answers.entries) >= 24
    assert app.load_answers(settings, catalog) is answers  # remembered for the same bytes
    check = check_answers(settings, catalog)
    assert check.outcome is Outcome.OK
    assert check.detail == (
        f"{SHIPPED_ANSWERS}: {len(answers.entries)} entries, en and es, "
        "fit X, Mastodon, Bluesky, SMS"
    )


def test_links_count_only_where_the_network_does_not_bill_them() -> None:
    settings = settings_for()
    assert [(rules.network, with_link) for rules, with_link in app.answer_rules(settings)] == [
        ("X", False),
        ("Mastodon", True),
        ("Bluesky", True),
        ("SMS", False),
    ]


def test_a_named_file_that_does_not_exist_is_an_error(tmp_path: Path, catalog: Catalog) -> None:
    settings = settings_for(answers=tmp_path / "ours.yaml")
    with pytest.raises(AnswersError) as caught:
        app.load_answers(settings, catalog)
    message = (
        f"{tmp_path}/ours.yaml: file not found (check the 'answers' setting, SOCIALBOT_ANSWERS)"
    )
    assert str(caught.value) == message
    check = check_answers(settings, catalog)
    assert (check.outcome, check.detail) == (Outcome.FAIL, message)


def test_without_the_default_file_answers_are_off_and_doctor_warns(
    tmp_path: Path, catalog: Catalog
) -> None:
    settings = with_default_gone(tmp_path)
    assert app.load_answers(settings, catalog).entries == ()
    check = check_answers(settings, catalog)
    assert check.outcome is Outcome.WARN
    assert check.detail == (
        f"{tmp_path}/answers.yaml not found: no automatic answers, every question goes to staff"
    )


def test_answers_too_long_for_a_network_stop_start_up_and_fail_doctor(
    tmp_path: Path, catalog: Catalog
) -> None:
    # An instance allowing 60 characters: the trash answer is over in each language once
    # "@<handle> " leads it; the library's fits.
    settings = settings_for(answers=write(tmp_path, GOOD), mastodon_max_characters=60)
    with pytest.raises(AnswersError) as caught:
        app.load_answers(settings, catalog)
    assert str(caught.value) == (
        f"{tmp_path}/answers.yaml:3: entry 'trash_day' (en) is 92 characters on Mastodon with "
        "its link, over its 60; shorten it"
    )
    check = check_answers(settings, catalog)
    assert check.outcome is Outcome.FAIL
    assert check.detail == f"{caught.value} (and 1 more)"


def test_the_service_is_built_with_its_answers(
    tmp_path: Path, catalog: Catalog, database_url: str
) -> None:
    settings = settings_for(answers=write(tmp_path, GOOD), database_url=database_url)
    service = build_service(settings, FakeNetwork())
    try:
        assert service.answers is not None
        assert [a.key for a in service.answers.entries] == ["trash_day", "library_hours"]
    finally:
        service.close()


def test_the_service_does_not_start_on_a_broken_file(tmp_path: Path, database_url: str) -> None:
    broken = write(tmp_path, GOOD.replace("category: missed_trash", "category: nope"))
    settings = settings_for(answers=broken, database_url=database_url)
    with pytest.raises(AnswersError, match=r"answers\.yaml:11: category 'nope' of entry"):
        build_service(settings, FakeNetwork())
