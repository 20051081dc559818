"""The audit log pages: a filtered, keyset-paged list and one call in full (support, admin)."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from orderdesk.accounts import roles
from orderdesk.accounts.roles import role_required
from orderdesk.audit.forms import ApiCallFilterForm, encode_cursor, filter_calls, query_string
from orderdesk.audit.models import ApiCall, ViewKind
from orderdesk.audit.viewlog import record_view
from orderdesk.core.links import row_link
from orderdesk.http import AuthedHttpRequest

PAGE_SIZE = 50
# The list never loads bodies or headers: up to 512 KB each, fifty a page.
LIST_COLUMNS = [
    "at", "action", "method", "url", "status_code", "outcome", "duration_ms", "request_id",
    "order_id", "order__reference", "error_class",
]  # fmt: skip


@role_required(roles.VIEW_AUDIT)
@require_GET
def apicall_list(request: AuthedHttpRequest) -> HttpResponse:
    form = ApiCallFilterForm(request.GET)
    data = form.valid_data()
    # Keyset paging on (at, id): no OFFSET, no COUNT(*), the same cost on page 1 or 10,000.
    calls = list(
        filter_calls(data)
        .select_related("order")
        .only(*LIST_COLUMNS)
        .order_by("-at", "-id")[: PAGE_SIZE + 1]
    )
    has_more = len(calls) > PAGE_SIZE
    calls = calls[:PAGE_SIZE]
    record_view(viewer=request.user, kind=ViewKind.LIST, calls=calls, query=request.GET.urlencode())
    _add_links(calls)
    context = {
        "form": form,
        "calls": calls,
        "paged": bool(data.get("cursor")),
        "first_page_query": query_string(data),
        "next_query": query_string(data, encode_cursor(calls[-1])) if has_more else "",
    }
    if request.htmx:
        return render(request, "audit/apicall_list.html#apicall-rows", context)
    return render(request, "audit/apicall_list.html", context)


def _add_links(calls: list[ApiCall]) -> None:
    """Each row's links, made once per page rather than by {% url %} per row."""
    detail, order = row_link("audit:detail", "123456789"), row_link("orders:detail", "OD-SAMPLE0")
    for call in calls:
        call.detail_url = detail(call.pk)  # type: ignore[attr-defined]
        reference = call.order.reference if call.order else ""
        call.order_url = order(reference) if reference else ""  # type: ignore[attr-defined]


@role_required(roles.VIEW_AUDIT)
@require_GET
def apicall_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    call = get_object_or_404(ApiCall.objects.select_related("order", "actor"), pk=pk)
    record_view(viewer=request.user, kind=ViewKind.DETAIL, calls=[call])
    return render(request, "audit/apicall_detail.html", {"call": call})
