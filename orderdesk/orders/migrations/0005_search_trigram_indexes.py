"""Trigram indexes for the Orders page's text search, on PostgreSQL only.

The search is icontains, i.e. LIKE '%…%': no B-tree helps, so among a million orders a
rare name means reading every row (seconds). pg_trgm's GIN indexes on exactly the
expressions Django writes for icontains (UPPER(column::text)) turn that into an index
lookup (milliseconds). SQLite has no equivalent and keeps the scan.

pg_trgm ships with PostgreSQL and is a trusted extension (13+), but a database user may
still lack the right to create it: then this migration logs a warning and does nothing,
and the search stays correct, only slower.
"""

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger(__name__)

# Index name → the expression Django's icontains produces for orders/history.py text_q().
INDEXES = {
    "order_patient_name_trgm": 'UPPER("patient_name"::text)',
    "order_site_name_trgm": 'UPPER("site_name"::text)',
    "order_reference_trgm": 'UPPER("reference"::text)',
    "order_external_ids_trgm": 'UPPER(("external_ids")::text)',
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:
        logger.warning("pg_trgm unavailable (%s): order search will scan instead", exc)
        return
    table = schema_editor.quote_name(apps.get_model("orders", "Order")._meta.db_table)
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression} gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("orders", "0004_support_fields")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
