"""The Impilo webhook receiver: the secret, the envelope, de-duplication, the refetch of the
order an order.status event is about, and the admins' list of deliveries."""

import json
import logging

import pytest
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from orderdesk.audit.models import ApiCall
from orderdesk.orders.engine import webhook_events
from orderdesk.orders.models import WebhookDelivery
from tests.orders.engine.test_status_sync import STEP, sandbox_order
from tests.orders.orders_data import make_order
from tests.support.worker import running_workers, wait_until

URL = reverse("impilo_webhook")
SECRET = "whsec-Correct-Horse-42"


@pytest.fixture(autouse=True)
def secret(settings) -> None:
    settings.IMPILO_WEBHOOK_SECRET = SECRET


def deliver(body: object, secret: str | None = SECRET, client: Client | None = None, **extra):
    headers = {"Impilo-Webhook-Secret": secret} if secret is not None else {}
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return (client or Client()).post(
        URL, data=data, content_type="application/json", headers=headers, **extra
    )


def status_event(impilo_id: int, envelope_id: int = 57638473, **payload: object) -> dict:
    return {"id": envelope_id, "type": "order.status", "payload": {"orderId": impilo_id, **payload}}


# --- Who may deliver ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("given", [None, "", "wrong", SECRET + "x", SECRET.lower()])
def test_missing_or_wrong_secret_is_refused_and_nothing_is_kept(given, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="orderdesk.orders.views.webhooks"):
        response = deliver(status_event(1), secret=given)
    assert response.status_code == 401
    assert WebhookDelivery.objects.count() == 0
    assert DBTaskResult.objects.count() == 0
    ours = [r for r in caplog.records if r.name == "orderdesk.orders.views.webhooks"]
    assert len(ours) == 1
    assert ours[0].getMessage().startswith("Refused an Impilo webhook delivery from 127.0.0.1")
    assert SECRET not in caplog.text


@pytest.mark.django_db
def test_without_a_configured_secret_every_delivery_is_refused(settings) -> None:
    settings.IMPILO_WEBHOOK_SECRET = ""
    assert deliver(status_event(1), secret="").status_code == 401
    assert deliver(status_event(1), secret="anything").status_code == 401
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.django_db
def test_needs_no_login_and_no_csrf_token() -> None:
    response = deliver({"id": 1, "type": "patient.created", "payload": {}},
                       client=Client(enforce_csrf_checks=True))  # fmt: skip
    assert response.status_code == 200


@pytest.mark.django_db
def test_only_post_is_allowed() -> None:
    response = Client().get(URL, headers={"Impilo-Webhook-Secret": SECRET})
    assert response.status_code == 405


# --- What may be delivered ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe",
        b"[1, 2]",
        b'{"id": NaN, "type": "order.status", "payload": {}}',
        b'{"id": 1, "type": "order.status", "payload": {"orderId": Infinity}}',
        b'{"id": 1, "type": "order.status", "payload": {"orderId": 1e999}}',
        {"type": "order.status", "payload": {}},
        {"id": True, "type": "order.status", "payload": {}},
        {"id": 1.5, "type": "order.status", "payload": {}},
        {"id": "", "type": "order.status", "payload": {}},
        {"id": "x" * 65, "type": "order.status", "payload": {}},
        {"id": 1, "type": 7, "payload": {}},
        {"id": 1, "type": " ", "payload": {}},
        {"id": 1, "type": "order.status", "payload": [1]},
        {"id": 1, "type": "order.status"},
        {"id": 1, "type": "order.status", "payload": {"note": "nul\u0000byte"}},
        b'{"id": 1, "type": "x", "payload": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
)
def test_malformed_deliveries_are_refused_and_nothing_is_kept(body) -> None:
    response = deliver(body)
    assert response.status_code == 400
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.django_db
def test_a_body_over_one_megabyte_is_refused() -> None:
    body = {"id": 1, "type": "reading.weight", "payload": {"blob": "x" * (1024 * 1024)}}
    assert deliver(body).status_code == 400
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.django_db
def test_unknown_types_are_acknowledged_and_kept() -> None:
    body = {"id": "evt-9", "type": "reading.bloodPressure", "payload": {"systolic": 120}}
    response = deliver(body)
    assert response.status_code == 200
    assert response.json() == {"status": "accepted", "id": "evt-9"}
    delivery = WebhookDelivery.objects.get()
    assert (delivery.type, delivery.payload) == ("reading.bloodPressure", {"systolic": 120})
    assert delivery.processed_at is not None
    assert "does not act" in delivery.outcome
    assert DBTaskResult.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"orderId": 905512, "eventType": "shipped"}, 905512),
        ({"orderId": "905512"}, 905512),
        ({"order": {"id": 905512}}, 905512),
        ({"id": 905512, "currentStatus": "shipped"}, 905512),
        ({"order_id": 905512}, 905512),
        ({"orderId": -1}, None),
        ({"orderId": True}, None),
        ({"somethingElse": 1}, None),
    ],
)
def test_the_order_id_is_found_under_its_likely_names(payload, expected) -> None:
    assert webhook_events.order_id_in(payload) == expected


@pytest.mark.django_db
def test_an_order_event_without_an_order_id_is_kept_and_not_acted_on() -> None:
    assert deliver({"id": 5, "type": "order.status", "payload": {"x": 1}}).status_code == 200
    assert "no order id" in WebhookDelivery.objects.get().outcome
    assert DBTaskResult.objects.count() == 0


# --- Acting on a delivery ----------------------------------------------------------------------


@pytest.mark.django_db
def test_same_delivery_twice_is_kept_and_scheduled_once(coordinator) -> None:
    make_order(coordinator, impilo_id=905512)
    first = deliver(status_event(905512))
    again = deliver(status_event(905512, eventType="a retry"))
    assert first.json()["status"] == "accepted"
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    assert WebhookDelivery.objects.count() == 1
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_right_secret_refetches_and_updates_the_order_once(sandbox, settings, coordinator):
    settings.SANDBOX_STATUS_STEP_SECONDS = STEP
    impilo_id = sandbox_order(steps=3)
    order = make_order(coordinator, impilo_id=impilo_id, impilo_status="received")
    with running_workers(1):
        for _ in range(2):
            assert deliver(status_event(impilo_id, envelope_id=777)).status_code == 200
        assert deliver({"id": 778, "type": "order.statusFull", "payload": {"id": impilo_id}})
        assert wait_until(
            lambda: WebhookDelivery.objects.filter(processed_at__isnull=False).count() == 2
        )
    order.refresh_from_db()
    assert order.impilo_status == "shipped"
    assert (order.impilo_order or {})["trackingNumbers"]
    fetches = ApiCall.objects.filter(order=order, action="order_fetch")
    assert fetches.count() == 2  # one per distinct delivery, none for the repeat
    assert all(call.status_code == 200 and call.actor is None for call in fetches)
    # Two task loops may take the two deliveries at once: either may be the one that
    # moved the status, the other then finds it current.
    deliveries = WebhookDelivery.objects.order_by("envelope_id")
    assert WebhookDelivery.objects.get(envelope_id=777).order == order
    assert sorted(delivery.outcome for delivery in deliveries) == [
        "Refetched: Impilo status “received” → “shipped”",
        "Refetched: Impilo status “shipped”",
    ]
    assert order.events.filter(actor_label="Impilo webhook").count() == 1


@pytest.mark.django_db
def test_a_delivery_for_an_order_we_do_not_have_is_recorded_after_a_few_tries(settings) -> None:
    deliver(status_event(123456))
    delivery = WebhookDelivery.objects.get()
    assert webhook_events.process(delivery.pk, tries=1).startswith("order not known yet")
    assert webhook_events.process(delivery.pk, tries=webhook_events.LOOKUP_TRIES) == (
        "No orderdesk order has Impilo id 123456"
    )
    assert webhook_events.process(delivery.pk) == "already processed"
    delivery.refresh_from_db()
    assert delivery.processed_at is not None
    assert delivery.order is None


# --- The admins' list --------------------------------------------------------------------------


@pytest.mark.django_db
def test_admins_see_recent_deliveries(admin_client_, coordinator) -> None:
    order = make_order(coordinator, impilo_id=905512)
    deliver(status_event(905512))
    deliver({"id": 2, "type": "device.lowBattery", "payload": {"batteryPercentage": 9}})
    WebhookDelivery.objects.filter(impilo_order_id=905512).update(order=order)
    response = admin_client_.get(reverse("orders:webhooks"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "device.lowBattery" in html
    assert "&quot;batteryPercentage&quot;: 9" in html
    assert f'href="/orders/{order.reference}/"' in html
    assert "Waiting for the worker" in html


@pytest.mark.django_db
@pytest.mark.parametrize("client_name", ["coordinator_client", "support_client"])
def test_only_admins_see_deliveries(request, client_name) -> None:
    response = request.getfixturevalue(client_name).get(reverse("orders:webhooks"))
    assert response.status_code == 403


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_login_for_the_list() -> None:
    assert Client().get(reverse("orders:webhooks")).status_code == 302
