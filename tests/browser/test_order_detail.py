"""An order's page in Chromium, live: the sandbox moves the order along, the worker sends it,
the periodic status sync fetches it, and the page follows without a reload."""

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from orderdesk.core import periodic
from orderdesk.impilo.client import ImpiloClient
from orderdesk.orders.models import Order
from orderdesk.orders.patients import choice_from_patient
from orderdesk.orders.services import OrderInput, order_create
from orderdesk.sandbox.testing import seed_ids
from tests.orders.factories import line
from tests.support.worker import running_workers

pytestmark = pytest.mark.browser


@contextmanager
def periodic_jobs(settings, *jobs: tuple[str, float]) -> Iterator[None]:
    """The worker's periodic loop (core/periodic.py) in a thread, with only these jobs."""
    settings.PERIODIC_JOBS = list(jobs)
    stop = threading.Event()
    thread = threading.Thread(target=periodic.run_forever, args=(stop, 0.1), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


@pytest.fixture
def live(sandbox, settings):
    settings.SANDBOX_STATUS_STEP_SECONDS = 2  # received → delivered in about 8 seconds
    settings.ORDER_SYNC_MIN_SECONDS = 0.5
    with (
        running_workers(1),
        periodic_jobs(settings, ("orderdesk.orders.engine.status_sync.sync_due_orders", 0.3)),
    ):
        yield sandbox


def submitted_order(user) -> Order:
    patient = next(
        p for p in ImpiloClient().search_patients(size=50).content
        if not p.archived and p.enrolled is not False
    )  # fmt: skip
    data = OrderInput(
        recipient_type="patient", patient=choice_from_patient(patient), site_id=None,
        site_name="", site_city="", lines=[line("item", seed_ids().item, "Monitor")],
        external_ids=["PO-LIVE-1"],
    )  # fmt: skip
    return order_create(actor=user, data=data, form_token=uuid.uuid4(), submit=True)


def test_status_timeline_and_tracking_follow_the_sandbox_without_a_reload(
    live, sign_in, coordinator
) -> None:
    page = sign_in(coordinator)
    order = submitted_order(coordinator)
    page.goto(page.url.split("/orders")[0] + f"/orders/{order.reference}/")
    page.evaluate("window.sameDocument = true")  # gone if anything reloads the page

    expect(page.get_by_test_id("status-text")).to_contain_text("Sent to Impilo", timeout=30_000)
    # Each status lasts 2 s: on a busy machine a poll can step over "shipped", so only the
    # final one is awaited; the timeline and the tracking number show the way there.
    expect(page.get_by_test_id("impilo-status")).to_have_text("delivered", timeout=40_000)
    expect(page.get_by_test_id("tracking-numbers")).to_contain_text("UPS: 1Z")
    timeline = page.get_by_test_id("timeline")
    for step in ("Sending to Impilo", "received (Received by Impilo)", "packed (Packed)",
                 "delivered (Delivered)", "Impilo status changed"):  # fmt: skip
        expect(timeline).to_contain_text(step)
    # Final now: the status panel stops asking.
    expect(page.locator("#order-status")).to_have_attribute("data-polling", "no")
    assert page.evaluate("window.sameDocument") is True

    order.refresh_from_db()
    assert order.impilo_status == "delivered"
    assert order.api_calls.filter(action="order_fetch").exists()


def test_support_opens_the_requests_panel_and_refreshes_by_hand(
    sandbox, settings, sign_in, support
) -> None:
    settings.SANDBOX_STATUS_STEP_SECONDS = 1000  # nothing moves by itself
    with running_workers(1):
        order = submitted_order(support)
        page = sign_in(support)
        page.goto(page.url.split("/orders")[0] + f"/orders/{order.reference}/")
        expect(page.get_by_test_id("impilo-id")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Refresh status from Impilo").click()
    expect(page.get_by_role("status")).to_contain_text("Checked with Impilo just now")

    page.get_by_role("heading", name="Impilo requests").scroll_into_view_if_needed()
    requests = page.get_by_test_id("impilo-requests")
    expect(requests.locator("details")).to_have_count(2)  # the create and the refresh
    requests.locator("summary").first.click()
    expect(requests.get_by_text("Request headers").first).to_be_visible()
    expect(requests.get_by_text('"externalOrderIds"').first).to_be_visible()
