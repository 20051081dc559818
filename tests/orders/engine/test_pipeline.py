"""The submission pipeline against the sandbox over real HTTP, fault by fault.

What must hold after the worker settles: every order reaches a state a person can see and
act on, no two Impilo orders carry the same reference, every attempt is in the audit log.
"""

import random
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Count
from django.utils import timezone

from orderdesk.audit.models import ApiCall
from orderdesk.catalog.sync import sync_catalog
from orderdesk.impilo.client import ImpiloClient
from orderdesk.orders.engine import gate, pipeline
from orderdesk.orders.models import Order, SendingGate, State
from orderdesk.orders.patients import choice_from_patient
from orderdesk.orders.services import OrderInput, order_create
from orderdesk.sandbox import faults
from orderdesk.sandbox.testing import orders_with_reference, requests_received, seed_ids
from tests.audit.test_views import make_call
from tests.orders.factories import line
from tests.support.worker import running_workers, wait_until

pytestmark = pytest.mark.django_db(transaction=True)
SETTLED = {State.SUBMITTED, State.REJECTED, State.FAILED, State.NEEDS_REVIEW}


@pytest.fixture
def fast_pipeline(settings, sandbox, monkeypatch):
    settings.ORDER_RETRY_BASE_SECONDS = 0.05
    settings.ORDER_RETRY_MAX_SECONDS = 0.3
    settings.ORDER_MAX_ATTEMPTS = 5
    settings.IMPILO_READ_TIMEOUT = 0.6
    settings.BREAKER_FAILURE_THRESHOLD = 10_000  # breaker has its own test
    # Reconcile must not look before a create that outlasted the client's timeout could have
    # committed at Impilo: with several task loops per worker (WORKER_THREADS) the live
    # sandbox on SQLite took over 1 s for a plain create under this test's load, a 0.05 s
    # delay found the order "absent" and sent it twice. (Production: 3 s after a 10 s timeout.)
    # The same holds for "absent long enough": the sandbox's create can commit seconds
    # after the call on a loaded 2-core machine, and an order found absent too early is
    # sent twice. 5 s stays far below production's 60 s and keeps the test meaningful.
    monkeypatch.setattr(pipeline, "RECONCILE_DELAY_SECONDS", 2.0)
    settings.ORDER_ABSENT_AFTER_SECONDS = 5.0
    sync_catalog()
    return sandbox


def make_orders(user, count: int, *, item_id: int | None = None) -> list[Order]:
    from orderdesk.catalog.models import orderable_items

    patient = next(
        p
        for p in ImpiloClient().search_patients(size=50).content
        if not p.archived and p.enrolled is not False
    )
    item = orderable_items().order_by("impilo_id").first()
    assert item is not None
    data = OrderInput(
        recipient_type="patient",
        patient=choice_from_patient(patient),
        site_id=None,
        site_name="",
        site_city="",
        lines=[line("item", item_id or item.impilo_id)],
        external_ids=[],
    )
    return [
        order_create(actor=user, data=data, form_token=uuid.uuid4(), submit=True)
        for _ in range(count)
    ]


def settle(orders: list[Order], timeout: float = 60.0, workers: int = 1) -> dict[str, str]:
    ids = [o.pk for o in orders]
    with running_workers(workers):
        wait_until(
            lambda: (
                set(Order.objects.filter(pk__in=ids).values_list("state", flat=True)) <= SETTLED
            ),
            timeout=timeout,
        )
    return dict(Order.objects.filter(pk__in=ids).values_list("reference", "state"))


def assert_invariants(orders: list[Order]) -> None:
    for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
        found = orders_with_reference(order.reference)
        assert found <= 1, f"{order.reference} was created {found} times at Impilo"
        if order.state == State.SUBMITTED:
            assert found == 1
            assert order.impilo_id
        attempts = ApiCall.objects.filter(order=order, action="order_create").count()
        assert attempts == order.attempts, order.reference


def test_a_queued_order_is_sent_once_and_submitted(coordinator, fast_pipeline) -> None:
    [order] = make_orders(coordinator, 1)
    assert order.state == State.QUEUED
    assert settle([order]) == {order.reference: State.SUBMITTED}
    order.refresh_from_db()
    assert order.attempts == 1
    assert order.submitted_at is not None
    assert order.impilo_sync_due_at is not None  # status sync will ask about it
    assert order.impilo_sync_due_at > order.submitted_at
    assert orders_with_reference(order.reference) == 1
    call = ApiCall.objects.get(order=order, action="order_create")
    assert call.status_code == 201
    assert order.reference in call.request_body
    assert_invariants([order])


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"kind": "status", "status": 503, "count": 2}, State.SUBMITTED),
        ({"kind": "status", "status": 500, "count": 1}, State.SUBMITTED),
        ({"kind": "status", "status": 502, "count": 1}, State.SUBMITTED),
        ({"kind": "status", "status": 504, "count": 1}, State.SUBMITTED),
        ({"kind": "rate_limit", "retry_after": "0", "count": 2}, State.SUBMITTED),
        (
            {"kind": "rate_limit", "retry_after": "Wed, 21 Oct 2015 07:28:00 GMT", "count": 1},
            State.SUBMITTED,
        ),
        ({"kind": "rate_limit", "retry_after": "soon-ish", "count": 1}, State.SUBMITTED),
        ({"kind": "reset", "count": 1}, State.SUBMITTED),
        ({"kind": "reset_after_create", "count": 1}, State.SUBMITTED),
        ({"kind": "timeout_after_create", "delay": 1.0, "count": 1}, State.SUBMITTED),
        ({"kind": "timeout_no_create", "delay": 1.0, "count": 1}, State.SUBMITTED),
        ({"kind": "garbage_201", "count": 1}, State.SUBMITTED),
        ({"kind": "status", "status": 503}, State.FAILED),
    ],
    ids=lambda value: (
        "-".join(str(v) for v in value.values()) if isinstance(value, dict) else value
    ),
)
def test_each_fault_ends_visible_with_no_duplicate(
    coordinator, fast_pipeline, settings, fault, expected
) -> None:
    if fault.get("kind") == "rate_limit":
        settings.ORDER_RETRY_MAX_SECONDS = 0.3  # caps a garbage or far-future Retry-After
    faults.inject(method="POST", path=r"/api/v3/order$", **fault)
    [order] = make_orders(coordinator, 1)
    assert settle([order]) == {order.reference: expected}
    assert_invariants([order])


def test_a_rejected_order_is_not_retried(coordinator, fast_pipeline) -> None:
    # The form never offers it; Impilo's own check must still be handled.
    [order] = make_orders(coordinator, 1, item_id=seed_ids().non_orderable_item)
    assert settle([order]) == {order.reference: State.REJECTED}
    order.refresh_from_db()
    assert order.attempts == 1
    assert "orderable" in order.last_error


def test_connection_refused_retries_until_failed(coordinator, fast_pipeline, settings) -> None:
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    [order] = make_orders(coordinator, 1)
    settings.IMPILO_BASE_URL = f"http://127.0.0.1:{port}"
    assert settle([order]) == {order.reference: State.FAILED}
    order.refresh_from_db()
    assert order.attempts == settings.ORDER_MAX_ATTEMPTS
    assert set(ApiCall.objects.filter(order=order).values_list("outcome", flat=True)) == {
        "unavailable"
    }


def test_a_refused_key_pauses_sending_until_it_works_again(coordinator, fast_pipeline) -> None:
    [order] = make_orders(coordinator, 1)
    faults.inject(kind="status", status=401, count=1)
    with running_workers(1):
        assert wait_until(lambda: SendingGate.get().auth_paused, timeout=20)
        # The worker pauses the gate, then moves the order on: wait for both, not one.
        assert wait_until(
            lambda: Order.objects.get(pk=order.pk).state == State.RETRY_WAIT, timeout=10
        )
        assert pipeline.probe_auth_pause() is True
        assert wait_until(
            lambda: Order.objects.get(pk=order.pk).state == State.SUBMITTED, timeout=30
        )
    assert_invariants([order])


def test_a_worker_that_died_mid_send_leaves_an_order_the_sweeper_reconciles(
    coordinator, fast_pipeline
) -> None:
    [order] = make_orders(coordinator, 1)
    # What a SIGKILL between "sending committed" and the answer leaves behind, after Impilo
    # did create the order: reproduce it by sending and then forcing the state back.
    pipeline.send(order.pk)
    Order.objects.filter(pk=order.pk).update(state=State.SENDING, lease_until="2000-01-01T00:00Z")
    assert pipeline.sweep_expired_leases() == 1
    assert settle([order]) == {order.reference: State.SUBMITTED}
    assert orders_with_reference(order.reference) == 1


def test_absence_is_trusted_only_once_the_last_create_is_old_enough(
    coordinator, fast_pipeline, settings
) -> None:
    # A create that outlasted our read timeout may commit at Impilo after reconcile looked
    # (4 task loops on a busy machine sent such an order twice): "absent" must wait.
    recent, old = make_orders(coordinator, 2)
    long_ago = timezone.now() - timedelta(seconds=settings.ORDER_ABSENT_AFTER_SECONDS + 1)
    for order, at in [(recent, timezone.now()), (old, long_ago)]:
        Order.objects.filter(pk=order.pk).update(state=State.UNKNOWN, attempts=1)
        make_call(order=order, action="order_create", status_code=None, outcome="ambiguous", at=at)
    assert pipeline.reconcile(recent.pk) == "check later"
    assert Order.objects.get(pk=recent.pk).state == State.UNKNOWN
    assert pipeline.reconcile(old.pk) == "absent"
    assert Order.objects.get(pk=old.pk).state == State.RETRY_WAIT


@pytest.mark.timeout(600)  # settles for up to 240 s on a busy machine
def test_two_hundred_orders_under_random_faults_are_never_lost_or_duplicated(
    coordinator, fast_pipeline
) -> None:
    rng = random.Random(20261126)
    kinds: list[dict[str, Any]] = [
        {"kind": "status", "status": 503},
        {"kind": "status", "status": 500},
        {"kind": "rate_limit", "retry_after": "0"},
        {"kind": "reset"},
        {"kind": "reset_after_create"},
        {"kind": "garbage_201"},
        {"kind": "timeout_after_create", "delay": 0.8},
        {"kind": "timeout_no_create", "delay": 0.8},
    ]
    for fault in rng.sample(kinds, len(kinds)):
        faults.inject(method="POST", path=r"/api/v3/order$", rate=0.04, **fault)
    orders = make_orders(coordinator, 200)
    states = settle(orders, timeout=240, workers=2)
    assert set(states.values()) <= SETTLED, {s for s in states.values()} - SETTLED
    assert_invariants(orders)
    duplicates = (
        ApiCall.objects.filter(action="order_create", status_code=201)
        .values("order")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not duplicates.exists()
    assert requests_received() == ApiCall.objects.count(), "a request without its audit row"


def test_two_workers_never_send_the_same_order_twice_even_with_duplicate_tasks(
    coordinator, fast_pipeline
) -> None:
    orders = make_orders(coordinator, 20)
    for order in orders:  # a duplicate task per order, as the stale-order safety net may add
        pipeline.enqueue_send(order.pk)
        pipeline.enqueue_send(order.pk)
    states = settle(orders, workers=2)
    assert set(states.values()) == {State.SUBMITTED}
    for order in orders:
        assert ApiCall.objects.filter(order=order, action="order_create").count() == 1
        assert orders_with_reference(order.reference) == 1


def test_an_order_whose_task_was_lost_is_sent_by_the_stale_sweep(
    coordinator, fast_pipeline, settings
) -> None:
    from django_tasks_db.models import DBTaskResult

    lost, fresh = make_orders(coordinator, 2)
    # What a task loop that claimed a task as the database went away leaves: an order still
    # queued, and no task that will ever run it.
    DBTaskResult.objects.all().delete()
    long_ago = timezone.now() - timedelta(seconds=settings.ORDER_STALE_SECONDS + 1)
    Order.objects.filter(pk=lost.pk).update(next_attempt_at=long_ago)
    gate.pause_for_auth("key refused")
    assert pipeline.requeue_stale() == 0  # paused: a task would only re-enqueue itself
    SendingGate.objects.filter(pk=1).update(auth_paused=False)
    assert pipeline.requeue_stale() == 1
    with running_workers(1):
        assert wait_until(lambda: Order.objects.get(pk=lost.pk).state == State.SUBMITTED)
    assert Order.objects.get(pk=fresh.pk).state == State.QUEUED
    assert orders_with_reference(lost.reference) == 1
