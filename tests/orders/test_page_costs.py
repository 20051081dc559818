"""What the busy pages count, and when: the queue's filter, the capped counts, the lazy badge."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orderdesk.orders.models import Order, State
from orderdesk.orders.selectors import attention_queue, order_filters
from tests.orders.factories import make_order

pytestmark = pytest.mark.django_db


def order_queries(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if '"orders_order"' in q["sql"]]


def test_the_queue_holds_attention_states_and_long_retries_only(coordinator) -> None:
    long_ago = timezone.now() - timedelta(hours=2)
    failed = make_order(coordinator, State.FAILED)
    old_retry = make_order(coordinator, State.RETRY_WAIT, queued_at=long_ago)
    make_order(coordinator, State.RETRY_WAIT, queued_at=timezone.now())
    # Never queued: not "retrying for a long time" (the rewritten filter must not add it).
    make_order(coordinator, State.RETRY_WAIT, queued_at=None)
    make_order(coordinator, State.SUBMITTED)
    make_order(coordinator, State.QUEUED, queued_at=long_ago)
    assert set(attention_queue.queue()) == {failed, old_retry}
    assert attention_queue.count() == 2
    assert list(attention_queue.queue(attention_queue.RETRYING_LONG)) == [old_retry]


def test_the_badge_count_stops_at_its_cap(coordinator) -> None:
    long_ago = timezone.now() - timedelta(hours=2)
    for _ in range(3):
        make_order(coordinator, State.FAILED)
    make_order(coordinator, State.RETRY_WAIT, queued_at=long_ago)
    make_order(coordinator, State.RETRY_WAIT, queued_at=long_ago)
    assert attention_queue.count(cap=10) == 5
    assert attention_queue.count(cap=4) == 4
    assert attention_queue.count(cap=2) == 2
    assert attention_queue.badge_label(attention_queue.count(cap=4), cap=4) == "3+"
    assert attention_queue.badge_label(3, cap=4) == "3"
    assert attention_queue.badge_label(0) == ""


def test_an_htmx_fragment_does_not_count_the_queue(support_client, coordinator) -> None:
    make_order(coordinator, State.FAILED)
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        response = support_client.get("/orders/?state=failed", HTTP_HX_REQUEST="true")
    assert "<html" not in response.content.decode()
    assert not [sql for sql in order_queries(captured) if "retry_wait" in sql]


def test_the_badge_endpoint_counts_once(support_client, coordinator) -> None:
    make_order(coordinator, State.FAILED)
    with CaptureQueriesContext(connection) as captured:
        badge = support_client.get("/orders/attention/badge/").content.decode()
    assert ">1<" in badge
    # The attention states, then the long retries: two bounded counts, nothing more.
    assert len(order_queries(captured)) == 2


def test_a_page_shows_the_badge_capped(support_client, coordinator, monkeypatch) -> None:
    monkeypatch.setattr(attention_queue, "BADGE_CAP", 2)
    for _ in range(3):
        make_order(coordinator, State.FAILED)
    html = support_client.get("/orders/").content.decode()
    assert "1+<span" in html


def state_counts(query: str = "") -> dict[str, str]:
    cache.clear()
    data = order_filters.HistoryFilterForm(QueryDict(query)).valid_data()
    return {value: n for value, _, n in order_filters.state_counts(data)}


def test_state_counts_are_exact_under_the_cap(coordinator, monkeypatch) -> None:
    monkeypatch.setattr(order_filters, "COUNT_CAP", 5)
    for _ in range(3):
        make_order(coordinator, State.SUBMITTED)
    make_order(coordinator, State.FAILED)
    counts = state_counts()
    assert (counts["submitted"], counts["failed"], counts["draft"]) == ("3", "1", "0")


def test_state_counts_say_plus_past_the_cap(coordinator, monkeypatch) -> None:
    monkeypatch.setattr(order_filters, "COUNT_CAP", 3)
    for _ in range(5):
        make_order(coordinator, State.SUBMITTED)
    for _ in range(2):
        make_order(coordinator, State.FAILED)
    make_order(coordinator, State.FAILED, patient_name="Wei Chen")
    counts = state_counts()
    assert (counts["submitted"], counts["failed"], counts["queued"]) == ("3+", "3", "0")
    # Under a filter that leaves fewer than the cap, every count is exact again.
    searched = state_counts("q=wei")
    assert (searched["submitted"], searched["failed"]) == ("0", "1")
    assert Order.objects.count() == 8


def test_the_orders_page_shows_capped_counts(coordinator, coordinator_client, monkeypatch):
    monkeypatch.setattr(order_filters, "COUNT_CAP", 2)
    for _ in range(3):
        make_order(coordinator, State.SUBMITTED)
    cache.clear()
    html = coordinator_client.get("/orders/").content.decode()
    assert '<span class="badge text-bg-light">2+</span>' in html


def test_a_page_reads_the_users_role_once(support_client) -> None:
    with CaptureQueriesContext(connection) as captured:
        html = support_client.get("/orders/").content.decode()
    assert "(support)" in html
    role_queries = [
        q["sql"] for q in captured.captured_queries if '"auth_group"."name"' in q["sql"]
    ]
    assert len(role_queries) == 1


@pytest.mark.parametrize("small_search", [500, 2])
def test_a_text_search_lists_and_counts_the_same_either_way(
    coordinator, coordinator_client, monkeypatch, small_search
) -> None:
    # 500: read once as (id, state) pairs for page and counts; 2: too many, searched twice.
    monkeypatch.setattr(order_filters, "SMALL_SEARCH", small_search)
    wei = [make_order(coordinator, State.FAILED, patient_name="Wei Chen") for _ in range(2)]
    wei.append(make_order(coordinator, State.SUBMITTED, patient_name="Wei Chen"))
    make_order(coordinator, State.FAILED, patient_name="Maria Lopez")
    cache.clear()
    html = coordinator_client.get("/orders/?q=wei&state=failed").content.decode()
    assert [o.reference in html for o in wei] == [True, True, False]
    assert "Maria Lopez" not in html
    counts = dict(re.findall(r'data-state="(\w+)"[^>]*>[^<]*<span class="badge[^"]*">(\d+)<', html))
    assert (counts["failed"], counts["submitted"], counts["draft"]) == ("2", "1", "0")


def test_a_small_text_search_asks_the_text_indexes_once(coordinator, coordinator_client) -> None:
    make_order(coordinator, State.FAILED, patient_name="Wei Chen")
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        coordinator_client.get("/orders/?q=wei")
    queries = order_queries(captured)
    assert len([q for q in queries if "LIKE" in q.upper()]) == 1
    # The page's rows are found by id alone: the text is not matched a second time.
    by_id = [q for q in queries if '"orders_order"."id" IN (' in q]
    assert len(by_id) == 1
    assert "LIKE" not in by_id[0].upper()
