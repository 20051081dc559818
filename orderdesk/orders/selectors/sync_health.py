"""How the status sync is doing, for /healthz and the admins' webhook page: whether
webhooks pace the polling, how far behind the periodic job is, which orders it no longer
polls, and which Impilo statuses orderdesk has no word for.
"""

import csv
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet
from django.utils import timezone

from orderdesk.orders.engine import status_sync
from orderdesk.orders.models import Order, State
from orderdesk.orders.selectors.csv_export import safe_cell

# Overdue orders are counted up to this many: enough to see a backlog, cheap at any size.
COUNT_LIMIT = 10_000
STOPPED_SHOWN = 100


def webhook_state(now: datetime) -> dict[str, Any]:
    """Whether webhooks pace the polling, and since when the last delivery came."""
    last = status_sync.last_webhook_at()
    live = status_sync.webhooks_live(now)
    if not settings.IMPILO_WEBHOOK_SECRET:
        state = "not configured"
    else:
        state = "arriving" if live else "silent"
    return {
        "webhooks": state,
        "last_delivery_age_seconds": round((now - last).total_seconds(), 1) if last else None,
        "polling": "safety net" if live else "normal schedule",
        "safety_interval_seconds": settings.ORDER_SYNC_WEBHOOK_SAFETY_SECONDS,
        "silence_seconds": settings.ORDER_SYNC_WEBHOOK_SILENCE_SECONDS,
    }


def backlog(now: datetime, *, webhooks: bool) -> dict[str, Any]:
    """How many orders are due now (capped count) and how long the oldest has waited."""
    due = status_sync.due_orders(now, webhooks=webhooks)
    oldest = due.values_list("impilo_sync_due_at", flat=True).first()
    overdue = due.values("pk")[: COUNT_LIMIT + 1].count()
    return {
        "overdue_orders": min(overdue, COUNT_LIMIT),
        "overdue_orders_capped": overdue > COUNT_LIMIT,
        "oldest_overdue_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0.0,
    }


def health(now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    state = webhook_state(now)
    return state | backlog(now, webhooks=state["polling"] == "safety net")


def stopped_orders(now: datetime | None = None) -> QuerySet[Order]:
    """Sent, not final, and older than ORDER_SYNC_STOP_DAYS: no longer polled."""
    cutoff = (now or timezone.now()) - status_sync.stop_after()
    return (
        Order.objects.filter(state=State.SUBMITTED, impilo_id__isnull=False)
        .filter(submitted_at__lt=cutoff)
        .exclude(impilo_status__in=status_sync.final_statuses())
        .order_by("submitted_at", "pk")
    )


def unknown_statuses() -> list[tuple[str, int]]:
    """Statuses of sent orders that are neither final nor labelled, with how many orders
    have each: candidates for ORDER_FINAL_IMPILO_STATUSES or a label."""
    rows = (
        Order.objects.filter(state=State.SUBMITTED, impilo_id__isnull=False)
        .exclude(impilo_status="")
        .values_list("impilo_status")
        .annotate(orders=Count("pk"))
        .order_by("impilo_status")
    )
    return [
        (status, count)
        for status, count in rows
        if not status_sync.is_final(status) and not status_sync.status_label(status)
    ]


STOPPED_HEADER = ["Reference", "Impilo order id", "Impilo status", "Sent at", "Last checked"]


def stopped_csv_rows(orders: QuerySet[Order]) -> Iterator[list[str]]:
    yield STOPPED_HEADER
    columns = ("reference", "impilo_id", "impilo_status", "submitted_at", "impilo_synced_at")
    for reference, impilo_id, status, sent, checked in orders.values_list(*columns).iterator(
        chunk_size=1000
    ):
        yield [
            safe_cell(value)
            for value in (
                reference,
                impilo_id,
                status,
                sent.isoformat("T", "seconds") if sent else "",
                checked.isoformat("T", "seconds") if checked else "",
            )
        ]


class Echo:
    """A file-like object whose write() returns the line, for a streamed csv.writer."""

    def write(self, value: str) -> str:
        return value


def stopped_csv_lines(orders: QuerySet[Order]) -> Iterator[str]:
    writer = csv.writer(Echo())
    for row in stopped_csv_rows(orders):
        yield writer.writerow(row)
