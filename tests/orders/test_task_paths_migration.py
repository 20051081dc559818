"""Tasks waiting in the queue when a task function moves still run after the migration."""

import importlib

import pytest
from django.apps import apps
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from orderdesk.orders.pipeline import send_order

migration = importlib.import_module("orderdesk.orders.migrations.0009_task_paths")


@pytest.mark.django_db
def test_a_task_queued_under_the_old_path_points_at_the_new_one() -> None:
    waiting = DBTaskResult.objects.create(
        args_kwargs={"args": [1], "kwargs": {}},
        task_path="orderdesk.orders.tasks.send_order",
        backend_name="default",
        run_after=timezone.now(),
    )
    migration.forward(apps, None)
    waiting.refresh_from_db()
    assert waiting.task.func is send_order.func
    migration.backward(apps, None)
    waiting.refresh_from_db()
    assert waiting.task_path == "orderdesk.orders.tasks.send_order"
