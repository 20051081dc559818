"""What bounds the status sync's cost: polling that ends after ORDER_SYNC_STOP_DAYS,
webhook-first pacing that switches both ways by itself, a job whose batch follows the
backlog, and the figures /healthz and the admins' page report. Against the sandbox over
HTTP where Impilo is asked."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orderdesk.audit.models import ApiCall
from orderdesk.orders.engine import status_sync
from orderdesk.orders.models import Order, WebhookDelivery
from tests.orders.engine.test_status_sync import sandbox_order
from tests.orders.orders_data import make_order

SECRET = "webhook-secret-for-tests"


@pytest.fixture
def impilo(sandbox, settings):
    settings.SANDBOX_STATUS_STEP_SECONDS = 1000.0
    return sandbox


def deliver(at_age: timedelta) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        envelope_id=f"env-{WebhookDelivery.objects.count() + 1}",
        type="order.status",
        payload={},
        received_at=timezone.now() - at_age,
    )


def fetches() -> int:
    return ApiCall.objects.filter(action="order_fetch").count()


# --- The schedule ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "interval"),
    [
        (timedelta(0), timedelta(minutes=1)),
        (timedelta(minutes=10), timedelta(minutes=10)),
        (timedelta(hours=2), timedelta(hours=2)),
        (timedelta(days=2), timedelta(hours=8)),
    ],
)
def test_the_next_check_comes_after_as_long_as_the_order_s_age(settings, age, interval) -> None:
    settings.ORDER_SYNC_MIN_SECONDS, settings.ORDER_SYNC_MAX_SECONDS = 60, 8 * 3600
    assert status_sync.check_interval(age) == interval


def test_no_check_is_scheduled_past_the_stop_days(settings) -> None:
    settings.ORDER_SYNC_STOP_DAYS = 30
    now = timezone.now()
    assert status_sync.next_check(now - timedelta(days=29), now, "onHold") is not None
    assert (
        status_sync.next_check(now - timedelta(days=29, hours=23, minutes=59), now, "onHold")
        is None
    )
    assert status_sync.next_check(now - timedelta(days=31), now, "onHold") is None


# --- Polling that ends -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_order_not_final_after_the_stop_days_is_no_longer_polled(
    impilo, coordinator, settings
) -> None:
    settings.ORDER_SYNC_STOP_DAYS = 30
    sent = timezone.now() - timedelta(days=31)
    stalled = make_order(coordinator, impilo_id=sandbox_order(), submitted_at=sent,
                         impilo_status="onHold")  # fmt: skip
    young = make_order(coordinator, impilo_id=sandbox_order(), impilo_status="onHold",
                       submitted_at=timezone.now() - timedelta(days=29))  # fmt: skip

    assert status_sync.sync_due_orders() == 1
    assert list(ApiCall.objects.filter(action="order_fetch").values_list("order", flat=True)) == [
        young.pk
    ]
    stalled.refresh_from_db()
    assert stalled.impilo_sync_due_at is None  # off the due index for good
    assert status_sync.polling_stopped(stalled)
    assert not status_sync.polling_stopped(young)
    assert status_sync.sync_due_orders() == 0


@pytest.mark.django_db
def test_the_page_of_an_order_no_longer_polled_says_so_and_can_still_check(
    coordinator, coordinator_client, settings
) -> None:
    settings.ORDER_SYNC_STOP_DAYS = 30
    order = make_order(coordinator, impilo_status="onHold",
                       submitted_at=timezone.now() - timedelta(days=40))  # fmt: skip
    page = coordinator_client.get(reverse("orders:detail", args=[order.reference])).content.decode()
    assert "Impilo is no longer checked automatically for this order" in page
    assert "Check Impilo now" in page
    assert 'data-polling="no"' in page

    fresh = make_order(coordinator, impilo_status="shipped")
    page = coordinator_client.get(reverse("orders:detail", args=[fresh.reference])).content.decode()
    assert "no longer checked automatically" not in page


@pytest.mark.django_db
def test_admins_see_and_export_the_orders_no_longer_polled_and_unknown_statuses(
    coordinator, admin_client_, settings
) -> None:
    settings.ORDER_SYNC_STOP_DAYS = 30
    old = timezone.now() - timedelta(days=45)
    stalled = make_order(coordinator, impilo_status="stuckInCustoms", submitted_at=old)
    make_order(coordinator, impilo_status="delivered", submitted_at=old)  # final: fine
    recent = make_order(coordinator, impilo_status="shipped")

    page = admin_client_.get(reverse("orders:webhooks")).content.decode()
    listed = page.split('data-testid="stopped-orders"')[1].split("</table>")[0]
    assert stalled.reference in listed
    assert recent.reference not in listed
    unknown = page.split('data-testid="unknown-statuses"')[1].split("</ul>")[0]
    assert "stuckInCustoms" in unknown
    assert "shipped" not in unknown

    export = admin_client_.get(reverse("orders:sync_stopped_export"))
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert lines[0].startswith("Reference,")
    assert [line.split(",")[0] for line in lines[1:]] == [stalled.reference]


@pytest.mark.django_db
def test_only_admins_get_the_export(coordinator_client, support_client) -> None:
    for client in (coordinator_client, support_client):
        assert client.get(reverse("orders:sync_stopped_export")).status_code == 403


# --- Webhook-first ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_arriving_webhooks_slow_polling_down_and_silence_brings_it_back(
    impilo, coordinator, settings
) -> None:
    settings.IMPILO_WEBHOOK_SECRET = SECRET
    settings.ORDER_SYNC_WEBHOOK_SAFETY_SECONDS = 6 * 3600
    settings.ORDER_SYNC_WEBHOOK_SILENCE_SECONDS = 6 * 3600
    now = timezone.now()
    make_order(coordinator, impilo_id=sandbox_order(), impilo_status="received",
               submitted_at=now - timedelta(days=1), impilo_synced_at=now - timedelta(hours=2),
               impilo_sync_due_at=now - timedelta(minutes=5))  # fmt: skip

    delivery = deliver(timedelta(minutes=10))
    assert status_sync.webhooks_live(timezone.now())
    assert status_sync.sync_due_orders() == 0  # checked 2 h ago: the safety net waits
    assert fetches() == 0

    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        received_at=timezone.now() - timedelta(hours=7)
    )
    assert not status_sync.webhooks_live(timezone.now())
    assert status_sync.sync_due_orders() == 1  # silent too long: the normal schedule again
    assert fetches() == 1


@pytest.mark.django_db
def test_without_a_secret_deliveries_do_not_pace_polling(coordinator, settings) -> None:
    settings.IMPILO_WEBHOOK_SECRET = ""
    deliver(timedelta(minutes=1))
    assert not status_sync.webhooks_live(timezone.now())


@pytest.mark.django_db
def test_the_safety_net_polls_an_order_once_its_interval_has_passed(coordinator, settings) -> None:
    settings.ORDER_SYNC_WEBHOOK_SAFETY_SECONDS = 6 * 3600
    now = timezone.now()
    waited = make_order(coordinator, impilo_synced_at=now - timedelta(hours=7),
                        impilo_sync_due_at=now - timedelta(hours=1))  # fmt: skip
    make_order(coordinator, impilo_synced_at=now - timedelta(hours=1),
               impilo_sync_due_at=now - timedelta(minutes=1))  # fmt: skip
    assert list(status_sync.due_orders(now, webhooks=True)) == [waited]
    assert status_sync.due_orders(now, webhooks=False).count() == 2


@pytest.mark.django_db
def test_the_admin_page_and_healthz_say_whether_webhooks_pace_polling(
    admin_client_, client, settings
) -> None:
    settings.IMPILO_WEBHOOK_SECRET = SECRET
    settings.ORDER_SYNC_WEBHOOK_SILENCE_SECONDS = 3600
    delivery = deliver(timedelta(minutes=5))
    page = admin_client_.get(reverse("orders:webhooks")).content.decode()
    assert "Webhook deliveries are arriving" in page
    assert client.get("/healthz").json()["status_sync"]["polling"] == "safety net"

    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        received_at=timezone.now() - timedelta(hours=2)
    )
    page = admin_client_.get(reverse("orders:webhooks")).content.decode()
    assert "polled on the normal schedule again" in page
    sync_state = client.get("/healthz").json()["status_sync"]
    assert (sync_state["webhooks"], sync_state["polling"]) == ("silent", "normal schedule")
    assert sync_state["last_delivery_age_seconds"] >= 7200


# --- Keeping up --------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_job_works_through_the_whole_backlog_in_its_slot(impilo, coordinator, settings) -> None:
    settings.ORDER_SYNC_BATCH = 2
    for _ in range(5):
        make_order(coordinator, impilo_id=sandbox_order(steps=2))
    assert status_sync.sync_due_orders() == 5  # three batches of at most 2
    assert fetches() == 5
    assert status_sync.sync_due_orders() == 0


@pytest.mark.django_db(transaction=True)
def test_a_spent_slot_ends_the_run_after_the_current_batch(impilo, coordinator, settings) -> None:
    settings.ORDER_SYNC_BATCH = 2
    settings.ORDER_SYNC_SLOT_SECONDS = 0
    for _ in range(3):
        make_order(coordinator, impilo_id=sandbox_order(steps=2))
    assert status_sync.sync_due_orders() == 2
    assert status_sync.sync_due_orders() == 1


@pytest.mark.django_db
def test_healthz_reports_the_oldest_overdue_sync(client, coordinator) -> None:
    now = timezone.now()
    make_order(coordinator, impilo_sync_due_at=now - timedelta(minutes=10))
    make_order(coordinator, impilo_sync_due_at=now - timedelta(minutes=2))
    make_order(coordinator, impilo_sync_due_at=now + timedelta(minutes=5))  # not due yet
    make_order(coordinator, impilo_status="delivered", impilo_sync_due_at=now - timedelta(days=1))
    state = client.get("/healthz").json()["status_sync"]
    assert state["overdue_orders"] == 2
    assert 600 <= state["oldest_overdue_seconds"] < 700
    assert state["webhooks"] == "not configured"


@pytest.mark.django_db
def test_healthz_with_nothing_due_reports_no_backlog(client) -> None:
    state = client.get("/healthz").json()["status_sync"]
    assert (state["overdue_orders"], state["oldest_overdue_seconds"]) == (0, 0.0)
    assert Order.objects.count() == 0
