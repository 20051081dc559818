"""The needs-attention queue page and the navigation badge that counts it."""

from datetime import datetime

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from orderdesk.accounts import roles
from orderdesk.accounts.roles import role_required
from orderdesk.core import listing
from orderdesk.core.links import row_link
from orderdesk.http import AuthedHttpRequest
from orderdesk.orders.selectors import attention_queue

TEMPLATE = "orders/attention_list.html"


@role_required(roles.WORK_QUEUE)
@require_GET
def attention_list(request: AuthedHttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    reason = request.GET.get("reason", "")
    if state not in dict(attention_queue.FILTER_CHOICES) or reason not in dict(
        attention_queue.REASON_CHOICES
    ):
        messages.error(request, "That filter is not one orderdesk knows; showing everything.")
        state, reason = "", ""
    orders = attention_queue.queue(state, reason)
    after = _cursor(request.GET.get("after", ""))
    if after is not None:
        at, pk = after
        orders = orders.filter(Q(state_changed_at__gt=at) | Q(state_changed_at=at, id__gt=pk))
    page = list(orders.select_related("created_by")[: attention_queue.PAGE_SIZE + 1])
    link = row_link("orders:detail", "OD-SAMPLE0")
    rows = [
        (order, attention_queue.reason_in_words(order), link(order.reference))
        for order in page[: attention_queue.PAGE_SIZE]
    ]
    last = page[attention_queue.PAGE_SIZE - 1] if len(page) > attention_queue.PAGE_SIZE else None
    context = {
        "rows": rows,
        "state": state,
        "reason": reason,
        "states": attention_queue.FILTER_CHOICES,
        "reasons": attention_queue.REASON_CHOICES,
        "next_cursor": listing.encode_time_id(last.state_changed_at, last.pk) if last else "",
    }
    if request.htmx and after is not None:
        return render(request, f"{TEMPLATE}#attention-rows", context)
    return render(request, TEMPLATE, context)


def _cursor(value: str) -> tuple[datetime, int] | None:
    try:
        return listing.decode_time_id(value)
    except ValueError:
        return None


@role_required(roles.WORK_QUEUE)
@require_GET
def attention_badge(request: AuthedHttpRequest) -> HttpResponse:
    label = attention_queue.badge_label(attention_queue.count())
    return render(request, "includes/_attention_badge.html", {"attention_count": label})
