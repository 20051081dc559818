"""The trigram indexes of 0005 write their entries straight into the index (PostgreSQL only).

By default a GIN index first appends new entries to a "pending list" that every search
then reads in full, and that some unlucky write flushes into the index all at once. Every
state change of an order rewrites its row, so the worker kept that list full: at a million
orders, after a few thousand sends it was 107 pages and added ~2 ms to each search (its
default limit, 4 MB, is nearly five times that), and a submit could pay for flushing it.
With fastupdate off each write adds its own entries: in the bench, sends were no slower
(alternating runs, 66–75 orders/s either way) and no search reads a backlog. Without
pg_trgm (0005 made no index) there is nothing to change.
"""

from django.db import migrations

INDEXES = (
    "order_patient_name_trgm",
    "order_site_name_trgm",
    "order_reference_trgm",
    "order_external_ids_trgm",
)


def _indexes(schema_editor) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'i' AND relname = ANY(%s)",
            [list(INDEXES)],
        )
        return sorted(row[0] for row in cursor.fetchall())


def pending_list_off(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in _indexes(schema_editor):
        schema_editor.execute(f"ALTER INDEX {name} SET (fastupdate = off)")
        # Turning it off keeps what is already pending: move that into the index now.
        schema_editor.execute(f"SELECT gin_clean_pending_list('{name}'::regclass)")


def pending_list_on(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in _indexes(schema_editor):
        schema_editor.execute(f"ALTER INDEX {name} RESET (fastupdate)")


class Migration(migrations.Migration):
    dependencies = [("orders", "0007_sync_due")]

    operations = [migrations.RunPython(pending_list_off, pending_list_on, elidable=False)]
