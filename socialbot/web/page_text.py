"""The status page's words: which language a reader gets, the page's labels in it, and times as
people read them, in the city's zone. Pure (no babel: two languages need a table, not a library).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from socialbot.web.public import LANGS

# One Accept-Language header is read up to this many characters, and this many languages.
MAX_HEADER = 1000
MAX_RANGES = 20

DAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
MONTHS = {
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "es": (
        "enero", "febrero", "marzo", "abril", "mayo", "junio",
        "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
    ),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Labels:
    """Every fixed word on the page, in one language."""

    lang: str
    language_name: str  # the language's own name, for the link to it
    case_title: str  # "Case #{number}"
    status: str
    reported: str
    acknowledged: str
    expected: str
    resolved: str
    closed: str
    department: str
    address: str
    not_yet: str
    details: str
    after_photo: str
    after_photo_alt: str  # when staff gave none: "{category}, case #{number}, after the repair"
    resident_words: str
    place: str
    map_link: str
    no_place: str
    merged: str  # "{link}" is the other case's link
    other_languages: str
    footer: str
    not_found_title: str
    not_found_case: str
    not_found_page: str
    error_title: str
    error_text: str
    bad_request_title: str
    home_hint: str


LABELS = {
    "en": Labels(
        lang="en",
        language_name="English",
        case_title="Case #{number}",
        status="Status",
        reported="Reported",
        acknowledged="Seen by the city",
        expected="Expected to be fixed by",
        resolved="Fixed",
        closed="Closed",
        department="Department",
        address="Address",
        not_yet="Not yet",
        details="Details",
        after_photo="After the repair",
        after_photo_alt="{category}, case #{number}, after the repair",
        resident_words="What the resident wrote",
        place="Where",
        map_link="See the place on OpenStreetMap (opens another site)",
        no_place="No location was given for this report.",
        merged="The same problem was already reported: follow it at {link}.",
        other_languages="Other languages",
        footer="This page uses no cookies and no tracking.",
        not_found_title="Case not found",
        not_found_case="There is no case #{number}. Check the number in the reply you received.",
        not_found_page="There is no page at this address.",
        error_title="Something went wrong",
        error_text="The page could not be shown. Please try again in a few minutes.",
        bad_request_title="This address is not valid",
        home_hint="A case's page is at /cases/ followed by its number, e.g. /cases/8.",
    ),
    "es": Labels(
        lang="es",
        language_name="Español",
        case_title="Caso #{number}",
        status="Estado",
        reported="Reportado",
        acknowledged="Visto por la ciudad",
        expected="Fecha prevista de arreglo",
        resolved="Arreglado",
        closed="Cerrado",
        department="Departamento",
        address="Dirección",
        not_yet="Todavía no",
        details="Detalles",
        after_photo="Después del arreglo",
        after_photo_alt="{category}, caso #{number}, después del arreglo",
        resident_words="Lo que escribió el residente",
        place="Dónde",
        map_link="Ver el lugar en OpenStreetMap (abre otro sitio)",
        no_place="Este reporte no indicó una ubicación.",
        merged="El mismo problema ya estaba reportado: sígalo en {link}.",
        other_languages="Otros idiomas",
        footer="Esta página no usa cookies ni rastreo.",
        not_found_title="Caso no encontrado",
        not_found_case="No existe el caso #{number}. Revise el número en la respuesta que recibió.",
        not_found_page="No hay ninguna página en esta dirección.",
        error_title="Algo salió mal",
        error_text="No se pudo mostrar la página. Inténtelo de nuevo en unos minutos.",
        bad_request_title="Esta dirección no es válida",
        home_hint="La página de un caso está en /cases/ seguido de su número, p. ej. /cases/8.",
    ),
}


def choose_lang(asked: str | None, accept_language: str | None, case_lang: str | None) -> str:
    """The page's language: `?lang=` when it names one we carry, then the reader's
    Accept-Language (by q-value, first listed among equals), then the case's, else English."""
    reader = reader_lang(asked, accept_language)
    if reader is not None:
        return reader
    if case_lang in LANGS:
        return str(case_lang)
    return "en"


def reader_lang(asked: str | None, accept_language: str | None) -> str | None:
    """The language the reader's own words choose (`?lang=`, else Accept-Language); None when
    they choose none we carry, and the case's language decides."""
    if asked is not None and asked.strip().lower() in LANGS:
        return asked.strip().lower()
    return preferred_lang(accept_language or "")


def preferred_lang(header: str) -> str | None:
    """The language we carry that `header` (Accept-Language, RFC 9110) wants most; None when it
    wants none of them. `*` counts as no preference; `q=0` refuses a language."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header[:MAX_HEADER].split(",")[:MAX_RANGES]):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-", 1)[0]
        if primary not in LANGS:
            continue
        quality = _quality(params)
        if quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else None


def _quality(params: str) -> float:
    """The q-value of one language range's parameters; 1 when absent, 0 when it is not one."""
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return 0.0
            return quality if 0.0 <= quality <= 1.0 else 0.0
    return 1.0


def local_time(at: datetime, zone: ZoneInfo) -> datetime:
    """`at` in the city's zone; a time without a zone is UTC (as the database stores it)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(zone)


def format_time(at: datetime, zone: ZoneInfo, lang: str) -> str:
    """`at` as a person reads it in `lang`, in the city's zone and naming it:
    "Tuesday, November 24, 2026, 12:49 PM EST" / "martes, 24 de noviembre de 2026, 12:49 EST"."""
    local = local_time(at, zone)
    lang = lang if lang in LANGS else "en"
    day = DAYS[lang][local.weekday()]
    month = MONTHS[lang][local.month - 1]
    zone_name = local.tzname() or zone.key
    if lang == "es":
        return (
            f"{day}, {local.day} de {month} de {local.year}, "
            f"{local.hour:02d}:{local.minute:02d} {zone_name}"
        )
    hour = local.hour % 12 or 12
    half = "AM" if local.hour < 12 else "PM"
    return f"{day}, {month} {local.day}, {local.year}, {hour}:{local.minute:02d} {half} {zone_name}"
