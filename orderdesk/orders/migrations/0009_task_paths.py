"""Tasks already waiting in the queue name the function they run by its import path: when a
task function moves, the waiting rows are pointed at its new home."""

from django.db import migrations

MOVED = {
    "orderdesk.orders.tasks.send_order": "orderdesk.orders.engine.pipeline.send_order",
    "orderdesk.orders.tasks.reconcile_order": "orderdesk.orders.engine.pipeline.reconcile_order",
    "orderdesk.orders.webhooks.process_delivery": (
        "orderdesk.orders.engine.webhook_events.process_delivery"
    ),
}


def forward(apps, schema_editor):
    _repoint(apps, MOVED)


def backward(apps, schema_editor):
    _repoint(apps, {new: old for old, new in MOVED.items()})


def _repoint(apps, moves):
    results = apps.get_model("django_tasks_database", "DBTaskResult")
    for old, new in moves.items():
        results.objects.filter(task_path=old).update(task_path=new)


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0008_trigram_indexes_without_pending_list"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(forward, backward)]
