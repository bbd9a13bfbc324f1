"""What every route of the web service reads from: settings, database, catalog, the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from socialbot.catalog import Catalog
from socialbot.config import Settings


@dataclass(frozen=True, slots=True)
class Web:
    """The web service's world, built once by `server.build_web` (tests build their own)."""

    settings: Settings
    engine: Engine
    catalog: Catalog
    clock: Callable[[], datetime]
