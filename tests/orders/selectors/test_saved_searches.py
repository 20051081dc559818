"""The Orders search is posted and kept on the server: no URL orderdesk makes holds its
text, while the other filters stay in the address and the page still shows what was typed."""

import re
from html import unescape

import pytest
from django.urls import reverse

from orderdesk.orders.models import State
from tests.orders.orders_data import make_order

pytestmark = pytest.mark.django_db
LIST = reverse("orders:list")
NAME = "Quistgaard"


def urls_in(html: str) -> list[str]:
    return [unescape(u) for u in re.findall(r'(?:href|hx-get|hx-post|action)="([^"]*)"', html)]


def test_a_posted_search_redirects_to_an_address_without_the_text(
    coordinator, coordinator_client
) -> None:
    order = make_order(coordinator, patient_name=f"Ann {NAME}", state=State.FAILED)
    make_order(coordinator, patient_name="Wei Chen")
    response = coordinator_client.post(LIST, {"q": NAME, "state": "failed"})
    assert response.status_code == 302
    address = response["Location"]
    assert NAME.lower() not in address.lower()
    assert re.search(r"[?&]search_id=[A-Za-z0-9_-]{22}(&|$)", address)
    assert "state=failed" in address  # the other filters stay bookmarkable
    html = coordinator_client.get(address).content.decode()
    assert order.reference in html
    assert "Wei Chen" not in html
    assert f'value="{NAME}"' in html  # what was typed is still in the box
    assert not [url for url in urls_in(html) if NAME.lower() in url.lower()]


def test_an_htmx_search_pushes_an_address_without_the_text(coordinator, coordinator_client) -> None:
    order = make_order(coordinator, patient_name=f"Ann {NAME}")
    response = coordinator_client.post(LIST, {"q": NAME}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    pushed = response["HX-Push-Url"]
    assert pushed.startswith(LIST + "?search_id=")
    assert NAME.lower() not in pushed.lower()
    html = response.content.decode()
    assert order.reference in html
    assert not [url for url in urls_in(html) if NAME.lower() in url.lower()]


def test_an_old_address_with_the_text_gets_links_without_it(
    coordinator, coordinator_client
) -> None:
    order = make_order(coordinator, patient_name=f"Ann {NAME}")
    html = coordinator_client.get(LIST, {"q": NAME}).content.decode()
    assert order.reference in html
    links = urls_in(html)
    assert any("search_id=" in url for url in links)
    assert not [url for url in links if NAME.lower() in url.lower()]


@pytest.mark.parametrize("key", ["A" * 22, "short", "x" * 5000, "<script>"])
def test_an_unknown_or_expired_search_key_says_so_and_shows_all_orders(
    coordinator, coordinator_client, key
) -> None:
    order = make_order(coordinator)
    response = coordinator_client.get(LIST, {"search_id": key})
    html = response.content.decode()
    assert response.status_code == 200
    assert "The saved search has expired: type it again." in html
    assert order.reference in html


def test_the_search_form_is_posted_with_a_csrf_token(coordinator_client) -> None:
    html = coordinator_client.get(LIST).content.decode()
    form = re.search(r'<form method="post"[^>]*id="order-filters".*?</form>', html, re.S)
    assert form is not None
    assert "csrfmiddlewaretoken" in form[0]
    assert "hx-post" in form[0]
