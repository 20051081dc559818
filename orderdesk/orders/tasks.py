"""Background tasks (django-tasks, database backend). Thin: the work is in pipeline.py.

Enqueue calls are made inside the transaction that changes the order's state, so the task
row and the state change commit together (docs/architecture.md#from-a-request-to-impilo).
"""

from datetime import datetime

from django_tasks import task

from orderdesk.orders import pipeline


@task()
def send_order(order_id: int) -> str:
    return pipeline.send(order_id)


@task()
def reconcile_order(order_id: int, tries: int = 1) -> str:
    return pipeline.reconcile(order_id, tries)


def enqueue_send(order_id: int, run_after: datetime | None = None) -> None:
    send_order.using(run_after=run_after).enqueue(order_id)


def enqueue_reconcile(order_id: int, run_after: datetime | None = None, tries: int = 1) -> None:
    reconcile_order.using(run_after=run_after).enqueue(order_id, tries)
