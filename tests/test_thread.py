"""The resident's thread: what a reply under a case does to that case, end to end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from socialbot.app import Service, build_service, build_staff
from socialbot.config import Settings
from socialbot.domain import CaseStatus, MentionOutcome
from socialbot.lifecycle import Action, CloseReason
from socialbot.networks.x.replay import ReplayPlatform
from socialbot.outbox import send_once
from socialbot.poller import poll_once
from socialbot.staff import Request
from socialbot.store.queries import get_case, list_cases, outbox_rows
from tests import xapi
from tests.conftest import Clock

REPORTER = "2001"
NEIGHBOUR = "2002"
MAP = "https://www.openstreetmap.org/?mlat=42.35512&mlon=-71.06021#map=18/42.35512/-71.06021"


@pytest.fixture
def city(settings: Settings, clock: Clock) -> Iterator[tuple[Service, ReplayPlatform]]:
    """Case #1: a streetlight without a location; our needs_location reply is already posted."""
    platform = ReplayPlatform(
        xapi.CITY_ID, [xapi.page([xapi.tweet(1, "@DemoCity311 #streetlight out", author=REPORTER)])]
    )
    update = {"x_user_id": xapi.CITY_ID, "city_bounds": "-71.19,42.22,-70.98,42.40"}
    service = build_service(settings.model_copy(update=update), platform, clock)
    poll_once(service.intake, clock)
    send_once(service.outbox, clock)
    yield service, platform
    service.close()


def our_reply(platform: ReplayPlatform) -> str:
    return platform.posted[0].post_id


def answer(
    platform: ReplayPlatform,
    n: int,
    text: str,
    *,
    author: str = REPORTER,
    to: str | None = None,
    **fields: object,
) -> None:
    """The resident (or someone) replies under our reply, as X would serve it."""
    post = xapi.tweet(
        n,
        text,
        author=author,
        in_reply_to_user_id=xapi.CITY_ID,
        referenced=[("replied_to", to or our_reply(platform))],
        **fields,
    )  # type: ignore[arg-type]
    post["conversation_id"] = xapi.post_id(1)
    platform.deliver(xapi.page([post], media=[xapi.photo("3_9")]))


def handle(service: Service, clock: Clock) -> list[tuple[MentionOutcome, str]]:
    report = poll_once(service.intake, clock)
    return [(h.decision.outcome, h.decision.detail) for h in report.handled]


def test_a_map_link_in_reply_completes_the_case_and_the_filed_reply_follows(
    city: tuple[Service, ReplayPlatform], clock: Clock
) -> None:
    service, platform = city
    answer(platform, 2, "@DemoCity311 here https://t.co/abc", urls=[("https://t.co/abc", MAP)])

    assert handle(service, clock) == [(MentionOutcome.FOLLOW_UP, "case #1: location (map_link)")]

    (case,) = list_cases(service.engine)
    assert (case.status, case.lat, case.lon, case.location_source) == (
        CaseStatus.NEW,
        42.35512,
        -71.06021,
        "map_link",
    )
    send_once(service.outbox, clock)
    assert platform.posted[-1].text.startswith(
        "Thanks! Your report is filed as case #1 (Streetlight out)"
    )
    assert platform.posted[-1].in_reply_to == xapi.post_id(2)
    assert len(list_cases(service.engine)) == 1  # updated, never a second case


def test_a_reply_to_the_original_post_counts_too(
    city: tuple[Service, ReplayPlatform], clock: Clock
) -> None:
    service, platform = city
    answer(platform, 2, "@DemoCity311 at 42.35512, -71.06021", to=xapi.post_id(1))
    assert handle(service, clock) == [(MentionOutcome.FOLLOW_UP, "case #1: location (text)")]


def test_a_photo_from_the_reporter_is_added(
    city: tuple[Service, ReplayPlatform], clock: Clock
) -> None:
    service, platform = city
    answer(platform, 2, "@DemoCity311 it's this one", media_keys=["3_9"])

    assert handle(service, clock) == [(MentionOutcome.FOLLOW_UP, "case #1: 1 photo(s)")]
    assert list_cases(service.engine)[0].photo_urls == ["https://pbs.twimg.com/media/3_9.jpg"]


STATUS_EN = (
    "Case #1 (Streetlight out) is waiting for a location: reply here with a map link or pin. "
    "Thanks for checking in!"
)
# Asked in Spanish, answered in Spanish (issue 19), though the case was reported in English.
STATUS_ES = (
    "El caso #1 (Alumbrado apagado) está en espera de una ubicación: responda aquí con un enlace "
    "de mapa o un pin. ¡Gracias por preguntar!"
)


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("@DemoCity311 status", STATUS_EN),
        ("@DemoCity311 ¿estado?", STATUS_ES),
        ("@DemoCity311 any news?", STATUS_EN),
        ("@DemoCity311 #status", STATUS_EN),
    ],
)
def test_asking_for_the_status_gets_it(
    city: tuple[Service, ReplayPlatform], clock: Clock, text: str, reply: str
) -> None:
    service, platform = city
    answer(platform, 2, text)

    assert handle(service, clock) == [(MentionOutcome.FOLLOW_UP, "case #1: asked for the status")]
    send_once(service.outbox, clock)
    assert platform.posted[-1].text == reply


def test_a_thank_you_is_kept_on_the_case_and_answered_by_no_one(
    city: tuple[Service, ReplayPlatform], clock: Clock
) -> None:
    service, platform = city
    answer(platform, 2, "@DemoCity311 thank you!")

    assert handle(service, clock) == [(MentionOutcome.FOLLOW_UP, "case #1: a thank-you")]
    send_once(service.outbox, clock)
    assert len(platform.posted) == 1  # only the needs_location reply from before
    detail = get_case(service.engine, 1)
    assert detail is not None
    assert detail.events[-1].note == "a thank-you: @DemoCity311 thank you!"
    assert [m.post_id for m in detail.mentions] == [xapi.post_id(1), xapi.post_id(2)]


def test_someone_else_cannot_move_the_location(
    city: tuple[Service, ReplayPlatform], clock: Clock
) -> None:
    service, platform = city
    answer(platform, 2, "@DemoCity311 it's at 42.30000, -71.10000", author=NEIGHBOUR)

    assert handle(service, clock) == [
        (MentionOutcome.FOLLOW_UP, "case #1: comment from another account")
    ]
    assert list_cases(service.engine)[0].status is CaseStatus.NEEDS_LOCATION


def test_a_location_outside_the_city_is_refused_politely(
    city: tuple[Service, ReplayPlatform], clock: Clock
) -> None:
    service, platform = city
    answer(platform, 2, "@DemoCity311 41.82399, -71.41283")

    assert handle(service, clock) == [
        (MentionOutcome.FOLLOW_UP, "case #1: location outside the city bounds")
    ]
    assert list_cases(service.engine)[0].status is CaseStatus.NEEDS_LOCATION
    send_once(service.outbox, clock)
    assert "outside the city limits" in platform.posted[-1].text


def test_a_new_post_outside_any_thread_opens_its_own_case(
    city: tuple[Service, ReplayPlatform], clock: Clock
) -> None:
    service, platform = city
    platform.deliver(
        xapi.page(
            [xapi.tweet(2, "@DemoCity311 #pothole", author=REPORTER, coordinates=(42.35, -71.06))]
        )
    )
    assert [o for o, _ in handle(service, clock)] == [MentionOutcome.CASE_OPENED]
    assert len(list_cases(service.engine)) == 2


def test_a_location_after_staff_took_the_case_still_counts(
    city: tuple[Service, ReplayPlatform], clock: Clock, settings: Settings
) -> None:
    service, platform = city
    staff = build_staff(settings)
    staff.act(Request(1, Action.ACK, "J. Rivera"), clock())
    staff.engine.dispose()
    answer(platform, 2, "@DemoCity311 here https://t.co/abc", urls=[("https://t.co/abc", MAP)])

    assert handle(service, clock) == [(MentionOutcome.FOLLOW_UP, "case #1: location (map_link)")]
    (case,) = list_cases(service.engine)
    assert (case.status, case.lat) == (CaseStatus.ACKNOWLEDGED, 42.35512)  # staff's status kept
    assert [r.template for r in outbox_rows(service.engine)] == ["needs_location"]  # nothing owed


def test_a_neighbours_report_under_the_case_is_a_case_of_its_own(
    city: tuple[Service, ReplayPlatform], clock: Clock
) -> None:
    service, platform = city
    answer(
        platform,
        2,
        "@DemoCity311 and #graffiti on the wall",
        author=NEIGHBOUR,
        coordinates=(42.35, -71.06),
    )

    assert [o for o, _ in handle(service, clock)] == [MentionOutcome.CASE_OPENED]
    assert [c.category for c in list_cases(service.engine)] == ["streetlight", "graffiti"]


def test_a_new_report_under_a_finished_case_is_a_case_of_its_own(
    city: tuple[Service, ReplayPlatform], clock: Clock, settings: Settings
) -> None:
    service, platform = city
    staff = build_staff(settings)
    staff.act(Request(1, Action.CLOSE, "J. Rivera", reason=CloseReason.INVALID), clock())
    staff.engine.dispose()
    answer(platform, 2, "@DemoCity311 #streetlight still out, here", coordinates=(42.35, -71.06))

    assert [o for o, _ in handle(service, clock)] == [MentionOutcome.CASE_OPENED]


def test_only_the_reporter_is_told_the_status(
    city: tuple[Service, ReplayPlatform], clock: Clock
) -> None:
    service, platform = city
    answer(platform, 2, "@DemoCity311 status?", author=NEIGHBOUR)
    assert handle(service, clock) == [
        (MentionOutcome.FOLLOW_UP, "case #1: comment from another account")
    ]
    assert [r.template for r in outbox_rows(service.engine)] == ["needs_location"]
