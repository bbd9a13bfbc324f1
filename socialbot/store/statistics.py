"""The query planner's statistics, kept by socialbot itself.

SQLite gathers none on its own: without them (or with stale ones) its planner guesses, and a
guess once read every open case for each page of intake (issue 21). So `analyze` runs after
every migration (`store.db.upgrade`: `db upgrade`, `run`, `poll`, `demo`), and on SQLite
`socialbot run` runs it again every hour (`scheduler`, job `db:optimize`), from its start.

On SQLite each ANALYZE reads at most `ANALYSIS_LIMIT` rows an index (18 ms for 4 million rows,
measured): rough figures, all the planner needs. It is run directly rather than through `PRAGMA
optimize`, because before SQLite 3.46 (Debian 12 ships 3.40, Ubuntu 24.04 3.45) optimize only
looks at tables the connection running it has itself queried, and a job on a pooled connection
then does nothing (measured on 3.40: no statistics written for a table that had none). On
PostgreSQL autovacuum keeps them, after migrations too (`store.db.upgrade` says why); `analyze`
there, when called, takes only socialbot's tables, for the database may hold other schemas.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import SQLModel

import socialbot.store.models  # noqa: F401  (the tables, in SQLModel.metadata)

ANALYSIS_LIMIT = 400  # SQLite's advice: 100 to 1,000


def analyze(engine: Engine) -> None:
    """Fresh statistics for socialbot's tables."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
            connection.exec_driver_sql("ANALYZE")
            return
        tables = sorted(SQLModel.metadata.tables)
        connection.exec_driver_sql("ANALYZE " + ", ".join(f'"{name}"' for name in tables))


def keeps_statistics(engine: Engine) -> bool:
    """Whether `socialbot run` must keep this database's statistics itself (SQLite)."""
    return engine.dialect.name == "sqlite"
