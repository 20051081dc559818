"""Tasks waiting in the queue when a task function moves still run after the migration."""

import importlib

import pytest
from django.apps import apps
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

migration = importlib.import_module("orderdesk.orders.migrations.0009_task_paths")


@pytest.mark.django_db
@pytest.mark.parametrize("old_path", sorted(migration.MOVED))
def test_a_task_queued_under_an_old_path_runs_from_the_new_one(old_path: str) -> None:
    waiting = DBTaskResult.objects.create(
        args_kwargs={"args": [1], "kwargs": {}},
        task_path=old_path,
        backend_name="default",
        run_after=timezone.now(),
    )
    migration.forward(apps, None)
    waiting.refresh_from_db()
    assert waiting.task.name == old_path.rsplit(".", 1)[1]  # the path imports to a Task
    migration.backward(apps, None)
    waiting.refresh_from_db()
    assert waiting.task_path == old_path
