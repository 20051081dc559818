"""Sign-in security in Chromium: the lockout page any door shows, and a page that polls by
itself no longer keeps its session alive (and leaves for the sign-in page when it ends)."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.orders.factories import make_order

pytestmark = pytest.mark.browser


def try_password(page: Page, url: str, username: str, password: str) -> None:
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name=re.compile("Sign in|Log in")).click()
    page.wait_for_load_state()


def test_failures_at_the_admin_door_lock_the_main_door_with_a_clear_page(
    live_server, page: Page, admin_user, settings
) -> None:
    settings.LOGIN_THROTTLE_ATTEMPTS = 3
    for _ in range(3):
        try_password(page, f"{live_server.url}/admin/login/", "admin", "not-the-password")
    try_password(page, f"{live_server.url}/accounts/login/", "admin", PASSWORD)
    expect(page.get_by_role("heading", name="Sign-in paused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-in attempts")
    expect(page.get_by_role("alert")).to_contain_text("Wait 5 minutes")
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    page.get_by_role("link", name="Back to sign-in").click()
    expect(page.get_by_role("heading", name="Sign in to orderdesk")).to_be_visible()


def test_a_polling_page_signs_out_after_the_idle_limit_and_shows_sign_in(
    live_server, page: Page, sign_in, support, settings
) -> None:
    settings.SESSION_COOKIE_AGE = 6  # the idle limit, shortened
    settings.SESSION_RENEW_SECONDS = 1
    order = make_order(support, "queued")  # no worker runs: the page polls every 2 s
    sign_in(support)
    polls: list[str] = []
    page.on(
        "request",
        lambda r: polls.append(r.url) if r.headers.get("x-background-poll") == "true" else None,
    )
    page.goto(f"{live_server.url}/orders/{order.reference}/")
    expect(page.locator("#order-status")).to_have_attribute("data-polling", "yes")
    expect(page).to_have_url(
        re.compile(rf"/accounts/login/\?next=%2Forders%2F{order.reference}%2F$"), timeout=20_000
    )
    assert len(polls) >= 3  # it polled past the idle limit, and that did not keep it in
    expect(page.get_by_role("heading", name="Sign in to orderdesk")).to_be_visible()
    expect(page.locator("#order-status")).to_have_count(0)
