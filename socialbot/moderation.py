"""Blocking accounts: staff's answer to abuse. A blocked account's posts are still recorded (the
audit trail stays whole) but open nothing and get no reply.

A block names an account on one network (`Account`), by its handle as that network writes it.
Which network a typed handle is on is each network's rule to say (`app.handle_rules`): this
module only chooses among the rules that take it (`account_of`), never knowing which they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from socialbot.errors import HandleError, SocialbotError
from socialbot.store.db import transaction
from socialbot.store.models import BlockedAuthor, MentionRecord

# A network's handle rule: a handle as typed → as its wire code writes `Mention.author_username`,
# or HandleError naming the rule.
HandleRule = Callable[[str], str]

MAX_SHOWN = 70  # of a handle no rule takes, quoted back in the error


@dataclass(frozen=True, slots=True)
class Account:
    """An account as a block names it: its network (as `Settings.networks` names it) and its
    handle as the network's rule writes it (lower case, no leading '@')."""

    network: str
    username: str


def account_of(
    handle: str,
    rules: Mapping[str, HandleRule],
    runs: Sequence[str],
    network: str | None = None,
) -> Account:
    """The account `handle` names. On `network` when given; else on the one network whose rule
    takes the handle, or, when several do, the one of those the city `runs`. Otherwise a
    one-line SocialbotError: the handle fits no rule (each rule's reason), or could be on
    several networks (which, to name with --network)."""
    if network is not None:
        rule = rules.get(network)
        if rule is None:
            raise SocialbotError(f"no network {network!r}: one of {'|'.join(rules)}")
        return Account(network, rule(handle))
    fits: dict[str, str] = {}
    reasons: list[str] = []
    for name, rule in rules.items():
        try:
            fits[name] = rule(handle)
        except HandleError as exc:
            reasons.append(str(exc).removeprefix(f"{handle!r} is "))
    if not fits:
        raise HandleError(f"{_shown(handle)} is no network's handle: " + "; ".join(reasons))
    if len(fits) == 1:
        [(name, username)] = fits.items()
        return Account(name, username)
    ours = [name for name in fits if name in runs]
    if len(ours) == 1:
        return Account(ours[0], fits[ours[0]])
    could = ours or list(fits)
    raise SocialbotError(
        f"{_shown(handle)} could be an account on {' or '.join(could)}: "
        f"say which with --network {'|'.join(could)}"
    )


def _shown(handle: str) -> str:
    """`handle` quoted, and cut: it is whatever was typed, and is shown back on one line."""
    cut = handle if len(handle) <= MAX_SHOWN else handle[:MAX_SHOWN] + "…"
    return repr(cut)


def block(
    engine: Engine, account: Account, *, by: str, reason: str, now: datetime
) -> BlockedAuthor:
    """Block `account`, with the id its handle was last seen with on its network, if any."""
    with transaction(engine) as session:
        if session.exec(_row_of(account)).first():
            raise SocialbotError(f"@{account.username} is already blocked")
        # Handles can change; the account id we have seen with it cannot.
        user_id = session.exec(
            select(MentionRecord.author_id)
            .where(
                MentionRecord.platform == account.network,
                # A network without usernames (SMS) names its people by their id.
                func.lower(
                    func.coalesce(col(MentionRecord.author_username), col(MentionRecord.author_id))
                )
                == account.username,
            )
            .order_by(col(MentionRecord.id).desc())
        ).first()
        row = BlockedAuthor(
            platform=account.network,
            username=account.username,
            user_id=user_id,
            blocked_at=now,
            blocked_by=by,
            reason=reason,
        )
        session.add(row)
        return row


def unblock(engine: Engine, account: Account) -> None:
    with transaction(engine) as session:
        row = session.exec(_row_of(account)).first()
        if row is None:
            raise SocialbotError(f"@{account.username} is not blocked")
        session.delete(row)


def _row_of(account: Account) -> SelectOfScalar[BlockedAuthor]:
    return select(BlockedAuthor).where(
        BlockedAuthor.platform == account.network, BlockedAuthor.username == account.username
    )


def blocked(engine: Engine) -> list[BlockedAuthor]:
    with transaction(engine) as session:
        return list(
            session.exec(select(BlockedAuthor).order_by(col(BlockedAuthor.blocked_at))).all()
        )
