"""The resident's status page, `/cases/{number}`: what became of their report, in English or
Spanish, readable on a phone and without JavaScript.

    /cases/{number}               the page (`?lang=en|es` chooses its language)
    /cases/{number}/after-photo   the photo staff attached when resolving it (SOCIALBOT_MEDIA_DIR)
    /static/status.css            the one stylesheet; /static/icon.svg the icon (each URL carries
                                  the file's digest: cached a year)

Everything on the page is ours: no script, no font, no map tile, no image from elsewhere (the CSP
in app.py holds us to it); the map is a link to OpenStreetMap. The case is read as
`public.PublicCase`, so the page shows what Open311 shows and no more: never a handle, and the
resident's words only where the city shows them (`WEB_PUBLIC_DESCRIPTIONS`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote, urlencode

import jinja2
from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from starlette.exceptions import HTTPException

from socialbot.lifecycle import FINISHED
from socialbot.media import photo_suffix
from socialbot.staff import MAX_CASE_NUMBER
from socialbot.web import reads
from socialbot.web.context import Web, web_of
from socialbot.web.page_text import (
    LABELS,
    Labels,
    choose_lang,
    format_time,
    local_time,
    reader_lang,
)
from socialbot.web.public import LANGS, PublicCase

HERE = Path(__file__).parent
STATIC = HERE / "static"
# Our own files, served from /static/<name>: the one stylesheet, and the icon a browser asks for
# (without one, every page view logs a 404 for /favicon.ico).
ASSETS = {"status.css": "text/css; charset=utf-8", "icon.svg": "image/svg+xml"}

PHOTO_TYPES = {
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
}

# A page is fresh for a minute (a status changes a few times in a case's life); an asset's URL
# names its digest, so it may be kept for a year; a photo changes only if a case is resolved
# again.
PAGE_CACHE = "public, max-age=60"
ASSET_CACHE = "public, max-age=31536000, immutable"
PHOTO_CACHE = "public, max-age=3600"

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True, slots=True)
class Fact:
    """One line of the page's details: a label, its value, and the value's ISO time if it is one."""

    label: str
    text: str
    iso: str | None = None


@dataclass(frozen=True, slots=True)
class Link:
    href: str
    text: str
    before: str = ""
    after: str = ""


@dataclass(frozen=True, slots=True)
class LanguageLink:
    href: str
    lang: str
    name: str


@dataclass(frozen=True, slots=True)
class Photo:
    href: str
    alt: str


@dataclass(frozen=True, slots=True)
class CasePage:
    """What the case template shows, every value already in the reader's language."""

    title: str
    status: str
    state: str  # "open" or "done": the status box's colour
    facts: tuple[Fact, ...]
    words: str | None
    photo: Photo | None
    map_href: str | None
    merged_into: Link | None


@dataclass(frozen=True, slots=True)
class ErrorPage:
    title: str
    text: str
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str
    digest: str


def load_assets() -> dict[str, Asset]:
    """The static files, read once at start-up, each with the digest its URL carries."""
    assets = {}
    for name, media_type in ASSETS.items():
        body = (STATIC / name).read_bytes()
        assets[name] = Asset(body, media_type, hashlib.sha256(body).hexdigest()[:16])
    return assets


def install(app: FastAPI) -> None:
    """Add the status page's routes to `app`."""
    assets = load_assets()
    app.state.asset_urls = {name: f"/static/{name}?v={a.digest}" for name, a in assets.items()}

    @app.api_route(
        "/cases/{number}",
        methods=["GET", "HEAD"],
        response_class=HTMLResponse,
        summary="A case's status page, for the resident (HTML, English or Spanish)",
    )
    # On the event loop, not in the thread pool: a page is a look-up of the change mark, and on a
    # miss one indexed read (under a millisecond) and a template, cheaper than the hand-off to a
    # thread and back (scripts/bench_web.py: 191 → 399 req/s at 100k cases, then kept pages).
    async def case_page(
        request: Request,
        number: str,
        lang: Annotated[str | None, Query(max_length=35)] = None,
        accept_language: Annotated[str | None, Header()] = None,
    ) -> Response:
        web = web_of(request)
        case_number = parse_number(number)
        # A page is kept by its address and the reader's language while no case changes (one
        # look-up of the change mark): the same bytes the template would write again.
        decided = reader_lang(lang, accept_language)
        key = (request.url.path, tuple(sorted(request.query_params.multi_items())), decided)
        mark = reads.change_mark(web.engine) if case_number is not None else None
        kept = web.pages.kept(key, mark) if case_number is not None else None
        if kept is not None:
            return _page_response(kept[1], kept[0], 200)
        case = (
            reads.read_case(
                web.engine, case_number, show_words=web.settings.web_public_descriptions
            )
            if case_number is not None
            else None
        )
        chosen = choose_lang(lang, accept_language, case.lang if case else None)
        t = LABELS[chosen]
        if case is None:
            page = ErrorPage(
                t.not_found_title,
                t.not_found_case.format(number=number)
                if case_number is not None
                else t.not_found_page,
                t.home_hint if case_number is None else None,
            )
            return _render(request, "error.html", t, page, 404, asked=lang)
        response = _render(request, "case.html", t, case_view(web, case, t, asked=lang), 200, lang)
        web.pages.keep(key, mark, (t.lang, bytes(response.body)))
        return response

    @app.api_route(
        "/cases/{number}/after-photo",
        methods=["GET", "HEAD"],
        response_class=FileResponse,
        summary="The photo staff attached when they resolved the case",
    )
    def after_photo(number: str, web: Annotated[Web, Depends(web_of)]) -> Response:
        case_number = parse_number(number)
        photo = served_photo(web, case_number) if case_number is not None else None
        if photo is None:
            raise HTTPException(404, "no such photo")
        return FileResponse(
            photo.path, media_type=photo.media_type, headers={"cache-control": PHOTO_CACHE}
        )

    @app.api_route("/static/{name}", methods=["GET", "HEAD"], include_in_schema=False)
    def static(name: str, v: str | None = None) -> Response:
        asset = assets.get(name)
        if asset is None:
            raise HTTPException(404, "no such file")
        return Response(
            asset.body,
            media_type=asset.media_type,
            headers={
                "cache-control": ASSET_CACHE if v == asset.digest else "no-cache",
                "etag": f'"{asset.digest}"',
            },
        )

    @app.api_route("/favicon.ico", methods=["GET", "HEAD"], include_in_schema=False)
    def favicon() -> Response:
        return RedirectResponse(app.state.asset_urls["icon.svg"], status_code=301)


def parse_number(text: str) -> int | None:
    """A case number as a URL spells it (`8`), or None: digits only, as a case can have."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_CASE_NUMBER else None


@dataclass(frozen=True, slots=True)
class ServedPhoto:
    path: Path  # inside SOCIALBOT_MEDIA_DIR, resolved
    media_type: str
    alt: str | None  # the alt text its reply carried


def served_photo(web: Web, number: int) -> ServedPhoto | None:
    """Case `number`'s after-photo as a file inside SOCIALBOT_MEDIA_DIR, its content type read
    from its first bytes (not its name); None when it has none, or the file is gone, is not a
    photo, or lies elsewhere (a path in the database is still not a path we serve from)."""
    photo = reads.read_after_photo(web.engine, number)
    if photo is None:
        return None
    media_dir = web.settings.media_dir.resolve()
    try:
        path = photo.path.resolve(strict=True)
        if not path.is_relative_to(media_dir) or not path.is_file():
            return None
        with path.open("rb") as file:
            head = file.read(16)
    except (OSError, RuntimeError):
        return None
    suffix = photo_suffix(head)
    if suffix not in PHOTO_TYPES:
        return None
    return ServedPhoto(path, PHOTO_TYPES[suffix], photo.alt)


def case_view(web: Web, case: PublicCase, t: Labels, asked: str | None) -> CasePage:
    """`case` as the page shows it in `t`'s language."""
    zone = web.settings.zone
    category = case.category_name(web.catalog, t.lang)

    def when(label: str, at: datetime | None) -> Fact:
        if at is None:
            return Fact(label, t.not_yet)
        iso = local_time(at, zone).replace(microsecond=0).isoformat()
        return Fact(label, format_time(at, zone, t.lang), iso)

    facts = [
        when(t.reported, case.requested_at),
        when(t.acknowledged, case.acknowledged_at),
    ]
    if case.status not in FINISHED and case.expected_at is not None:
        facts.append(when(t.expected, case.expected_at))
    if case.resolved_at is not None or case.closed_at is None:
        facts.append(when(t.resolved, case.resolved_at))
    if case.closed_at is not None:
        facts.append(when(t.closed, case.closed_at))
    facts.append(Fact(t.department, case.department))
    if case.address is not None:
        facts.append(Fact(t.address, case.address))

    photo = None
    served = served_photo(web, case.number) if case.has_after_photo else None
    if served is not None:
        alt = served.alt or t.after_photo_alt.format(category=category, number=case.number)
        photo = Photo(f"/cases/{case.number}/after-photo", alt)

    merged = None
    if case.duplicate_of is not None:
        before, _, after = t.merged.partition("{link}")
        merged = Link(
            _case_href(case.duplicate_of, asked),
            t.case_title.format(number=case.duplicate_of),
            before,
            after,
        )
    return CasePage(
        title=f"{t.case_title.format(number=case.number)}: {category}",
        status=case.status_words(t.lang),
        state="open" if case.is_open else "done",
        facts=tuple(facts),
        words=case.text,
        photo=photo,
        map_href=osm_link(case.point.lat, case.point.lon) if case.point is not None else None,
        merged_into=merged,
    )


def osm_link(lat: float, lon: float) -> str:
    """OpenStreetMap at the point, marked: a link the reader may follow, never a loaded asset."""
    query = urlencode({"mlat": f"{lat:.6f}", "mlon": f"{lon:.6f}"})
    return f"https://www.openstreetmap.org/?{query}#map=18/{lat:.6f}/{lon:.6f}"


def _case_href(number: int, asked: str | None) -> str:
    lang = asked.strip().lower() if asked else None
    return f"/cases/{number}" + (f"?lang={lang}" if lang in LANGS else "")


def _render(
    request: Request, template: str, t: Labels, page: object, status: int, asked: str | None
) -> Response:
    # The same address in another language: the path as the request gave it (quoted again, so
    # nothing in it can end the attribute or start a query), its other parameters kept. One
    # leading slash only: `//host/…` in a link is another site.
    path = "/" + quote(request.scope.get("path", "/").lstrip("/"))
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    other = [
        LanguageLink(
            f"{path}?{urlencode([*kept, ('lang', lang)])}",
            lang,
            LABELS[lang].language_name,
        )
        for lang in LANGS
        if lang != t.lang
    ]
    body = _environment.get_template(template).render(
        t=t, page=page, other=other, assets=request.app.state.asset_urls
    )
    return _page_response(body.encode(), t.lang, status)


def _page_response(body: bytes, lang: str, status: int) -> Response:
    return HTMLResponse(
        body,
        status_code=status,
        headers={
            "content-language": lang,
            "vary": "Accept-Language",
            "cache-control": PAGE_CACHE if status == 200 else "no-cache",
        },
    )


def error_page(request: Request, status: int, description: str) -> Response:
    """A page for a person: what went wrong, in their language (`?lang=`, else
    Accept-Language). The description is FastAPI's, in English, so it is not shown: the page
    says what the reader can do instead."""
    asked = request.query_params.get("lang")
    t = LABELS[choose_lang(asked, request.headers.get("accept-language"), None)]
    if status == 404:
        page = ErrorPage(t.not_found_title, t.not_found_page, t.home_hint)
    elif 400 <= status < 500:
        page = ErrorPage(t.bad_request_title, t.home_hint)
    else:
        page = ErrorPage(t.error_title, t.error_text)
    response = _render(request, "error.html", t, page, status, asked)
    if status == 405:
        response.headers["allow"] = "GET, HEAD"
    return response
