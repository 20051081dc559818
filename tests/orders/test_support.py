import re

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from orderdesk.orders import services
from orderdesk.orders.models import Order, OrderEvent, OrderPayloadVersion, State
from tests.orders.factories import catalog, make_order, order_post
from tests.support.threads import run_together

pytestmark = pytest.mark.django_db


def url(order: Order, action: str) -> str:
    return f"/orders/{order.reference}/{action}/"


@pytest.mark.parametrize(
    "path",
    ["/orders/attention/", "/orders/attention/badge/"],
)
def test_coordinators_get_403_on_the_queue(coordinator_client, path: str) -> None:
    assert coordinator_client.get(path).status_code == 403


def test_coordinators_get_403_on_every_action(coordinator_client, coordinator) -> None:
    order = make_order(coordinator)
    for action in ("resubmit", "resolve", "edit-resubmit"):
        assert coordinator_client.get(url(order, action)).status_code == 403
        assert coordinator_client.post(url(order, action), {"reason": "x"}).status_code == 403
    assert coordinator_client.post(url(order, "check")).status_code == 403
    post = coordinator_client.post(
        "/orders/attention/bulk-resubmit/", {"reference": order.reference}
    )
    assert post.status_code == 403
    order.refresh_from_db()
    assert order.state == State.FAILED


def test_anonymous_is_sent_to_login_from_actions(client: Client, coordinator) -> None:
    order = make_order(coordinator)
    response = client.post(url(order, "resubmit"), {"reason": "x"})
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_queue_lists_stuck_orders_oldest_first_with_reasons(
    support_client, coordinator
) -> None:
    failed = make_order(coordinator, State.FAILED, last_error="x" * 600)
    rejected = make_order(coordinator, State.REJECTED, last_error="Not enough stock")
    make_order(coordinator, State.SUBMITTED)
    html = support_client.get("/orders/attention/").content.decode()
    assert html.index(failed.reference) < html.index(rejected.reference)
    assert "x" * 600 in html  # the full error, not cut off
    assert "Gave up after 8 attempts" in html
    assert "Impilo rejected the order" in html
    assert html.count("/orders/OD-") >= 2
    only_rejected = support_client.get("/orders/attention/?state=rejected").content.decode()
    assert rejected.reference in only_rejected
    assert failed.reference not in only_rejected


def test_a_bad_queue_filter_is_reported_not_a_500(support_client) -> None:
    response = support_client.get("/orders/attention/?state=<script>&after=garbage")
    assert response.status_code == 200
    assert b"That filter is not one orderdesk knows" in response.content
    assert b"<script>" not in response.content


def test_the_queue_pages_with_htmx_without_counting_everything(
    support_client, coordinator, django_assert_max_num_queries
) -> None:
    orders = [make_order(coordinator) for _ in range(55)]
    first = support_client.get("/orders/attention/").content.decode()
    assert orders[49].reference in first
    assert orders[50].reference not in first
    assert "Show more" in first
    cursor = re.search(r'after=([^"&]+)', first).group(1)  # type: ignore[union-attr]
    with django_assert_max_num_queries(12):
        more = support_client.get(f"/orders/attention/?after={cursor}", HTTP_HX_REQUEST="true")
    html = more.content.decode()
    assert "<html" not in html
    assert orders[50].reference in html
    assert orders[49].reference not in html


def test_the_badge_counts_orders_needing_attention(support_client, coordinator) -> None:
    make_order(coordinator, State.FAILED)
    make_order(coordinator, State.UNKNOWN)
    badge = support_client.get("/orders/attention/badge/").content.decode()
    assert ">2<" in badge
    assert "orders need attention" in badge
    page = support_client.get("/orders/").content.decode()
    assert 'id="attention-badge"' in page


def test_resubmit_shows_the_exact_payload_then_queues_with_the_same_reference(
    support_client, support, coordinator
) -> None:
    order = make_order(coordinator, State.FAILED)
    confirm = support_client.get(url(order, "resubmit")).content.decode()
    assert order.reference in confirm
    assert "&quot;orderItems&quot;: [{&quot;item&quot;: {&quot;id&quot;: 1001}" in confirm
    response = support_client.post(url(order, "resubmit"), {"reason": "Impilo is back"})
    assert response["Location"] == f"/orders/{order.reference}/"
    order.refresh_from_db()
    assert order.state == State.QUEUED
    assert order.attempt_limit == order.attempts + 8
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    event = OrderEvent.objects.get(order=order, to_state=State.QUEUED)
    assert (event.actor, event.reason) == (support, "Resubmitted: Impilo is back")


def test_resubmit_needs_a_reason_and_changes_nothing_without_one(
    support_client, coordinator
) -> None:
    order = make_order(coordinator, State.FAILED)
    response = support_client.post(url(order, "resubmit"), {"reason": ""})
    assert response.status_code == 200
    assert b"This field is required" in response.content
    order.refresh_from_db()
    assert order.state == State.FAILED
    assert not DBTaskResult.objects.exists()


def test_resubmit_is_refused_for_an_order_already_sent(support_client, coordinator) -> None:
    order = make_order(coordinator, State.SUBMITTED)
    response = support_client.post(url(order, "resubmit"), {"reason": "again"})
    assert response.status_code == 200
    assert b"not possible" in response.content
    assert not DBTaskResult.objects.exists()


def test_a_get_never_changes_state(support_client, coordinator) -> None:
    order = make_order(coordinator, State.FAILED)
    support_client.get(url(order, "resubmit") + "?reason=x")
    support_client.get(url(order, "resolve") + "?reason=x")
    assert support_client.get(url(order, "check")).status_code == 405
    order.refresh_from_db()
    assert order.state == State.FAILED


def test_mark_resolved_sends_nothing_and_keeps_the_reason(support_client, coordinator) -> None:
    order = make_order(coordinator, State.NEEDS_REVIEW)
    page = support_client.get(url(order, "resolve")).content.decode()
    assert "Nothing is sent to Impilo" in page
    support_client.post(url(order, "resolve"), {"reason": "Placed by phone"})
    order.refresh_from_db()
    assert order.state == State.RESOLVED
    assert not DBTaskResult.objects.exists()
    assert OrderEvent.objects.filter(
        order=order, reason="Marked resolved: Placed by phone"
    ).exists()


def test_an_unknown_action_is_a_404(support_client, coordinator) -> None:
    order = make_order(coordinator)
    assert support_client.post(url(order, "explode"), {"reason": "x"}).status_code == 404


def test_edit_and_resubmit_keeps_the_old_payload_and_shows_the_diff(
    support_client, support, coordinator
) -> None:
    catalog()
    order = make_order(coordinator, State.REJECTED, last_error="Impilo has not enough stock")
    form = support_client.get(url(order, "edit-resubmit")).content.decode()
    assert "Impilo rejected this order:" in form
    assert "Reason for the change" in form
    data = order_post(**{"line-id": ["1002"], "line-count": ["1"]})
    no_reason = support_client.post(url(order, "edit-resubmit"), data)
    assert b"Say why the order changed." in no_reason.content
    support_client.post(url(order, "edit-resubmit"), {**data, "reason": "Swap to the scale"})
    order.refresh_from_db()
    assert order.state == State.QUEUED
    assert order.payload_version == 2
    assert [(line.impilo_id, line.count) for line in order.lines.all()] == [(1002, 1)]
    old = OrderPayloadVersion.objects.get(order=order)
    assert (old.version, old.replaced_by, old.reason) == (1, support, "Swap to the scale")
    assert '"id": 1001' in old.payload
    detail = support_client.get(f"/orders/{order.reference}/").content.decode()
    assert "Version 1 → 2" in detail
    assert re.search(r"\n-\s+&quot;id&quot;: 1001,?\n", detail)
    assert re.search(r"\n\+\s+&quot;id&quot;: 1002,?\n", detail)


def test_bulk_resubmit_confirms_then_reports_each_order(support_client, coordinator) -> None:
    first = make_order(coordinator, State.FAILED)
    second = make_order(coordinator, State.FAILED)
    refs = {"reference": [first.reference, second.reference]}
    confirm = support_client.post("/orders/attention/bulk-resubmit/", refs).content.decode()
    assert "Resubmit 2 orders" in confirm
    assert not DBTaskResult.objects.exists()
    # Someone resolves the second meanwhile: the bulk action must not undo that.
    services.order_mark_resolved(actor=coordinator, order=second, reason="phone")
    result = support_client.post(
        "/orders/attention/bulk-resubmit/", {**refs, "confirm": "1", "reason": "outage over"}
    ).content.decode()
    assert f"{first.reference} is queued again" in result
    assert "Not done" in result
    assert "Resolved outside orderdesk" in result
    assert Order.objects.get(pk=second.pk).state == State.RESOLVED
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_ten_people_resubmitting_at_once_queue_one_attempt(make_user) -> None:
    creator = make_user("coordinator")
    order = make_order(creator, State.FAILED)
    people = [make_user("support", username=f"support{n}") for n in range(10)]

    def resubmit(index: int) -> services.ActionResult:
        return services.order_resubmit(actor=people[index], order=order, reason="go")

    results = run_together(resubmit, 10)
    assert sum(r.ok for r in results) == 1
    losers = [r.message for r in results if not r.ok]
    assert len(losers) == 9
    winner = OrderEvent.objects.get(order=order, to_state=State.QUEUED).actor
    assert all(f"by {winner}" in m and "Waiting to send" in m for m in losers)
    assert DBTaskResult.objects.count() == 1
