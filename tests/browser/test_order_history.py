"""The Orders page in a real browser: state filter links, search, keyset pages forward and
back (hx-boost), and the CSV export link only for admins."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from orderdesk.orders.models import State
from orderdesk.orders.selectors import order_filters
from tests.orders.orders_data import make_order, make_orders

pytestmark = pytest.mark.browser

EXPORT = "Export these orders as CSV"


def references(page: Page) -> Locator:
    """The Reference column's links, top to bottom."""
    return page.locator("#order-results tbody tr td:first-child a")


def test_admin_filters_by_state_and_searches_by_patient(admin_user, sign_in) -> None:
    start = timezone.now() - timedelta(hours=1)
    lopez = make_orders(admin_user, 4)
    failed = [
        make_order(
            admin_user,
            state=State.FAILED,
            patient_name="Jonas Berg",
            patient_impilo_id=50001,
            created_at=start + timedelta(minutes=10, seconds=i),
        )
        for i in range(2)
    ]
    quist = [
        make_order(
            admin_user,
            patient_name="Ada Quist",
            patient_impilo_id=50002,
            created_at=start + timedelta(minutes=20, seconds=i),
        )
        for i in range(2)
    ]
    newest_first = [o.reference for o in reversed([*lopez, *failed, *quist])]

    page = sign_in(admin_user)
    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.get_by_role("heading", name="Orders", exact=True)).to_be_visible()
    expect(references(page)).to_have_text(newest_first)
    states = page.get_by_test_id("state-counts")
    expect(states.get_by_role("link", name="Sent to Impilo 6", exact=True)).to_be_visible()
    failed_link = states.get_by_role("link", name="Failed 2", exact=True)

    failed_link.click()
    expect(page).to_have_url(re.compile(r"/orders/\?(.*&)?state=failed(&|$)"))
    expect(references(page)).to_have_text([o.reference for o in reversed(failed)])
    expect(page.locator("#order-results tbody tr").first).to_contain_text("Jonas Berg")
    expect(failed_link).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("link", name=EXPORT)).to_have_attribute(
        "href", re.compile(r"^/orders/export\.csv\?(.*&)?state=failed(&|$)")
    )

    states.get_by_role("link", name="All states").click()
    expect(references(page)).to_have_text(newest_first)
    search = page.get_by_label("Search", exact=True)
    search.fill("quist")
    search.press("Enter")
    # The address keeps the search by its key, not by the name typed.
    expect(page).to_have_url(re.compile(r"[?&]search_id=[A-Za-z0-9_-]{22}(&|$)"))
    assert "quist" not in page.url.lower()
    expect(search).to_have_value("quist")
    rows = page.locator("#order-results tbody tr")
    expect(references(page)).to_have_text([o.reference for o in reversed(quist)])
    for n in range(2):
        expect(rows.nth(n)).to_contain_text("Ada Quist")


def test_pages_forward_and_back_and_only_admins_may_export(
    admin_user, coordinator, sign_in, monkeypatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(order_filters, "PAGE_SIZE", 5)  # live_server runs in this process
    newest_first = [o.reference for o in reversed(make_orders(admin_user, 12))]
    first, second, third = newest_first[:5], newest_first[5:10], newest_first[10:]

    page = sign_in(admin_user)
    page.get_by_role("link", name="Orders", exact=True).click()
    pages = page.get_by_role("navigation", name="Pages")
    next_link = pages.get_by_role("link", name="Next page")
    previous_link = pages.get_by_role("link", name="Previous page")
    first_link = pages.get_by_role("link", name="First page")
    expect(references(page)).to_have_text(first)
    expect(previous_link).to_have_count(0)
    expect(first_link).to_have_count(0)
    expect(page.get_by_role("link", name=EXPORT)).to_be_visible()

    next_link.click()
    expect(references(page)).to_have_text(second)
    expect(page).to_have_url(re.compile(r"[?&]cursor="))
    next_link.click()
    expect(references(page)).to_have_text(third)
    expect(next_link).to_have_count(0)

    previous_link.click()
    expect(references(page)).to_have_text(second)
    expect(page).to_have_url(re.compile(r"[?&]before="))
    expect(next_link).to_be_visible()
    expect(previous_link).to_be_visible()
    page.screenshot(path=tmp_path / "orders-page-2.png", full_page=True)

    first_link.click()
    expect(references(page)).to_have_text(first)
    expect(previous_link).to_have_count(0)
    expect(first_link).to_have_count(0)

    page.get_by_role("button", name="Log out").click()
    sign_in(coordinator)
    page.get_by_role("link", name="Orders", exact=True).click()
    expect(references(page)).to_have_text(first)
    expect(next_link).to_be_visible()
    expect(page.get_by_role("link", name=EXPORT)).to_have_count(0)
