"""Where a sent order stands at Impilo: fetch it, keep what Impilo says, note changes.

Three ways in: a person presses "Refresh status" (now), Impilo sends a webhook (soon, by a
task), or nobody says anything and the periodic job asks, less often as the order ages.
Impilo publishes no status list, so statuses are kept verbatim, labelled where we know
them, and which ones end the syncing is a setting.

What bounds the cost: while webhooks arrive, polling is only a safety net (at most every
ORDER_SYNC_WEBHOOK_SAFETY_SECONDS); an order not final ORDER_SYNC_STOP_DAYS after it was
sent is no longer polled at all.
"""

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from orderdesk.accounts.models import User
from orderdesk.impilo import errors
from orderdesk.impilo.client import ImpiloClient
from orderdesk.impilo.types import ImpiloOrder
from orderdesk.orders.models import Order, State, WebhookDelivery
from orderdesk.orders.transitions import note

logger = logging.getLogger(__name__)
SYNC = "status sync"

# Friendly words for the statuses we have seen. Unknown ones are shown verbatim only;
# add a line here when Impilo shows a new one.
STATUS_LABELS = {
    "received": "Received by Impilo",
    "processing": "Being prepared",
    "packed": "Packed",
    "shipped": "Shipped",
    "intransit": "In transit",
    "delivered": "Delivered",
    "availableforpickup": "Available for pickup",
    "cancelled": "Cancelled",
    "canceled": "Cancelled",
    "closed": "Closed",
    "returned": "Returned",
    "onhold": "On hold",
    "backordered": "Back-ordered",
}


def status_label(status: str | None) -> str:
    """The friendly label for an Impilo status, or "" when we do not know it."""
    key = (status or "").replace("_", "").replace(" ", "").lower()
    return STATUS_LABELS.get(key, "")


def final_statuses() -> list[str]:
    """The final statuses in the spellings an exact SQL match needs."""
    spellings: set[str] = set()
    for status in settings.ORDER_FINAL_IMPILO_STATUSES:
        spellings |= {status, status.lower(), status.upper(), status.title()}
    return sorted(spellings)


def is_final(status: str | None) -> bool:
    wanted = {status.lower() for status in settings.ORDER_FINAL_IMPILO_STATUSES}
    return bool(status) and (status or "").lower() in wanted


def awaits_impilo(order: Order) -> bool:
    """Sent, and Impilo has not reached a final status: its page keeps watching."""
    return (
        order.state == State.SUBMITTED
        and order.impilo_id is not None
        and (not is_final(order.impilo_status))
    )


# --- One order -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Refreshed:
    before: str
    after: str
    stored: bool  # False when another refresh stored a newer answer meanwhile

    @property
    def changed(self) -> bool:
        return self.stored and self.before != self.after


def refresh(order: Order, *, actor: User | None = None, actor_label: str = "") -> Refreshed:
    """Fetch the order from Impilo now and keep the answer. Raises ImpiloError."""
    if order.impilo_id is None:
        raise ValueError(f"{order.reference} has no Impilo order id yet")
    before = order.impilo_status
    with ImpiloClient(actor=actor, order=order) as client:
        fetched = client.fetch_order(order.impilo_id)
    return store(order, fetched, before=before, actor=actor, actor_label=actor_label)


def store(
    order: Order,
    fetched: ImpiloOrder,
    *,
    before: str,
    actor: User | None = None,
    actor_label: str = "",
) -> Refreshed:
    """Keep Impilo's answer unless someone stored a different status since we asked.

    The condition on the status read before the call makes two overlapping refreshes
    (webhook and periodic job) write one timeline note, not two.
    """
    # A reply without a status says nothing about it: keep the one we had.
    after = fetched.current_status if fetched.current_status is not None else before
    now = timezone.now()
    with transaction.atomic():
        stored = bool(
            Order.objects.filter(pk=order.pk, impilo_status=before).update(
                impilo_status=after[:64],
                impilo_order=fetched.raw,
                impilo_synced_at=now,
                impilo_sync_due_at=next_check(order.submitted_at, now, after),
                updated_at=now,
            )
        )
        if stored and after != before:
            was = f"“{before}”" if before else "none"
            note(
                order.pk,
                actor=actor,
                actor_label=actor_label or SYNC,
                reason=f"Impilo status changed from {was} to “{after}”",
                impilo_status=after,
                previous=before,
            )
    return Refreshed(before=before, after=after, stored=stored)


# --- The periodic job ----------------------------------------------------------------------


def check_interval(age: timedelta) -> timedelta:
    """How long after a check the next one is due: as long as the order's age so far, within
    ORDER_SYNC_MIN_SECONDS..ORDER_SYNC_MAX_SECONDS (young orders move, old ones rarely do)."""
    low = max(settings.ORDER_SYNC_MIN_SECONDS, 0.01)
    high = max(settings.ORDER_SYNC_MAX_SECONDS, low)
    return timedelta(seconds=min(max(age.total_seconds(), low), high))


def stop_after() -> timedelta:
    return timedelta(days=max(settings.ORDER_SYNC_STOP_DAYS, 0))


def next_check(submitted_at: datetime | None, now: datetime, status: str | None) -> datetime | None:
    """When to ask Impilo next about an order checked `now`; None once its status is final
    or the order was sent ORDER_SYNC_STOP_DAYS ago."""
    if is_final(status):
        return None
    sent = submitted_at or now
    due = now + check_interval(now - sent)
    return due if due <= sent + stop_after() else None


def polling_stopped(order: Order, now: datetime | None = None) -> bool:
    """Sent, not final, and too old for the periodic job: only a person checks it now."""
    sent = order.submitted_at
    return (
        awaits_impilo(order) and sent is not None and sent < (now or timezone.now()) - stop_after()
    )


def last_webhook_at() -> datetime | None:
    return (
        WebhookDelivery.objects.order_by("-received_at")
        .values_list("received_at", flat=True)
        .first()
    )


def webhooks_live(now: datetime) -> bool:
    """Deliveries are arriving: a secret is set and one was verified recently."""
    if not settings.IMPILO_WEBHOOK_SECRET:
        return False
    last = last_webhook_at()
    silence = timedelta(seconds=settings.ORDER_SYNC_WEBHOOK_SILENCE_SECONDS)
    return last is not None and last >= now - silence


def due_orders(now: datetime, *, webhooks: bool = False) -> QuerySet[Order]:
    """Orders the periodic job should refresh now, most overdue first. While webhooks
    arrive, an order refreshed within the safety interval waits (its due time is kept, so
    when deliveries stop the normal schedule applies again at once)."""
    due = (
        Order.objects.filter(impilo_sync_due_at__lte=now)
        .filter(state=State.SUBMITTED, impilo_id__isnull=False)
        .exclude(impilo_status__in=final_statuses())
    )
    if webhooks:
        safety = timedelta(seconds=settings.ORDER_SYNC_WEBHOOK_SAFETY_SECONDS)
        due = due.filter(Q(impilo_synced_at__isnull=True) | Q(impilo_synced_at__lte=now - safety))
    return due.order_by("impilo_sync_due_at", "pk")


def _forget_undue(now: datetime) -> None:
    """Clear the due time of orders that no longer need checking (a status made final by a
    settings change, an order no longer sent, one sent too long ago) so they stop filling
    the due index."""
    Order.objects.filter(impilo_sync_due_at__lte=now).filter(
        Q(impilo_status__in=final_statuses())
        | ~Q(state=State.SUBMITTED)
        | Q(impilo_id=None)
        | Q(submitted_at__lt=now - stop_after())
    ).update(impilo_sync_due_at=None)


def sync_due_orders() -> int:
    """Refresh the orders that are due, ORDER_SYNC_BATCH per query, until none is left or
    ORDER_SYNC_SLOT_SECONDS have passed. Returns how many were stored.

    Each order is claimed first by moving its due time on by its interval (a conditional
    update), so workers running this at the same moment share the work, and an order
    Impilo cannot answer for waits its interval instead of blocking the front of the queue.
    """
    started = time.monotonic()
    now = timezone.now()
    _forget_undue(now)
    webhooks = webhooks_live(now)
    stored = 0
    while True:
        batch = list(
            due_orders(now, webhooks=webhooks).values_list(
                "pk", "impilo_sync_due_at", "submitted_at", "impilo_status"
            )[: max(settings.ORDER_SYNC_BATCH, 1)]
        )
        done, healthy = _refresh_batch(batch, now)
        stored += done
        slot_over = time.monotonic() - started >= settings.ORDER_SYNC_SLOT_SECONDS
        if not batch or not healthy or slot_over:
            break
    return stored


def _refresh_batch(
    batch: list[tuple[int, datetime | None, datetime | None, str]], now: datetime
) -> tuple[int, bool]:
    """Claim and refresh each order; (stored, whether Impilo stayed well)."""
    stored = 0
    for pk, due_at, submitted_at, status in batch:
        claimed = Order.objects.filter(pk=pk, impilo_sync_due_at=due_at)
        if not claimed.update(impilo_sync_due_at=next_check(submitted_at, now, status)):
            continue
        order = Order.objects.get(pk=pk)
        try:
            stored += refresh(order, actor_label=SYNC).stored
        except (errors.ImpiloNotFound, errors.ImpiloRejected) as exc:
            logger.warning("Status sync: Impilo refused %s: %s", order.reference, exc.message)
        except errors.ImpiloError as exc:
            # Impilo is unwell: stop here rather than fail the rest of the batch one by one.
            logger.warning("Status sync stopped at %s: %s", order.reference, exc.message)
            return stored, False
    return stored, True
