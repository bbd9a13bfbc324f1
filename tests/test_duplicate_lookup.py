"""The duplicate look-up (`ingest.prereads.nearby_cases`): the rows the old query found, and a
plan on ix_cases_nearby whatever the database's statistics say.

Asked as `category IN (…) AND cell IN (…) AND status IN (…)`, SQLite without statistics chose
ix_cases_status and read every open case (issue 21: 496 ms a page on 1,000,000 past cases)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, insert
from sqlmodel import Session, SQLModel, col, select

from socialbot.domain import REPORT_OUTCOMES, CaseStatus
from socialbot.ingest.prereads import conversation_reports, nearby_cases, nearby_query
from socialbot.store.models import Case, MentionRecord

CASES = SQLModel.metadata.tables["cases"]
CATEGORIES = ("pothole", "graffiti", "streetlight")
CELLS = ("drt2yzr", "drt2yzq", "drt2yzw", "drt2yzx")
SINCE = datetime(2026, 11, 1, tzinfo=UTC)
OPEN = (CaseStatus.NEW, CaseStatus.ACKNOWLEDGED, CaseStatus.IN_PROGRESS)


def case_row(
    number: int, category: str, cell: str | None, status: CaseStatus, at: datetime
) -> dict[str, Any]:
    return {
        "id": number,
        "category": category,
        "department": "Public Works",
        "priority": "normal",
        "status": status,
        "lat": 42.36 + number / 100_000,
        "lon": -71.06,
        "location_source": "exact",
        "photo_urls": [],
        "public_photo_urls": [],
        "lang": "en",
        "platform": "x",
        "mention_post_id": str(1000 + number),
        "author_id": "7",
        "created_at": at,
        "updated_at": at,
        "cell": cell,
    }


def old_query(
    connection: Connection, pairs: set[tuple[str, str]], since: datetime
) -> dict[tuple[str, str], list[Any]]:
    """The look-up as it was asked before exact pairs (and its filter in Python)."""
    found: dict[tuple[str, str], list[Any]] = {}
    rows = connection.execute(
        select(Case.id, Case.lat, Case.lon, Case.created_at, Case.category, Case.cell).where(
            col(Case.category).in_({category for category, _ in pairs}),
            col(Case.cell).in_({cell for _, cell in pairs}),
            col(Case.created_at) >= since,
            col(Case.status).in_(OPEN),
        )
    )
    for case_id, lat, lon, created_at, category, cell in rows:
        if cell is not None and (category, cell) in pairs:
            found.setdefault((category, cell), []).append((case_id, lat, lon, created_at))
    return found


def _sorted(found: dict[tuple[str, str], list[Any]]) -> dict[tuple[str, str], list[Any]]:
    return {key: sorted(rows) for key, rows in found.items()}


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        yield connection


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cases=st.lists(
        st.tuples(
            st.sampled_from(CATEGORIES),
            st.sampled_from((*CELLS, None)),
            st.sampled_from(list(CaseStatus)),
            st.integers(min_value=-3, max_value=3),  # days from SINCE
        ),
        max_size=30,
    ),
    pairs=st.sets(st.tuples(st.sampled_from(CATEGORIES), st.sampled_from(CELLS)), max_size=8),
)
def test_exact_pairs_find_the_rows_the_old_query_found(
    connection: Connection,
    cases: list[tuple[str, str | None, CaseStatus, int]],
    pairs: set[tuple[str, str]],
) -> None:
    transaction = connection.begin()
    try:
        if cases:
            connection.execute(
                insert(CASES),
                [
                    case_row(n + 1, category, cell, status, SINCE + timedelta(days=days))
                    for n, (category, cell, status, days) in enumerate(cases)
                ],
            )
        with Session(bind=connection) as session:
            new = nearby_cases(session, pairs, SINCE)
        assert _sorted(new) == _sorted(old_query(connection, pairs, SINCE))
    finally:
        transaction.rollback()


# A page's worth of pairs: five categories and a few hundred cells (a report asks for about 25).
PAGE_CATEGORIES = (*CATEGORIES, "downed_tree", "missed_trash")
PAGE_CELLS = tuple(f"drt{k:04d}" for k in range(300))
PAIRS = {(category, cell) for category in PAGE_CATEGORIES for cell in PAGE_CELLS}


def _many_cases(connection: Connection, n: int) -> None:
    """`n` cases, half of them open, all within the window: what the plans are asked about."""
    statuses = list(CaseStatus)
    connection.execute(
        insert(CASES),
        [
            case_row(
                k + 1,
                PAGE_CATEGORIES[k % len(PAGE_CATEGORIES)],
                f"drt{k % 997:04d}",
                statuses[k % len(statuses)],
                SINCE + timedelta(minutes=k),
            )
            for k in range(n)
        ],
    )


def sqlite_plan(connection: Connection, statement: Any) -> str:
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    params = compiled.construct_params()
    positional = tuple(params[name] for name in compiled.positiontup)
    rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled.string}", positional)
    return " | ".join(str(row[-1]) for row in rows)


# Statistics that make ix_cases_status look like the better index: one row a status, against
# half the table a (category, cell).
_FAVOUR_STATUS = (
    ("cases", None, "1000000"),
    ("cases", "ix_cases_status", "1000000 1"),
    ("cases", "ix_cases_nearby", "1000000 500000 500000 500000"),
)


@pytest.mark.parametrize("statistics", ["none", "fresh", "favouring ix_cases_status"])
def test_on_sqlite_the_lookup_searches_ix_cases_nearby_whatever_the_statistics(
    engine: Engine, statistics: str
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plans; PostgreSQL's are checked below")
    with engine.begin() as connection:
        _many_cases(connection, 4_000)
        connection.exec_driver_sql("ANALYZE")
        connection.exec_driver_sql("DROP TABLE IF EXISTS sqlite_stat4")  # where SQLite keeps it
        if statistics == "none":
            connection.exec_driver_sql("DROP TABLE sqlite_stat1")  # as before any ANALYZE
        elif statistics != "fresh":
            connection.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = 'cases'")
            for row in _FAVOUR_STATUS:
                connection.exec_driver_sql("INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", row)
    engine.dispose()  # a new connection reads the statistics afresh
    with engine.connect() as connection:
        plan = sqlite_plan(connection, nearby_query("sqlite", PAIRS, SINCE))
        old = sqlite_plan(
            connection,
            select(Case.id).where(
                col(Case.category).in_(CATEGORIES),
                col(Case.cell).in_(CELLS),
                col(Case.created_at) >= SINCE,
                col(Case.status).in_(OPEN),
            ),
        )
    assert "SEARCH cases USING INDEX ix_cases_nearby (category=? AND cell=?" in plan
    assert "ix_cases_status" not in plan and "SCAN cases" not in plan
    if statistics == "favouring ix_cases_status":  # the old query took it (without statistics
        assert "ix_cases_status" in old  # too, on some schemas' order: not asserted)


def test_on_postgresql_the_lookup_can_search_ix_cases_nearby(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plan")
    with engine.connect() as connection:
        _many_cases(connection, 4_000)
        connection.exec_driver_sql("ANALYZE cases")
        # So few rows make a scan and a hash join the cheaper plan: what is checked here is that
        # the index answers each pair when PostgreSQL looks them up one by one, as it does on a
        # city's history (one pair's cases in 30 days, against tens of thousands in all).
        for plan_kind in ("seqscan", "hashjoin", "mergejoin"):
            connection.exec_driver_sql(f"SET LOCAL enable_{plan_kind} = off")
        compiled = nearby_query("postgresql", PAIRS, SINCE).compile(dialect=connection.dialect)
        rows = connection.exec_driver_sql(f"EXPLAIN {compiled.string}", compiled.construct_params())
        plan = " | ".join(str(row[0]) for row in rows)
        connection.rollback()
    assert "Index Scan using ix_cases_nearby on cases" in plan
    assert "ix_cases_status" not in plan


def _postgres_plan(connection: Connection, statement: Any) -> str:
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    rows = connection.exec_driver_sql(f"EXPLAIN {compiled.string}", compiled.construct_params())
    return " | ".join(str(row[0]) for row in rows)


def test_on_postgresql_without_statistics_each_pair_is_a_search_of_ix_cases_nearby(
    engine: Engine,
) -> None:
    """A new database has no statistics until autovacuum's first ANALYZE: the whole join then
    read every open case (a scan, or ix_cases_status); a lateral search a pair does not."""
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plan")
    with engine.connect() as connection:
        _many_cases(connection, 4_000)
        plan = _postgres_plan(connection, nearby_query("postgresql", PAIRS, SINCE))
        connection.rollback()
    assert "Index Scan using ix_cases_nearby on cases" in plan
    assert "ix_cases_status" not in plan and "Seq Scan on cases" not in plan


# Statistics that make ix_mentions_outcome look like the better index for a conversation's
# reports: one row an outcome, against half the table a conversation.
_FAVOUR_OUTCOME = (
    ("mentions", None, "1000000"),
    ("mentions", "ix_mentions_outcome", "1000000 1 1"),
    ("mentions", "ix_mentions_conversation", "1000000 500000 500000"),
)


@pytest.mark.parametrize("statistics", ["none", "fresh", "favouring ix_mentions_outcome"])
def test_on_sqlite_a_reply_finds_its_conversation_by_ix_mentions_conversation(
    engine: Engine, statistics: str
) -> None:
    """The thread look-up's conversation query (`prereads.conversation_reports`): without
    statistics, on a long history, SQLite chose ix_mentions_outcome, every report of the
    platform (389 ms a page on 1,000,000 past cases)."""
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's plans")
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.exec_driver_sql("DROP TABLE IF EXISTS sqlite_stat4")
        if statistics == "none":
            connection.exec_driver_sql("DROP TABLE sqlite_stat1")
        elif statistics != "fresh":
            connection.exec_driver_sql("DELETE FROM sqlite_stat1 WHERE tbl = 'mentions'")
            for row in _FAVOUR_OUTCOME:
                connection.exec_driver_sql("INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", row)
    engine.dispose()
    conversations = {("x", "1859100000000000001"), ("mastodon", "110")}
    with engine.connect() as connection:
        plan = sqlite_plan(connection, conversation_reports(conversations))
        old = sqlite_plan(
            connection,
            select(MentionRecord.case_id).where(
                col(MentionRecord.platform).in_({"x", "mastodon"}),
                col(MentionRecord.conversation_id).in_({"1859100000000000001", "110"}),
                col(MentionRecord.outcome).in_(REPORT_OUTCOMES),
            ),
        )
        rows = connection.execute(conversation_reports(conversations)).all()
    assert "USING INDEX ix_mentions_conversation" in plan
    assert "ix_mentions_outcome" not in plan
    # The unhinted query (`old`) takes ix_mentions_conversation too on a table this small: the
    # plan that reads every report shows on a long history (bench_intake's "no statistics" row).
    assert old.startswith("SEARCH mentions")
    assert rows == []  # still a query on the column, as before
