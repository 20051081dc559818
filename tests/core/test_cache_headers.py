"""No browser or proxy keeps a page shown to a signed-in person, and a cache never hands
an htmx fragment for the page it belongs to (or the other way round)."""

import pytest
from django.urls import reverse

from tests.core.urlmap import all_pages

pytestmark = pytest.mark.django_db

SIGNED_IN_PAGES = [page for page in all_pages() if not page.login_not_required]


def cache_directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


def varies_on(response) -> set[str]:
    return {part.strip().lower() for part in response.get("Vary", "").split(",") if part}


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("page", SIGNED_IN_PAGES, ids=str)
def test_every_signed_in_response_is_no_store_private_and_varies_on_htmx(
    admin_client_, page, htmx: bool
) -> None:
    headers = {"HX-Request": "true"} if htmx else {}
    response = admin_client_.get(page.path, headers=headers)
    assert {"no-store", "private"} <= cache_directives(response), page.name
    assert "public" not in cache_directives(response)
    assert "hx-request" in varies_on(response), page.name


def test_the_csv_export_is_no_store_private(admin_client_) -> None:
    response = admin_client_.get(reverse("orders:export"))
    assert response.status_code == 200
    assert {"no-store", "private"} <= cache_directives(response)


def test_a_coordinator_refused_a_page_still_gets_no_store(coordinator_client) -> None:
    response = coordinator_client.get(reverse("audit:list"))
    assert response.status_code == 403
    assert {"no-store", "private"} <= cache_directives(response)


def test_the_sign_in_that_succeeds_is_no_store(client, coordinator) -> None:
    response = client.post(
        reverse("login"), {"username": "coordinator", "password": "a-test-password-1"}
    )
    assert response.status_code == 302
    assert {"no-store", "private"} <= cache_directives(response)
