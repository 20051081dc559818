"""Coordinators' daily flow in Chromium: against the sandbox over HTTP, with the real worker."""

import re

import pytest
from playwright.sync_api import expect

from orderdesk.catalog.models import orderable_items, orderable_kits
from orderdesk.catalog.sync import sync_catalog
from orderdesk.impilo.client import ImpiloClient
from orderdesk.orders.models import Order, State
from orderdesk.sandbox.testing import orders_with_reference
from tests.support.worker import running_workers

pytestmark = pytest.mark.browser


@pytest.fixture
def ready(sandbox, settings):
    settings.SANDBOX_STATUS_STEP_SECONDS = 1
    sync_catalog()
    with running_workers(1):
        yield sandbox


def a_choosable_patient():
    return next(
        p
        for p in ImpiloClient().search_patients(size=50).content
        if not p.archived and p.enrolled is not False and p.last_name
    )


def test_coordinator_orders_for_a_patient_and_watches_it_reach_impilo(
    ready, sign_in, coordinator
) -> None:
    patient = a_choosable_patient()
    items = list(orderable_items().order_by("name")[:2])
    kit = orderable_kits().filter(is_loaner=False).order_by("name").first()
    assert kit is not None
    page = sign_in(coordinator)
    page.get_by_role("link", name="New order").click()

    page.get_by_label("Search patients").fill(patient.last_name)
    choice = page.locator("#patient-results .picker-choice").first
    expect(choice).to_be_visible()
    page.get_by_label("Search patients").press("ArrowDown")
    expect(choice).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#patient-card")).to_contain_text(patient.last_name)

    page.get_by_label("Item", exact=True).first.select_option(label=items[0].name)
    page.get_by_role("button", name="Add item").click()
    expect(page.locator("[data-line]")).to_have_count(2)
    page.get_by_label("Item", exact=True).nth(1).select_option(label=items[1].name)
    page.get_by_role("button", name="Add kit").click()
    expect(page.locator("[data-line]")).to_have_count(3)
    page.get_by_label("Kit", exact=True).select_option(label=kit.name)
    page.get_by_label("Count").nth(2).fill("2")
    page.locator("[data-line]").nth(1).get_by_role("button", name="Remove").click()
    expect(page.locator("[data-line]")).to_have_count(2)

    page.get_by_role("button", name="Submit order").click()
    expect(page).to_have_url(re.compile(r"/orders/OD-[0-9A-Z]+/$"))
    expect(page.get_by_test_id("status-text")).to_contain_text("Sent to Impilo", timeout=30_000)
    order = Order.objects.get()
    assert order.state == State.SUBMITTED
    expect(page.get_by_test_id("impilo-id")).to_have_text(str(order.impilo_id))
    assert [(line.name, line.count) for line in order.lines.all()] == [
        (items[0].name, 1),
        (kit.name, 2),
    ]
    assert orders_with_reference(order.reference) == 1


def test_coordinator_orders_for_a_site(ready, sign_in, coordinator) -> None:
    from orderdesk.catalog.models import active_sites

    site = active_sites().order_by("name").first()
    kit = orderable_kits().filter(is_loaner=False).order_by("name").first()
    assert site is not None
    assert kit is not None
    page = sign_in(coordinator)
    page.goto(page.url.split("/orders")[0] + "/orders/new/")
    page.get_by_role("radio", name="Site").check()
    expect(page.get_by_label("Search patients")).to_be_hidden()
    page.get_by_label("Filter sites").fill(site.name[:6])
    page.get_by_label("Site to ship to").select_option(label=site.name)
    page.get_by_role("button", name="Add kit").click()
    page.locator("[data-line]").first.get_by_role("button", name="Remove").click()
    page.get_by_label("Kit", exact=True).select_option(label=kit.name)
    page.get_by_role("button", name="Submit order").click()
    expect(page.get_by_test_id("status-text")).to_contain_text("Sent to Impilo", timeout=30_000)
    order = Order.objects.get()
    assert (order.recipient_type, order.site_impilo_id) == ("site", site.impilo_id)


def test_an_invalid_order_keeps_everything_typed(ready, sign_in, coordinator) -> None:
    page = sign_in(coordinator)
    page.goto(page.url.split("/orders")[0] + "/orders/new/")
    page.get_by_label("External order IDs").fill("PO-77")
    page.get_by_role("button", name="Submit order").click()
    expect(page.get_by_text("Search for the patient and choose one.")).to_be_visible()
    expect(page.get_by_text("Choose the item.").first).to_be_visible()
    expect(page.get_by_label("External order IDs")).to_have_value("PO-77")
    assert not Order.objects.exists()


@pytest.fixture
def other_impilo(live_server, settings, tmp_path):
    """Another Impilo-compatible server: its own process, database, port and key."""
    import os
    import subprocess
    import sys
    import urllib.request

    from tests.support.ports import REUSE_PORT_ARG, held_port
    from tests.support.worker import wait_until

    port = held_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "IMPILO_BASE_URL")},
        "SQLITE_PATH": str(tmp_path / "other-impilo.sqlite3"),
        "IMPILO_SANDBOX": "true",
        "IMPILO_SANDBOX_API_KEY": "another-servers-key",
        "SANDBOX_STATUS_STEP_SECONDS": "1",
    }
    for command in (["migrate", "-v0"], ["seed_sandbox", "--patients", "80"]):
        subprocess.run(
            [sys.executable, "manage.py", *command], env=env, check=True, capture_output=True
        )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "orderdesk.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            REUSE_PORT_ARG,
            "--threads",
            "4",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def up() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return True
        except OSError:
            return False

    try:
        assert wait_until(up, timeout=30)
        settings.IMPILO_BASE_URL = f"http://127.0.0.1:{port}/sandbox/impilo"
        settings.IMPILO_API_KEY = "another-servers-key"
        sync_catalog()
        with running_workers(1):
            yield
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_same_flow_works_against_another_impilo_compatible_server(
    other_impilo, sign_in, coordinator
) -> None:
    patient = a_choosable_patient()
    kit = orderable_kits().filter(is_loaner=False).order_by("name").first()
    assert kit is not None
    page = sign_in(coordinator)
    page.get_by_role("link", name="New order").click()
    page.get_by_label("Search patients").fill(patient.last_name)
    page.locator("#patient-results .picker-choice").first.click()
    expect(page.locator("#patient-card")).to_be_visible()
    page.get_by_role("button", name="Add kit").click()
    page.locator("[data-line]").first.get_by_role("button", name="Remove").click()
    page.get_by_label("Kit", exact=True).select_option(label=kit.name)
    page.get_by_role("button", name="Submit order").click()
    expect(page.get_by_test_id("status-text")).to_contain_text("Sent to Impilo", timeout=30_000)
    order = Order.objects.get()
    assert order.impilo_id
    # Nothing reached the in-process sandbox: the order lives on the other server only.
    assert orders_with_reference(order.reference) == 0
