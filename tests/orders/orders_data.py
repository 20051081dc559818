"""Orders made straight in the database, in any state, for the history, detail and sync tests."""

import itertools
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from orderdesk.accounts.models import User
from orderdesk.orders.models import Order, OrderEvent, OrderLine, State

_numbers = itertools.count(1)

# What the sandbox (and Impilo's docs) send back for an order on its way.
SHIPPED_JSON: dict[str, Any] = {
    "id": 905512,
    "currentStatus": "shipped",
    "externalOrderIds": ["OD-TEST"],
    "orderEvents": [
        {"name": "received", "eventTimestamp": "2026-01-05T10:00:00.000Z"},
        {"name": "shipped", "eventTimestamp": "2026-01-06T09:30:00.000Z"},
    ],
    "trackingNumbers": [{"carrier": "UPS", "value": "1Z999AA10123456784"}],
    "devices": [
        {
            "id": 4410,
            "item": {"id": 1001, "name": "Cellular Blood Pressure Monitor"},
            "currentStatus": "inTransit",
            "deviceIdentifiers": [{"type": "serial", "value": "BP-200-7F3K9Q"}],
        }
    ],
    "packedKits": [
        {
            "kit": {"id": 311, "name": "RPM Starter Kit"},
            "devices": [
                {"id": 4410, "deviceIdentifiers": [{"type": "serial", "value": "BP-200-7F3K9Q"}]}
            ],
        }
    ],
}


def make_order(
    user: User,
    *,
    state: str = State.SUBMITTED,
    lines: int = 1,
    created_at: datetime | None = None,
    **fields: Any,
) -> Order:
    n = next(_numbers)
    values: dict[str, Any] = {
        "recipient_type": "patient",
        "patient_impilo_id": 48213,
        "patient_name": "Maria Lopez",
        "state": state,
        "created_by": user,
        "created_at": created_at or timezone.now(),
    }
    if state == State.SUBMITTED:
        values |= {
            "impilo_id": 900000 + n,
            "submitted_at": values["created_at"],
            "impilo_sync_due_at": values["created_at"],  # status sync asks at once
        }
    values |= fields
    order = Order.objects.create(**values)
    OrderLine.objects.bulk_create(
        OrderLine(order=order, kind="item", impilo_id=1001, name=f"Item {i}", count=1, position=i)
        for i in range(lines)
    )
    OrderEvent.objects.create(order=order, actor=user, to_state=State.DRAFT, reason="Order created")
    return order


def make_orders(user: User, count: int, **fields: Any) -> list[Order]:
    start = timezone.now() - timedelta(hours=1)
    return [
        make_order(user, created_at=start + timedelta(seconds=i), **fields) for i in range(count)
    ]
