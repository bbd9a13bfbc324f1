"""Common questions answered within one poll, on X, Mastodon and Bluesky, each by its own rules;
what no entry answers waits for staff; and nothing is answered or kept twice across a restart.

The three real adapters against their APIs mocked at the HTTP level (the harness of
`test_three_networks`), a real database, the shipped answers.yaml.
"""

from __future__ import annotations

from collections import Counter

from sqlmodel import select

from socialbot.app import build_service, opened_inbox
from socialbot.broadcasts import storm
from socialbot.config import INTAKE_ACCOUNT, Settings, load_settings
from socialbot.domain import InboxReason, InboxState, MentionOutcome
from socialbot.network_settings import Channel
from socialbot.scheduler import Jobs
from socialbot.store.db import transaction
from socialbot.store.models import InboxItem, MentionRecord, OutboxMessage
from socialbot.store.queries import list_cases
from tests import xapi
from tests.conftest import Clock
from tests.test_three_networks import city_servers as servers
from tests.test_three_networks import settings_of

TRASH_EN = "@City when is trash day on my street?"
TRASH_ES = "@City hola, cuando pasa el camion de la basura?"
NO_ENTRY = "@City why did the mayor skip the council meeting?"


def three(database_url: str) -> Settings:
    return load_settings(None, **settings_of(database_url))  # type: ignore[arg-type]


def run_once(jobs: Jobs) -> None:
    jobs.poll()
    jobs.send()


def test_a_common_question_is_answered_within_one_poll_on_each_networks_rules(
    database_url: str, clock: Clock
) -> None:
    with servers(clock) as city:
        city.x.deliver(1, TRASH_EN)
        on_mastodon = city.mastodon.deliver(2, TRASH_ES)
        on_bluesky = city.bluesky.deliver(3, TRASH_EN)
        service = build_service(three(database_url), clock=clock)
        jobs = Jobs(service)
        try:
            run_once(jobs)
            assert service.answers is not None
            trash = service.answers.get("trash_day")
            mastodon_rules = service.networks[Channel("mastodon", INTAKE_ACCOUNT)].text_rules
        finally:
            jobs.release_locks()
            service.close()

    assert trash is not None and trash.link is not None
    # X bills a post with a link: the answer goes without it.
    [(x_text, _)] = city.x.posts()
    assert x_text == trash.text("en", with_link=False)
    # Mastodon names its resident, and the link goes along; asked in Spanish, answered in Spanish.
    [(m_text, m_to)] = city.mastodon.posts()
    assert m_to == on_mastodon
    assert m_text == f"@{city.mastodon.handle(2)} {trash.text('es')}"
    assert mastodon_rules.fits(m_text)
    [(b_text, b_to)] = city.bluesky.posts()
    assert (b_text, b_to) == (trash.text("en"), on_bluesky)


def test_a_question_no_entry_answers_waits_for_staff_and_gets_no_guess(
    database_url: str, clock: Clock
) -> None:
    with servers(clock) as city:
        asked = city.x.deliver(1, NO_ENTRY)
        service = build_service(three(database_url), clock=clock)
        jobs = Jobs(service)
        try:
            run_once(jobs)
            with transaction(service.engine) as session:
                [(item, record)] = session.exec(
                    select(InboxItem, MentionRecord).where(InboxItem.mention_id == MentionRecord.id)
                ).all()
        finally:
            jobs.release_locks()
            service.close()

    assert city.x.posts() == []
    assert record.post_id == asked and record.outcome is MentionOutcome.UNCLASSIFIED
    assert (item.reason, item.state, item.platform) == (
        InboxReason.QUESTION,
        InboxState.OPEN,
        "x",
    )


def test_nothing_is_answered_or_kept_twice_across_a_restart(
    database_url: str, clock: Clock
) -> None:
    with servers(clock) as city:
        for n, text in enumerate([TRASH_EN, NO_ENTRY, "@City the bus shelter is a mess"], 1):
            city.x.deliver(n, text)
            city.mastodon.deliver(n, text)
        for _ in range(2):  # the service, then the same service started again
            service = build_service(three(database_url), clock=clock)
            jobs = Jobs(service)
            try:
                run_once(jobs)
                run_once(jobs)
                with transaction(service.engine) as session:
                    inbox = session.exec(select(InboxItem.mention_id)).all()
                    outbox = session.exec(select(OutboxMessage.dedupe_key)).all()
            finally:
                jobs.release_locks()
                service.close()

    assert len(inbox) == 4 and len(set(inbox)) == 4  # two questions, two help replies
    assert len(outbox) == len(set(outbox)) == 4  # an answer and a help reply a network
    for posts in (city.x.posts(), city.mastodon.posts()):
        assert Counter(to for _, to in posts).most_common(1)[0][1] == 1
        assert len(posts) == 2


def test_a_comment_in_a_cases_thread_waits_for_staff_with_its_case(
    database_url: str, clock: Clock
) -> None:
    with servers(clock) as city:
        report = city.x.deliver(1, "@City #pothole on Boylston St 42.35048, -71.07496")
        service = build_service(three(database_url), clock=clock)
        jobs = Jobs(service)
        try:
            run_once(jobs)
            city.x.mentions.append(
                xapi.tweet(
                    2,
                    "@City can you also fix the sidewalk?",
                    author="2001",  # the reporter, in the thread of their report
                    referenced=[("replied_to", report)],
                    in_reply_to_user_id=xapi.CITY_ID,
                )
            )
            run_once(jobs)
            with transaction(service.engine) as session:
                [item] = session.exec(select(InboxItem)).all()
            [case] = list_cases(service.engine)
        finally:
            jobs.release_locks()
            service.close()

    assert (item.reason, item.case_id) == (InboxReason.COMMENT, case.id)
    assert len(city.x.posts()) == 1  # the filed reply; no canned status to a new request


def test_a_storm_post_files_its_case_by_its_words_or_waits_first_in_line(
    database_url: str, clock: Clock
) -> None:
    with servers(clock) as city:
        tree = city.x.deliver(1, "@City #BoSandy tree down on Elm St 42.3121, -71.1140")
        city.x.deliver(2, "@City #BoSandy our street is a disaster, please help")
        city.x.deliver(3, "@City #BoSandy tree down on Elm St 42.3121, -71.1140")
        service = build_service(three(database_url), clock=clock)
        jobs = Jobs(service)
        try:
            storm.start(service.engine, "Sandy", "BoSandy", "comms", clock)
            run_once(jobs)
            cases = list_cases(service.engine)
            with transaction(service.engine) as session:
                items = session.exec(select(InboxItem)).all()
        finally:
            jobs.release_locks()
            service.close()

    assert [(c.category, c.mention_post_id) for c in cases] == [("downed_tree", tree)]
    assert [(i.reason, i.priority) for i in items] == [(InboxReason.STORM, True)]


def test_staff_file_a_message_as_the_residents_post_would_have_opened_it(
    database_url: str, clock: Clock
) -> None:
    """X's text holds only t.co links: the message's own geo, kept with it, places the case."""
    with servers(clock) as city:
        city.x.mentions.append(
            xapi.tweet(1, "@City the bench by the pond is smashed", coordinates=(42.3493, -71.0780))
        )
        settings = three(database_url)
        service = build_service(settings, clock=clock)
        jobs = Jobs(service)
        try:
            run_once(jobs)
            with transaction(service.engine) as session:
                [item] = session.exec(select(InboxItem)).all()
            assert item.id is not None
            with opened_inbox(settings, filing=True) as staff:
                staff.file(item.id, "park", None, "maria", clock())
            run_once(jobs)
            [case] = list_cases(service.engine)
        finally:
            jobs.release_locks()
            service.close()

    assert (case.category, case.lat, case.lon, case.location_source) == (
        "park_maintenance",
        42.3493,
        -71.078,
        "exact",
    )
    assert case.public  # a public post: its case is shown as any other
    [(help_text, _), (filed, to)] = city.x.posts()
    assert "#pothole" in help_text
    assert to == xapi.post_id(1) and f"case #{case.id}" in filed
