"""`manage.py run_worker` with its default task loops (WORKER_THREADS, several threads in
one process, issue 7): many orders at once, each sent exactly once, each request audited,
and SIGTERM still stops the process cleanly."""

import signal
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count
from django_tasks_db.models import DBTaskResult

from orderdesk.audit.models import ApiCall
from orderdesk.catalog.sync import sync_catalog
from orderdesk.orders.models import Order, State
from orderdesk.sandbox import faults
from orderdesk.sandbox.models import ExternalOrderId, FaultRule
from orderdesk.sandbox.testing import orders_with_reference, requests_received
from tests.audit.test_killed_worker import start_worker
from tests.core.test_worker_outage import Outage, WorkerProcess
from tests.orders.engine.test_pipeline import fast_pipeline, make_orders
from tests.support.worker import wait_until

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["fast_pipeline"]  # a fixture, used by name


def _all_submitted(ids: list[int]) -> bool:
    return not Order.objects.filter(pk__in=ids).exclude(state=State.SUBMITTED).exists()


def test_one_worker_process_sends_many_orders_at_once_each_exactly_once(
    sandbox, coordinator, tmp_path: Path
) -> None:
    assert settings.WORKER_THREADS > 1  # the shipped configuration is what runs here
    sync_catalog()
    orders = make_orders(coordinator, 100)
    ids = [order.pk for order in orders]
    worker = WorkerProcess(
        {
            **Outage(tmp_path).worker_env(),  # the test database, reached as the test does
            "IMPILO_BASE_URL": sandbox,
            "IMPILO_API_KEY": settings.SANDBOX_API_KEY,
        },
        tmp_path / "worker.log",
        "--no-periodic",
    )
    try:
        assert wait_until(lambda: _all_submitted(ids), 180), worker.log.read_text()
        worker.popen.send_signal(signal.SIGTERM)
        assert worker.popen.wait(10) == 0, worker.log.read_text()
    finally:
        worker.stop()

    for order in Order.objects.filter(pk__in=ids):
        assert order.attempts == 1, order.reference
        assert orders_with_reference(order.reference) == 1, order.reference
        assert ApiCall.objects.filter(order=order, action="order_create").count() == 1
    references = ExternalOrderId.objects.values("value").annotate(n=Count("order", distinct=True))
    assert not references.filter(n__gt=1).exists()
    assert requests_received() == ApiCall.objects.count(), "a request without its audit row"
    # The loops really ran side by side: the sends were shared among several threads.
    claimed_by = {
        worker_ids[-1]
        for worker_ids in DBTaskResult.objects.filter(task_path__endswith="send_order").values_list(
            "worker_ids", flat=True
        )
    }
    assert all(f"-{worker.popen.pid}-t" in claimer for claimer in claimed_by), claimed_by
    assert len(claimed_by) > 1, claimed_by


def test_sigterm_lets_every_order_being_sent_finish_then_exits_cleanly(
    coordinator, fast_pipeline, tmp_path: Path
) -> None:
    # Impilo holds two order requests at once: two loops of one process are mid-send.
    rule = faults.inject("latency", delay=2.0, count=2, method="POST", path=r"/api/v3/order$")
    orders = make_orders(coordinator, 2)
    log = tmp_path / "worker.log"
    worker = start_worker(fast_pipeline, log)
    try:
        held = wait_until(FaultRule.objects.filter(pk=rule.pk, fired=2).exists, timeout=60)
        assert held, log.read_text()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=15) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
    assert "shutting down gracefully" in log.read_text()
    for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
        assert order.state == State.SUBMITTED, order.reference  # finished, not abandoned
        assert ApiCall.objects.get(order=order, action="order_create").status_code == 201
