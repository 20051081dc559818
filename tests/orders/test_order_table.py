"""The Orders table's rows, written in Python, are the HTML the template wrote."""

from pathlib import Path

import pytest
from django.template import engines

from orderdesk.orders.models import Order, State
from orderdesk.orders.selectors.order_filters import LIST_COLUMNS
from orderdesk.orders.templatetags.order_table import order_rows
from tests.orders.factories import make_order

pytestmark = pytest.mark.django_db

# templates/orders/order_list.html's rows as they were written in the template language.
TEMPLATE_ROWS = (Path(__file__).parent / "order_rows_template.html").read_text()


def test_the_rows_are_the_html_the_template_wrote(coordinator, admin_user) -> None:
    admin_user.first_name, admin_user.last_name = "Ada", "<Lovelace>"
    admin_user.save()
    make_order(coordinator, State.SUBMITTED, impilo_id=11, impilo_status="shipped")
    make_order(coordinator, State.SUBMITTED, impilo_id=12, impilo_status="weird & new")
    make_order(coordinator, State.SUBMITTED, impilo_id=13, impilo_status="")
    make_order(coordinator, State.FAILED, patient_name='Zoë "<b>" Ndlovu')
    make_order(admin_user, State.QUEUED, recipient_type="site", site_name="Clinic & Co")
    make_order(admin_user, State.REJECTED, patient_name="")
    orders = Order.objects.select_related("created_by").only(*LIST_COLUMNS).order_by("id")
    labels = ["Shipped", "", "", "", "", "x<y"]
    rows = [
        (order, label, f"/orders/{order.reference}/")
        for order, label in zip(orders, labels, strict=True)
    ]
    expected = engines["django"].from_string(TEMPLATE_ROWS).render({"rows": rows})
    assert order_rows(rows) == expected
    assert "&lt;b&gt;" in expected
    assert "Clinic &amp; Co" in expected
