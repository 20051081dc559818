"""The needs-attention queue's own partial index, and better statistics for name search.

order_attention_queue_idx holds only the orders the queue can show (about 5 % of them),
in the queue's order, so its first page is the index's first rows at any size.

On PostgreSQL, the patient-name trigram index's expression gets a larger statistics
sample: with the default, the planner misjudges how many orders a name matches and may
walk the created_at index through a million rows instead of asking the trigram index.
"""

from django.db import migrations, models

STATISTICS_TARGET = 1000
# Created by 0005 (PostgreSQL with pg_trgm only).
NAME_INDEX = "order_patient_name_trgm"


def raise_statistics(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [NAME_INDEX])
        if not cursor.fetchone()[0]:
            return  # pg_trgm was unavailable: no index, the search scans
        cursor.execute(
            f"ALTER INDEX {NAME_INDEX} ALTER COLUMN 1 SET STATISTICS {STATISTICS_TARGET}"
        )
        table = schema_editor.quote_name(apps.get_model("orders", "Order")._meta.db_table)
        cursor.execute(f"ANALYZE {table}")


def reset_statistics(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [NAME_INDEX])
        if cursor.fetchone()[0]:
            cursor.execute(f"ALTER INDEX {NAME_INDEX} ALTER COLUMN 1 SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0005_search_trigram_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(
                    ("state__in", ["rejected", "failed", "needs_review", "unknown", "retry_wait"])
                ),
                fields=["state_changed_at", "id"],
                name="order_attention_queue_idx",
            ),
        ),
        migrations.RunPython(raise_statistics, reset_statistics, elidable=False),
    ]
