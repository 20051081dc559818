"""One person's Impilo calls are limited per minute; other people and the worker are not.
Against the sandbox over real HTTP."""

import pytest
from django.test import Client

from orderdesk.audit.models import ApiCall
from orderdesk.catalog.models import orderable_items
from orderdesk.catalog.sync import sync_catalog
from orderdesk.orders import patients
from orderdesk.orders.engine import pipeline
from orderdesk.orders.models import Order, State
from tests.orders.factories import order_post

LIMIT = 3
SEARCH = "/orders/new/patients/"


@pytest.fixture
def limited(sandbox, settings):
    settings.IMPILO_CALLS_PER_PERSON_PER_MINUTE = LIMIT
    return sandbox


def submit_an_order(client: Client, make_user) -> Order:
    """An order for a sandbox patient and item, submitted through the New order form."""
    sync_catalog()
    setup = make_user("", "setup")
    choice = next(c for c in patients.search("an", actor=setup) if c.choosable)
    item = orderable_items().order_by("name").first()
    assert item is not None
    client.post(
        "/orders/new/", order_post(patient=choice.ref, **{"line-id": [str(item.impilo_id)]})
    )
    return Order.objects.get()


def searches_sent(user) -> int:
    return ApiCall.objects.filter(action="patient_search", actor=user).count()


def test_patient_search_stops_at_the_limit_with_a_clear_message(
    limited, coordinator, coordinator_client, make_user
) -> None:
    for _ in range(LIMIT):
        answer = coordinator_client.post(SEARCH, {"patient_query": "an"}).content.decode()
        assert "limit" not in answer
    refused = coordinator_client.post(SEARCH, {"patient_query": "an"})
    assert refused.status_code == 200
    text = refused.content.decode()
    assert f"limit of {LIMIT} Impilo requests a minute" in text
    assert "Try again in" in text
    assert searches_sent(coordinator) == LIMIT  # the refused search never reached Impilo

    colleague = make_user("coordinator", "colleague")
    other = Client()
    other.force_login(colleague)
    assert "limit" not in other.post(SEARCH, {"patient_query": "an"}).content.decode()
    assert searches_sent(colleague) == 1


def test_status_refresh_and_check_impilo_share_the_budget(
    limited, coordinator, coordinator_client, support, support_client, make_user
) -> None:
    order = submit_an_order(coordinator_client, make_user)
    assert pipeline.send(order.pk)  # the worker's own call: never limited
    order.refresh_from_db()
    assert order.state == State.SUBMITTED
    refresh = f"/orders/{order.reference}/refresh/"
    check = f"/orders/{order.reference}/check/"
    texts = [
        support_client.post(refresh, follow=True).content.decode(),
        support_client.post(check, follow=True).content.decode(),
        support_client.post(refresh, follow=True).content.decode(),
    ]
    calls = ApiCall.objects.filter(actor=support).count()
    texts += [support_client.post(url, follow=True).content.decode() for url in (check, refresh)]
    assert ["limit of 3 Impilo" in text for text in texts] == [False, False, False, True, True]
    assert ApiCall.objects.filter(actor=support).count() == calls  # refused: nothing sent


def test_the_worker_keeps_sending_for_a_person_who_reached_the_limit(
    limited, coordinator, coordinator_client, make_user
) -> None:
    for _ in range(LIMIT + 1):
        coordinator_client.post(SEARCH, {"patient_query": "an"})
    assert searches_sent(coordinator) == LIMIT
    order = submit_an_order(coordinator_client, make_user)
    pipeline.send(order.pk)
    order.refresh_from_db()
    assert order.state == State.SUBMITTED
    assert order.impilo_id
