"""What the answers tests share: the shipped catalog and answers, and a small valid file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from socialbot.answers import Answers, load_answers
from socialbot.catalog import Catalog, load_catalog
from socialbot.errors import AnswersError

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_ANSWERS = ROOT / "answers.yaml"
SHIPPED_CATALOG = ROOT / "hashtags.yaml"

# Two valid entries; the error tests change one thing each. Line 3 is `- key: trash_day`.
GOOD = """\
version: 1
answers:
  - key: trash_day
    asks:
      en: [trash day, garbage pickup]
      es: [dia de basura]
    answer:
      en: Trash is picked up once a week. Post #missedtrash if it was missed.
      es: La basura se recoge una vez por semana.
    link: https://www.example.gov/trash
    category: missed_trash
  - key: library_hours
    asks:
      en: [library hours]
      es: [horario de la biblioteca]
    answer:
      en: The library is open 9 to 5.
      es: La biblioteca abre de 9 a 5.
"""


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(SHIPPED_CATALOG)


@pytest.fixture(scope="session")
def shipped(catalog: Catalog) -> Answers:
    return load_answers(SHIPPED_ANSWERS, catalog)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "answers.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error(tmp_path: Path, catalog: Catalog, text: str) -> str:
    """The one-line message loading `text` fails with, `tmp_path` shown as `DIR`."""
    with pytest.raises(AnswersError) as caught:
        load_answers(write(tmp_path, text), catalog)
    return str(caught.value).replace(str(tmp_path), "DIR")
