"""The order form's recipient and line rules, through the real New order view.

Each rule is also tested as a unit of the form (test_forms.py); here a coordinator posts the
page as a browser would, and each breach must come back as the form with a clear error,
with no order saved and no task queued to send one.
"""

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from orderdesk.orders.models import Order, OrderEvent
from tests.orders.factories import catalog, order_post

pytestmark = pytest.mark.django_db

NEW = "/orders/new/"


def lines(*rows: tuple[str, str, str]) -> dict[str, list[str]]:
    """POST fields for (kind, impilo id, count) rows."""
    return {
        "line-kind": [kind for kind, _, _ in rows],
        "line-id": [impilo_id for _, impilo_id, _ in rows],
        "line-count": [count for _, _, count in rows],
    }


def assert_refused(client: Client, data: dict[str, object], error: str) -> None:
    response = client.post(NEW, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert error in html
    assert 'name="form_token"' in html  # the form again, to correct and resend
    assert not Order.objects.exists()
    assert not OrderEvent.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_a_site_order_that_also_carries_a_patient_is_refused(coordinator_client) -> None:
    catalog()
    data = order_post(recipient_type="site", site="77")  # order_post carries a patient
    assert_refused(coordinator_client, data, "Ship to a patient or a site, not both.")


def test_a_patient_order_that_also_names_a_site_is_refused(coordinator_client) -> None:
    catalog()
    data = order_post(recipient_type="patient", site="77")
    assert_refused(coordinator_client, data, "Ship to a patient or a site, not both.")


def test_an_order_without_lines_is_refused(coordinator_client) -> None:
    catalog()
    data = order_post(**lines())
    assert_refused(coordinator_client, data, "Add at least one item or kit.")


def test_an_order_with_51_lines_is_refused(coordinator_client) -> None:
    catalog()
    data = order_post(**lines(*[("item", "1001", "1")] * 51))
    assert_refused(coordinator_client, data, "An order can have at most 50 lines.")


def test_an_order_with_two_loaner_kits_is_refused(coordinator_client) -> None:
    catalog()
    data = order_post(**lines(("kit", "312", "1"), ("kit", "313", "1")))
    assert_refused(coordinator_client, data, "An order may contain at most one loaner kit.")


def test_a_loaner_kit_to_a_site_is_refused(coordinator_client) -> None:
    catalog()
    data = order_post(recipient_type="site", patient="", site="77", **lines(("kit", "312", "1")))
    assert_refused(coordinator_client, data, "Loaner kits ship only to patients, not to sites.")


def test_a_loaner_kit_counted_twice_is_refused(coordinator_client) -> None:
    catalog()
    data = order_post(**lines(("kit", "312", "2")))
    assert_refused(coordinator_client, data, "A loaner kit&#x27;s count must be 1.")


def test_one_loaner_kit_to_a_patient_with_other_lines_is_accepted(coordinator_client) -> None:
    """The rules above refuse only what they name: the same view saves and queues this."""
    catalog()
    rows = [("kit", "312", "1"), ("item", "1001", "1"), ("item", "1002", "3")]
    response = coordinator_client.post(NEW, order_post(**lines(*rows)))
    assert response.status_code == 302
    order = Order.objects.get()
    assert [(line.impilo_id, line.count) for line in order.lines.all()] == [
        (312, 1),
        (1001, 1),
        (1002, 3),
    ]
    assert DBTaskResult.objects.count() == 1
