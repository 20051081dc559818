"""An order's page: who may see it, what it shows, the self-refreshing status fragment,
"Refresh status", the Impilo requests panel with its payload diff, and query counts that
do not grow with lines, events or audit rows."""

import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orderdesk.audit.models import ApiCall, AuditView, Outcome, ViewKind, record
from orderdesk.orders.models import OrderEvent, State
from orderdesk.orders.views.detail import PANEL_BODY_CHARS
from orderdesk.sandbox import faults
from tests.orders.engine.test_status_sync import STEP, sandbox_order
from tests.orders.orders_data import SHIPPED_JSON, make_order

HTMX = {"HX-Request": "true"}
KEY = "sk-live-Detail/Key+7"


def detail(order) -> str:
    return reverse("orders:detail", args=[order.reference])


def requests_url(order) -> str:
    return reverse("orders:requests", args=[order.reference])


def make_call(order, *, attempt: int = 1, body: dict | None = None, **fields) -> ApiCall:
    values: dict = {
        "action": "order_create", "method": "POST", "url": "http://impilo.test/api/v3/order",
        "outcome": Outcome.OK, "status_code": 201, "order": order, "attempt": attempt,
        "request_headers": {"Impilo-API-Key": KEY, "Content-Type": "application/json"},
        "request_body": json.dumps(body if body is not None else {"patient": {"id": 1}}),
        "response_headers": {"Content-Type": "application/json"},
        "response_body": json.dumps({"id": 905512, "currentStatus": "received"}),
    }  # fmt: skip
    values.update(fields)
    return record(**values)


# --- Who may see it --------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_login(coordinator) -> None:
    response = Client().get(detail(make_order(coordinator)))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_user_without_a_role_is_refused(make_user, coordinator) -> None:
    client = Client()
    client.force_login(make_user("", username="nobody"))
    assert client.get(detail(make_order(coordinator))).status_code == 403


@pytest.mark.django_db
def test_unknown_reference_is_not_found(coordinator_client) -> None:
    assert coordinator_client.get("/orders/OD-NOPE/").status_code == 404


# --- What it shows ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_page_shows_the_order_and_what_impilo_reported(coordinator, coordinator_client) -> None:
    order = make_order(
        coordinator, lines=2, impilo_id=905512, impilo_status="shipped",
        impilo_order=SHIPPED_JSON, external_ids=["CRM-4471"],
    )  # fmt: skip
    html = coordinator_client.get(detail(order)).content.decode()
    assert f"Order {order.reference}" in html
    assert "Patient: Maria Lopez" in html
    assert "Item 0" in html
    assert "Item 1" in html
    assert "CRM-4471" in html
    assert "by Coordinator" in html
    assert "Sent to Impilo — Impilo order 905512" in html
    assert 'data-testid="impilo-status">shipped</strong>' in html
    assert "(Shipped)" in html
    assert "UPS: <code>1Z999AA10123456784</code>" in html
    assert "serial <code>BP-200-7F3K9Q</code>" in html
    assert "RPM Starter Kit: BP-200-7F3K9Q" in html


@pytest.mark.django_db
def test_unknown_impilo_status_is_shown_verbatim_without_a_label(coordinator, coordinator_client):
    order = make_order(coordinator, impilo_status="awaitingCustoms")
    html = coordinator_client.get(detail(order)).content.decode()
    assert 'data-testid="impilo-status">awaitingCustoms</strong>' in html
    assert "awaitingCustoms</strong> <span" not in html


@pytest.mark.django_db
def test_timeline_merges_our_events_and_impilos_in_time_order(coordinator, coordinator_client):
    order = make_order(coordinator, impilo_order=SHIPPED_JSON)
    OrderEvent.objects.filter(order=order).update(at="2026-01-05T08:00:00Z")
    OrderEvent.objects.create(
        order=order, at="2026-01-05T12:00:00Z", actor_label="worker",
        from_state=State.SENDING, to_state=State.SUBMITTED, reason="Impilo created order 905512",
    )  # fmt: skip
    html = coordinator_client.get(detail(order)).content.decode()
    timeline = html[html.index('data-testid="timeline"') :]
    order_of = [
        timeline.index("Order created"),
        timeline.index("received (Received by Impilo)"),
        timeline.index("Sending to Impilo → Sent to Impilo. Impilo created order 905512"),
        timeline.index("shipped (Shipped)"),
    ]
    assert order_of == sorted(order_of)
    assert "<strong>Coordinator</strong>" in timeline or "<strong>coordinator</strong>" in timeline
    assert "<strong>worker</strong>" in timeline


@pytest.mark.django_db
def test_impilo_timestamps_that_do_not_parse_are_kept_at_the_end(coordinator, coordinator_client):
    odd = {"id": 1, "orderEvents": [{"name": "shipped", "eventTimestamp": "yesterday-ish"}]}
    order = make_order(coordinator, impilo_order=odd)
    html = coordinator_client.get(detail(order)).content.decode()
    assert html.index("Order created") < html.index("yesterday-ish")


# --- The self-refreshing status ----------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "every"),
    [
        ({"state": State.QUEUED}, "every 2s"),
        ({"state": State.RETRY_WAIT, "next_attempt_at": timezone.now()}, "every 2s"),
        ({"impilo_status": "packed"}, "every 5s"),
        ({"impilo_status": "delivered"}, None),
        ({"state": State.FAILED}, None),
        ({"state": State.DRAFT}, None),
    ],
)
def test_status_polls_while_something_may_change(coordinator, coordinator_client, fields, every):
    order = make_order(coordinator, **fields)
    html = coordinator_client.get(detail(order)).content.decode()
    section = html[html.index('<section id="order-status"') :]
    section = section[: section.index(">")]
    if every:
        assert f'hx-trigger="{every}"' in section
        assert f'hx-get="{detail(order)}"' in section
    else:
        assert "hx-trigger" not in section
        assert 'data-polling="no"' in section


@pytest.mark.django_db
def test_poll_returns_the_status_and_swaps_the_panels_out_of_band(coordinator, coordinator_client):
    order = make_order(coordinator, impilo_status="shipped", impilo_order=SHIPPED_JSON)
    html = coordinator_client.get(detail(order), headers=HTMX).content.decode()
    assert "<html" not in html
    assert html.lstrip().startswith('<section id="order-status"')
    assert re.search(r'<section id="order-impilo"[^>]*hx-swap-oob="true"', html)
    assert re.search(r'<section id="order-timeline"[^>]*hx-swap-oob="true"', html)
    assert html.count('hx-swap-oob="true"') == 2
    assert "1Z999AA10123456784" in html
    assert "Lines" not in html


# --- Refresh status ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_refresh_asks_impilo_now_and_redirects(sandbox, settings, coordinator) -> None:
    settings.SANDBOX_STATUS_STEP_SECONDS = STEP
    order = make_order(coordinator, impilo_id=sandbox_order(steps=3), impilo_status="received")
    client = Client()
    client.force_login(coordinator)
    response = client.post(reverse("orders:refresh", args=[order.reference]), follow=True)
    assert response.redirect_chain == [(detail(order), 302)]
    html = response.content.decode()
    assert "Impilo&#x27;s status is now “shipped” (was “received”)." in html
    assert "UPS: <code>1Z" in html
    call = ApiCall.objects.get(order=order)
    assert (call.action, call.actor, call.status_code) == ("order_fetch", coordinator, 200)


@pytest.mark.django_db(transaction=True)
def test_refresh_with_htmx_answers_with_the_fragment(sandbox, settings, coordinator) -> None:
    settings.SANDBOX_STATUS_STEP_SECONDS = STEP
    order = make_order(coordinator, impilo_id=sandbox_order(steps=1), impilo_status="processing")
    client = Client()
    client.force_login(coordinator)
    response = client.post(reverse("orders:refresh", args=[order.reference]), headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Checked with Impilo just now: status “processing”, unchanged." in html
    assert "<html" not in html


@pytest.mark.django_db(transaction=True)
def test_refresh_reports_impilo_errors_in_words(sandbox, coordinator) -> None:
    order = make_order(coordinator, impilo_id=sandbox_order())
    faults.inject("status", method="GET", path=r"/api/v3/order/\d+$", status=503)
    client = Client()
    client.force_login(coordinator)
    html = client.post(reverse("orders:refresh", args=[order.reference]), follow=True)
    text = html.content.decode()
    assert "Could not get the order from Impilo:" in text
    assert "HTTP 503" in text
    assert ApiCall.objects.get(order=order).outcome == Outcome.AMBIGUOUS


@pytest.mark.django_db
def test_refresh_of_an_order_not_at_impilo_says_so(coordinator, coordinator_client) -> None:
    order = make_order(coordinator, state=State.QUEUED)
    response = coordinator_client.post(
        reverse("orders:refresh", args=[order.reference]), follow=True
    )
    assert "nothing to ask Impilo" in response.content.decode()
    assert ApiCall.objects.count() == 0


@pytest.mark.django_db
def test_refresh_needs_post_and_a_csrf_token(coordinator) -> None:
    order = make_order(coordinator, state=State.QUEUED)
    url = reverse("orders:refresh", args=[order.reference])
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403


# --- The Impilo requests panel -----------------------------------------------------------------


@pytest.mark.django_db
def test_coordinators_do_not_see_impilo_requests(coordinator, coordinator_client) -> None:
    order = make_order(coordinator)
    make_call(order)
    assert 'id="order-requests"' not in coordinator_client.get(detail(order)).content.decode()
    assert coordinator_client.get(requests_url(order)).status_code == 403


@pytest.mark.django_db
def test_requests_panel_loads_lazily(coordinator, support_client) -> None:
    order = make_order(coordinator)
    make_call(order)
    html = support_client.get(detail(order)).content.decode()
    panel = html[html.index('<section id="order-requests"') :]
    assert f'hx-get="{requests_url(order)}" hx-trigger="revealed"' in panel
    assert "apicall-" not in panel


@pytest.mark.django_db
def test_requests_panel_shows_every_call_in_full_without_the_key(
    settings, coordinator, support, support_client
) -> None:
    settings.IMPILO_API_KEY = KEY
    order = make_order(coordinator)
    first = make_call(order, attempt=1, outcome=Outcome.AMBIGUOUS, status_code=503)
    second = make_call(order, attempt=2)
    response = support_client.get(requests_url(order), headers=HTMX)
    html = response.content.decode()
    assert "<html" not in html
    assert html.count("<details>") == 2
    assert html.index(f'id="apicall-{first.pk}"') < html.index(f'id="apicall-{second.pk}"')
    assert "Impilo-API-Key" in html
    assert KEY not in html
    assert "&quot;currentStatus&quot;: &quot;received&quot;" in html  # pretty-printed JSON
    view = AuditView.objects.get()
    assert (view.viewer, view.kind) == (support, ViewKind.ORDER)
    assert view.query == f"order={order.reference}"
    assert sorted(view.apicall_ids) == [first.pk, second.pk]


@pytest.mark.django_db
def test_requests_panel_shows_the_start_of_a_large_response_and_links_to_the_rest(
    coordinator, support_client
) -> None:
    """A reconcile's order-list answers run to 256 KB each; an order with twenty of them
    made a panel of megabytes that took seconds. The panel shows each response's start."""
    order = make_order(coordinator)
    big = json.dumps({"content": [{"id": n, "externalOrderIds": [f"OD-{n:08d}"]}
                                  for n in range(3000)], "tail": "END-OF-BODY"})  # fmt: skip
    assert len(big) > 4 * PANEL_BODY_CHARS
    calls = [make_call(order, action="order_list", method="GET", response_body=big,
                       request_body="") for _ in range(20)]  # fmt: skip
    html = support_client.get(requests_url(order), headers=HTMX).content.decode()
    assert html.count("<details>") == 20
    assert "END-OF-BODY" not in html
    assert "OD-00000001" in html  # the start is there
    assert html.count("Only the start of this response is shown here") == 20
    assert f'href="/audit/{calls[0].pk}/"' in html
    assert len(html) < 20 * 3 * PANEL_BODY_CHARS  # escaped quotes make the start longer
    full = support_client.get(f"/audit/{calls[0].pk}/").content.decode()
    assert "END-OF-BODY" in full  # the call's own page keeps it all


@pytest.mark.django_db
def test_requests_page_works_without_javascript(coordinator, admin_client_) -> None:
    order = make_order(coordinator)
    make_call(order)
    html = admin_client_.get(requests_url(order)).content.decode()
    assert "<html" in html
    assert f"Order {order.reference}" in html
    assert "<details>" in html


@pytest.mark.django_db
def test_diff_shows_what_changed_between_two_attempts(coordinator, support_client) -> None:
    order = make_order(coordinator)
    one = make_call(order, attempt=1, body={"patient": {"id": 1}, "orderItems": [{"count": 1}]})
    two = make_call(order, attempt=2, body={"patient": {"id": 1}, "orderItems": [{"count": 2}]})
    three = make_call(order, attempt=3, body={"patient": {"id": 1}, "orderItems": [{"count": 2}]})
    html = support_client.get(requests_url(order), headers=HTMX).content.decode()
    assert "The two payloads are identical." in html  # the last two, by default
    html = support_client.get(f"{requests_url(order)}?a={one.pk}&b={three.pk}").content.decode()
    diff = html[html.index('data-testid="payload-diff"') :]
    assert "-      &quot;count&quot;: 1" in diff
    assert "+      &quot;count&quot;: 2" in diff
    assert f'<option value="{one.pk}" selected>' in html
    assert two.pk != three.pk


@pytest.mark.django_db
def test_diff_ignores_choices_that_are_not_this_orders_calls(coordinator, support_client) -> None:
    order, other = make_order(coordinator), make_order(coordinator)
    make_call(order, attempt=1)
    make_call(order, attempt=2)
    stranger = make_call(other, body={"secret": "other order"})
    html = support_client.get(f"{requests_url(order)}?a={stranger.pk}&b=x").content.decode()
    assert "other order" not in html
    assert "The two payloads are identical." in html


@pytest.mark.django_db
def test_one_call_has_nothing_to_compare(coordinator, support_client) -> None:
    order = make_order(coordinator)
    make_call(order)
    html = support_client.get(requests_url(order), headers=HTMX).content.decode()
    assert "nothing to compare yet" in html


# --- Cost --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_query_counts_do_not_grow_with_lines_events_or_audit_rows(
    coordinator, support_client, django_assert_max_num_queries
) -> None:
    order = make_order(coordinator, lines=1, impilo_order=SHIPPED_JSON)
    make_call(order)
    counts = {}
    for label in ("few", "many"):
        for url, headers in [
            (detail(order), {}), (detail(order), HTMX), (requests_url(order), HTMX),
        ]:  # fmt: skip
            with django_assert_max_num_queries(15) as captured:
                support_client.get(url, headers=headers)
            counts[(label, url, bool(headers))] = len(captured.captured_queries)
        for n in range(30):
            make_call(order, attempt=n + 2, at=timezone.now() + timedelta(seconds=n))
            OrderEvent.objects.create(order=order, actor=coordinator, reason=f"note {n}")
        make_order(coordinator, lines=20)
        order.lines.create(kind="item", impilo_id=1, name="more", count=1, position=9)
    few = {key[1:]: n for key, n in counts.items() if key[0] == "few"}
    many = {key[1:]: n for key, n in counts.items() if key[0] == "many"}
    assert few == many
