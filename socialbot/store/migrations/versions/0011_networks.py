"""one pipeline, many networks: opaque cursors, reply contexts, a network on every usage row

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 12:00:00

`accounts.since_id` becomes `accounts.cursor` (text: a network's cursor need not be an id);
mentions and outbox rows keep what their network needs to answer a post beside its id; the
outbox's queue index leads with (platform, account); api_usage, api_endpoints, api_failures and
rate_holds gain `platform` (every row so far was X's), in their keys where they have one. The
three keyed tables are rebuilt and their rows copied, which SQLite and PostgreSQL both do alike.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

import socialbot.store.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_UTC = socialbot.store.types.UTCDateTime


def _usage_columns(with_platform: bool) -> list[Any]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *([sa.Column("platform", sa.String(length=32), nullable=False)] if with_platform else []),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("charge", sa.String(length=32), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    ]


def _endpoint_columns(with_platform: bool) -> list[Any]:
    return [
        *([sa.Column("platform", sa.String(length=32), nullable=False)] if with_platform else []),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("last_ok_at", _UTC(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", _UTC(timezone=True), nullable=True),
        sa.Column("rate_limit", sa.Integer(), nullable=True),
        sa.Column("rate_remaining", sa.Integer(), nullable=True),
        sa.Column("rate_reset_at", _UTC(timezone=True), nullable=True),
    ]


def _hold_columns(with_platform: bool) -> list[Any]:
    return [
        *([sa.Column("platform", sa.String(length=32), nullable=False)] if with_platform else []),
        sa.Column("account", sa.String(length=64), nullable=False),
        sa.Column("endpoint", sa.String(length=64), nullable=False),
        sa.Column("until", _UTC(timezone=True), nullable=False),
        sa.Column("set_at", _UTC(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
    ]


_USAGE = ["id", "day", "account", "endpoint", "charge", "calls", "errors", "units"]
_ENDPOINT = [
    "account",
    "endpoint",
    "last_ok_at",
    "last_status",
    "last_error",
    "last_error_at",
    "rate_limit",
    "rate_remaining",
    "rate_reset_at",
]
_HOLD = ["account", "endpoint", "until", "set_at", "reason"]


def _rebuild(
    name: str,
    columns: list[Any],
    keep: list[str],
    *,
    platform: bool,
    key: sa.Constraint,
) -> None:
    """Replace table `name` by one of `columns`, copying `keep` (and, going up, `platform` = x)."""
    op.create_table(f"{name}_new", *columns, key)
    kept = ", ".join(keep)
    if platform:
        op.execute(f"INSERT INTO {name}_new (platform, {kept}) SELECT 'x', {kept} FROM {name}")
    else:  # going down: X's rows stay, the other networks' have nowhere to go
        op.execute(f"INSERT INTO {name}_new ({kept}) SELECT {kept} FROM {name} WHERE platform='x'")
    op.drop_table(name)
    op.rename_table(f"{name}_new", name)
    if "id" in keep and op.get_bind().dialect.name == "postgresql":
        # The copied ids were given, not drawn: the new table's sequence must start past them,
        # or the next row would collide with a copied one.
        op.execute(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
        )


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.alter_column(
            "since_id",
            new_column_name="cursor",
            existing_type=sa.String(length=64),
            type_=sa.Text(),
        )
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reply_context", sa.Text(), nullable=False, server_default="")
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reply_context", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("posted_context", sa.Text(), nullable=False, server_default="")
        )
        batch_op.drop_index("ix_outbox_state_due")
        batch_op.create_index(
            "ix_outbox_queue", ["platform", "account", "state", "next_attempt_at"], unique=False
        )
    with op.batch_alter_table("api_failures", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("platform", sa.String(length=32), nullable=False, server_default="x")
        )
    _rebuild(
        "api_usage",
        _usage_columns(True),
        _USAGE,
        platform=True,
        key=sa.UniqueConstraint("day", "platform", "account", "endpoint", "charge"),
    )
    _rebuild(
        "api_endpoints",
        _endpoint_columns(True),
        _ENDPOINT,
        platform=True,
        key=sa.PrimaryKeyConstraint("platform", "account", "endpoint"),
    )
    _rebuild(
        "rate_holds",
        _hold_columns(True),
        _HOLD,
        platform=True,
        key=sa.PrimaryKeyConstraint("platform", "account", "endpoint"),
    )


def downgrade() -> None:
    # 0010's sender picks rows by account alone: a queued reply of another network would be
    # posted on X, under a post id of that network. Such rows are failed, saying why.
    op.execute(
        "UPDATE outbox SET state = 'failed', last_error = 'not sent: its network is not known "
        "to the schema this database was downgraded to' WHERE platform <> 'x' AND state IN "
        "('pending', 'sending')"
    )
    _rebuild(
        "rate_holds",
        _hold_columns(False),
        _HOLD,
        platform=False,
        key=sa.PrimaryKeyConstraint("account", "endpoint"),
    )
    _rebuild(
        "api_endpoints",
        _endpoint_columns(False),
        _ENDPOINT,
        platform=False,
        key=sa.PrimaryKeyConstraint("account", "endpoint"),
    )
    _rebuild(
        "api_usage",
        _usage_columns(False),
        _USAGE,
        platform=False,
        key=sa.UniqueConstraint("day", "account", "endpoint", "charge"),
    )
    with op.batch_alter_table("api_failures", schema=None) as batch_op:
        batch_op.drop_column("platform")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_queue")
        batch_op.create_index("ix_outbox_state_due", ["state", "next_attempt_at"], unique=False)
        batch_op.drop_column("posted_context")
        batch_op.drop_column("reply_context")
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_column("reply_context")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.alter_column(
            "cursor",
            new_column_name="since_id",
            existing_type=sa.Text(),
            type_=sa.String(length=64),
        )
