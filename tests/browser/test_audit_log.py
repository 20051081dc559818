"""The audit log in a real browser: filters, htmx "load older calls", copy as curl."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from orderdesk.audit.models import Outcome, record

pytestmark = pytest.mark.browser


def make_calls(count: int, **fields: Any) -> None:
    start = timezone.now() - timedelta(hours=1)
    for n in range(count):
        record(
            **{
                "action": "kit_list",
                "method": "GET",
                "url": f"http://impilo.test/api/v3/kit?page={n}",
                "request_id": f"req-{n}",
                "outcome": Outcome.OK,
                "status_code": 200,
                "at": start + timedelta(seconds=n),
                **fields,
            }
        )


def test_support_loads_older_calls_in_place_and_filters(make_user, sign_in) -> None:
    make_calls(70)
    make_calls(3, action="patient_search", outcome=Outcome.UNAVAILABLE, status_code=None)
    page: Page = sign_in(make_user("support"))
    page.get_by_role("link", name="Audit log").click()
    rows = page.locator("#apicall-rows tr:not(#apicall-more)")
    expect(rows).to_have_count(50)

    page.get_by_role("link", name="Load older calls").click()
    expect(rows).to_have_count(73)
    expect(page).to_have_url(re.compile(r"/audit/$"))  # swapped in place, no navigation
    expect(page.get_by_role("link", name="Load older calls")).to_have_count(0)

    page.get_by_label("Outcome").select_option("unavailable")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("Impilo unreachable")
    expect(rows.first).to_contain_text("no response")


def test_the_detail_page_offers_copy_as_curl_without_the_key(
    make_user, sign_in, live_server, settings
) -> None:
    record(
        action="order_create",
        method="POST",
        url="http://impilo.test/api/v3/order",
        request_headers={"Impilo-API-Key": settings.IMPILO_API_KEY},
        request_body='{"externalOrderIds": ["OD-1"]}',
        status_code=201,
        response_body='{"id": 5}',
        outcome=Outcome.OK,
    )
    page: Page = sign_in(make_user("admin"))
    page.goto(f"{live_server.url}/audit/")
    page.locator("#apicall-rows a").first.click()
    curl = page.locator("pre", has_text="curl -X POST")
    expect(curl).to_contain_text("Impilo-API-Key: $IMPILO_API_KEY")
    expect(page.get_by_role("button", name="Copy curl command")).to_be_visible()
    assert settings.IMPILO_API_KEY not in page.content()
