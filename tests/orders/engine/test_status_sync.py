"""Status sync: one order refreshed from the sandbox over HTTP, the timeline note when the
status changes, the backoff schedule, and the bounded periodic job (its cost bounds:
test_sync_cost.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orderdesk.audit.models import ApiCall
from orderdesk.impilo.client import CreateOrderRequest, ImpiloClient
from orderdesk.impilo.types import ImpiloOrder
from orderdesk.orders.engine import status_sync
from orderdesk.orders.models import Order, OrderEvent, State
from orderdesk.sandbox import faults
from orderdesk.sandbox.testing import age_order, seed_ids
from tests.orders.orders_data import SHIPPED_JSON, make_order

STEP = 1000.0  # sandbox seconds per status step: statuses only move when a test ages an order


def sandbox_order(*, steps: float = 0) -> int:
    """An order created at the sandbox, `steps` statuses along (0 received … 4 delivered)."""
    ids = seed_ids()
    request = CreateOrderRequest(
        patient_id=ids.patient, site_id=None, items=[(ids.item, 1)], kits=[],
        external_order_ids=["OD-SYNCTEST"],
    )  # fmt: skip
    created = ImpiloClient().create_order(request)
    assert created.id is not None
    if steps:
        age_order(created.id, STEP * steps + 1)
    return created.id


@pytest.fixture
def impilo(sandbox, settings):
    settings.SANDBOX_STATUS_STEP_SECONDS = STEP
    return sandbox


# --- Words ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "label"),
    [("shipped", "Shipped"), ("availableForPickup", "Available for pickup"), ("weird", "")],
)
def test_known_statuses_have_a_friendly_label(status, label) -> None:
    assert status_sync.status_label(status) == label


def test_final_statuses_come_from_settings_in_any_case(settings) -> None:
    settings.ORDER_FINAL_IMPILO_STATUSES = ["delivered", "closedOut"]
    assert status_sync.is_final("Delivered")
    assert status_sync.is_final("closedout")
    assert not status_sync.is_final("shipped")
    assert not status_sync.is_final("")
    assert "CLOSEDOUT" in status_sync.final_statuses()


# --- One order -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_refresh_stores_what_impilo_says_and_notes_the_change(impilo, coordinator) -> None:
    impilo_id = sandbox_order(steps=3)
    order = make_order(coordinator, impilo_id=impilo_id, impilo_status="received")

    result = status_sync.refresh(order, actor=coordinator)

    order.refresh_from_db()
    assert (result.before, result.after, result.changed) == ("received", "shipped", True)
    assert order.impilo_status == "shipped"
    assert (order.impilo_order or {})["trackingNumbers"][0]["carrier"] == "UPS"
    assert order.impilo_synced_at is not None
    assert order.impilo_sync_due_at is not None
    assert order.impilo_sync_due_at > order.impilo_synced_at  # shipped: asked again later
    note = OrderEvent.objects.filter(order=order).latest("id")
    assert note.actor == coordinator
    assert note.reason == "Impilo status changed from “received” to “shipped”"
    assert note.to_state == ""
    call = ApiCall.objects.get(order=order)
    assert (call.action, call.method, call.status_code, call.actor) == (
        "order_fetch", "GET", 200, coordinator)  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_refresh_without_a_change_adds_no_note(impilo, coordinator) -> None:
    order = make_order(coordinator, impilo_id=sandbox_order(steps=1), impilo_status="processing")
    events = OrderEvent.objects.filter(order=order).count()
    assert not status_sync.refresh(order).changed
    assert OrderEvent.objects.filter(order=order).count() == events
    assert ApiCall.objects.filter(order=order, action="order_fetch").count() == 1


@pytest.mark.django_db
def test_an_answer_overtaken_by_another_refresh_is_dropped(coordinator) -> None:
    order = make_order(coordinator, impilo_status="received")
    newer = ImpiloOrder.from_json(SHIPPED_JSON)
    older = ImpiloOrder.from_json({**SHIPPED_JSON, "currentStatus": "packed"})
    assert status_sync.store(order, newer, before="received").changed
    assert not status_sync.store(order, older, before="received").stored
    order.refresh_from_db()
    assert order.impilo_status == "shipped"
    assert OrderEvent.objects.filter(order=order, reason__contains="Impilo status").count() == 1


@pytest.mark.django_db
def test_a_reply_without_a_status_keeps_the_one_we_had(coordinator) -> None:
    order = make_order(coordinator, impilo_status="packed")
    status_sync.store(order, ImpiloOrder.from_json({"id": 1}), before="packed")
    order.refresh_from_db()
    assert order.impilo_status == "packed"
    assert order.impilo_order == {"id": 1}


@pytest.mark.django_db
def test_a_final_answer_takes_the_order_off_the_schedule(coordinator, settings) -> None:
    settings.ORDER_FINAL_IMPILO_STATUSES = ["delivered"]
    order = make_order(coordinator, impilo_status="shipped")
    status_sync.store(order, ImpiloOrder.from_json({**SHIPPED_JSON, "currentStatus": "delivered"}),
               before="shipped")  # fmt: skip
    order.refresh_from_db()
    assert order.impilo_sync_due_at is None
    assert (
        not status_sync.due_orders(timezone.now() + timedelta(days=30)).filter(pk=order.pk).exists()
    )


@pytest.mark.django_db
def test_an_order_without_impilo_id_cannot_be_refreshed(coordinator) -> None:
    order = make_order(coordinator, state=State.QUEUED)
    with pytest.raises(ValueError, match="no Impilo order id"):
        status_sync.refresh(order)


# --- Schedule ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("age", "since_check", "due"),
    [
        (timedelta(minutes=1), timedelta(seconds=70), True),
        (timedelta(minutes=1), timedelta(seconds=30), False),
        (timedelta(hours=2), timedelta(minutes=5), False),
        (timedelta(hours=2), timedelta(minutes=65), True),
        (timedelta(days=2), timedelta(hours=7, minutes=59), False),
        (timedelta(days=2), timedelta(hours=8, minutes=1), True),
    ],
)
def test_orders_are_checked_less_often_as_they_age(
    coordinator, settings, age, since_check, due
) -> None:
    settings.ORDER_SYNC_MIN_SECONDS, settings.ORDER_SYNC_MAX_SECONDS = 60, 8 * 3600
    now = timezone.now()
    submitted = now - age
    next_due = status_sync.next_check(submitted, now - since_check, "shipped")
    order = make_order(coordinator, submitted_at=submitted, impilo_sync_due_at=next_due)
    assert status_sync.due_orders(now).filter(pk=order.pk).exists() is due


def test_a_final_status_needs_no_more_checks(settings) -> None:
    settings.ORDER_FINAL_IMPILO_STATUSES = ["delivered"]
    now = timezone.now()
    assert status_sync.next_check(now, now, "Delivered") is None
    assert status_sync.next_check(now, now, "shipped") is not None


@pytest.mark.django_db
def test_only_sent_orders_without_a_final_status_are_due(coordinator) -> None:
    never_synced = make_order(coordinator, impilo_status="shipped")
    make_order(coordinator, impilo_status="delivered")
    make_order(coordinator, impilo_status="Cancelled")
    make_order(coordinator, state=State.QUEUED)
    make_order(coordinator, state=State.RESOLVED, impilo_id=42)
    assert list(status_sync.due_orders(timezone.now())) == [never_synced]


# --- The periodic job --------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_periodic_job_refreshes_a_bounded_batch(impilo, coordinator, settings) -> None:
    settings.ORDER_SYNC_BATCH = 2
    settings.ORDER_SYNC_SLOT_SECONDS = 0  # one batch per run
    orders = [make_order(coordinator, impilo_id=sandbox_order(steps=2)) for _ in range(3)]
    assert status_sync.sync_due_orders() == 2
    assert sorted(Order.objects.values_list("impilo_status", flat=True)) == ["", "packed", "packed"]
    assert status_sync.sync_due_orders() == 1
    assert status_sync.sync_due_orders() == 0  # nothing due again so soon
    assert ApiCall.objects.filter(action="order_fetch").count() == len(orders)


@pytest.mark.django_db(transaction=True)
def test_periodic_job_stops_when_impilo_is_down_and_waits_its_turn(impilo, coordinator) -> None:
    for _ in range(3):
        make_order(coordinator, impilo_id=sandbox_order())
    faults.inject("status", method="GET", path=r"/api/v3/order/\d+$", status=503)
    assert status_sync.sync_due_orders() == 0
    assert ApiCall.objects.filter(action="order_fetch").count() == 1
    faults.clear()
    assert status_sync.sync_due_orders() == 2  # the failed one was claimed: it waits its interval


@pytest.mark.django_db
def test_orders_that_need_no_check_leave_the_schedule(coordinator, settings) -> None:
    """A status made final by a settings change, or an order no longer sent, is not asked
    about and no longer holds a place in the due index."""
    closed = make_order(coordinator, impilo_status="closedOut")
    resolved = make_order(coordinator, state=State.RESOLVED, impilo_id=42,
                          impilo_sync_due_at=timezone.now())  # fmt: skip
    settings.ORDER_FINAL_IMPILO_STATUSES = ["delivered", "closedOut"]
    assert status_sync.sync_due_orders() == 0
    assert (
        Order.objects.filter(pk__in=[closed.pk, resolved.pk], impilo_sync_due_at=None).count() == 2
    )


@pytest.mark.django_db(transaction=True)
def test_periodic_job_skips_an_order_impilo_does_not_know(impilo, coordinator) -> None:
    make_order(coordinator, impilo_id=999_999_999)
    known = make_order(coordinator, impilo_id=sandbox_order(steps=4))
    assert status_sync.sync_due_orders() == 1
    known.refresh_from_db()
    assert known.impilo_status == "delivered"
    assert (
        not status_sync.due_orders(timezone.now() + timedelta(days=30)).filter(pk=known.pk).exists()
    )
