"""Impilo's webhook deliveries once the receiver (views/webhooks.py) accepted them: read
the envelope, keep each delivery once, and refetch the order an order.status event is about.

Impilo retries failed deliveries (+15, +30, +60 min): the envelope id is unique, so a retry
of something we already have is acknowledged and dropped.
"""

import json
import logging
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task

from orderdesk.impilo.errors import ImpiloError
from orderdesk.impilo.types import as_int
from orderdesk.orders.engine import status_sync
from orderdesk.orders.models import Order, WebhookDelivery

logger = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 64
REFETCH_TYPES = frozenset({"order.status", "order.statusFull"})
WEBHOOK = "Impilo webhook"
# Impilo may announce an order before our worker has stored its id (the 201 is in flight).
LOOKUP_TRIES = 3
LOOKUP_RETRY_SECONDS = 10.0


class BadDelivery(ValueError):
    """The body is not an envelope we can keep; the message says why (no body content)."""


@dataclass(frozen=True)
class Envelope:
    id: str
    type: str
    payload: dict[str, Any]


# --- Receiving -----------------------------------------------------------------------------


def _no_constants(name: str) -> None:
    raise BadDelivery(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadDelivery("a number is too large")
    return value


def parse_envelope(body: bytes) -> Envelope:
    """{"id": long, "type": str, "payload": object}, storable on SQLite and PostgreSQL."""
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constants, parse_float=_finite)
    except BadDelivery:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BadDelivery("body is not JSON") from exc
    if not isinstance(data, dict):
        raise BadDelivery("body is not a JSON object")
    envelope_id, kind, payload = data.get("id"), data.get("type"), data.get("payload")
    if isinstance(envelope_id, bool) or not isinstance(envelope_id, (int, str)):
        raise BadDelivery("id must be a number or a string")
    envelope_id = str(envelope_id).strip()
    if not envelope_id or len(envelope_id) > 64:
        raise BadDelivery("id must be 1 to 64 characters")
    if not isinstance(kind, str) or not kind.strip() or len(kind) > 100:
        raise BadDelivery("type must be a text of 1 to 100 characters")
    if not isinstance(payload, dict):
        raise BadDelivery("payload must be a JSON object")
    _check_storable(payload, depth=0)
    return Envelope(id=envelope_id, type=kind.strip(), payload=payload)


def _check_storable(value: object, *, depth: int) -> None:
    """PostgreSQL's jsonb refuses NUL characters; very deep nesting is refused by us."""
    if depth > MAX_DEPTH:
        raise BadDelivery("payload is nested too deeply")
    if isinstance(value, str) and "\x00" in value:
        raise BadDelivery("payload contains a NUL character")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key, depth=depth + 1)
            _check_storable(item, depth=depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_storable(item, depth=depth + 1)


def order_id_in(payload: dict[str, Any]) -> int | None:
    """Impilo's order id in an order event. order.status's field names are unpublished,
    so the likely spellings are tried; statusFull is the order itself."""
    nested = payload.get("order")
    candidates = [payload.get("orderId"), payload.get("order_id")]
    candidates.append(nested.get("id") if isinstance(nested, dict) else nested)
    candidates.append(payload.get("id"))
    for candidate in candidates:
        value = as_int(candidate)
        if value is not None and 0 < value < 2**63:
            return value
    return None


def receive(envelope: Envelope) -> bool:
    """Keep the delivery and schedule what it asks for; False if we already had it."""
    now = timezone.now()
    order_id = order_id_in(envelope.payload) if envelope.type in REFETCH_TYPES else None
    try:
        with transaction.atomic():
            delivery = WebhookDelivery.objects.create(
                envelope_id=envelope.id,
                type=envelope.type,
                payload=envelope.payload,
                received_at=now,
                impilo_order_id=order_id,
            )
            if envelope.type not in REFETCH_TYPES:
                _done(delivery.pk, "Kept; orderdesk does not act on this type of event")
            elif order_id is None:
                _done(delivery.pk, "Kept; no order id found in the payload")
            else:
                # Same transaction as the row: no delivery without its task, nor the reverse.
                process_delivery.enqueue(delivery.pk)
    except IntegrityError:
        logger.info("Impilo webhook %s received again; already kept", envelope.id)
        return False
    return True


# --- Acting on a delivery (in the worker) --------------------------------------------------


@task()
def process_delivery(delivery_id: int, tries: int = 1) -> str:
    return process(delivery_id, tries)


def process(delivery_id: int, tries: int = 1) -> str:
    delivery = WebhookDelivery.objects.filter(pk=delivery_id, processed_at__isnull=True).first()
    if delivery is None:
        return "already processed"
    order = Order.objects.filter(impilo_id=delivery.impilo_order_id).first()
    if order is None and tries < LOOKUP_TRIES:
        run_after = timezone.now() + timedelta(seconds=LOOKUP_RETRY_SECONDS)
        process_delivery.using(run_after=run_after).enqueue(delivery_id, tries + 1)
        return "order not known yet; trying again"
    if order is None:
        return _done(delivery_id, f"No orderdesk order has Impilo id {delivery.impilo_order_id}")
    try:
        result = status_sync.refresh(order, actor_label=WEBHOOK)
    except ImpiloError as exc:
        # The periodic sync will ask again later; the delivery itself is dealt with.
        return _done(delivery_id, f"Could not fetch the order from Impilo: {exc.message}", order)
    if result.changed:
        text = f"Refetched: Impilo status “{result.before}” → “{result.after}”"
    else:
        text = f"Refetched: Impilo status “{result.after}”"
    return _done(delivery_id, text, order)


def _done(delivery_id: int, outcome: str, order: Order | None = None) -> str:
    fields: dict[str, Any] = {"processed_at": timezone.now(), "outcome": outcome}
    if order is not None:
        fields["order"] = order
    WebhookDelivery.objects.filter(pk=delivery_id, processed_at__isnull=True).update(**fields)
    return outcome
