"""An order's progress, computed on read from its age: no background process, no randomness.

Impilo does not publish its status list (docs/impilo.md#order-statuses), so the sandbox uses
its own plausible vocabulary, one step every SANDBOX_STATUS_STEP_SECONDS. Devices, packed
kits and tracking numbers are derived from the order's id, so every read of the same order
agrees.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from orderdesk.sandbox.models import Item, Kit, Order

STATUSES = ("received", "processing", "packed", "shipped", "delivered")
PACKED, SHIPPED, DELIVERED = 2, 3, 4
# A huge order would otherwise yield a response of millions of devices.
MAX_DEVICES = 500


def step_seconds() -> float:
    return float(getattr(settings, "SANDBOX_STATUS_STEP_SECONDS", 20))


def reached(order: Order, now: datetime | None = None) -> int:
    """Index into STATUSES of the step the order has reached."""
    elapsed = ((now or timezone.now()) - order.created_at).total_seconds()
    step = step_seconds()
    if step <= 0:
        return DELIVERED
    return max(0, min(DELIVERED, int(elapsed // step)))


def timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds, like the timestamps in Impilo's webhook-log examples."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def step_time(order: Order, index: int) -> datetime:
    return order.created_at + timedelta(seconds=step_seconds() * index)


def events(order: Order, index: int) -> list[dict[str, str]]:
    return [
        {"name": STATUSES[i], "eventTimestamp": timestamp(step_time(order, i))}
        for i in range(index + 1)
    ]


def tracking_numbers(order: Order, index: int) -> list[dict[str, str]]:
    if index < SHIPPED:
        return []
    digits = str(int(_digest(order.pk, "tracking"), 16))[-10:].rjust(10, "0")
    letters = _digest(order.pk, "tracking-shipper")[:6].upper()
    return [{"carrier": "UPS", "value": f"1Z{letters}{digits}"}]


@dataclass(frozen=True)
class DeviceUnit:
    """One serialised device in an order; `packed_kit` numbers the kit unit it travels in."""

    id: int
    item: Item
    identifiers: tuple[tuple[str, str], ...]
    packed_kit: int | None


def device_status(order: Order, index: int) -> str:
    if index >= DELIVERED:
        return "withPatient" if order.patient_id else "availableAtSite"
    return "inTransit" if index >= SHIPPED else "allocated"


def device_units(order: Order, kits: list[tuple[Kit, int]]) -> list[DeviceUnit]:
    """Loose items first, then each kit unit's contents, numbered in that order."""
    units: list[DeviceUnit] = []

    def add(item: Item, packed_kit: int | None) -> None:
        if item.identifier_types and len(units) < MAX_DEVICES:
            number = len(units) + 1
            units.append(
                DeviceUnit(order.pk * 1000 + number, item, _ids(order, item, number), packed_kit)
            )

    for line in order.order_items.all():
        for _ in range(min(line.count, MAX_DEVICES)):
            add(line.item, None)
    kit_unit = 0
    for kit, count in kits:
        for _ in range(min(count, MAX_DEVICES)):
            kit_unit += 1
            for kit_item in kit.kit_items.all():
                for _ in range(kit_item.count):
                    add(kit_item.item, kit_unit)
    return units


def _ids(order: Order, item: Item, number: int) -> tuple[tuple[str, str], ...]:
    digest = _digest(order.pk, f"device-{number}")
    result: list[tuple[str, str]] = []
    for kind in item.identifier_types.split(","):
        if kind == "serial":
            result.append(("serial", f"{item.model or 'DEV'}-{digest[:8].upper()}"))
        elif kind == "imei":
            result.append(("imei", _imei(digest)))
    return tuple(result)


def _imei(digest: str) -> str:
    """A 15-digit IMEI with a valid Luhn check digit, so validators accept it."""
    body = "35" + str(int(digest[8:24], 16))[-12:].rjust(12, "0")
    total = 0
    for position, char in enumerate(reversed(body)):
        value = int(char) * (2 if position % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return body + str((10 - total % 10) % 10)


def _digest(order_id: int, purpose: str) -> str:
    return hashlib.sha256(f"sandbox:{order_id}:{purpose}".encode()).hexdigest()
