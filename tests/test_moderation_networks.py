"""Blocking on every network: each handle read by its own network's rule, chosen by its shape or
by the networks the city runs, and matched at intake the way each network's wire code writes its
authors (Mastodon's `acct`, Bluesky's handle with the DID as the account's id)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import select

from socialbot import moderation
from socialbot.app import Service, build_service, handle_rules
from socialbot.cli import app as cli
from socialbot.config import INTAKE_ACCOUNT, Settings
from socialbot.demo import BLUESKY_SAMPLE, DEMO_BLUESKY_ID, DEMO_MASTODON_ID, MASTODON_SAMPLE
from socialbot.domain import MentionOutcome
from socialbot.errors import SocialbotError
from socialbot.network_settings import Channel
from socialbot.networks.bluesky.replay import BlueskyReplay
from socialbot.networks.mastodon.replay import MastodonReplay
from socialbot.poller import poll_once
from socialbot.store.db import transaction
from socialbot.store.models import BlockedAuthor, MentionRecord
from socialbot.store.queries import list_cases, outbox_rows
from tests.cli.run import invoke, runner
from tests.conftest import Clock
from tests.networks.bluesky import records

INSTANCE = "https://social.example.gov"  # the demo's instance: `kim` is one of its own accounts
ANA = "113500000000000011"  # ana@mastodon.social's streetlight report, by status id
KIM = "113500000000000013"  # kim's (local) downed tree
MARIA_DID = "did:plc:mariaresidentbskyqwertyz"

X_KEYS = {
    "SOCIALBOT_X_CONSUMER_KEY": "consumer-key-SECRET",
    "SOCIALBOT_X_CONSUMER_SECRET": "consumer-secret-SECRET",
    "SOCIALBOT_X_ACCESS_TOKEN": "access-token-SECRET",
    "SOCIALBOT_X_ACCESS_TOKEN_SECRET": "access-token-secret-SECRET",
}
MASTODON_KEYS = {
    "SOCIALBOT_MASTODON_API_BASE_URL": INSTANCE,
    "SOCIALBOT_MASTODON_ACCESS_TOKEN": "mastodon-token-SECRET",
}
BLUESKY_KEYS = {
    "SOCIALBOT_BLUESKY_HANDLE": "city.bsky.social",
    "SOCIALBOT_BLUESKY_APP_PASSWORD": "abcd-efgh-ijkl-mnop",
}
NETWORK_KEYS = {"x": X_KEYS, "mastodon": MASTODON_KEYS, "bluesky": BLUESKY_KEYS}


def runs(monkeypatch: pytest.MonkeyPatch, database_url: str, *networks: str) -> None:
    """The CLI's settings: a city running `networks`, on the test's (migrated) database."""
    monkeypatch.setenv("SOCIALBOT_DATABASE_URL", database_url)
    for network in networks:
        for name, value in NETWORK_KEYS[network].items():
            monkeypatch.setenv(name, value)


def cells(line: str) -> list[str]:
    """A table row's cells, as `blocked` prints them."""
    return [cell.strip() for cell in line.replace("┃", "│").split("│") if cell.strip()]


def failed(*args: str) -> str:
    """What a command that must fail wrote on standard error."""

    result = runner.invoke(cli, list(args))
    assert result.exit_code == 1, result.stdout
    return result.stderr


# ---------------------------------------------------------------------------------------------
# The CLI, on every network


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["@Spam_Sam", "--network", "x"], "@spam_sam on X"),
        (["@Ana@Mastodon.Social"], "@ana@mastodon.social on Mastodon"),
        (["@kim", "--network", "mastodon"], "@kim on Mastodon"),
        (["@kim@social.example.gov"], "@kim on Mastodon"),  # our instance's own: its local name
        (["Maria.bsky.social"], "@maria.bsky.social on Bluesky"),
        (["@maria.bsky.social", "--network", "bluesky"], "@maria.bsky.social on Bluesky"),
    ],
)
def test_block_and_unblock_on_each_network(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch, args: list[str], named: str
) -> None:
    runs(monkeypatch, database_url, "x", "mastodon", "bluesky")
    assert invoke("block", *args, "--reason", "spam", "--as", "J. Rivera") == (
        0,
        f"blocked {named}\n",
    )
    network = named.rsplit(" ", 1)[1]
    again = failed("block", *args)
    assert again == f"socialbot: {named.split()[0]} is already blocked\n"
    code, listing = invoke("blocked")
    assert code == 0
    header, row = [cells(line) for line in listing.splitlines() if "@" in line or "network" in line]
    assert header[:2] == ["network", "account"]
    assert row[:2] == [network, named.split()[0]] and "J. Rivera" in row
    assert invoke("unblock", *args) == (0, f"unblocked {named}\n")
    assert failed("unblock", *args) == f"socialbot: {named.split()[0]} is not blocked\n"


def test_a_city_on_one_network_blocks_there_and_lists_no_network(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs(monkeypatch, database_url, "mastodon")
    assert invoke("block", "@kim") == (0, "blocked @kim\n")  # X's shape too; the city runs Mastodon
    with transaction(engine) as session:
        [row] = session.exec(select(BlockedAuthor)).all()
    assert (row.platform, row.username) == ("mastodon", "kim")
    _, listing = invoke("blocked")
    assert "network" not in listing and "@kim" in listing


def test_a_handle_two_networks_take_asks_which(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs(monkeypatch, database_url, "x", "mastodon")
    assert failed("block", "@kim") == (
        "socialbot: '@kim' could be an account on x or mastodon: say which with "
        "--network x|mastodon\n"
    )
    assert failed("unblock", "kim").startswith("socialbot: 'kim' could be an account on x or")
    # Of the city's networks only X takes `kim` without a domain once Mastodon is not run.
    monkeypatch.delenv("SOCIALBOT_MASTODON_ACCESS_TOKEN")
    monkeypatch.delenv("SOCIALBOT_MASTODON_API_BASE_URL")
    for name, value in BLUESKY_KEYS.items():
        monkeypatch.setenv(name, value)
    assert invoke("block", "kim") == (0, "blocked @kim on X\n")


@pytest.mark.parametrize(
    ("handle", "message"),
    [
        ("@", "no network's handle"),
        ("@bad handle", "not an X handle"),
        ("ana@", "not a Mastodon handle"),
        ("-maria.bsky.social", "not a Bluesky handle"),
        (MARIA_DID, "a DID, an account's id"),
        ("@kim", "say which with --network x|mastodon"),
    ],
)
def test_what_no_rule_takes_is_one_line_naming_each_rule(
    settings: Settings, handle: str, message: str
) -> None:
    with pytest.raises(SocialbotError, match=message) as refused:
        moderation.account_of(handle, handle_rules(settings), ("x", "mastodon"))
    assert "\n" not in str(refused.value)


def test_a_network_given_is_the_only_rule_asked(settings: Settings) -> None:
    rules = handle_rules(settings)
    with pytest.raises(SocialbotError, match="not a Bluesky handle"):
        moderation.account_of("@kim", rules, ("x",), "bluesky")
    with pytest.raises(SocialbotError, match=r"no network 'myspace': one of x\|mastodon\|bluesky"):
        moderation.account_of("@kim", rules, ("x",), "myspace")


# ---------------------------------------------------------------------------------------------
# At intake: a blocked Mastodon or Bluesky author's next mention opens nothing, hears nothing


def block(service: Service, handle: str, now: datetime) -> None:
    s = service.settings
    account = moderation.account_of(handle, handle_rules(s), s.networks)
    moderation.block(service.engine, account, by="J. Rivera", reason="spam", now=now)


def outcomes(service: Service, clock: Clock) -> dict[str, MentionOutcome]:
    handled = [h for intake in service.intakes for h in poll_once(intake, clock).handled]
    return {h.post_id: h.decision.outcome for h in handled}


def answered(service: Service) -> set[str | None]:
    return {r.in_reply_to_post_id for r in outbox_rows(service.engine)}


@pytest.fixture
def mastodon_city(settings: Settings, clock: Clock) -> Iterator[Service]:
    pages = json.loads(MASTODON_SAMPLE.read_text(encoding="utf-8"))
    service = build_service(
        settings.model_copy(update={"mastodon_api_base_url": INSTANCE}),
        clock=clock,
        networks={Channel("mastodon", INTAKE_ACCOUNT): MastodonReplay(DEMO_MASTODON_ID, pages)},
    )
    yield service
    service.close()


def test_blocked_mastodon_authors_open_nothing_and_hear_nothing(
    mastodon_city: Service, clock: Clock
) -> None:
    block(
        mastodon_city, "@ana@mastodon.social", clock()
    )  # a remote account: its acct holds the domain
    block(
        mastodon_city, "@kim@social.example.gov", clock()
    )  # our own instance's: its acct is `kim`
    seen = outcomes(mastodon_city, clock)
    assert (seen[ANA], seen[KIM]) == (MentionOutcome.IGNORED, MentionOutcome.IGNORED)
    opened = {c.mention_post_id for c in list_cases(mastodon_city.engine)}
    assert opened and not opened & {ANA, KIM}  # the others' reports still open cases
    assert not answered(mastodon_city) & {ANA, KIM}
    with transaction(mastodon_city.engine) as session:
        ids = {b.username: b.user_id for b in session.exec(select(BlockedAuthor)).all()}
    assert ids == {"ana@mastodon.social": "113400000000000101", "kim": "113400000000000103"}


@pytest.fixture
def bluesky_city(settings: Settings, clock: Clock) -> Iterator[tuple[Service, BlueskyReplay]]:
    replay = BlueskyReplay.from_file(BLUESKY_SAMPLE, DEMO_BLUESKY_ID)
    service = build_service(
        settings, clock=clock, networks={Channel("bluesky", INTAKE_ACCOUNT): replay}
    )
    yield service, replay
    service.close()


def maria_report(n: int, handle: str, did: str = MARIA_DID) -> dict[str, object]:
    return records.notification(
        n,
        f"@democity311.bsky.social #pothole number {n} at 42.{35000 + n * 100}, -71.06000",
        author_did=did,
        handle=handle,
        indexed_at=f"2026-11-23T08:{n:02d}:00.000Z",  # after the sample's, before the clock
    )


def test_a_blocked_bluesky_author_is_followed_by_their_did_through_a_new_handle(
    bluesky_city: tuple[Service, BlueskyReplay], clock: Clock
) -> None:
    service, replay = bluesky_city
    block(service, "@Maria.bsky.social", clock())
    first = outcomes(service, clock)
    [maria_post] = [p for p in first if p.startswith(MARIA_DID)]
    assert first[maria_post] is MentionOutcome.IGNORED
    assert any(o is MentionOutcome.CASE_OPENED for o in first.values())  # Devon's pothole

    replay.deliver(records.page(maria_report(1, "maria-renamed.bsky.social")))
    replay.deliver(records.page(maria_report(2, "maria.bsky.social", did=records.did(77))))
    later = outcomes(service, clock)
    by_author = {post.split("/")[0]: outcome for post, outcome in later.items()}
    assert by_author == {
        MARIA_DID: MentionOutcome.IGNORED,  # her new handle: the block follows her DID
        records.did(77): MentionOutcome.CASE_OPENED,  # who took her old handle is not her
    }
    assert not {p for p in answered(service) if p and p.startswith(MARIA_DID)}
    with transaction(service.engine) as session:
        record = session.exec(
            select(MentionRecord).where(MentionRecord.author_id == MARIA_DID)
        ).first()
    assert record is not None and record.case_id is None


# ---------------------------------------------------------------------------------------------
# Whatever is typed as a handle


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.text(max_size=80),
        st.from_regex(r"@?[A-Za-z0-9_.-]{1,20}(@[A-Za-z0-9.-]{1,20})?", fullmatch=True),
    )
)
def test_any_handle_is_blocked_or_one_line(
    engine: Engine, database_url: str, monkeypatch: pytest.MonkeyPatch, handle: str
) -> None:
    runs(monkeypatch, database_url, "x", "mastodon", "bluesky")

    # After `--`, as a script passing staff's input would: a handle is never taken for an option.
    result = runner.invoke(cli, ["block", "--reason", "fuzz", "--", handle])
    if result.exit_code == 0:
        assert result.stdout.startswith("blocked @") and result.stdout.count("\n") == 1
        assert invoke("unblock", "--", handle)[0] == 0
    else:
        assert result.exit_code == 1, result.exception
        message = result.stderr.rstrip("\n")
        assert message and "\n" not in message and "Traceback" not in result.stderr
