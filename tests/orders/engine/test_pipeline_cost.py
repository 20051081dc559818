"""What one send costs the worker, over real HTTP to the sandbox: a bounded number of
queries, and one kept-alive connection for a backlog (issue 7: ≥ 50 orders/s per worker)."""

import pytest
from urllib3.connection import HTTPConnection

from orderdesk.audit.models import ApiCall
from orderdesk.impilo.client import close_thread_session
from orderdesk.orders.engine import pipeline
from orderdesk.orders.models import OrderEvent, State
from orderdesk.sandbox.models import RequestLog
from orderdesk.sandbox.testing import orders_with_reference
from tests.orders.engine.test_pipeline import fast_pipeline, make_orders  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fast_pipeline")]

# The worker's own queries for one successful send (the sandbox's run on the live server's
# thread, not counted): the gate (1); the claim: begin, update, event, commit (4); the order
# and its lines (2); the audit: the pending row before the call (1), then begin, delete it,
# the ApiCall row, commit (4), and the stored bodies and headers, each kept once by its
# hash (3); submitted: begin, update, event, commit (4); the breaker's reset (1).
# django-tasks' claim and result rows come on top, in its worker loop.
QUERIES_PER_SEND = 20


def test_one_send_makes_a_bounded_number_of_queries(
    coordinator, django_assert_max_num_queries
) -> None:
    first, order = make_orders(coordinator, 2)
    pipeline.send(first.pk)  # imports and the first connection are not the per-order cost
    with django_assert_max_num_queries(QUERIES_PER_SEND):
        assert pipeline.send(order.pk) == "submitted"
    order.refresh_from_db()
    assert (order.state, order.attempts) == (State.SUBMITTED, 1)
    assert ApiCall.objects.filter(order=order, action="order_create").count() == 1
    assert orders_with_reference(order.reference) == 1
    events = OrderEvent.objects.filter(order=order, to_state__in=[State.SENDING, State.SUBMITTED])
    assert events.count() == 2


def test_a_backlog_is_sent_over_one_connection(coordinator, monkeypatch) -> None:
    close_thread_session()
    connects = []
    real_connect = HTTPConnection.connect

    def counted_connect(self: HTTPConnection) -> None:  # a spy: the real connect runs
        connects.append(self.port)
        real_connect(self)

    monkeypatch.setattr(HTTPConnection, "connect", counted_connect)
    orders = make_orders(coordinator, 5)  # a patient search first: the connection opens
    for order in orders:
        assert pipeline.send(order.pk) == "submitted"
    for order in orders:
        assert orders_with_reference(order.reference) == 1
    creates = RequestLog.objects.filter(method="POST", path__endswith="/api/v3/order")
    assert creates.count() == 5
    assert ApiCall.objects.filter(action="order_create", status_code=201).count() == 5
    assert len(connects) == 1
