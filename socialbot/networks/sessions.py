"""Where a network that signs in keeps its session between polls and across restarts.

Bluesky signs in with a handle and an app password (`createSession`, a few dozen a day at most)
and then lives on a refreshable session: the session must outlive the process, or every restart
would spend a sign-in. The adapter reads and writes it through a `SessionStore`; the service's
store is the database (`socialbot.store.sessions`), the tests' and the demo's `MemorySessions`.
The session's text holds the access and refresh tokens: a secret, never logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class SavedSession:
    """A signed-in session: whom it acts as (`user_id`, `handle`), the SDK's own encoding of it
    (`secret`: the tokens), when a password last created it and when it was last refreshed."""

    user_id: str
    handle: str
    secret: str = field(repr=False)
    created_at: datetime
    refreshed_at: datetime


class SessionStore(Protocol):
    """One (network, account)'s saved session."""

    def load(self) -> SavedSession | None:
        """The saved session, None if there is none yet."""
        ...

    def save(self, session: SavedSession) -> None:
        """Replace the saved session (a new sign-in or a refresh)."""
        ...


class MemorySessions:
    """A `SessionStore` in memory: a session for this process only."""

    def __init__(self, session: SavedSession | None = None) -> None:
        self.session = session
        self.saves = 0

    def load(self) -> SavedSession | None:
        return self.session

    def save(self, session: SavedSession) -> None:
        self.session = session
        self.saves += 1
