"""How Mastodon writes an account's handle, as staff name it to `socialbot block`.

An account is `user@domain`, and `acct` (what `wire` keeps as `Mention.author_username`) leaves
the domain out for an account on our own instance: `ana@mastodon.social` from elsewhere, plain
`kim` from here. So a handle of our instance's domain is its local name, and the two compare
alike. Usernames compare without regard to case (Mastodon's own lookups are case-insensitive),
domains too; both are kept in lower case.

The local name is Mastodon's own rule for a local username (`Account::USERNAME_RE`'s local form:
letters, digits and `_`, at most 30); a remote one is what `Account::MENTION_RE` takes (dots and
dashes inside, as other servers allow). No local name holds a '.': `maria.bsky.social` is never
a Mastodon handle, and an X handle is always also a local one (the CLI asks which when both are
configured).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from socialbot.errors import HandleError
from socialbot.networks.mastodon.wire import MAX_ACCT

MAX_LOCAL = 30  # Mastodon's `Account::USERNAME_LENGTH_LIMIT` for a local account

_LOCAL = re.compile(r"[a-z0-9_]{1,30}")
_REMOTE = re.compile(r"[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"(?:{_LABEL}\.)*{_LABEL}(?::[0-9]{{1,5}})?")

RULE = "a local name of 1-30 letters, digits or _, or user@domain"


def instance_domain(api_base_url: str | None) -> str | None:
    """The domain our instance's own accounts have, from its API's URL (`https://social.example`
    → `social.example`): the one an `acct` leaves out. None without an instance."""
    if not api_base_url:
        return None
    parts = urlsplit(api_base_url)
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port and host else host or None


def mastodon_handle(handle: str, local_domain: str | None = None) -> str:
    """`@Ana@Mastodon.Social` → `ana@mastodon.social`, `@kim` → `kim`, and `kim@<local_domain>`
    → `kim`: the handle as `acct` writes it, in lower case. HandleError if it is no Mastodon
    account's."""
    name = handle.strip().removeprefix("@").lower()
    user, at, domain = name.partition("@")
    if at and domain == local_domain:
        at, domain = "", ""
    if at:
        fits = (
            _REMOTE.fullmatch(user) is not None
            and _DOMAIN.fullmatch(domain) is not None
            and len(name) <= MAX_ACCT
        )
        if fits:
            return name
    elif _LOCAL.fullmatch(user):
        return user
    raise HandleError(f"{handle!r} is not a Mastodon handle ({RULE})")
