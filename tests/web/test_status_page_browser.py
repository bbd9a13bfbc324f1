"""The status page in a real browser: headless Chromium (Debian's `chromium`) through
Playwright, at a phone's width, in both languages: no console error, nothing blocked by our CSP,
nothing fetched from elsewhere, and axe-core finding no serious accessibility violation.

axe-core is injected as a script, which our CSP (rightly) refuses; the check's page alone is
opened with Playwright's `bypass_csp`. The pages that count console errors keep the CSP, so a
style or image it would block is an error there. A screenshot of each page is kept for a person
to look at, in `$SOCIALBOT_TEST_ARTIFACTS` or pytest's temporary folder, never in the repository.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.server import Served, serve
from tests.web.status_city import StatusCity, make_status_city

CHROMIUM = Path("/usr/bin/chromium")
# The machine's closed network refuses Chromium's own background connections: ask for none.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 375, "height": 667}
SERIOUS = ("serious", "critical")

if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
    pytest.skip(
        f"{CHROMIUM} is not installed (apt-get install chromium); CI runs these tests",
        allow_module_level=True,
    )

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import (  # noqa: E402
    Browser,
    ConsoleMessage,
    Page,
    Request,
    Response,
    sync_playwright,
)


@pytest.fixture(scope="session")  # one server a worker, however xdist orders the tests
def city(demo_database: Path, tmp_path_factory: pytest.TempPathFactory) -> StatusCity:
    return make_status_city(demo_database, tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="session")  # one server a worker, however xdist orders the tests
def page_server(city: StatusCity, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(
        city.database, tmp_path_factory.mktemp("browser-serve") / "serve.log", city.env
    ) as s:
        yield s


@pytest.fixture(scope="session")  # one server a worker, however xdist orders the tests
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")  # one server a worker, however xdist orders the tests
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("SOCIALBOT_TEST_ARTIFACTS")
    folder = Path(where) if where else tmp_path_factory.mktemp("artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class Watched:
    """A phone-sized page, with every console error and every request it made."""

    def __init__(self, browser: Browser, *, bypass_csp: bool = False, lang: str = "en") -> None:
        self.context = browser.new_context(
            viewport=PHONE,
            is_mobile=True,
            has_touch=True,
            device_scale_factor=2,
            locale="es-US" if lang == "es" else "en-US",
            bypass_csp=bypass_csp,
            java_script_enabled=bypass_csp,  # the page itself must need no script
        )
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("request", self._request)
        self.page.on("response", self._response)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"{message.type}: {message.text}")

    def _request(self, request: Request) -> None:
        self.requests.append(request.url)

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.errors.append(f"{response.status}: {response.url}")

    def close(self) -> None:
        self.context.close()


@pytest.mark.parametrize(("number", "lang"), [(8, "es"), (8, "en"), (6, "en"), (14, "es")])
def test_the_page_on_a_phone_has_no_console_error_and_loads_only_our_files(
    browser: Browser, page_server: Served, artifacts: Path, number: int, lang: str
) -> None:
    watched = Watched(browser, lang=lang)
    try:
        answer = watched.page.goto(f"{page_server.base_url}/cases/{number}?lang={lang}")
        assert answer is not None and answer.status == 200
        watched.page.wait_for_load_state("networkidle")
        width = watched.page.evaluate("document.documentElement.scrollWidth")
        images = watched.page.evaluate(
            "[...document.images].map(i => i.complete && i.naturalWidth > 0)"
        )
        watched.page.screenshot(path=artifacts / f"case-{number}-{lang}.png", full_page=True)
    finally:
        watched.close()

    assert watched.errors == []
    assert all(url.startswith(page_server.base_url) for url in watched.requests)
    assert width <= PHONE["width"]  # nothing wider than the phone: no sideways scrolling
    assert all(images) and len(images) == (1 if number == 8 else 0)


def test_the_after_photo_and_the_stylesheet_load_under_our_csp(
    browser: Browser, page_server: Served
) -> None:
    watched = Watched(browser, lang="es")
    try:
        watched.page.goto(f"{page_server.base_url}/cases/8?lang=es")
        watched.page.wait_for_load_state("networkidle")
        photo = watched.page.get_by_role("img", name="Fuga reparada: válvula nueva en Centre St")
        natural = photo.evaluate("img => img.naturalWidth")
        box = photo.bounding_box()
        status_border = watched.page.locator(".status").evaluate(
            "e => getComputedStyle(e).borderLeftStyle"
        )
        heading = watched.page.get_by_role("heading", level=1).inner_text()
    finally:
        watched.close()

    assert watched.errors == []
    assert natural == 160  # the JPEG staff attached, served whole
    assert box is not None and box["width"] <= PHONE["width"]
    assert status_border == "solid"  # the stylesheet applied
    assert heading == "Caso #8: Fuga de agua"


@pytest.mark.parametrize(
    ("path", "lang"),
    [
        ("/cases/8?lang=es", "es"),
        ("/cases/8?lang=en", "en"),
        ("/cases/14", "en"),
        ("/cases/6?lang=es", "es"),
        ("/cases/4040?lang=es", "es"),
    ],
)
def test_axe_finds_no_serious_accessibility_violation(
    browser: Browser, page_server: Served, path: str, lang: str
) -> None:
    watched = Watched(browser, bypass_csp=True, lang=lang)  # to inject axe-core's script
    try:
        watched.page.goto(page_server.base_url + path)
        watched.page.wait_for_load_state("networkidle")
        results = Axe().run(
            watched.page,
            options={"runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
        )
        lang_attr = watched.page.evaluate("document.documentElement.lang")
    finally:
        watched.close()

    serious = [_summary(v) for v in results.response["violations"] if v["impact"] in SERIOUS]
    assert serious == []
    assert lang_attr == lang
    assert len(results.response["passes"]) >= 10  # axe ran its rules on the page


def _summary(violation: dict[str, Any]) -> str:
    targets = [", ".join(node["target"]) for node in violation["nodes"]][:3]
    return f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}"
