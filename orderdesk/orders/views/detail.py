"""An order's page. While the order is in flight, or Impilo has not reached a final status,
the status fragment refreshes itself and brings the shipment and timeline panels along
(out-of-band swaps); "Refresh status" asks Impilo now; the Impilo requests panel loads
when it comes into view. Every part also works as a plain page without JavaScript."""

import difflib
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import F
from django.db.models.functions import Substr
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from orderdesk.accounts import roles
from orderdesk.accounts.roles import role_required
from orderdesk.audit import blobs
from orderdesk.audit.models import ApiCall, PendingCall, ViewKind
from orderdesk.audit.present import pretty_body
from orderdesk.audit.viewlog import record_view
from orderdesk.core.rate_limit import take_impilo_call
from orderdesk.http import AuthedHttpRequest
from orderdesk.impilo.errors import ImpiloError
from orderdesk.impilo.types import ImpiloOrder
from orderdesk.orders.engine import status_sync
from orderdesk.orders.models import Order
from orderdesk.orders.selectors import state_words, timeline

TEMPLATE = "orders/order_detail.html"
LIVE_TEMPLATE = "orders/_order_live.html"
POLL_SENDING_SECONDS = 2  # the worker acts within seconds
POLL_IMPILO_SECONDS = 5  # Impilo's statuses move in minutes to days
MAX_CALLS = 50
# Each response in the panel is shown up to this many characters; the call's own page has
# it all. Order-list answers (reconciliation) run to the audit cap, 256 KB each: twenty of
# them made a panel of megabytes that took seconds to build and to read.
PANEL_BODY_CHARS = 8 * 1024
# Packed (zlib) bytes enough for PANEL_BODY_CHARS characters even if nothing compresses:
# up to 4 bytes a character, plus zlib's block overhead.
PANEL_PACKED_BYTES = 4 * PANEL_BODY_CHARS + 1024
PANEL_BLOBS = ["request_headers_blob", "request_body_blob", "response_headers_blob"]


def _order(reference: str) -> Order:
    return get_object_or_404(Order.objects.select_related("created_by"), reference=reference)


def poll_seconds(order: Order) -> int:
    """How often the page asks again; 0 once nothing more is expected to change."""
    if order.is_in_flight:
        return POLL_SENDING_SECONDS
    watching = status_sync.awaits_impilo(order) and not status_sync.polling_stopped(order)
    return POLL_IMPILO_SECONDS if watching else 0


def live_context(order: Order) -> dict[str, Any]:
    stored = order.impilo_order
    impilo = ImpiloOrder.from_json(stored) if isinstance(stored, dict) else None
    events = order.events.select_related("actor")
    return {
        "order": order,
        "status_text": state_words.describe(order),
        "status_badge": state_words.badge_class(order),
        "poll_seconds": poll_seconds(order),
        "impilo": impilo,
        "impilo_label": status_sync.status_label(order.impilo_status),
        "polling_stopped": status_sync.polling_stopped(order),
        "stop_days": settings.ORDER_SYNC_STOP_DAYS,
        "timeline": timeline.merged(events, impilo),
    }


def _page(request: AuthedHttpRequest, order: Order, **extra: Any) -> HttpResponse:
    context = live_context(order) | {"lines": order.lines.all()} | extra
    return render(request, TEMPLATE, context)


@role_required(roles.VIEW_ORDERS)
@require_GET
def order_detail(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    order = _order(reference)
    if request.htmx and not request.htmx.boosted:
        return render(request, LIVE_TEMPLATE, live_context(order))
    return _page(request, order)


@role_required(roles.VIEW_ORDERS)
@require_POST
def order_refresh(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    """Fetch the order from Impilo now (an audited call, made as this person)."""
    order = _order(reference)
    text, ok = _refresh(order, request)
    if request.htmx:
        context = live_context(_order(reference)) | {"refresh_text": text, "refresh_ok": ok}
        return render(request, LIVE_TEMPLATE, context)
    (messages.success if ok else messages.error)(request, text)
    return redirect("orders:detail", reference=order.reference)


def _refresh(order: Order, request: AuthedHttpRequest) -> tuple[str, bool]:
    if order.impilo_id is None:
        return "This order has no Impilo order id yet, so there is nothing to ask Impilo.", False
    if limited := take_impilo_call(request.user):
        return limited, False
    try:
        result = status_sync.refresh(order, actor=request.user)
    except ImpiloError as exc:
        return f"Could not get the order from Impilo: {exc.message}", False
    now = f"“{result.after}”" if result.after else "not given"
    if result.changed:
        return f"Impilo's status is now {now} (was “{result.before or 'none'}”).", True
    return f"Checked with Impilo just now: status {now}, unchanged.", True


# --- The Impilo requests panel --------------------------------------------------------------


@role_required(roles.VIEW_AUDIT)
@require_GET
def order_requests(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    """The audit rows of this order; with htmx the panel alone, else the whole page."""
    order = _order(reference)
    calls, more = _calls(order)
    query = "&".join(filter(None, [f"order={order.reference}", request.GET.urlencode()]))
    record_view(viewer=request.user, kind=ViewKind.ORDER, calls=calls, query=query)
    context = {"calls": calls, "more_calls": more, **_diff(calls, request)}
    # Calls under way now (or whose process died, until recovery records them).
    context["pending_calls"] = PendingCall.objects.filter(order=order).only(
        "at", "action", "method", "attempt"
    )
    if request.htmx and not request.htmx.boosted:
        return render(request, f"{TEMPLATE}#order-requests", {"order": order, **context})
    return _page(request, order, **context)


def _calls(order: Order) -> tuple[list[ApiCall], bool]:
    """The newest MAX_CALLS calls, oldest first, and whether there are older ones."""
    newest = list(
        ApiCall.objects.filter(order=order)
        .select_related("actor", *PANEL_BLOBS)
        # Only the response body's start is shown: read only the start of its packed bytes.
        .annotate(
            response_start=Substr("response_body_blob__data", 1, PANEL_PACKED_BYTES),
            response_chars=F("response_body_blob__chars"),
        )
        .order_by("-at", "-id")[: MAX_CALLS + 1]
    )
    calls = list(reversed(newest[:MAX_CALLS]))
    for call in calls:
        call.order = order  # the shared template names the order: no query per row
        # For this page only (audit rows are never saved again): the start of the body.
        shown: Any = call  # carries the annotation and a page-only flag
        start = shown.response_start
        shown.response_body = blobs.unpack_start(start, PANEL_BODY_CHARS) if start else ""
        shown.response_body_shortened = (shown.response_chars or 0) > PANEL_BODY_CHARS
    return calls, len(newest) > MAX_CALLS


def _call_label(call: ApiCall) -> str:
    attempt = f"attempt {call.attempt}" if call.attempt else call.action
    return f"{attempt} · {call.at:%Y-%m-%d %H:%M:%S} · {call.get_outcome_display()}"


def _pick(calls: list[ApiCall], raw: str | None, default: ApiCall) -> ApiCall:
    if raw and raw.isdigit():
        return next((call for call in calls if call.pk == int(raw)), default)
    return default


def _diff(calls: list[ApiCall], request: AuthedHttpRequest) -> dict[str, Any]:
    """A unified diff of the request bodies of two calls (default: the last two sent)."""
    sent = [call for call in calls if call.request_body]
    options = [(call.pk, _call_label(call)) for call in sent]
    if len(sent) < 2:
        return {"diff_options": options, "diff_lines": None}
    left = _pick(sent, request.GET.get("a"), sent[-2])
    right = _pick(sent, request.GET.get("b"), sent[-1])
    lines = difflib.unified_diff(
        pretty_body(left.request_body).splitlines(),
        pretty_body(right.request_body).splitlines(),
        fromfile=_call_label(left),
        tofile=_call_label(right),
        lineterm="",
    )
    return {
        "diff_options": options,
        "diff_a": left.pk,
        "diff_b": right.pk,
        "diff_lines": [(_line_kind(line), line) for line in lines],
    }


def _line_kind(line: str) -> str:
    if line.startswith(("+++", "---")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    return {"+": "add", "-": "del"}.get(line[:1], "same")
