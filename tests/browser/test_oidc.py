"""Signing in through the identity provider's own page, in Chromium: the role follows the
person's groups at the provider, and a person with no mapped group is refused."""

import os
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.oidc_provider import PROVIDER_NAME, Provider

pytestmark = pytest.mark.browser

# Screenshots for the closing notes, when the run asks for them.
SHOTS = Path(os.environ["OIDC_SHOTS_DIR"]) if os.environ.get("OIDC_SHOTS_DIR") else None


def shot(page: Page, name: str) -> None:
    if SHOTS is not None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"oidc-{name}.png"), full_page=True)


def sign_in_at_provider(page: Page, base_url: str, sub: str, screenshot: str = "") -> None:
    page.goto(f"{base_url}/accounts/login/")
    if screenshot:
        shot(page, "login-page")
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
    expect(page.get_by_role("heading", name="Authorize Client")).to_be_visible()
    page.get_by_placeholder("sub").fill(sub)
    if screenshot:
        shot(page, screenshot)
    page.get_by_role("button", name="Authorize", exact=True).click()
    page.wait_for_load_state()


def log_out_here_and_at_the_provider(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="End Session")).to_be_visible()
    page.get_by_role("button", name="End session").click()
    expect(page.get_by_role("heading", name="Sign in to orderdesk")).to_be_visible()


def test_the_role_follows_the_providers_groups_from_sign_in_to_sign_in(
    live_server, oidc_settings: Provider, page: Page
) -> None:
    sub = f"alex-{uuid.uuid4().hex[:8]}"
    claims = {"name": "Alex Moreau", "preferred_username": "alex", "email": "alex@example.org"}
    oidc_settings.set_user(sub, **claims, groups=["od-coordinators"])

    sign_in_at_provider(page, live_server.url, sub, screenshot="provider-sign-in")
    expect(page).to_have_url(f"{live_server.url}/orders/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Orders", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="New order", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Needs attention", exact=True)).to_have_count(0)
    expect(nav.get_by_text("alex (coordinator)")).to_be_visible()
    shot(page, "landed-orders")
    log_out_here_and_at_the_provider(page)

    oidc_settings.set_user(sub, **claims, groups=["od-support"])
    sign_in_at_provider(page, live_server.url, sub)
    expect(nav.get_by_role("link", name="Needs attention", exact=True)).to_be_visible()
    expect(nav.get_by_text("alex (support)")).to_be_visible()
    log_out_here_and_at_the_provider(page)

    oidc_settings.set_user(sub, **claims, groups=[])
    sign_in_at_provider(page, live_server.url, sub)
    expect(page.get_by_role("heading", name="No access to orderdesk")).to_be_visible()
    shot(page, "refused")
    page.goto(f"{live_server.url}/orders/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/orders/"))
