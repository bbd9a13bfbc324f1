"""A case as anyone may see it: what the status page and the Open311 answers show. Pure.

The privacy rule lives here, once: a case shows its category, department, status, times and
location to anyone; the resident's words and photos only when they posted them publicly
(`Case.public`), and the words only where the city asked for them; the address in words they
wrote (`Case.address`) only when they posted it publicly (a street and a number, never free
words: it needs no `WEB_PUBLIC_DESCRIPTIONS`), never a private message's or a text's. Never a
handle, a name, an internal note or anything of a private message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from socialbot.catalog import Catalog
from socialbot.domain import CaseStatus, GeoPoint
from socialbot.lifecycle import FINISHED
from socialbot.sms.phone import masked_in

LANGS = ("en", "es")

# The status in plain words, as a resident reads it (never our internal names).
STATUS_WORDS: dict[str, dict[CaseStatus, str]] = {
    "en": {
        CaseStatus.NEW: "Received",
        CaseStatus.NEEDS_LOCATION: "Waiting for a location",
        CaseStatus.ACKNOWLEDGED: "Seen by the city",
        CaseStatus.IN_PROGRESS: "Crew at work",
        CaseStatus.RESOLVED: "Fixed",
        CaseStatus.CLOSED: "Closed",
    },
    "es": {
        CaseStatus.NEW: "Recibido",
        CaseStatus.NEEDS_LOCATION: "Esperando la ubicación",
        CaseStatus.ACKNOWLEDGED: "Visto por la ciudad",
        CaseStatus.IN_PROGRESS: "Equipo trabajando",
        CaseStatus.RESOLVED: "Arreglado",
        CaseStatus.CLOSED: "Cerrado",
    },
}

# Why a closed case was closed, in plain words (`lifecycle.CloseReason`); a reason not listed
# shows the status alone.
CLOSE_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "duplicate": "Closed: the same problem was already reported",
        "invalid": "Closed: not something the city can act on",
        "referred": "Closed: passed to the agency responsible",
        "not_city_property": "Closed: not on city property",
    },
    "es": {
        "duplicate": "Cerrado: el mismo problema ya estaba reportado",
        "invalid": "Cerrado: no es algo que la ciudad pueda atender",
        "referred": "Cerrado: enviado a la agencia responsable",
        "not_city_property": "Cerrado: no es propiedad de la ciudad",
    },
}


@dataclass(frozen=True, slots=True)
class PublicCase:
    """One case, with nothing in it that anyone may not see."""

    number: int
    category: str  # the catalog key: Open311's service_code
    department: str
    status: CaseStatus
    close_reason: str | None
    duplicate_of: int | None
    requested_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None  # the first time staff moved it past new
    resolved_at: datetime | None
    closed_at: datetime | None
    expected_at: datetime | None  # the SLA's due time
    point: GeoPoint | None
    # The resident's own public words (the post's text) and first photo; None for a case from a
    # private message, and the words also None unless the city shows them (WEB_PUBLIC_DESCRIPTIONS).
    text: str | None
    photo_url: str | None
    has_after_photo: bool  # staff attached a photo when resolving it (and the case is public)
    lang: str = "en"  # the language the resident wrote in: the status page's last resort
    address: str | None = None  # the address in words of a public post; None for a private one

    @property
    def is_open(self) -> bool:
        """Open311's status: open, or closed (resolved or closed)."""
        return self.status not in FINISHED

    def status_words(self, lang: str) -> str:
        """The status in plain words in `lang` (English for a language we do not carry)."""
        lang = lang if lang in LANGS else "en"
        if self.status == CaseStatus.CLOSED and self.close_reason in CLOSE_WORDS[lang]:
            return CLOSE_WORDS[lang][self.close_reason or ""]
        return STATUS_WORDS[lang][self.status]

    def category_name(self, catalog: Catalog, lang: str) -> str:
        """The category's name in `lang`; its key for a category the catalog no longer has."""
        category = catalog.find(self.category)
        return category.name(lang) if category is not None else self.category


def public_address(address: str | None, public: bool) -> str | None:
    """The address in words a resident wrote, when they posted it publicly: a private message's
    (a direct message, a text) may be their home, and stays with staff and the CRM."""
    if not public or address is None:
        return None
    return without_handles(address) or None


def public_text(text: str, public: bool, show_words: bool) -> str | None:
    """What of a resident's post may be shown: their words only from a public post, only when
    the city shows them, without any @handle and with any phone number masked (the status page
    and Open311 alike)."""
    if not (public and show_words):
        return None
    # A phone number in a public post is still personal data: masked, as everywhere we show text.
    return masked_in(without_handles(text)) or None


def without_handles(text: str) -> str:
    """`text` with every @handle taken out (a post names the city's account, and may name other
    people's), its spaces tidied."""
    return _SPACES.sub(" ", _HANDLE.sub(" ", text)).strip()


def public_photo(photo_urls: list[str], public: bool) -> str | None:
    """The resident's first photo, from a public post only, and only at an address that does not
    name their account (a Bluesky CDN address carries the author's DID, which resolves to the
    handle: such a photo is not shown)."""
    if not public or not photo_urls or _NAMES_ACCOUNT.search(photo_urls[0]):
        return None
    if not photo_urls[0].startswith("https://"):  # a file of ours (an MMS's photo): no address
        return None
    return photo_urls[0]


# An @handle as X, Mastodon (@user@server) and Bluesky (@name.bsky.social) write them; not the
# middle of an e-mail address (the @ must not follow a letter or digit). X also takes the
# full-width at sign (U+FF20) for one.
_HANDLE = re.compile(r"(?<![\w@])[@\uff20][\w.\-]+(?:@[\w.\-]+)?")
_SPACES = re.compile(r"\s+")

# A decentralized identifier (did:plc:…, did:web:…) in a media address: the poster's account.
_NAMES_ACCOUNT = re.compile(r"(?i)\bdid(?::|%3a)[a-z0-9]+(?::|%3a)")
