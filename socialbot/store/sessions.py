"""The database as a network's `SessionStore`: one row of `network_sessions` a (network, account).

The service, a `socialbot broadcast send` and `socialbot doctor` may each sign in as the same
account, in processes of their own: the session they save is the one the next of them loads, so
a refresh one of them made (which retires the refresh token the others hold) is not lost, and a
restart spends no sign-in. The row's `secret` holds the tokens: this module never writes it to
a log line, a repr or an error message.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from socialbot import storable
from socialbot.errors import DataError
from socialbot.networks.sessions import SavedSession
from socialbot.store.db import transaction
from socialbot.store.models import NetworkSession

log = logging.getLogger(__name__)

_USER_ID = storable.column_length(NetworkSession.user_id)
_HANDLE = storable.column_length(NetworkSession.handle)


class DatabaseSessions:
    """The saved session of `network`'s `account`, in the database (a `SessionStore`)."""

    def __init__(self, engine: Engine, network: str, account: str) -> None:
        self.engine = engine
        self.network = network
        self.account = account

    def __repr__(self) -> str:
        return f"DatabaseSessions(network={self.network!r}, account={self.account!r})"

    def load(self) -> SavedSession | None:
        """The saved session, None if this account has none yet."""
        with transaction(self.engine, commit=False) as session:
            row = session.get(NetworkSession, (self.network, self.account))
            if row is None:
                return None
            return SavedSession(
                user_id=row.user_id,
                handle=row.handle,
                secret=row.secret,
                created_at=row.created_at,
                refreshed_at=row.refreshed_at,
            )

    def save(self, saved: SavedSession) -> None:
        """Replace the saved session (a new sign-in or a refresh), in one transaction; a
        DataError, saving nothing, for a session the database cannot hold as it is (what the
        network said it is, not what we mean to store: the same answer on any database)."""
        _check(saved, self.network)
        try:
            self._write(saved)
        except IntegrityError:
            # Another process saved this account's first session between our read and our
            # insert: the row exists now, and ours (the newer) replaces it.
            self._write(saved)
        log.info(
            "event=session_saved network=%s account=%s user_id=%s handle=%s refreshed_at=%s",
            self.network,
            self.account,
            saved.user_id,
            saved.handle,
            saved.refreshed_at.isoformat(),
        )

    def _write(self, saved: SavedSession) -> None:
        with transaction(self.engine) as session:
            row = session.get(NetworkSession, (self.network, self.account))
            if row is None:
                row = NetworkSession(
                    platform=self.network,
                    account=self.account,
                    user_id=saved.user_id,
                    handle=saved.handle,
                    secret=saved.secret,
                    created_at=saved.created_at,
                    refreshed_at=saved.refreshed_at,
                )
            else:
                row.user_id = saved.user_id
                row.handle = saved.handle
                row.secret = saved.secret
                row.created_at = saved.created_at
                row.refreshed_at = saved.refreshed_at
            session.add(row)


def _check(saved: SavedSession, network: str) -> None:
    """A DataError naming what of `saved` cannot be stored; never showing the secret."""
    for what, value, length in (
        ("user id", saved.user_id, _USER_ID),
        ("handle", saved.handle, _HANDLE),
        ("session", saved.secret, None),
    ):
        if storable.clean_text(value) != value:
            why = "holds a NUL or a lone surrogate, which no database stores"
        elif length is not None and len(value) > length:
            why = f"is {len(value):,} characters, over the {length} the database holds"
        else:
            continue
        shown = "" if what == "session" else f" {value[:80]!r}"
        raise DataError(f"{network} session: its {what}{shown} {why}")
    for what, moment in (("created_at", saved.created_at), ("refreshed_at", saved.refreshed_at)):
        if moment.tzinfo is None:
            raise DataError(f"{network} session: {what} is a naive time; pass UTC-aware times")
