"""A public broadcast thread on Mastodon whose first post a crash left unrecorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import responses
from sqlalchemy import Engine

from socialbot.networks.mastodon.adapter import MastodonCredentials, MastodonNetwork
from socialbot.outbox import Outbox, send_once
from socialbot.store.db import transaction
from socialbot.store.models import OutboxMessage, OutboxState
from tests.networks.mastodon import cassettes

BASE = cassettes.BASE_URL
US = "117020565693913441"
NOW = datetime(2026, 8, 1, 13, 52, tzinfo=UTC)


def _recorded_public_post() -> cassettes.Interaction:
    return next(
        i
        for i in cassettes.load("test_status_post_public")
        if i.method == "POST" and i.path == "/api/v1/statuses"
    )


def _form(body: Any) -> dict[str, list[str]]:
    text = body.decode() if isinstance(body, bytes) else body or ""
    return parse_qs(text, keep_blank_values=True)


@responses.activate
def test_the_rest_of_a_public_thread_stays_public_after_its_first_post_is_recovered(
    engine: Engine,
) -> None:
    recorded = _recorded_public_post()
    first = recorded.json() | {"id": "117020585924712600", "content": "<p>Boil water 1/2</p>"}
    first["created_at"] = (NOW - timedelta(minutes=9)).isoformat().replace("+00:00", "Z")
    with transaction(engine) as session:  # the crash: the first post went out, unrecorded
        head = OutboxMessage(
            platform="mastodon",
            account="notify",
            dedupe_key="broadcast:1:1",
            template="broadcast",
            lang="en",
            text="Boil water 1/2",
            state=OutboxState.SENDING,
            attempts=1,
            claimed_at=NOW - timedelta(minutes=10),
            next_attempt_at=NOW - timedelta(minutes=10),
            created_at=NOW - timedelta(minutes=10),
        )
        session.add(head)
        session.flush()
        session.add(
            OutboxMessage(
                platform="mastodon",
                account="notify",
                dedupe_key="broadcast:1:2",
                template="broadcast",
                lang="en",
                text="Boil water 2/2",
                after_id=head.id,
                next_attempt_at=NOW - timedelta(minutes=10),
                created_at=NOW - timedelta(minutes=10),
            )
        )
    responses.get(f"{BASE}/api/v1/accounts/{US}/statuses", json=[first])
    cassettes.serve(recorded)
    network = MastodonNetwork(
        MastodonCredentials(BASE, "token"), account="notify", clock=lambda: NOW
    )
    outbox = Outbox(engine, network, lambda: US, account="notify")

    report = send_once(outbox, lambda: NOW)

    assert (report.recovered, report.sent) == (1, 1)
    [post] = [c.request for c in responses.calls if c.request.method == "POST"]
    # The first post was public; the second threads under it and must be public too, not a
    # `direct` status that no one is named in and so no one sees.
    assert _form(post.body)["visibility"] == ["public"]
