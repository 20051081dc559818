"""Orders per day by outcome: the numbers, the SVG, the table for screen readers, and the
fragment and page that show them."""

import re
from datetime import timedelta
from html import unescape as html_unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orderdesk.orders.models import Order, State
from orderdesk.orders.selectors.state_chart import build, daily_counts, nice_max
from tests.orders.orders_data import make_order

CHART = reverse("orders:chart")


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 1), (1, 1), (3, 5), (7, 10), (10, 10), (11, 20), (420, 500)]
)
def test_nice_max_rounds_up_to_1_2_5(value, expected) -> None:
    assert nice_max(value) == expected


@pytest.mark.django_db
def test_daily_counts_group_states_into_outcomes(coordinator) -> None:
    now = timezone.now()
    make_order(coordinator, created_at=now)
    make_order(coordinator, state=State.RESOLVED, created_at=now)
    make_order(coordinator, state=State.FAILED, created_at=now)
    make_order(coordinator, state=State.QUEUED, created_at=now - timedelta(days=1))
    make_order(coordinator, created_at=now - timedelta(days=40))  # outside the 30 days
    days = daily_counts(Order.objects.all(), 30)
    assert len(days) == 30
    assert days[-1].day == timezone.localdate()
    assert days[-1].counts == {"sent": 2, "problem": 1}
    assert days[-2].counts == {"progress": 1}
    assert sum(day.total for day in days) == 4


@pytest.mark.django_db
def test_bars_stack_within_the_plot(coordinator) -> None:
    for _ in range(3):
        make_order(coordinator)
    make_order(coordinator, state=State.FAILED)
    chart = build(Order.objects.all(), 30)
    assert chart.scale_max == 5
    today = chart.bars[-1]
    assert [round(s.height) for s in today.segments] == [round(3 / 5 * 202), round(1 / 5 * 202)]
    assert all(s.y >= 0 and s.y + s.height <= chart.plot_bottom + 0.01 for s in today.segments)
    assert chart.bars[0].segments == []


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_login() -> None:
    assert Client().get(CHART).status_code == 302


@pytest.mark.django_db
def test_chart_fragment_has_svg_and_a_table_of_the_numbers(coordinator, coordinator_client) -> None:
    make_order(coordinator)
    response = coordinator_client.get(CHART + "?days=90", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert '<svg class="order-chart"' in html
    assert "<title" in html
    assert "<caption>Orders per day by outcome, last 90 days</caption>" in html
    assert html.count('<th scope="row">') == 90
    assert "Sent to Impilo: 1" in html


@pytest.mark.django_db
def test_chart_page_works_without_javascript_and_keeps_the_filters(
    coordinator, support_client
) -> None:
    make_order(coordinator, patient_name="Maria Lopez")
    make_order(coordinator, patient_name="Wei Chen")
    response = support_client.get(CHART + "?q=chen&days=bogus")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" in html
    assert "last 30 days" in html
    assert "1 order in all" in html
    # The span links keep the search by its key, never by its text (a patient's name).
    span_link = re.search(r'href="(/orders/chart/\?[^"]*days=90[^"]*)"', html)
    assert span_link is not None
    assert "search_id=" in span_link[1]
    assert "chen" not in span_link[1].lower()
    assert "1 order in all" in support_client.get(html_unescape(span_link[1])).content.decode()
