"""When the status-sync job should next ask Impilo about an order, kept on the order.

The job used to find due orders by a condition over every sent order's age and last
check, which no index serves: ~0.5 s per run at a million orders. Now it reads the first
rows of a partial index holding only the orders it still has to ask about.

Orders already sent and not final are due at their last check (or their sending), so the
job takes them oldest first, as before.
"""

from django.conf import settings
from django.db import migrations, models
from django.db.models.functions import Coalesce


def schedule_sent_orders(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    spellings: set[str] = set()  # as orders.sync.final_statuses() (not imported: a migration)
    for status in settings.ORDER_FINAL_IMPILO_STATUSES:
        spellings |= {status, status.lower(), status.upper(), status.title()}
    (
        Order.objects.filter(state="submitted", impilo_id__isnull=False)
        .exclude(impilo_status__in=sorted(spellings))
        .update(
            impilo_sync_due_at=Coalesce(
                models.F("impilo_synced_at"), models.F("submitted_at"), models.F("created_at")
            )
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0006_attention_queue_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="impilo_sync_due_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(schedule_sent_orders, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(("impilo_sync_due_at__isnull", False)),
                fields=["impilo_sync_due_at", "id"],
                name="order_sync_due_idx",
            ),
        ),
    ]
