"""The answer cache: an answer is made once while the cases do not change, again as soon as one
does (any case event), once it is older than its max age, and the least recently used goes
first. Work is counted, not timed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session

from socialbot.store.db import make_engine
from socialbot.store.models import CaseEvent
from socialbot.web.answer_cache import AnswerCache
from socialbot.web.reads import change_mark
from tests.web.server import copy_database


class Maker:
    def __init__(self) -> None:
        self.made = 0

    def __call__(self) -> bytes:
        self.made += 1
        return f"answer {self.made}".encode()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_list_is_made_again_only_once_a_case_changes(demo_database: Path, tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{copy_database(demo_database, tmp_path / 'c.db')}")
    cache, make = AnswerCache(), Maker()
    key = ("/open311/v2/requests.json", ())
    try:
        first = cache.answer(key, change_mark(engine), make)
        again = cache.answer(key, change_mark(engine), make)
        with Session(engine) as session:  # staff acknowledge case 1: one more event
            session.add(
                CaseEvent(
                    case_id=1,
                    at=datetime.now(UTC),
                    actor="staff",
                    from_status="new",
                    to_status="acknowledged",
                )
            )
            session.commit()
        after = cache.answer(key, change_mark(engine), make)
    finally:
        engine.dispose()

    assert (first, again, after) == (b"answer 1", b"answer 1", b"answer 2")
    assert make.made == 2


def test_an_answer_is_made_again_once_older_than_its_max_age() -> None:
    clock = Clock()
    cache, make = AnswerCache(max_age=30.0, clock=clock), Maker()

    cache.answer("k", 7, make)
    clock.now += 29.0
    cache.answer("k", 7, make)
    assert make.made == 1
    clock.now += 1.0
    cache.answer("k", 7, make)
    assert make.made == 2


def test_the_least_recently_used_answer_is_dropped_first() -> None:
    cache, make = AnswerCache(entries=2), Maker()

    cache.answer("a", 1, make)
    cache.answer("b", 1, make)
    cache.answer("a", 1, make)  # "a" used last: "b" goes when "c" comes
    cache.answer("c", 1, make)
    assert make.made == 3
    cache.answer("a", 1, make)
    assert make.made == 3
    cache.answer("b", 1, make)
    assert make.made == 4
