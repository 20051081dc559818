"""Create Order with Impilo's documented validation rules and 400 messages.

Server-managed fields in the body (id, currentStatus, orderEvents, ...) are ignored.
"""

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import F
from django.utils import timezone

from orderdesk.sandbox.api import MAX_ID, ApiError, sandbox_transaction
from orderdesk.sandbox.models import (
    ExternalOrderId,
    Item,
    Kit,
    Order,
    OrderItem,
    OrderKit,
    OrderNote,
    Patient,
    Site,
    Stock,
)
from orderdesk.sandbox.serializers import kit_queryset

RECIPIENT_REQUIRED = "patient or site required"
RECIPIENT_BOTH = "Order must have either a patient or a site, not both"
NO_CONTENT = (
    "Order must contain at least one of: orderItems, orderKits, returnItems, returnDevices, "
    "or returnPackedKits"
)
SHIPPING_REQUIRED = (
    "shippingOption is required when emailLabel is false and return items are included"
)
NON_ORDERABLE = "Order contains Items that are marked as non-orderable. Order cannot be placed."
INSUFFICIENT_INVENTORY = "insufficient_inventory"
DEVICE_TWICE = "Device cannot be included both as a return device and in a packed kit"
BAD_COUNT = "count must be a positive integer"
RETURN_FIELDS = ("returnItems", "returnDevices", "returnPackedKits")
SHIPPING_OPTIONS = ("standard", "expedited", "overnight")
MAX_COUNT = 2**31 - 1  # Impilo's count is an int32


@dataclass
class Draft:
    patient: Patient | None
    site: Site | None
    items: list[tuple[Item, int]]
    kits: list[tuple[Kit, int]]
    returns: dict[str, list[Any] | None]
    shipping_option: str
    email_label: bool
    external_ids: list[str]
    notes: list[str]


def create_order(body: object) -> Order:
    draft = validate(body)
    with sandbox_transaction():
        _take_stock(draft)
        order = Order.objects.create(
            created_at=timezone.now(),
            patient=draft.patient,
            site=draft.site,
            shipping_option=draft.shipping_option,
            email_label=draft.email_label,
            return_items=draft.returns["returnItems"],
            return_devices=draft.returns["returnDevices"],
            return_packed_kits=draft.returns["returnPackedKits"],
        )
        rows: dict[str, list[Any]] = {
            "external_ids": ExternalOrderId.objects.bulk_create(
                ExternalOrderId(order=order, position=i, value=value)
                for i, value in enumerate(draft.external_ids)
            ),
            "order_items": OrderItem.objects.bulk_create(
                OrderItem(order=order, item=i, count=n) for i, n in draft.items
            ),
            "order_kits": OrderKit.objects.bulk_create(
                OrderKit(order=order, kit=k, count=n) for k, n in draft.kits
            ),
            "order_notes": OrderNote.objects.bulk_create(
                OrderNote(order=order, note=note, created_at=order.created_at)
                for note in draft.notes
            ),
        }
    _as_if_prefetched(order, rows)
    return order


def _as_if_prefetched(order: Order, rows: dict[str, list[Any]]) -> None:
    """Hold the rows just written as serializers.order_queryset() would load them (their
    items, kits and patient are the draft's, loaded the same way), so the 201 needs no
    second read. Django's own prefetch leaves the same cache behind."""
    order._prefetched_objects_cache = {}  # type: ignore[attr-defined]
    for name, written in rows.items():
        queryset = getattr(order, name).all()
        queryset._result_cache = written  # ordering: written in position and id order
        queryset._prefetch_done = True
        order._prefetched_objects_cache[name] = queryset  # type: ignore[attr-defined]


def validate(body: object) -> Draft:
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object (an Order)")
    patient_id, site_id = _recipient(body)
    item_refs = _lines(body, "orderItems", "item")
    kit_refs = _lines(body, "orderKits", "kit")
    returns = {name: _optional_list(body, name) for name in RETURN_FIELDS}
    has_returns = any(returns.values())
    if not (item_refs or kit_refs or has_returns):
        raise ApiError(400, NO_CONTENT)
    email_label = body.get("emailLabel") or False
    if not isinstance(email_label, bool):
        raise ApiError(400, "emailLabel must be true or false")
    shipping_option = body.get("shippingOption") or ""
    if has_returns and not email_label and not shipping_option:
        raise ApiError(400, SHIPPING_REQUIRED)
    if shipping_option and shipping_option not in SHIPPING_OPTIONS:
        raise ApiError(400, f"Unknown shippingOption {shipping_option!r}")
    draft = Draft(
        patient=_find(Patient.objects.select_related("site"), patient_id, "Patient"),
        site=_find(Site.objects.all(), site_id, "Site"),
        items=_resolve(Item.objects.select_related("manufacturer"), item_refs, "Item"),
        kits=_resolve(kit_queryset(), kit_refs, "Kit"),
        returns=returns,
        shipping_option=shipping_option,
        email_label=email_label,
        external_ids=_external_ids(body),
        notes=_notes(body),
    )
    if any(not item.orderable for item, _ in draft.items):
        raise ApiError(400, NON_ORDERABLE)
    _check_loaner_kits(draft, has_returns)
    _check_returned_devices(returns)
    return draft


def _recipient(body: dict[str, Any]) -> tuple[int | None, int | None]:
    patient, site = body.get("patient"), body.get("site")
    if patient is not None and site is not None:
        raise ApiError(400, RECIPIENT_BOTH)
    ref = patient if patient is not None else site
    # A site order without site.id lands here too, as Impilo documents.
    if not isinstance(ref, dict) or ref.get("id") is None:
        raise ApiError(400, RECIPIENT_REQUIRED)
    ref_id = _positive_id(ref["id"], "patient.id" if patient is not None else "site.id")
    return (ref_id, None) if patient is not None else (None, ref_id)


def _positive_id(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise ApiError(400, f"{name} must be a positive whole number")
    return value


def _lines(body: dict[str, Any], field: str, key: str) -> list[tuple[int, int]]:
    refs = []
    for line in _optional_list(body, field) or []:
        ref = line.get(key) if isinstance(line, dict) else None
        if not isinstance(ref, dict) or ref.get("id") is None:
            raise ApiError(400, f"Each {field} entry needs {key}.id")
        count = line.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or not 0 < count <= MAX_COUNT:
            raise ApiError(400, BAD_COUNT)
        refs.append((_positive_id(ref["id"], f"{key}.id"), count))
    return refs


def _optional_list(body: dict[str, Any], field: str) -> list[Any] | None:
    value = body.get(field)
    if value is not None and not isinstance(value, list):
        raise ApiError(400, f"{field} must be a list")
    return value


def _find(queryset: Any, pk: int | None, label: str) -> Any:
    if pk is None:
        return None
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise ApiError(400, f"{label} {pk} not found")
    return found


def _resolve(queryset: Any, refs: list[tuple[int, int]], label: str) -> list[tuple[Any, int]]:
    rows = queryset.in_bulk({pk for pk, _ in refs})
    missing = sorted({pk for pk, _ in refs} - rows.keys())
    if missing:
        raise ApiError(400, f"{label} {', '.join(map(str, missing))} not found")
    return [(rows[pk], count) for pk, count in refs]


def _external_ids(body: dict[str, Any]) -> list[str]:
    values = _optional_list(body, "externalOrderIds") or []
    if not all(isinstance(value, str) and len(value) <= 500 for value in values):
        raise ApiError(400, "externalOrderIds must be a list of strings (at most 500 characters)")
    return values


def _notes(body: dict[str, Any]) -> list[str]:
    notes = []
    for entry in _optional_list(body, "orderNotes") or []:
        note = entry.get("note") if isinstance(entry, dict) else None
        if not isinstance(note, str) or not note.strip():
            raise ApiError(400, "Each orderNotes entry needs a note (text)")
        notes.append(note)
    return notes


def _check_loaner_kits(draft: Draft, has_returns: bool) -> None:
    loaners = [(kit, count) for kit, count in draft.kits if kit.loaner]
    if not loaners:
        return
    if len(loaners) > 1:
        raise ApiError(400, "max_one_loaner_kit")
    if loaners[0][1] > 1:
        raise ApiError(400, "qty_over_one_loaner_kit")
    if has_returns:
        raise ApiError(400, "no_returns_with_loaner_kit")
    if draft.site is not None:
        raise ApiError(400, "no_loaner_kit_to_site")


def _check_returned_devices(returns: dict[str, list[Any] | None]) -> None:
    loose = {_ref_id(entry) for entry in returns["returnDevices"] or []}
    packed = {
        _ref_id(device)
        for kit in returns["returnPackedKits"] or []
        if isinstance(kit, dict)
        for device in kit.get("devices") or []
    }
    if (loose & packed) - {None}:
        raise ApiError(400, DEVICE_TWICE)


def _ref_id(entry: object) -> int | str | None:
    """Return lines have no published shape: accept {"id": n} and a bare n."""
    value = entry.get("id") if isinstance(entry, dict) else entry
    return value if isinstance(value, int | str) else None


def _take_stock(draft: Draft) -> None:
    """Deduct every unit the order needs, all or nothing (the caller's transaction)."""
    needed: Counter[int] = Counter()
    for item, count in draft.items:
        needed[item.pk] += count
    for kit, count in draft.kits:
        for line in kit.kit_items.all():
            needed[line.item_id] += count * line.count
    for item_id, quantity in sorted(needed.items()):
        taken = Stock.objects.filter(item_id=item_id, on_hand__gte=quantity).update(
            on_hand=F("on_hand") - quantity
        )
        if not taken:
            raise ApiError(400, INSUFFICIENT_INVENTORY)
