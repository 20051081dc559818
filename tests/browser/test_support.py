"""Support staff in Chromium: find a stuck order, get it to Impilo exactly once."""

import uuid

import pytest
from playwright.sync_api import expect

from orderdesk.catalog.models import orderable_items
from orderdesk.catalog.sync import sync_catalog
from orderdesk.impilo.client import ImpiloClient
from orderdesk.orders.engine import pipeline
from orderdesk.orders.models import Order, State
from orderdesk.orders.patients import choice_from_patient
from orderdesk.orders.services import OrderInput, order_create
from orderdesk.sandbox import faults
from orderdesk.sandbox.testing import orders_with_reference, seed_ids
from tests.orders.factories import line
from tests.support.worker import running_workers, wait_until

pytestmark = pytest.mark.browser


@pytest.fixture
def stuck(sandbox, settings, monkeypatch):
    settings.ORDER_RETRY_BASE_SECONDS = 0.05
    settings.ORDER_RETRY_MAX_SECONDS = 0.2
    settings.ORDER_MAX_ATTEMPTS = 2
    monkeypatch.setattr(pipeline, "RECONCILE_DELAY_SECONDS", 0.05)
    settings.ORDER_ABSENT_AFTER_SECONDS = 0.5
    sync_catalog()
    return sandbox


def place(user, item_id: int) -> Order:
    patient = next(
        p
        for p in ImpiloClient().search_patients(size=50).content
        if not p.archived and p.enrolled is not False
    )
    data = OrderInput(
        recipient_type="patient",
        patient=choice_from_patient(patient),
        site_id=None,
        site_name="",
        site_city="",
        lines=[line("item", item_id)],
        external_ids=[],
    )
    return order_create(actor=user, data=data, form_token=uuid.uuid4(), submit=True)


def test_support_resubmits_a_failed_order_and_impilo_gets_it_once(
    stuck, sign_in, coordinator, support
) -> None:
    faults.inject(kind="status", status=503, method="POST", path=r"/api/v3/order$")
    item = orderable_items().first()
    assert item is not None
    order = place(coordinator, item.impilo_id)
    with running_workers(1):
        assert wait_until(lambda: Order.objects.get(pk=order.pk).state == State.FAILED, 30)
        assert orders_with_reference(order.reference) == 0
        faults.clear()

        page = sign_in(support)
        expect(page.locator("#attention-badge")).to_contain_text("1")
        page.get_by_role("link", name="Needs attention", exact=True).click()
        row = page.get_by_role("row").filter(has_text=order.reference)
        expect(row).to_contain_text("Gave up after 2 attempts")
        row.get_by_role("link", name=order.reference).click()
        page.get_by_role("link", name="Resubmit…").click()
        expect(page.locator("#payload")).to_contain_text(order.reference)
        page.get_by_label("Reason").fill("Impilo is answering again")
        page.get_by_role("button", name="Resubmit to Impilo").click()
        expect(page.get_by_text("is queued again with the same reference")).to_be_visible()
        expect(page.get_by_test_id("status-text")).to_contain_text("Sent to Impilo", timeout=30_000)
    assert orders_with_reference(order.reference) == 1
    assert Order.objects.get(pk=order.pk).state == State.SUBMITTED


def test_support_edits_and_resubmits_an_order_impilo_rejected(
    stuck, sign_in, coordinator, support
) -> None:
    order = place(coordinator, seed_ids().non_orderable_item)
    item = orderable_items().order_by("name").first()
    assert item is not None
    with running_workers(1):
        assert wait_until(lambda: Order.objects.get(pk=order.pk).state == State.REJECTED, 30)
        page = sign_in(support)
        page.goto(page.url.split("/orders")[0] + f"/orders/{order.reference}/")
        expect(page.get_by_test_id("status-text")).to_contain_text("Impilo rejected")
        page.get_by_role("link", name="Edit and resubmit…").click()
        expect(
            page.get_by_role("alert").filter(has_text="Impilo rejected this order")
        ).to_be_visible()
        page.get_by_label("Item", exact=True).select_option(label=item.name)
        page.get_by_role("button", name="Resubmit order").click()
        expect(page.get_by_text("Say why the order changed.")).to_be_visible()
        page.get_by_label("Reason for the change").fill("Swapped for an orderable item")
        page.get_by_role("button", name="Resubmit order").click()
        expect(page.get_by_test_id("status-text")).to_contain_text("Sent to Impilo", timeout=30_000)
        expect(page.get_by_text("Version 1 → 2")).to_be_visible()
    assert orders_with_reference(order.reference) == 1
