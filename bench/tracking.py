"""The `tracking` figure: what each order's status tracking costs over its life.

- storage: audit rows and bytes (the tables' and their indexes' size on disk, as the
  database reports it) per order, per audit row and per delivered order;
- calls: Impilo calls per order lifetime, with and without webhooks, simulated over the
  real schedule (bench/lifecycle.py); a stalled order's calls per year;
- sync: the periodic job's throughput in orders per second, one worker thread refreshing
  orders that exist at the sandbox over HTTP, against the rate the schedule asks for with
  100,000 orders open at once.
"""

import random
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from bench.lifecycle import calls_per_life, draw
from orderdesk.audit.models import ApiCall
from orderdesk.impilo.client import CreateOrderRequest, ImpiloClient
from orderdesk.orders.engine import status_sync
from orderdesk.orders.models import Order, State
from orderdesk.sandbox.testing import seed_ids

AUDIT_TABLES = ("audit_apicall", "audit_auditblob")
SIMULATED_LIVES = 500
SYNC_ORDERS = 200
OPEN_ORDERS = 100_000
SAFETY_HOURS = (6, 12, 24, 48)


def audit_bytes() -> int:
    """On-disk size of the audit tables with their indexes (and TOAST on PostgreSQL)."""
    with connection.cursor() as cursor:
        tables = [name for name in AUDIT_TABLES if name in connection.introspection.table_names()]
        if connection.vendor == "postgresql":
            return sum(_one(cursor, "SELECT pg_total_relation_size(%s)", [name]) for name in tables)
        marks = ", ".join(["%s"] * len(tables))
        return _one(
            cursor,
            "SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN "  # noqa: S608
            f"(SELECT name FROM sqlite_master WHERE tbl_name IN ({marks}))",
            tables,
        )


def _one(cursor: Any, sql: str, params: list[Any]) -> int:
    cursor.execute(sql, params)
    return int(cursor.fetchone()[0] or 0)


def storage() -> dict[str, Any]:
    size = audit_bytes()
    rows = ApiCall.objects.count()
    orders = Order.objects.count()
    delivered = Order.objects.filter(impilo_status="delivered")
    delivered_rows = ApiCall.objects.filter(order__in=delivered).count()
    delivered_orders = delivered.count()
    per_row = size / max(rows, 1)
    rows_per_delivered = delivered_rows / max(delivered_orders, 1)
    return {
        "audit_rows": rows,
        "audit_bytes": size,
        "orders": orders,
        "rows_per_order": round(rows / max(orders, 1), 1),
        "bytes_per_order": round(size / max(orders, 1)),
        "bytes_per_row": round(per_row),
        "rows_per_delivered_order": round(rows_per_delivered, 1),
        # The measured bytes per row times a delivered order's rows.
        "bytes_per_delivered_order": round(per_row * rows_per_delivered),
    }


def calls() -> dict[str, Any]:
    without = calls_per_life(random.Random(11), SIMULATED_LIVES, webhooks=False)
    with_webhooks = calls_per_life(random.Random(11), SIMULATED_LIVES, webhooks=True)
    # What other safety-net intervals would cost (the setting's default is the row above).
    by_safety = {}
    for hours in SAFETY_HOURS:
        with override_settings(ORDER_SYNC_WEBHOOK_SAFETY_SECONDS=hours * 3600.0):
            lives = calls_per_life(random.Random(11), SIMULATED_LIVES, webhooks=True)
        by_safety[f"{hours} h"] = lives["delivered_mean"]
    return {
        "without_webhooks": without,
        "with_webhooks": with_webhooks,
        "with_webhooks_by_safety_interval": by_safety,
    }


def required_rate(fetches_delivered: float, fetches_stalled_per_year: float) -> float:
    """Fetches per second the schedule asks for with OPEN_ORDERS open at any moment."""
    rng = random.Random(5)
    lives = [draw(rng) for _ in range(SIMULATED_LIVES)]
    stop_days = getattr(settings, "ORDER_SYNC_STOP_DAYS", 365.0)
    open_days = [
        (life.changes[-1][0].total_seconds() / 86400 if life.final else stop_days) for life in lives
    ]
    stalled = sum(not life.final for life in lives) / len(lives)
    mean_open = sum(open_days) / len(open_days)
    stalled_fetches = fetches_stalled_per_year * min(stop_days, 365) / 365
    per_life = (1 - stalled) * fetches_delivered + stalled * stalled_fetches
    return OPEN_ORDERS / (mean_open * 86400) * per_life


def sync_throughput(count: int = SYNC_ORDERS) -> dict[str, Any]:
    """One sync_due_orders run over `count` due orders that the sandbox knows."""
    ids = seed_ids()
    client = ImpiloClient()
    sandbox_ids = []
    for n in range(count):
        request = CreateOrderRequest(
            patient_id=ids.patient, site_id=None, items=[(ids.item, 1)], kits=[],
            external_order_ids=[f"OD-BENCHSYNC{n}"],
        )  # fmt: skip
        created = client.create_order(request)
        assert created.id is not None
        sandbox_ids.append(created.id)
    now = timezone.now()
    # Only these orders are due: the dataset's own due times move out of the way.
    Order.objects.filter(impilo_sync_due_at__isnull=False).update(impilo_sync_due_at=None)
    open_orders = list(
        Order.objects.filter(state=State.SUBMITTED)
        .order_by("pk")
        .values_list("pk", flat=True)[:count]
    )
    for pk, impilo_id in zip(open_orders, sandbox_ids, strict=False):
        Order.objects.filter(pk=pk).update(
            impilo_id=impilo_id,
            impilo_status="received",
            submitted_at=now - timedelta(hours=1),
            impilo_sync_due_at=now,
        )
    with override_settings(ORDER_SYNC_SLOT_SECONDS=600.0):
        started = time.monotonic()
        stored = status_sync.sync_due_orders()
        seconds = time.monotonic() - started
    return {"orders": len(open_orders), "stored": stored, "seconds": round(seconds, 2),
            "orders_per_second": round(stored / seconds, 1)}  # fmt: skip


def measure_costs() -> dict[str, Any]:
    """Storage and calls: measured first, before other figures add rows of their own."""
    found: dict[str, Any] = {"storage": storage(), "calls": calls()}
    print(f"  tracking: {found}", flush=True)
    return found


def measure_sync(costs: dict[str, Any], count: int = SYNC_ORDERS) -> dict[str, Any]:
    """Last: it moves the dataset's due times out of the way."""
    without = costs["calls"]["without_webhooks"]
    needed = required_rate(without["delivered_mean"] - 1, without["stalled_per_year"])
    found = sync_throughput(count) | {"needed_for_100k_open_per_second": round(needed, 1)}
    print(f"  sync: {found}", flush=True)
    return found
