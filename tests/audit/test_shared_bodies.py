"""Each call keeps its own row, but a body or header text already stored is kept once
(content-addressed, compressed): calls read back exactly what they were given, pruning
never takes a body another call still uses, and the key is redacted before anything is
stored or shared."""

import json
import zlib
from datetime import timedelta
from html import unescape
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.models import User
from orderdesk.audit import blobs
from orderdesk.audit.models import ApiCall, AuditBlob, Outcome, record
from orderdesk.orders.models import Order

KEY = "sk-live-Shared/Body+7"
ORDER_JSON = json.dumps({"id": 905512, "currentStatus": "shipped", "notes": "x" * 3000})


DATE = "Tue, 01 Dec 2026 10:00:00 GMT"


def fetch(*, days_ago: float = 0, order: Order | None = None, request_id: str = "r1",
          body: str = ORDER_JSON, date: str = DATE) -> ApiCall:  # fmt: skip
    return record(
        action="order_fetch" if order else "kit_list",
        method="GET",
        url="https://impilo.test/api/v3/order/905512",
        outcome=Outcome.OK,
        order=order,
        request_id=request_id,
        at=timezone.now() - timedelta(days=days_ago),
        status_code=200,
        request_headers={"Accept": "application/json", "X-Request-ID": request_id},
        response_headers={
            "Date": date,
            "Content-Type": "application/json",
            "X-Request-ID": request_id,
        },
        response_body=body,
    )


def stored_texts() -> list[str]:
    return [
        zlib.decompress(bytes(data)).decode()
        for data in AuditBlob.objects.values_list("data", flat=True)
    ]


@pytest.fixture
def order(coordinator: User) -> Order:
    return Order.objects.create(recipient_type="patient", created_by=coordinator)


@pytest.mark.django_db
def test_identical_answers_are_stored_once_and_every_call_reads_its_own(order: Order) -> None:
    first = fetch(order=order, request_id="r1", date="Tue, 01 Dec 2026 10:00:00 GMT")
    second = fetch(order=order, request_id="r2", date="Tue, 01 Dec 2026 11:00:00 GMT")

    assert ApiCall.objects.count() == 2  # every call is still its own row
    # One body, one request-header text and one response-header text for both calls.
    assert AuditBlob.objects.count() == 3
    assert first.response_body_blob_id == second.response_body_blob_id
    reread = {call.request_id: call for call in ApiCall.objects.all()}
    assert reread["r1"].response_body == reread["r2"].response_body == ORDER_JSON
    assert reread["r2"].response_headers == {
        "Date": "Tue, 01 Dec 2026 11:00:00 GMT",
        "Content-Type": "application/json",
        "X-Request-ID": "r2",
    }
    assert list(reread["r1"].response_headers) == ["Date", "Content-Type", "X-Request-ID"]
    assert reread["r1"].request_headers == {"Accept": "application/json", "X-Request-ID": "r1"}
    # The row keeps only what differs per call, and not the request id it has already.
    assert reread["r2"].header_values == {"response": {"Date": "Tue, 01 Dec 2026 11:00:00 GMT"}}


@pytest.mark.django_db
def test_bodies_are_stored_compressed(order: Order) -> None:
    call = fetch(order=order)
    blob = AuditBlob.objects.get(digest=blobs.digest(ORDER_JSON))
    assert call.response_body_blob_id == blob.pk
    assert len(bytes(blob.data)) < len(ORDER_JSON) / 5
    assert blob.chars == len(ORDER_JSON)
    assert bytes(blob.digest) == blobs.digest(ORDER_JSON)


@pytest.mark.django_db
def test_a_different_answer_gets_its_own_copy(order: Order) -> None:
    fetch(order=order, request_id="r1")
    delivered = ORDER_JSON.replace("shipped", "delivered")
    fetch(order=order, request_id="r2", body=delivered)
    bodies = [call.response_body for call in ApiCall.objects.order_by("id")]
    assert bodies == [ORDER_JSON, delivered]


@pytest.mark.django_db
def test_pruning_a_call_keeps_a_body_another_call_still_uses(order: Order) -> None:
    fetch(days_ago=100, request_id="old")  # belongs to no order: prunable
    kept = fetch(order=order, days_ago=100, request_id="kept")  # an order's: kept for good
    blobs_before = AuditBlob.objects.count()

    call_command("prune_audit", "--days", "90", stdout=StringIO())

    assert list(ApiCall.objects.values_list("request_id", flat=True)) == ["kept"]
    kept = ApiCall.objects.get(pk=kept.pk)
    assert kept.response_body == ORDER_JSON
    assert kept.response_headers["X-Request-ID"] == "kept"
    assert AuditBlob.objects.count() == blobs_before  # every text is still in use


@pytest.mark.django_db
def test_pruning_the_last_call_of_a_body_removes_the_body() -> None:
    fetch(days_ago=100, request_id="old-1", body="only the old calls had this")
    fetch(days_ago=100, request_id="old-2", body="only the old calls had this")
    recent = fetch(days_ago=1, request_id="recent")

    call_command("prune_audit", "--days", "90", stdout=StringIO())

    assert "only the old calls had this" not in stored_texts()
    assert ORDER_JSON in stored_texts()
    assert ApiCall.objects.get().pk == recent.pk
    assert AuditBlob.objects.unused().count() == 0


@pytest.mark.django_db
@override_settings(IMPILO_API_KEY=KEY)
def test_the_key_is_redacted_before_a_text_is_stored_or_shared(order: Order) -> None:
    leaky = f'{{"echo": "{KEY}"}}'
    fetch(order=order, request_id="r1", body=leaky)
    fetch(order=order, request_id="r2", body=leaky)
    record(action="kit_list", method="GET", url="https://impilo.test/api/v3/kit",
           outcome=Outcome.OK, request_headers={"Impilo-API-Key": KEY, "X-Echo": KEY},
           response_headers={"X-Request-ID": KEY})  # fmt: skip

    assert all(KEY not in text for text in stored_texts())
    assert all(
        KEY not in json.dumps(values)
        for values in ApiCall.objects.values_list("header_values", flat=True)
    )
    bodies = {call.response_body for call in ApiCall.objects.filter(order=order)}
    assert bodies == {'{"echo": "[REDACTED]"}'}
    assert ApiCall.objects.filter(order=order).values("response_body_blob").distinct().count() == 1


@pytest.mark.django_db
def test_the_pages_show_a_shared_body_for_each_call(order: Order, support_client: Client) -> None:
    first = fetch(order=order, request_id="r1")
    second = fetch(order=order, request_id="r2")
    for call in (first, second):
        page = unescape(
            support_client.get(reverse("audit:detail", args=[call.pk])).content.decode()
        )
        assert '"currentStatus": "shipped"' in page
        assert call.request_id in page
    panel = unescape(
        support_client.get(
            reverse("orders:requests", args=[order.reference]), headers={"HX-Request": "true"}
        ).content.decode()
    )
    assert panel.count('"currentStatus": "shipped"') == 2
