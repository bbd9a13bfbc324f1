"""Start-up checks remembered by what they read (socialbot.memo): a result is only ever returned
for the very bytes it was checked against, so a broken file fails every time."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from socialbot.app import load_content
from socialbot.catalog import Catalog, load_catalog
from socialbot.config import SHIPPED_HASHTAGS, Settings, load_settings
from socialbot.errors import TemplateError
from socialbot.memo import files_key
from socialbot.replies import Replies

TOO_LONG = "x" * 400  # over every network's limit
NEW_CATEGORY = """
  - key: snowplow
    names: {en: Snow plow, es: Quitanieves}
    aliases:
      en: [snowplow]
      es: [quitanieves]
    department: Public Works
    priority: normal
"""


@pytest.fixture
def city(tmp_path: Path) -> Path:
    (tmp_path / "templates" / "replies" / "filed").mkdir(parents=True)
    (tmp_path / "hashtags.yaml").write_text(SHIPPED_HASHTAGS.read_text())
    return tmp_path


def settings_for(city: Path) -> Settings:
    return load_settings(
        database_url="sqlite://", hashtags=city / "hashtags.yaml", templates=city / "templates"
    )


def test_a_template_edited_while_it_is_checked_is_not_remembered_for_its_old_bytes(
    city: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The filed reply is too long; an editor saves a fixed one while the check runs. The check
    passes on the fixed text; once the editor puts the broken text back, it must fail again."""
    filed = city / "templates" / "replies" / "filed.en.j2"
    filed.write_text(TOO_LONG)
    made = Replies.for_dirs

    def saved_meanwhile(city_dir: Path, shipped_dir: Path) -> Replies:
        filed.write_text("Filed as case #{{ case }}.")
        return made(city_dir, shipped_dir)

    monkeypatch.setattr(Replies, "for_dirs", saved_meanwhile)
    load_content(settings_for(city))  # checked the fixed text
    monkeypatch.setattr(Replies, "for_dirs", made)

    filed.write_text(TOO_LONG)
    with pytest.raises(TemplateError, match=r"filed\.en\.j2"):
        load_content(settings_for(city))


def test_a_catalog_saved_during_start_up_is_checked_again(
    city: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new category whose own filed reply is too long, saved just after start-up read the
    catalog: the next start-up reads it and must check its reply."""
    (city / "templates" / "replies" / "filed" / "snowplow.en.j2").write_text(TOO_LONG)
    hashtags = city / "hashtags.yaml"

    def saved_meanwhile(path: Path) -> Catalog:
        catalog = load_catalog(path)
        hashtags.write_text(hashtags.read_text() + NEW_CATEGORY)
        return catalog

    monkeypatch.setattr("socialbot.app.load_catalog", saved_meanwhile)
    load_content(settings_for(city))  # checked the catalog without snowplow
    monkeypatch.setattr("socialbot.app.load_catalog", load_catalog)

    with pytest.raises(TemplateError, match="snowplow"):
        load_content(settings_for(city))


def test_a_template_in_a_linked_folder_is_part_of_the_key(tmp_path: Path) -> None:
    """A city that keeps its replies in a shared folder linked into its templates: editing a
    reply there is a change of the templates."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "filed.en.j2").write_text("Filed as case #{{ case }}.")
    templates = tmp_path / "templates"
    templates.mkdir()
    os.symlink(shared, templates / "replies")
    before = files_key([templates])

    (shared / "filed.en.j2").write_text(TOO_LONG)

    assert before is not None and files_key([templates]) != before


def test_a_linked_folder_that_links_back_is_read_once(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    (templates / "replies").mkdir(parents=True)
    (templates / "replies" / "filed.en.j2").write_text("Filed.")
    os.symlink(templates, templates / "replies" / "again")
    assert files_key([templates]) is not None


def test_a_changed_template_and_an_added_one_are_new_keys(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    (templates / "replies").mkdir(parents=True)
    filed = templates / "replies" / "filed.en.j2"
    filed.write_text("Filed.")
    first = files_key([templates])
    filed.write_text("Filed!")
    second = files_key([templates])
    (templates / "replies" / "help.en.j2").write_text("Help.")
    third = files_key([templates])
    assert len({first, second, third}) == 3


def test_a_broken_template_fails_every_start_up(city: Path) -> None:
    (city / "templates" / "replies" / "filed.en.j2").write_text(TOO_LONG)
    for _ in range(2):
        with pytest.raises(TemplateError, match=r"filed\.en\.j2"):
            load_content(settings_for(city))
