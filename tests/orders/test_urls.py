"""Order references in URLs: only a reference's characters reach the views."""

import pytest

from orderdesk.orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/orders/OD-%00/", "/orders/OD-%00/edit/", "/orders/%3Cb%3E/"])
def test_a_reference_with_a_nul_byte_or_markup_is_not_found(coordinator_client, path) -> None:
    # On PostgreSQL a NUL byte in the lookup was a 500 (text fields cannot contain NUL).
    assert coordinator_client.get(path).status_code == 404


def test_a_real_reference_still_resolves(coordinator_client, coordinator) -> None:
    order = Order.objects.create(created_by=coordinator, recipient_type="site")
    assert coordinator_client.get(f"/orders/{order.reference}/").status_code == 200
