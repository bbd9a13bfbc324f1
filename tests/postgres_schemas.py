"""PostgreSQL schemas for tests, a new one each, migrated schemas reused.

Every PostgreSQL test gets an empty schema of its own (`database_url`). Migrating one costs about
0.25 s of DDL on this machine, even replayed (tests/migrate_once.py), and dropping it more. So a
finished test's schema that is still exactly what the migration built (the same tables, columns,
defaults, constraints, indexes and triggers, at the head revision) is emptied of rows, its
sequences set back to their start, and kept under a name of its own; the next migration of an
empty schema to head takes a kept one by renaming it, which PostgreSQL does in its catalog alone.
A test can tell no difference: its schema is empty until it migrates it, and is then as new.
A schema a test changed (a downgrade, a column dropped, rows in alembic_version) is dropped.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool

# Everything a migration decides about a schema, as one digest (index definitions name their
# schema: left out), and what a test could add besides: rules, types and domains, a sequence's
# step or bounds, a trigger turned off, a function's body.
_SHAPE = text(
    """
    SELECT md5(concat_ws('|',
        (SELECT string_agg(c.relname || ':' || c.relkind::text, ',' ORDER BY c.relname)
           FROM pg_class c WHERE c.relnamespace = n.oid),
        (SELECT string_agg(c.relname || '.' || a.attname || ':' || format_type(a.atttypid,
                a.atttypmod) || ':' || a.attnotnull::text || ':' ||
                coalesce(pg_get_expr(d.adbin, d.adrelid), ''), ',' ORDER BY c.relname, a.attnum)
           FROM pg_class c
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
          WHERE c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v', 'm')),
        (SELECT string_agg(co.conname || ':' || pg_get_constraintdef(co.oid), ','
                ORDER BY co.conname)
           FROM pg_constraint co WHERE co.connamespace = n.oid),
        (SELECT string_agg(i.indexname || ':' || replace(i.indexdef, i.schemaname || '.', ''),
                ',' ORDER BY i.indexname)
           FROM pg_indexes i WHERE i.schemaname = n.nspname),
        (SELECT string_agg(pg_get_triggerdef(t.oid) || ':' || t.tgenabled::text, ','
                ORDER BY t.tgname)
           FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
          WHERE c.relnamespace = n.oid AND NOT t.tgisinternal),
        (SELECT string_agg(p.proname || ':' || md5(p.prosrc), ',' ORDER BY p.proname)
           FROM pg_proc p WHERE p.pronamespace = n.oid),
        (SELECT string_agg(r.rulename || ':' || r.definition, ',' ORDER BY r.rulename)
           FROM pg_rules r WHERE r.schemaname = n.nspname),
        (SELECT string_agg(ty.typname || ':' || ty.typtype::text, ',' ORDER BY ty.typname)
           FROM pg_type ty WHERE ty.typnamespace = n.oid),
        (SELECT string_agg(concat_ws(':', s.sequencename, s.start_value, s.increment_by,
                s.min_value, s.max_value, s.cycle, s.cache_size), ',' ORDER BY s.sequencename)
           FROM pg_sequences s WHERE s.schemaname = n.nspname)
    ))
    FROM pg_namespace n WHERE n.nspname = :schema
    """
)


class SchemaPool:
    """The schemas of one test process on the server at `url`."""

    def __init__(self, url: str) -> None:
        self._admin: Engine = create_engine(url, poolclass=NullPool)
        self._kept: list[str] = []
        self._shape: str | None = None  # of a schema the migration has just built
        self._revision: str | None = None
        self.taken = self.kept = self.dropped = 0  # for a look at how it does

    def new(self) -> str:
        """A new, empty schema."""
        schema = f"t_{uuid.uuid4().hex[:12]}"
        with self._admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        return schema

    def migrated(self, engine: Engine) -> None:
        """`engine`'s schema was just migrated to head: what a kept schema must look like."""
        if self._shape is not None:
            return
        with engine.connect() as connection:
            schema = connection.exec_driver_sql("SELECT current_schema()").scalar_one()
            self._revision = connection.exec_driver_sql(
                "SELECT version_num FROM alembic_version"
            ).scalar_one()
        with self._admin.begin() as connection:
            self._shape = self._shape_of(connection, schema)

    def take(self, engine: Engine) -> bool:
        """Make `engine`'s empty schema a kept migrated one; False when none is kept."""
        if not self._kept:
            return False
        kept = self._kept.pop()
        with engine.connect() as connection:
            schema = connection.exec_driver_sql("SELECT current_schema()").scalar()
        if schema is None:  # the search path names no schema that exists
            self._kept.append(kept)
            return False
        with self._admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}"'))  # empty: no CASCADE
            connection.execute(text(f'ALTER SCHEMA "{kept}" RENAME TO "{schema}"'))
        self.taken += 1
        return True

    def done(self, schema: str) -> None:
        """A test is done with `schema`: kept when it is still as migrated, else dropped."""
        with self._admin.begin() as connection:
            connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            if self._shape is not None and self._as_migrated(connection, schema):
                self._empty(connection, schema)
                kept = f"k_{uuid.uuid4().hex[:12]}"
                connection.execute(text(f'ALTER SCHEMA "{schema}" RENAME TO "{kept}"'))
                self._kept.append(kept)
                self.kept += 1
            else:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                self.dropped += 1

    def close(self) -> None:
        with self._admin.begin() as connection:
            for kept in self._kept:
                connection.execute(text(f'DROP SCHEMA "{kept}" CASCADE'))
        self._kept.clear()
        self._admin.dispose()

    def _as_migrated(self, connection: Connection, schema: str) -> bool:
        if self._shape_of(connection, schema) != self._shape:
            return False
        revisions = connection.execute(
            text(f'SELECT version_num FROM "{schema}".alembic_version')
        ).scalars()
        return list(revisions) == [self._revision]

    @staticmethod
    def _shape_of(connection: Connection, schema: str) -> str | None:
        # Read from inside the schema: defaults and constraints then name its objects unqualified.
        connection.execute(text(f'SET LOCAL search_path = "{schema}"'))
        return connection.execute(_SHAPE, {"schema": schema}).scalar()

    @staticmethod
    def _empty(connection: Connection, schema: str) -> None:
        """Every row out (but the revision) and every sequence back to its start."""
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")  # no FK order
        tables = connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = :schema "
                "AND tablename <> 'alembic_version'"
            ),
            {"schema": schema},
        ).scalars()
        for table in list(tables):
            connection.execute(text(f'DELETE FROM "{schema}"."{table}"'))
        connection.execute(
            text(
                "SELECT setval(c.oid, s.seqstart, false) FROM pg_class c "
                "JOIN pg_sequence s ON s.seqrelid = c.oid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = :schema"
            ),
            {"schema": schema},
        )
