"""The Orders page (history): filters in the URL, keyset pages, per-state counts, CSV
export and the orders-per-day state_chart. Query building lives in orders/order_filters.py.

The filter form is posted: its search text (often a patient's name) is kept on the server
and the URL carries only its key (selectors/saved_searches.py).
"""

from typing import Any

from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import push_url

from orderdesk.accounts import roles
from orderdesk.accounts.roles import role_required
from orderdesk.core.links import row_link
from orderdesk.http import AuthedHttpRequest
from orderdesk.orders.engine import status_sync
from orderdesk.orders.selectors import csv_export, order_filters, saved_searches, state_chart
from orderdesk.orders.selectors.order_filters import HistoryFilterForm

TEMPLATE = "orders/order_list.html"
COLUMNS = [
    ("reference", "Reference"),
    ("", "Recipient"),
    ("state", "State"),
    ("impilo_status", "Impilo"),
    ("created", "Created"),
]


@role_required(roles.VIEW_ORDERS)
@require_http_methods(["GET", "POST"])
def order_list(request: AuthedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        params, key = saved_searches.posted_params(request.POST)
        problems: list[str] = []
    else:
        params, key, problems = saved_searches.filter_params(request.GET)
    form, data = _filters(params, key)
    if request.method == "POST":
        url = reverse("orders:list") + _query_or_empty(order_filters.query_string(data))
        if not request.htmx:
            return redirect(url)  # the address of these filters, to bookmark or reload
        return push_url(_render_list(request, form, data, problems), url)
    return _render_list(request, form, data, problems)


def _filters(params: QueryDict, key: str) -> tuple[HistoryFilterForm, dict[str, Any]]:
    form = HistoryFilterForm(params)
    return form, saved_searches.with_key(form.valid_data(), key)


def _query_or_empty(query: str) -> str:
    return f"?{query}" if query else ""


def _render_list(
    request: AuthedHttpRequest, form: HistoryFilterForm, data: dict[str, Any], problems: list[str]
) -> HttpResponse:
    matches = order_filters.text_matches(data)
    page = order_filters.page_of_orders(data, matches)
    link = row_link("orders:detail", "OD-SAMPLE0")
    context: dict[str, Any] = {
        "form": form,
        "problems": problems + form.problems(),
        "rows": [
            (order, status_sync.status_label(order.impilo_status), link(order.reference))
            for order in page.rows
        ],
        "counts": [
            (value, label, n, order_filters.query_string(data, state=value))
            for value, label, n in order_filters.state_counts(data, matches)
        ],
        "all_states_query": order_filters.query_string(data, state=None),
        "active_state": data.get("state") or "",
        "search_kind": data["search"][0] if data.get("q") else "",
        "columns": _columns(data),
        "paged": page.later,
        "first_query": order_filters.query_string(data),
        "previous_query": (
            order_filters.query_string(data, before=page.previous_cursor)
            if page.previous_cursor
            else ""
        ),
        "next_query": (
            order_filters.query_string(data, cursor=page.next_cursor) if page.next_cursor else ""
        ),
        "filter_query": order_filters.query_string(data, sort=None),
        "can_export": request.user.has_perm(roles.ADMINISTER),
        "can_see_webhooks": request.user.has_perm(roles.ADMINISTER),
    }
    if request.htmx:
        return render(request, f"{TEMPLATE}#order-results", context)
    return render(request, TEMPLATE, context)


def _columns(data: dict[str, Any]) -> list[dict[str, str]]:
    columns = []
    for key, label in COLUMNS:
        column = {"label": label, "query": "", "aria_sort": ""}
        if key:
            sort, aria = order_filters.column_sort(data["sort"], key)
            column.update(query=order_filters.query_string(data, sort=sort), aria_sort=aria)
        columns.append(column)
    return columns


@role_required(roles.ADMINISTER)
@require_GET
def order_export(request: AuthedHttpRequest) -> StreamingHttpResponse:
    """Every order matching the filters, as CSV, streamed (no page limit, no cursor)."""
    params, key, _ = saved_searches.filter_params(request.GET)
    _, data = _filters(params, key)
    data.pop("cursor", None)
    data.pop("before", None)
    rows = csv_export.stream_csv(csv_export.export_rows(order_filters.sorted_orders(data)))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return StreamingHttpResponse(
        rows,
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="orders-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


@role_required(roles.VIEW_ORDERS)
@require_GET
def order_chart(request: AuthedHttpRequest) -> HttpResponse:
    """Orders per day by outcome, under the list's filters (its own date range)."""
    params, key, _ = saved_searches.filter_params(request.GET)
    _, data = _filters(params, key)
    for name in ("date_from", "date_to", "cursor", "before"):
        data.pop(name, None)
    days = request.GET.get("days", "")
    span = int(days) if days.isdigit() and int(days) in state_chart.DAY_CHOICES else 30
    query = order_filters.query_string(data, sort=None)
    context = {
        "chart": state_chart.build(order_filters.filter_orders(data), span),
        "span_links": [
            (choice, f"{query}&days={choice}" if query else f"days={choice}")
            for choice in state_chart.DAY_CHOICES
        ],
        "list_query": query,
    }
    if request.htmx:
        return render(request, "orders/_order_chart.html", context)
    return render(request, "orders/order_chart.html", context)
