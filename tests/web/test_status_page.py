"""The resident's status page over HTTP, from a real `socialbot serve`: what a resident who
follows the link in their reply sees, in their language, and what no one ever sees."""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.server import Served, serve
from tests.web.status_city import ALT, ZONE, StatusCity, make_status_city

EN_TIME = re.compile(
    r"(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), [A-Z][a-z]+ \d{1,2}, 20\d\d, "
    r"\d{1,2}:\d\d [AP]M E[SD]T"
)
ES_TIME = re.compile(
    r"(lunes|martes|miércoles|jueves|viernes|sábado|domingo), \d{1,2} de [a-z]+ de 20\d\d, "
    r"\d\d:\d\d E[SD]T"
)


@pytest.fixture(scope="session")  # one server a worker, however xdist orders the tests
def city(demo_database: Path, tmp_path_factory: pytest.TempPathFactory) -> StatusCity:
    return make_status_city(demo_database, tmp_path_factory.mktemp("status"))


@pytest.fixture(scope="session")  # one server a worker, however xdist orders the tests
def page(city: StatusCity, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    log = tmp_path_factory.mktemp("status-serve") / "serve.log"
    with serve(city.database, log, city.env) as server:
        yield server


def row(database: Path, sql: str, *args: object) -> tuple[object, ...]:
    with sqlite3.connect(database) as connection:
        found = connection.execute(sql, args).fetchone()
    connection.close()
    assert found is not None
    return tuple(found)


def main_text(html: str) -> str:
    """The page's main content as a reader sees it, tags dropped."""
    main = html.split("<main>", 1)[1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)).strip()


def test_a_case_in_english_says_what_became_of_it_in_the_citys_zone(page: Served) -> None:
    answer = page.get("/cases/1", headers={"accept-language": "en-US,en;q=0.9"})

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["content-language"] == "en"
    assert "accept-language" in answer.headers["vary"].lower()
    assert '<html lang="en">' in answer.text
    text = main_text(answer.text)
    assert text.startswith("Case #1: Pothole Status: Fixed")
    assert "Department Public Works" in text
    assert len(EN_TIME.findall(text)) == 3  # reported, seen by the city, fixed
    assert "https://www.openstreetmap.org/?mlat=" in answer.text


def test_the_times_are_the_cases_own_in_new_york_time(page: Served, city: StatusCity) -> None:
    (created,) = row(city.database, "SELECT created_at FROM cases WHERE id = 1")
    local = datetime.fromisoformat(str(created)).replace(tzinfo=UTC).astimezone(ZoneInfo(ZONE))

    answer = page.get("/cases/1?lang=en")

    stamp = local.replace(microsecond=0).isoformat()
    assert f'<time datetime="{stamp}">' in answer.text
    hour = local.hour % 12 or 12
    assert f"{local.year}, {hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}" in (
        answer.text
    )


def test_spanish_by_the_query_wins_over_the_readers_browser(page: Served) -> None:
    answer = page.get("/cases/1?lang=es", headers={"accept-language": "en"})

    assert answer.headers["content-language"] == "es"
    assert '<html lang="es">' in answer.text
    text = main_text(answer.text)
    assert text.startswith("Caso #1: Bache Estado: Arreglado")
    assert len(ES_TIME.findall(text)) == 3
    assert '<a href="/cases/1?lang=en" hreflang="en" lang="en">English</a>' in answer.text


def test_accept_language_is_read_by_its_q_values(page: Served) -> None:
    answer = page.get("/cases/1", headers={"accept-language": "en;q=0.3, es-MX;q=0.8, fr"})

    assert answer.headers["content-language"] == "es"


def test_without_a_preference_a_case_reads_in_its_residents_language(page: Served) -> None:
    spanish = page.get("/cases/6", headers={"accept-language": "fr-FR, de"})  # reported in Spanish
    english = page.get("/cases/1", headers={"accept-language": "fr-FR, de"})

    assert spanish.headers["content-language"] == "es"
    assert english.headers["content-language"] == "en"


def test_an_open_case_shows_when_the_sla_expects_it_fixed(page: Served) -> None:
    text = main_text(page.get("/cases/6?lang=en").text)

    assert "Status: Crew at work" in text
    assert re.search("Expected to be fixed by " + EN_TIME.pattern, text)
    assert "Fixed Not yet" in text


def test_no_page_carries_a_handle_or_by_default_the_residents_words(
    page: Served, city: StatusCity
) -> None:
    for number in range(1, 15):
        handle, words = row(
            city.database, "SELECT author_username, description FROM cases WHERE id = ?", number
        )
        html = page.get(f"/cases/{number}").text

        assert str(handle) not in html
        assert str(words)[:40] not in html
        assert "What the resident wrote" not in html


def test_the_after_photo_is_shown_with_the_alt_text_staff_gave(page: Served) -> None:
    html = page.get("/cases/8?lang=es").text

    assert main_text(html).startswith("Caso #8: Fuga de agua Estado: Arreglado")
    assert f'<img src="/cases/8/after-photo" alt="{ALT}">' in html


def test_the_after_photo_is_the_copy_in_the_media_folder(page: Served, city: StatusCity) -> None:
    answer = page.get("/cases/8/after-photo")

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/jpeg"
    assert "max-age" in answer.headers["cache-control"]
    (copy,) = row(
        city.database, "SELECT media_path FROM outbox WHERE case_id = 8 AND media_path IS NOT NULL"
    )
    assert Path(str(copy)).parent == city.media_dir
    assert answer.content == Path(str(copy)).read_bytes() == city.photo.read_bytes()


def test_a_file_outside_the_media_folder_is_never_served(page: Served) -> None:
    assert page.get("/cases/13/after-photo").status_code == 404
    assert "<img" not in page.get("/cases/13").text
    assert page.get("/cases/1/after-photo").status_code == 404  # resolved without a photo
    assert page.get("/cases/..%2F..%2Fetc%2Fpasswd/after-photo").status_code == 404


def test_a_merged_case_links_the_case_it_joined(page: Served) -> None:
    html = page.get("/cases/14?lang=en").text

    assert "Closed: the same problem was already reported" in html
    assert '<a href="/cases/6?lang=en">Case #6</a>' in html


def test_a_private_messages_case_shows_its_category_and_status_only(page: Served) -> None:
    text = main_text(page.get("/cases/11").text)

    assert text.startswith("Case #11: Streetlight out Status: Received")
    assert "42.31200" not in text


@pytest.mark.parametrize(
    ("lang", "title", "message"),
    [
        ("en", "Case not found", "There is no case #4040."),
        ("es", "Caso no encontrado", "No existe el caso #4040."),
    ],
)
def test_a_case_that_does_not_exist_is_a_friendly_page(
    page: Served, lang: str, title: str, message: str
) -> None:
    answer = page.get("/cases/4040", headers={"accept-language": lang})

    assert answer.status_code == 404
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["content-language"] == lang
    assert f"<h1>{title}</h1>" in answer.text
    assert message in answer.text


def test_any_other_address_is_a_page_in_the_readers_language(page: Served) -> None:
    for path in ("/cases/eight", "/nowhere", "/cases/99999999999999999999999"):
        answer = page.get(path, headers={"accept-language": "es"})

        assert answer.status_code == 404
        assert "<h1>Caso no encontrado</h1>" in answer.text


def test_the_stylesheet_is_ours_and_kept_a_year_under_its_digest(page: Served) -> None:
    html = page.get("/cases/1").text
    (href,) = re.findall(r'<link rel="stylesheet" href="([^"]+)">', html)

    answer = page.get(href)

    assert href.startswith("/static/status.css?v=")
    assert answer.headers["content-type"] == "text/css; charset=utf-8"
    assert "immutable" in answer.headers["cache-control"]
    assert "<script" not in html and "style=" not in html and "http" not in href


def test_the_residents_words_show_only_where_the_city_shows_them(
    city: StatusCity, tmp_path: Path
) -> None:
    shown = {**city.env, "SOCIALBOT_WEB_PUBLIC_DESCRIPTIONS": "true"}
    (words,) = row(city.database, "SELECT description FROM cases WHERE id = 2")
    (private,) = row(city.database, "SELECT description FROM cases WHERE id = 11")

    with serve(city.database, tmp_path / "serve.log", shown) as served:
        public_page = served.get("/cases/2").text
        private_page = served.get("/cases/11").text

    assert "What the resident wrote" in public_page
    assert str(words).split("#", 1)[1][:40] in public_page  # the words after the city's handle
    assert "What the resident wrote" not in private_page
    assert str(private)[13:40] not in private_page


# Anything a browser could send: a path segment, ?lang= and Accept-Language.
SEGMENT = st.text(min_size=0, max_size=40)
HEADER = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=200)


@settings(
    max_examples=int(os.environ.get("SOCIALBOT_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(number=SEGMENT, lang=st.one_of(st.none(), SEGMENT), accept=HEADER)
def test_any_case_address_and_language_is_a_page_never_a_server_error(
    page: Served, number: str, lang: str | None, accept: str
) -> None:
    from urllib.parse import quote

    params = {"lang": lang} if lang is not None else {}
    answer = page.get(
        "/cases/" + quote(number, safe=""),
        params=params,
        headers={"accept-language": accept.strip()},
    )

    assert answer.status_code < 500
    if answer.status_code in (200, 404):
        assert answer.headers["content-type"] == "text/html; charset=utf-8"
        assert answer.headers["content-language"] in ("en", "es")
        assert "</html>" in answer.text
