"""What every route of the web service reads from: settings, database, catalog, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from starlette.requests import Request

from socialbot.catalog import Catalog
from socialbot.config import Settings
from socialbot.web.answer_cache import PAGE_ENTRIES, AnswerCache

if TYPE_CHECKING:
    from socialbot.web.sms_webhook import SmsWebhook


@dataclass(frozen=True, slots=True)
class Web:
    """The web service's world, built once by `server.build_web` (tests build their own)."""

    settings: Settings
    engine: Engine
    catalog: Catalog
    clock: Callable[[], datetime]
    # The costliest answers (lists of cases), kept while no case changes: `answer_cache`.
    answers: AnswerCache[bytes] = field(default_factory=AnswerCache)
    # Status pages (their language and HTML) by address, likewise: a case's link shared on a
    # network brings its page many readers at once.
    pages: AnswerCache[tuple[str, bytes]] = field(
        default_factory=lambda: AnswerCache(entries=PAGE_ENTRIES)
    )
    # Open311's answers about one request, likewise (a CRM or an app polling a case).
    requests: AnswerCache[bytes] = field(default_factory=lambda: AnswerCache(entries=PAGE_ENTRIES))
    # The SMS webhook's token, address and writing engine; None (every text refused) without
    # TWILIO_AUTH_TOKEN. `engine` above stays read-only whatever this holds.
    sms: SmsWebhook | None = None


def web_of(request: Request) -> Web:
    """The `Web` the app serves from (`app.create_app` puts it in the app's state)."""
    web: Web = request.app.state.web
    return web
