"""No patient's name, date of birth or external identifier in any URL the browser sends
or keeps in its history, across the coordinator's, support's and the admin's daily flows
(real Chromium, the sandbox over HTTP, the real worker)."""

import re
from urllib.parse import unquote_plus

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from orderdesk.catalog.models import orderable_items
from orderdesk.catalog.sync import sync_catalog
from orderdesk.impilo.client import ImpiloClient
from orderdesk.impilo.types import Patient
from orderdesk.orders.models import Order
from tests.support.worker import running_workers

pytestmark = pytest.mark.browser


@pytest.fixture
def ready(sandbox, settings):
    settings.SANDBOX_STATUS_STEP_SECONDS = 1
    sync_catalog()
    with running_workers(1):
        yield sandbox


def a_known_patient() -> Patient:
    return next(
        p
        for p in ImpiloClient().search_patients(size=50).content
        if not p.archived
        and p.enrolled is not False
        and p.last_name
        and p.first_name
        and p.date_of_birth
        and p.external_identifier
    )


def identifying_values(patient: Patient) -> list[str]:
    dob = patient.date_of_birth
    assert dob is not None
    return [
        value.lower()
        for value in (
            patient.first_name,
            patient.last_name,
            f"{patient.first_name} {patient.last_name}",
            dob if isinstance(dob, str) else dob.isoformat(),
            patient.external_identifier,
        )
        if value
    ]


class UrlLog:
    """Every URL the browser requested or showed in its address bar."""

    def __init__(self, page: Page) -> None:
        self.urls: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("framenavigated", lambda frame: self.urls.append(frame.url))

    def found(self, values: list[str]) -> list[tuple[str, str]]:
        hits = []
        for url in self.urls:
            readable = unquote_plus(unquote_plus(url)).lower()
            hits += [(value, url) for value in values if value in readable]
        return hits


def history_urls(page: Page) -> list[str]:
    """The tab's history, walked back to its start. Chromium may detach the page when the
    walk reaches the tab's first entry; every entry was also seen as a navigation
    (framenavigated, pushState included), which the URL log checks on its own."""
    urls = [page.url]
    for _ in range(page.evaluate("history.length") - 1):
        try:
            if page.go_back(wait_until="commit") is None and page.url == urls[-1]:
                break
        except PlaywrightError:
            break
        urls.append(page.url)
    return urls


def sign_in(page: Page, base: str, user) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("a-test-password-1")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def orders_search(page: Page, text: str, reference: str) -> None:
    page.get_by_role("link", name="Orders", exact=True).click()
    search = page.get_by_label("Search", exact=True)
    search.fill(text)
    search.press("Enter")
    expect(page.locator("#order-results tbody tr")).to_have_count(1)
    expect(search).to_have_value(text)  # what was typed is still there
    page.get_by_role("link", name=reference).click()
    expect(page.get_by_role("heading", name=f"Order {reference}")).to_be_visible()


def test_no_patient_identifier_in_any_url_across_the_three_roles(
    ready, live_server, page: Page, coordinator, support, admin_user
) -> None:
    patient = a_known_patient()
    values = identifying_values(patient)
    item = orderable_items().order_by("name").first()
    assert item is not None
    log = UrlLog(page)
    base = live_server.url

    # Coordinator: search by date of birth, by identifier, then by name; choose; submit.
    sign_in(page, base, coordinator)
    page.get_by_role("link", name="New order").click()
    box = page.get_by_label("Search patients")
    for query in (str(patient.date_of_birth), patient.external_identifier, patient.last_name):
        box.fill(query or "")
        expect(page.locator("#patient-results .picker-choice").first).to_be_visible()
    page.locator("#patient-results li", has_text=patient.external_identifier or "").get_by_role(
        "button", name=re.compile("Choose")
    ).click()
    expect(page.locator("#patient-card")).to_contain_text(patient.last_name or "")
    page.get_by_role("button", name="Change patient").click()
    expect(page.get_by_label("Search patients")).to_be_visible()
    page.get_by_label("Search patients").fill(patient.last_name or "")
    page.locator("#patient-results li", has_text=patient.external_identifier or "").get_by_role(
        "button", name=re.compile("Choose")
    ).click()
    expect(page.locator("#patient-card")).to_contain_text(patient.last_name or "")
    page.get_by_label("Item", exact=True).first.select_option(label=item.name)
    page.get_by_role("button", name="Submit order").click()
    expect(page).to_have_url(re.compile(r"/orders/OD-[0-9A-Z]+/$"))
    expect(page.get_by_test_id("status-text")).to_contain_text("Sent to Impilo", timeout=30_000)
    reference = Order.objects.get().reference
    sign_out(page)

    # Support: the Orders search by the patient's full name, the order, the audit log.
    sign_in(page, base, support)
    orders_search(page, f"{patient.first_name} {patient.last_name}", reference)
    page.get_by_role("link", name="Audit log").click()
    expect(page.locator("#apicall-rows")).to_be_visible()
    sign_out(page)

    # Admin: the Orders search by last name, its CSV link, the order, an audited search.
    sign_in(page, base, admin_user)
    orders_search(page, patient.last_name or "", reference)
    page.go_back()
    expect(page.get_by_label("Search", exact=True)).to_have_value(patient.last_name or "")
    page.get_by_role("link", name="Audit log").click()
    page.locator("#apicall-rows a").first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    assert len(log.urls) > 40  # the flows did run, request by request
    assert log.found(values) == []
    assert [u for u in history_urls(page) for v in values if v in unquote_plus(u).lower()] == []
