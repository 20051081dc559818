"""Bulk loading for the bench dataset: raw rows with explicit ids, no model instances.

PostgreSQL gets COPY; SQLite gets executemany inside one transaction per batch. Secondary
indexes are dropped before the load and built once after it, which is several times faster
than keeping them up to date row by row, and leaves them as compact as a fresh build.
"""

import contextlib
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.management.color import no_style
from django.db import DatabaseError, connection, models, transaction

Row = dict[str, Any]


def _converter(field: models.Field[Any, Any]) -> Callable[[Any], Any] | None:
    """How one column's Python value goes to the database, without Django's per-value work."""
    ops = connection.ops
    if isinstance(field, models.DateTimeField) and connection.vendor != "postgresql":
        return lambda value: value if value is None else ops.adapt_datetimefield_value(value)
    if isinstance(field, models.JSONField):
        # Large JSON (a stored Impilo order) arrives already serialised: it is built as text.
        return lambda value: value if value is None or isinstance(value, str) else json.dumps(value)
    if isinstance(field, models.UUIDField) and connection.vendor != "postgresql":
        return lambda value: value.hex if isinstance(value, uuid.UUID) else value
    return None


class Table:
    """One model's rows, written in batches in the column order of the table."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        # Only the columns that need it: most values go to the database as they are.
        self.convert = [
            (index, convert)
            for index, convert in enumerate(_converter(field) for field in self.fields)
            if convert is not None
        ]
        self.names = [field.attname for field in self.fields]
        quote = connection.ops.quote_name
        self.table = quote(model._meta.db_table)
        self.columns = ", ".join(quote(field.column) for field in self.fields)
        self.rows = 0

    def write(self, rows: Iterable[Row]) -> None:
        values = []
        for row in rows:
            value = [row.get(name) for name in self.names]
            for index, convert in self.convert:
                value[index] = convert(value[index])
            values.append(value)
        if not values:
            return
        self.rows += len(values)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {self.table} ({self.columns}) FROM STDIN") as copy:
                    for value in values:
                        copy.write_row(value)
                return
            marks = ", ".join(["%s"] * len(self.fields))
            sql = f"INSERT INTO {self.table} ({self.columns}) VALUES ({marks})"  # noqa: S608
            cursor.executemany(sql, values)


@contextmanager
def fast_load(tables: Sequence[type[models.Model]]) -> Any:
    """Drop the tables' secondary indexes, relax durability for the load, rebuild after.

    Every index that backs no constraint goes, whoever made it (Meta.indexes, foreign key
    indexes, indexes a migration made with raw SQL such as the trigram ones): a GIN index
    kept up to date row by row would slow a million-row COPY several times over.
    """
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET maintenance_work_mem = '512MB'")
            cursor.execute("SET synchronous_commit = off")
            # Foreign keys are triggers: the loader writes consistent ids, skip the checks.
            # (Needs a superuser, as the local postgres is; anyone else loads with them on.)
            with contextlib.suppress(DatabaseError), transaction.atomic():
                cursor.execute("SET session_replication_role = replica")
        else:
            cursor.execute("PRAGMA synchronous = OFF")
        dropped = [sql for model in tables for sql in _drop_indexes(cursor, model)]
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for sql in dropped:
                cursor.execute(sql)
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")
                cursor.execute("SET synchronous_commit = on")
            else:
                cursor.execute("PRAGMA synchronous = NORMAL")


def _drop_indexes(cursor: Any, model: type[models.Model]) -> list[str]:
    """Drop the table's non-constraint indexes; return the statements that make them again."""
    table = model._meta.db_table
    if connection.vendor == "postgresql":
        cursor.execute(
            """
            SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = %s::regclass AND NOT x.indisunique AND NOT x.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
            """,
            [connection.ops.quote_name(table)],
        )
    else:
        # Indexes SQLite makes for UNIQUE and PRIMARY KEY have no SQL and stay.
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s"
            " AND sql IS NOT NULL",
            [table],
        )
    found = cursor.fetchall()
    remake = [sql for _, sql in found]
    if connection.vendor == "postgresql":
        remake += _statistics_targets(cursor, [name for name, _ in found])
    for name, _ in found:
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return remake


def _statistics_targets(cursor: Any, indexes: list[str]) -> list[str]:
    """A migration's SET STATISTICS on an index column (pg_get_indexdef leaves it out)."""
    if not indexes:
        return []
    cursor.execute(
        """
        SELECT c.relname, a.attnum, a.attstattarget FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        WHERE c.relname = ANY(%s) AND a.attnum > 0 AND a.attstattarget > 0
        """,
        [indexes],
    )
    quote = connection.ops.quote_name
    return [
        f"ALTER INDEX {quote(name)} ALTER COLUMN {number} SET STATISTICS {target}"
        for name, number, target in cursor.fetchall()
    ]


def reset_sequences(all_models: Sequence[type[models.Model]]) -> None:
    """Rows went in with explicit ids; PostgreSQL's sequences must move past them."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(all_models))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def analyze() -> None:
    """Fresh planner statistics, and on PostgreSQL a visibility map (index-only scans), as
    autovacuum would leave a database that has been running for a while."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
