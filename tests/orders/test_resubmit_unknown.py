"""Support and an order whose outcome is unknown: Impilo must never get it twice.

Through the real views and the real worker, against the sandbox over HTTP: the sandbox's
fault rules lose the answer to a create (the order exists at Impilo), time it out before
anything is created (it does not), or hold it past our timeout and create it afterwards
(it will, any moment now).
"""

import pytest
from django.db.models import Q
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from orderdesk.audit.models import ApiCall
from orderdesk.catalog.models import orderable_items
from orderdesk.catalog.sync import sync_catalog
from orderdesk.impilo.client import ImpiloClient
from orderdesk.orders.engine import pipeline
from orderdesk.orders.models import Order, State
from orderdesk.orders.patients import choice_from_patient
from orderdesk.sandbox import faults
from orderdesk.sandbox.models import Order as ImpiloOrder
from orderdesk.sandbox.testing import orders_with_reference
from tests.orders.factories import order_post
from tests.support.worker import running_workers, wait_until

pytestmark = pytest.mark.django_db(transaction=True)
CREATE = r"/api/v3/order$"


@pytest.fixture
def impilo(sandbox, settings, monkeypatch):
    # Generous for a busy machine: support's own look at Impilo's list must not time out.
    settings.IMPILO_READ_TIMEOUT = 1.5
    settings.ORDER_ABSENT_AFTER_SECONDS = 4.5  # past the slowest create below (3.5 s)
    settings.ORDER_RETRY_BASE_SECONDS = 0.05
    settings.ORDER_RETRY_MAX_SECONDS = 0.2
    # The worker's own check comes much later: each test has support act first.
    monkeypatch.setattr(pipeline, "RECONCILE_DELAY_SECONDS", 600.0)
    sync_catalog()
    return sandbox


def place_order(client: Client) -> Order:
    """A coordinator submits the New order form for a patient Impilo knows."""
    patient = next(
        p
        for p in ImpiloClient().search_patients(size=50).content
        if not p.archived and p.enrolled is not False
    )
    item = orderable_items().order_by("impilo_id").first()
    assert item is not None
    data = order_post(
        patient=choice_from_patient(patient).remember(), **{"line-id": [str(item.impilo_id)]}
    )
    response = client.post("/orders/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Order.objects.get()


def send_until_unknown(order: Order) -> None:
    """Run the worker until the order's outcome is unknown, then stop it."""
    with running_workers(1):
        assert wait_until(lambda: state_of(order) == State.UNKNOWN, timeout=30), state_of(order)
    order.refresh_from_db()
    assert order.impilo_id is None


def state_of(order: Order) -> str:
    return Order.objects.values_list("state", flat=True).get(pk=order.pk)


def creates_sent(order: Order) -> int:
    return ApiCall.objects.filter(order=order, action="order_create").count()


def message_after(client: Client, response) -> str:
    """The page a redirect leads to, with its flash message."""
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    start = page.find('id="messages"')
    return page[start : start + 600] if start >= 0 else "(no message) " + page


def drain_worker(order: Order) -> None:
    """Let the worker run every task that is due now (a resend, if one was queued)."""

    def idle() -> bool:
        due = DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).filter(
            Q(run_after__isnull=True) | Q(run_after__lte=timezone.now())
        )
        settled = state_of(order) not in (State.QUEUED, State.SENDING, State.RETRY_WAIT)
        return settled and not due.exists()

    with running_workers(1):
        assert wait_until(idle, timeout=20)


@pytest.mark.parametrize("action", ["resubmit", "check"])
def test_an_unknown_order_impilo_has_is_marked_sent_not_sent_again(
    impilo, coordinator_client, support_client, action: str
) -> None:
    order = place_order(coordinator_client)
    faults.inject("reset_after_create", method="POST", path=CREATE, count=1)
    send_until_unknown(order)
    assert orders_with_reference(order.reference) == 1  # Impilo did create it
    impilo_id = ImpiloOrder.objects.get(external_ids__value=order.reference).pk

    if action == "resubmit":
        response = support_client.post(
            f"/orders/{order.reference}/resubmit/", {"reason": "Lost answer"}
        )
        expected = f"Not resubmitted. Impilo has {order.reference} as order {impilo_id}"
    else:
        response = support_client.post(f"/orders/{order.reference}/check/")
        expected = f"Impilo has {order.reference} as order {impilo_id}; it is now marked as sent."
    page = message_after(support_client, response)
    assert expected in page

    order.refresh_from_db()
    assert (order.state, order.impilo_id) == (State.SUBMITTED, impilo_id)
    assert str(impilo_id) in page  # the order's page shows Impilo's id
    drain_worker(order)
    assert orders_with_reference(order.reference) == 1
    assert creates_sent(order) == 1


def test_an_unknown_order_impilo_does_not_have_is_sent_exactly_once_more(
    impilo, coordinator_client, support_client
) -> None:
    order = place_order(coordinator_client)
    # Impilo holds the create past our read timeout, then fails it: nothing was created.
    faults.inject("timeout_no_create", method="POST", path=CREATE, count=1, delay=2.5)
    send_until_unknown(order)
    assert orders_with_reference(order.reference) == 0
    assert wait_until(lambda: pipeline.absence_certain_at(order) <= timezone.now(), timeout=15)

    checked = support_client.post(f"/orders/{order.reference}/check/")
    assert f"{order.reference} is not at Impilo." in message_after(support_client, checked)
    assert state_of(order) == State.UNKNOWN  # a check alone sends nothing

    response = support_client.post(
        f"/orders/{order.reference}/resubmit/", {"reason": "Impilo never got it"}
    )
    page = message_after(support_client, response)
    assert f"Impilo does not have {order.reference}: queued again." in page
    with running_workers(1):
        assert wait_until(lambda: state_of(order) == State.SUBMITTED, timeout=30)
    drain_worker(order)
    assert orders_with_reference(order.reference) == 1
    assert creates_sent(order) == 2  # the lost one, and the one resent


@pytest.mark.parametrize("action", ["resubmit", "check"])
def test_a_send_that_may_still_arrive_is_not_resent(
    impilo, coordinator_client, support_client, action: str
) -> None:
    """Impilo is slow: it creates the order after our timeout gave up. Until the absence
    window has passed, "not in Impilo's list" proves nothing and nothing is resent."""
    order = place_order(coordinator_client)
    faults.inject("latency", method="POST", path=CREATE, count=1, delay=3.5)
    send_until_unknown(order)
    assert orders_with_reference(order.reference) == 0  # not yet

    if action == "resubmit":
        response = support_client.post(
            f"/orders/{order.reference}/resubmit/", {"reason": "Try again"}
        )
    else:
        response = support_client.post(f"/orders/{order.reference}/check/")
    page = message_after(support_client, response)
    assert "not at Impilo yet, but the last send may still reach it" in page
    assert state_of(order) == State.UNKNOWN

    drain_worker(order)
    assert wait_until(lambda: orders_with_reference(order.reference) == 1, timeout=10)
    assert creates_sent(order) == 1
    checked = support_client.post(f"/orders/{order.reference}/check/")
    assert "it is now marked as sent" in message_after(support_client, checked)
    assert orders_with_reference(order.reference) == 1
    assert state_of(order) == State.SUBMITTED
