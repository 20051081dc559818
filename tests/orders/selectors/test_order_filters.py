"""The Orders page: who may see it, filters and search in the URL, sorting, keyset pages,
per-state counts, bad query values, and a query count that does not grow with the data."""

import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from orderdesk.catalog.models import Site
from orderdesk.orders.models import Order, State
from orderdesk.orders.selectors import order_filters
from orderdesk.orders.selectors.cursors import decode_cursor, encode_cursor
from orderdesk.orders.selectors.order_filters import PAGE_SIZE, HistoryFilterForm, filter_orders
from tests.orders.orders_data import make_order, make_orders

LIST = reverse("orders:list")
HTMX = {"HX-Request": "true"}


def references(html: str) -> list[str]:
    return re.findall(r'href="/orders/(OD-[0-9A-Z]+)/"', html)


def next_link(html: str) -> str:
    match = re.search(r'href="\?([^"]*cursor=[^"]*)"', html)
    return "?" + match.group(1).replace("&amp;", "&") if match else ""


def previous_link(html: str) -> str:
    match = re.search(r'href="\?([^"]*)"[^>]*>Previous page<', html)
    return "?" + match.group(1).replace("&amp;", "&") if match else ""


def listed_html(client: Client, query: str = "") -> str:
    return client.get(LIST + query).content.decode()


def listed(client: Client, query: str = "") -> list[str]:
    response = client.get(LIST + query)
    assert response.status_code == 200
    return references(response.content.decode())


# --- Who may see it --------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_login() -> None:
    response = Client().get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["coordinator", "support", "admin"])
def test_every_role_sees_the_orders(make_user, role) -> None:
    user = make_user(role)
    order = make_order(user)
    client = Client()
    client.force_login(user)
    assert listed(client) == [order.reference]


@pytest.mark.django_db
def test_user_without_a_role_is_refused(make_user) -> None:
    client = Client()
    client.force_login(make_user("", username="nobody"))
    response = client.get(LIST)
    assert response.status_code == 403


@pytest.mark.django_db
def test_htmx_request_gets_only_the_results_fragment(coordinator, coordinator_client) -> None:
    order = make_order(coordinator)
    response = coordinator_client.get(LIST, headers=HTMX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="order-results"')
    assert "<html" not in html
    assert order.reference in html


@pytest.mark.django_db
def test_export_and_webhook_links_show_only_for_admins(
    coordinator_client, admin_client_, coordinator
) -> None:
    make_order(coordinator)
    assert "Export these orders" not in coordinator_client.get(LIST).content.decode()
    html = admin_client_.get(LIST).content.decode()
    assert "Export these orders" in html
    assert reverse("orders:webhooks") in html


# --- Filters and search ----------------------------------------------------------------------


@pytest.mark.django_db
def test_filters_by_state_and_impilo_status(coordinator, coordinator_client) -> None:
    shipped = make_order(coordinator, impilo_status="shipped")
    make_order(coordinator, impilo_status="delivered")
    failed = make_order(coordinator, state=State.FAILED)
    assert listed(coordinator_client, "?state=failed") == [failed.reference]
    assert listed(coordinator_client, "?impilo_status=shipped") == [shipped.reference]


@pytest.mark.django_db
def test_filters_by_date_range(coordinator, coordinator_client) -> None:
    now = timezone.now()
    old = make_order(coordinator, created_at=now - timedelta(days=10))
    new = make_order(coordinator, created_at=now)
    day = timezone.localdate(now)
    assert listed(coordinator_client, f"?date_from={day}") == [new.reference]
    assert listed(coordinator_client, f"?date_to={day - timedelta(days=5)}") == [old.reference]


@pytest.mark.django_db
def test_filters_by_patient_site_recipient_type_and_creator(make_user, coordinator) -> None:
    other = make_user("support", username="sam")
    Site.objects.create(impilo_id=77, name="Center City Cardiology")
    for_patient = make_order(coordinator, patient_impilo_id=555)
    for_site = make_order(
        other, recipient_type="site", patient_impilo_id=None, site_impilo_id=77, site_name="CCC"
    )
    client = Client()
    client.force_login(coordinator)
    assert listed(client, "?patient=555") == [for_patient.reference]
    assert listed(client, "?site=77") == [for_site.reference]
    assert listed(client, "?recipient_type=site") == [for_site.reference]
    assert listed(client, f"?created_by={other.pk}") == [for_site.reference]


@pytest.mark.django_db
def test_search_finds_reference_impilo_id_external_id_and_patient_name(
    coordinator, coordinator_client
) -> None:
    lopez = make_order(coordinator, patient_name="Maria Lopez")
    chen = make_order(coordinator, patient_name="Wei Chen", external_ids=["CRM-4471", "po/99"])
    other = make_order(coordinator, patient_name="Ann Other")
    assert listed(coordinator_client, f"?q={lopez.reference.lower()}") == [lopez.reference]
    assert listed(coordinator_client, f"?q={other.impilo_id}") == [other.reference]
    assert listed(coordinator_client, "?q=crm-4471") == [chen.reference]
    assert listed(coordinator_client, "?q=lop") == [lopez.reference]


@pytest.mark.django_db
def test_an_exact_reference_or_impilo_id_is_matched_exactly(coordinator, coordinator_client):
    order = make_order(coordinator, impilo_id=4471)
    make_order(coordinator, external_ids=["PO-4471"], patient_name="Ann 4471")
    html = coordinator_client.get(LIST + "?q=4471").content.decode()
    assert references(html) == [order.reference]
    assert 'data-testid="search-kind"' in html
    assert listed(coordinator_client, f"?q={order.reference}") == [order.reference]


@pytest.mark.django_db
def test_digits_that_are_no_ones_id_search_names_and_external_ids(
    coordinator, coordinator_client
) -> None:
    order = make_order(coordinator, external_ids=["77881"])
    html = coordinator_client.get(LIST + "?q=77881").content.decode()
    assert references(html) == [order.reference]
    assert 'data-testid="search-kind"' not in html
    part = order.reference[3:8].lower()
    assert order.reference in listed(coordinator_client, f"?q={part}")


@pytest.mark.django_db
def test_a_full_name_is_not_looked_for_in_references(coordinator, coordinator_client) -> None:
    order = make_order(coordinator, patient_name="Renée Lee")
    assert listed(coordinator_client, "?q=renée lee") == [order.reference]
    assert listed(coordinator_client, f"?q={order.reference[2:7].lower()}") == [order.reference]
    with CaptureQueriesContext(connection) as queries:
        coordinator_client.get(LIST + "?q=ren%C3%A9e%20lee")
    searches = [q["sql"] for q in queries if "LIKE" in q["sql"]]
    assert searches
    assert not any('"orders_order"."reference"' in sql.split("WHERE")[1] for sql in searches)


@pytest.mark.django_db
def test_filters_stay_in_the_links_so_a_view_can_be_shared(coordinator, coordinator_client) -> None:
    make_orders(coordinator, PAGE_SIZE + 1, impilo_status="shipped")
    html = coordinator_client.get(LIST + "?impilo_status=shipped&sort=reference").content.decode()
    link = next_link(html)
    assert "impilo_status=shipped" in link
    assert "sort=reference" in link


# --- Sorting and pages -----------------------------------------------------------------------


@pytest.mark.django_db
def test_newest_first_by_default_and_sortable_by_reference(coordinator, coordinator_client) -> None:
    orders = make_orders(coordinator, 3)
    assert listed(coordinator_client) == [order.reference for order in reversed(orders)]
    by_reference = sorted(order.reference for order in orders)
    assert listed(coordinator_client, "?sort=reference") == by_reference
    assert listed(coordinator_client, "?sort=-reference") == by_reference[::-1]
    html = coordinator_client.get(LIST + "?sort=reference").content.decode()
    assert 'aria-sort="ascending"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["-created", "created", "state", "-impilo_status", "reference"])
def test_pages_cover_every_order_once_even_with_equal_timestamps(
    coordinator, coordinator_client, sort
) -> None:
    same_moment = timezone.now()
    orders = [
        make_order(
            coordinator,
            created_at=same_moment,
            state=[State.SUBMITTED, State.FAILED][n % 2],
            impilo_status=["", "shipped", "packed"][n % 3],
        )
        for n in range(PAGE_SIZE + 7)
    ]
    first = coordinator_client.get(f"{LIST}?sort={sort}").content.decode()
    second = coordinator_client.get(LIST + next_link(first)).content.decode()
    seen = references(first) + references(second)
    assert len(references(first)) == PAGE_SIZE
    assert sorted(seen) == sorted(order.reference for order in orders)
    assert next_link(second) == ""
    assert "First page" in second


@pytest.mark.django_db
def test_cursor_round_trips_through_text(coordinator) -> None:
    order = make_order(coordinator)
    assert decode_cursor(encode_cursor(order, "-created"), "-created") == [
        order.created_at,
        order.pk,
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["-created", "state", "-impilo_status", "reference"])
def test_previous_page_walks_back_over_exactly_the_pages_next_showed(
    coordinator, coordinator_client, monkeypatch, sort
) -> None:
    monkeypatch.setattr(order_filters, "PAGE_SIZE", 4)
    moment = timezone.now()
    for n in range(4 * 3 + 2):  # ties within each second, state and status: ids decide
        make_order(
            coordinator,
            created_at=moment + timedelta(seconds=n // 3),
            state=[State.SUBMITTED, State.FAILED][n % 2],
            impilo_status=["", "shipped", "packed"][n % 3],
        )
    ordered = list(
        Order.objects.order_by(*order_filters.ordering(sort)).values_list("reference", flat=True)
    )
    forward = [listed_html(coordinator_client, f"?sort={sort}")]
    for _ in range(3):
        forward.append(listed_html(coordinator_client, next_link(forward[-1])))
    assert [references(html) for html in forward] == [ordered[i : i + 4] for i in (0, 4, 8, 12)]
    assert "Previous page" not in forward[0]
    assert all(previous_link(html) for html in forward[1:])

    backward = [forward[-1]]
    for _ in range(3):
        link = previous_link(backward[-1])
        assert "cursor=" not in link
        assert f"sort={sort}" in link or sort == "-created"
        backward.append(listed_html(coordinator_client, link))
    assert [references(html) for html in backward] == [references(html) for html in forward[::-1]]
    first_again = backward[-1]
    assert "Previous page" not in first_again
    assert "First page" not in first_again
    assert "before=" not in next_link(first_again)
    # Forward again from a page reached backwards: the same next page.
    after_back = listed_html(coordinator_client, next_link(backward[2]))
    assert references(after_back) == references(forward[2])


@pytest.mark.django_db
def test_previous_to_a_first_page_that_shrank_shows_the_first_page_full(
    coordinator, coordinator_client, monkeypatch
) -> None:
    monkeypatch.setattr(order_filters, "PAGE_SIZE", 3)
    orders = make_orders(coordinator, 7)[::-1]  # newest first, as listed
    second = listed_html(coordinator_client, next_link(listed_html(coordinator_client)))
    assert references(second) == [order.reference for order in orders[3:6]]
    orders.pop(1).delete()
    html = listed_html(coordinator_client, previous_link(second))
    assert references(html) == [order.reference for order in orders[:3]]
    assert "Previous page" not in html
    assert "First page" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "before",
    [
        "%%%garbage",
        "WzEsMl0",  # valid base64 and JSON, wrong shape
        "reference-sort",  # a cursor written for another sort
        "with-cursor",  # both directions at once
    ],
)
def test_a_bad_previous_position_gives_a_message_and_the_first_page(
    coordinator, coordinator_client, monkeypatch, before
) -> None:
    monkeypatch.setattr(order_filters, "PAGE_SIZE", 3)
    orders = make_orders(coordinator, 5)
    query = f"?before={before}"
    if before == "reference-sort":
        query = f"?before={encode_cursor(orders[0], 'reference')}"
    elif before == "with-cursor":
        page_end = encode_cursor(orders[2], "-created")
        query = f"?cursor={page_end}&before={encode_cursor(orders[1], '-created')}"
    response = coordinator_client.get(LIST + query)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Page: The page position in the address was not understood" in html
    assert references(html) == [order.reference for order in orders[::-1][:3]]
    assert "Previous page" not in html
    assert "First page" not in html


# --- Counts ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_counts_per_state_follow_the_other_filters(coordinator, coordinator_client) -> None:
    make_orders(coordinator, 3, patient_name="Maria Lopez")
    make_order(coordinator, state=State.FAILED, patient_name="Maria Lopez")
    make_order(coordinator, state=State.FAILED, patient_name="Wei Chen")
    html = coordinator_client.get(LIST + "?q=lopez&state=failed").content.decode()
    counts = dict(re.findall(r'data-state="(\w+)"[^>]*>[^<]*<span class="badge[^"]*">(\d+)<', html))
    assert counts["submitted"] == "3"
    assert counts["failed"] == "1"
    assert counts["draft"] == "0"


# --- Bad input -------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "?date_from=yesterday",
        "?date_to=9999-12-31",
        "?date_from=2026-05-01&date_to=2026-04-01",
        "?patient=abc",
        "?patient=99999999999999999999999999",
        "?site=not-a-site",
        "?created_by=0",
        "?state=exploded",
        "?sort=password",
        "?cursor=%%%garbage",
        "?cursor=WzEsMl0",  # valid base64 and JSON, wrong shape
        "?before=%%%garbage",
        "?q=" + "x" * 500,
    ],
)
def test_bad_query_values_give_a_message_never_an_error(
    coordinator, coordinator_client, query
) -> None:
    order = make_order(coordinator)
    response = coordinator_client.get(LIST + query)
    assert response.status_code == 200
    html = response.content.decode()
    assert "were not understood" in html
    assert order.reference in html or "?q=" in query


@pytest.mark.django_db
def test_huge_number_search_is_not_a_database_error(coordinator, coordinator_client) -> None:
    make_order(coordinator)
    assert listed(coordinator_client, "?q=" + "9" * 30) == []


# --- Cost --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_query_count_does_not_grow_with_orders_or_lines(
    coordinator, coordinator_client, django_assert_max_num_queries
) -> None:
    make_orders(coordinator, 2)
    with django_assert_max_num_queries(20) as few:
        coordinator_client.get(LIST + "?q=lopez")
    make_orders(coordinator, PAGE_SIZE + 20, lines=5)
    cache.clear()  # the per-state counts are cached briefly; count them again here
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        coordinator_client.get(LIST + "?q=lopez")
    assert len(many.captured_queries) == len(few.captured_queries)


@pytest.mark.django_db
def test_a_previous_page_costs_the_queries_a_next_page_does(
    coordinator, coordinator_client, monkeypatch, django_assert_max_num_queries
) -> None:
    monkeypatch.setattr(order_filters, "PAGE_SIZE", 3)
    make_orders(coordinator, 10)
    first = listed_html(coordinator_client)  # counts the states, cached for the next pages
    with django_assert_max_num_queries(30) as forward:
        second = listed_html(coordinator_client, next_link(first))
    by_next = len(forward.captured_queries)  # the next request empties the query log
    third = listed_html(coordinator_client, next_link(second))
    with django_assert_max_num_queries(by_next) as backward:
        second_again = listed_html(coordinator_client, previous_link(third))
    assert references(second_again) == references(second)
    assert len(backward.captured_queries) == by_next


@pytest.mark.django_db
def test_list_never_loads_impilo_json(coordinator, coordinator_client, django_assert_num_queries):
    make_order(coordinator, impilo_order={"id": 1, "huge": "x" * 1000})
    from django.db import connection

    with CaptureQueriesContext(connection) as queries:
        coordinator_client.get(LIST)
    order_selects = [q["sql"] for q in queries if 'FROM "orders_order"' in q["sql"]]
    assert order_selects
    assert not any("impilo_order" in sql for sql in order_selects)
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_text_search_uses_trigram_indexes_on_postgresql(coordinator) -> None:
    """Their expressions must be exactly what Django writes, or PostgreSQL ignores them;
    and a new order's entries are in them at once."""
    make_order(coordinator)
    names = set(connection.introspection.get_constraints(connection.cursor(), "orders_order"))
    trigram = {name for name in names if name.endswith("_trgm")}
    if connection.vendor != "postgresql":
        assert trigram == set()  # SQLite has no such index; its search scans
        return
    assert len(trigram) == 4
    data = HistoryFilterForm(QueryDict("q=lopez")).valid_data()
    sql, params = filter_orders(data).order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert all(name in plan for name in trigram), plan
    # The order made above went straight into each index: no pending list for searches
    # to read (migration 0008), so cleaning one finds nothing to move.
    with connection.cursor() as cursor:
        for name in sorted(trigram):
            cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [name])
            assert cursor.fetchone()[0] == 0, name


def test_state_counts_are_cached_briefly_so_paging_does_not_recount(
    coordinator, coordinator_client, django_assert_max_num_queries
) -> None:
    make_orders(coordinator, 3)
    cache.clear()
    with django_assert_max_num_queries(30) as first:
        coordinator_client.get(LIST)
    with django_assert_max_num_queries(30) as second:
        coordinator_client.get(LIST)
    count_sql = [q["sql"] for q in first.captured_queries if "COUNT(*)" in q["sql"]]
    assert count_sql
    assert not [q["sql"] for q in second.captured_queries if "COUNT(*)" in q["sql"]]
