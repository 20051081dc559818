"""Impilo's webhook receiver and the admins' page of recent deliveries.

Impilo sends a shared secret in a header, no signature and no timestamp, so the secret is
all that stands between the internet and this endpoint: it is compared in constant time,
an endpoint without a configured secret accepts nothing, and a refused delivery leaves
one log line and no row. What happens to an accepted delivery is in
engine/webhook_events.py.
"""

import hmac
import json
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from orderdesk.accounts import roles
from orderdesk.accounts.roles import role_required
from orderdesk.orders.engine.webhook_events import (
    MAX_BODY_BYTES,
    BadDelivery,
    parse_envelope,
    receive,
)
from orderdesk.orders.models import WebhookDelivery
from orderdesk.orders.selectors import sync_health

logger = logging.getLogger(__name__)
SECRET_HEADER = "Impilo-Webhook-Secret"  # noqa: S105 - a header name, not a secret


@csrf_exempt
@login_not_required
@require_POST
def impilo_webhook(request: HttpRequest) -> HttpResponse:
    refusal = secret_problem(request)
    if refusal:
        logger.warning(
            "Refused an Impilo webhook delivery from %s: %s",
            request.META.get("REMOTE_ADDR", "?"),
            refusal,
        )
        return JsonResponse({"error": "unauthorized"}, status=401)
    try:
        envelope = parse_envelope(read_body(request))
    except BadDelivery as exc:
        logger.warning("Impilo webhook delivery not accepted: %s", exc)
        return JsonResponse({"error": str(exc)}, status=400)
    created = receive(envelope)
    return JsonResponse({"status": "accepted" if created else "duplicate", "id": envelope.id})


def secret_problem(request: HttpRequest) -> str:
    """Why the delivery is refused, or "". Never includes either secret."""
    expected = settings.IMPILO_WEBHOOK_SECRET
    if not expected:
        return "IMPILO_WEBHOOK_SECRET is not configured, so no delivery can be trusted"
    given = request.headers.get(SECRET_HEADER)
    if not given:
        return f"the {SECRET_HEADER} header is missing"
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        return f"the {SECRET_HEADER} header is wrong"
    return ""


def read_body(request: HttpRequest) -> bytes:
    declared = request.headers.get("content-length") or ""
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise BadDelivery(f"body larger than {MAX_BODY_BYTES} bytes")
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise BadDelivery(f"body larger than {MAX_BODY_BYTES} bytes")
    return body


# --- Admins' view of recent deliveries -----------------------------------------------------

RECENT = 100


@role_required(roles.ADMINISTER)
@require_GET
def delivery_list(request: HttpRequest) -> HttpResponse:
    deliveries = WebhookDelivery.objects.select_related("order").only(
        "envelope_id", "type", "payload", "received_at", "impilo_order_id", "processed_at",
        "outcome", "order__reference",
    )[:RECENT]  # fmt: skip
    context = {
        "deliveries": [
            (delivery, json.dumps(delivery.payload, indent=2, ensure_ascii=False))
            for delivery in deliveries
        ],
        "recent": RECENT,
        "secret_configured": bool(settings.IMPILO_WEBHOOK_SECRET),
        "sync": sync_health.health(),
        "stopped": sync_health.stopped_orders()[: sync_health.STOPPED_SHOWN],
        "stop_days": settings.ORDER_SYNC_STOP_DAYS,
        "unknown_statuses": sync_health.unknown_statuses(),
        "final_statuses": ", ".join(settings.ORDER_FINAL_IMPILO_STATUSES),
    }
    return render(request, "orders/webhook_list.html", context)


@role_required(roles.ADMINISTER)
@require_GET
def stopped_export(request: HttpRequest) -> StreamingHttpResponse:
    """Every order the periodic job no longer polls, as CSV."""
    lines = sync_health.stopped_csv_lines(sync_health.stopped_orders())
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="orders-no-longer-checked.csv"'
    return response
