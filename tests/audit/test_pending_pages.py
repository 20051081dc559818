"""How pages show calls under way and calls whose process stopped mid-call."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orderdesk.audit import pending
from orderdesk.audit.models import ApiCall, PendingCall
from orderdesk.orders.models import Order

KEY = "sk-live-Pending/Key+9"
STOPPED = "no response recorded: the process stopped during the call"


@pytest.fixture
def order(coordinator, settings) -> Order:
    settings.IMPILO_API_KEY = KEY
    return Order.objects.create(recipient_type="patient", created_by=coordinator)


def open_call(order: Order, request_id: str) -> PendingCall:
    return pending.open_call(
        request_id=request_id,
        action="order_create",
        method="POST",
        url="http://impilo.test/api/v3/order",
        order=order,
        attempt=1,
        request_headers={"Impilo-API-Key": KEY},
        request_body='{"externalOrderIds": ["OD-PAGES"]}',
    )


def recovered_call(order: Order) -> ApiCall:
    row = open_call(order, "req-stopped")
    PendingCall.objects.filter(pk=row.pk).update(at=timezone.now() - timedelta(hours=1))
    assert pending.recover_orphans() == 1
    return ApiCall.objects.get(request_id="req-stopped")


@pytest.mark.django_db
def test_the_order_panel_shows_a_call_in_flight(order: Order, support_client: Client) -> None:
    open_call(order, "req-flying")
    html = support_client.get(reverse("orders:requests", args=[order.reference])).content
    text = html.decode()
    assert "in flight" in text
    assert "has not sent Impilo any request" not in text
    assert KEY not in text


@pytest.mark.django_db
def test_a_recovered_call_says_the_process_stopped_on_every_page(
    order: Order, support_client: Client
) -> None:
    call = recovered_call(order)
    pages = [
        reverse("orders:requests", args=[order.reference]),
        reverse("audit:detail", args=[call.pk]),
    ]
    for url in pages:
        text = support_client.get(url).content.decode()
        assert STOPPED in text, url
        assert "No response recorded" in text, url
        assert "in flight" not in text, url
        assert KEY not in text, url
    listing = support_client.get(reverse("audit:list")).content.decode()
    assert "no response recorded (process stopped)" in listing


@pytest.mark.django_db
def test_the_audit_list_reads_no_extra_query_per_recovered_row(
    order: Order, support_client: Client
) -> None:
    recovered_call(order)
    with CaptureQueriesContext(connection) as one:
        support_client.get(reverse("audit:list"))
    for n in range(5):
        row = open_call(order, f"req-more-{n}")
        PendingCall.objects.filter(pk=row.pk).update(at=timezone.now() - timedelta(hours=1))
    pending.recover_orphans()
    with CaptureQueriesContext(connection) as six:
        support_client.get(reverse("audit:list"))
    assert len(six.captured_queries) == len(one.captured_queries)
