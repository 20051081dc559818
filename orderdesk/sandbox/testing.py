"""Helpers for other apps' tests: look inside the sandbox without going through its API.

ids = seed_ids()                         # known patient, site, item and kit ids
orders_with_reference("OD-7F3K9Q") == 1  # exactly one Impilo order carries it
requests_received(method="POST") == 3    # the sandbox saw three POSTs
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import F

from orderdesk.sandbox.models import (
    ExternalOrderId,
    Item,
    Kit,
    Order,
    Patient,
    RequestLog,
    Site,
    Stock,
)


def orders_with_reference(ref: str) -> int:
    """How many sandbox orders carry `ref` in their externalOrderIds."""
    return ExternalOrderId.objects.filter(value=ref).values("order").distinct().count()


def order_count() -> int:
    return Order.objects.count()


def requests_received(*, method: str | None = None, path_contains: str | None = None) -> int:
    """API requests the sandbox received (every one, including faulted and rejected ones)."""
    log = RequestLog.objects.all()
    if method:
        log = log.filter(method=method.upper())
    if path_contains:
        log = log.filter(path__contains=path_contains)
    return log.count()


def set_stock(item_id: int, on_hand: int) -> None:
    """E.g. set_stock(ids.item, 0) to make the next order for it fail insufficient_inventory."""
    Stock.objects.update_or_create(item_id=item_id, defaults={"on_hand": on_hand})


def stock(item_id: int) -> int:
    return Stock.objects.get(item_id=item_id).on_hand


def age_order(order_id: int, seconds: float) -> None:
    """Move an order's creation back, so its status advances without waiting."""
    Order.objects.filter(pk=order_id).update(
        created_at=F("created_at") - timedelta(seconds=seconds)
    )


@dataclass(frozen=True)
class SeedIds:
    patient: int
    archived_patient: int
    site: int
    inactive_site: int
    item: int
    non_orderable_item: int
    kit: int
    archived_kit: int
    loaner_kit: int


def seed_ids() -> SeedIds:
    """Ids of representative seeded rows (call after seed())."""

    def first(queryset: object) -> int:
        pk = queryset.order_by("id").values_list("id", flat=True).first()  # type: ignore[attr-defined]
        if pk is None:
            raise LookupError("The sandbox is not seeded (call orderdesk.sandbox.seed.seed()).")
        return int(pk)

    return SeedIds(
        patient=first(Patient.objects.filter(archived=False, enrolled=True, site__active=True)),
        archived_patient=first(Patient.objects.filter(archived=True)),
        site=first(Site.objects.filter(active=True)),
        inactive_site=first(Site.objects.filter(active=False)),
        item=first(Item.objects.filter(orderable=True)),
        non_orderable_item=first(Item.objects.filter(orderable=False)),
        kit=first(Kit.objects.filter(archived=False, loaner=False)),
        archived_kit=first(Kit.objects.filter(archived=True)),
        loaner_kit=first(Kit.objects.filter(loaner=True)),
    )
