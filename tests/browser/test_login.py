import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

NAV = ["Orders", "New order", "Needs attention", "Audit log"]
EXPECTED_NAV = {
    "coordinator": ["Orders", "New order"],
    "support": ["Orders", "New order", "Needs attention", "Audit log"],
    "admin": ["Orders", "New order", "Needs attention", "Audit log"],
}


def test_anonymous_visitor_is_sent_to_the_login_page(live_server, page: Page) -> None:
    page.goto(f"{live_server.url}/orders/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/orders/"))
    expect(page.get_by_role("heading", name="Sign in to orderdesk")).to_be_visible()


@pytest.mark.parametrize("role", ["coordinator", "support", "admin"])
def test_each_role_sees_its_navigation_after_signing_in(make_user, sign_in, role: str) -> None:
    page = sign_in(make_user(role))
    nav = page.get_by_role("navigation", name="Main")
    for label in NAV:
        link = nav.get_by_role("link", name=label, exact=True)
        if label in EXPECTED_NAV[role]:
            expect(link).to_be_visible()
        else:
            expect(link).to_have_count(0)
    expect(nav.get_by_role("button", name="Log out")).to_be_visible()


def test_wrong_password_shows_an_error_and_keeps_the_username(
    live_server, page: Page, coordinator
) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("coordinator")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Please enter a correct username and password")).to_be_visible()
    expect(page.get_by_label("Username")).to_have_value("coordinator")


def test_log_out_returns_to_the_login_page(sign_in, coordinator) -> None:
    page = sign_in(coordinator)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Sign in to orderdesk")).to_be_visible()


def test_signing_in_returns_to_the_page_first_asked_for(live_server, page: Page, coordinator):
    page.goto(f"{live_server.url}/orders/new/")
    page.get_by_label("Username").fill("coordinator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/orders/new/")
    expect(page.get_by_role("heading", name="New order")).to_be_visible()


def test_coordinator_opening_the_audit_log_is_told_which_role_it_needs(
    live_server, sign_in, coordinator
) -> None:
    page = sign_in(coordinator)
    response = page.goto(f"{live_server.url}/audit/")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_text("This page needs the support or admin role.")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
