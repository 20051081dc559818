"""Sandbox rows as Impilo JSON: camelCase, full nested models, blanks as null."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from orderdesk.sandbox import status
from orderdesk.sandbox.models import Item, Kit, KitItem, Order, Patient, Site
from orderdesk.sandbox.status import DELIVERED, PACKED, DeviceUnit

# Notes created through the API are attributed to the API user, as Impilo fills createdBy.
API_USER = {"id": 5521, "firstName": "API", "lastName": "User", "email": "api@impilo.invalid"}

JsonDict = dict[str, Any]


def _text(value: str) -> str | None:
    return value or None


def address_json(row: Site | Patient) -> JsonDict | None:
    fields = {
        "lineOne": row.line_one,
        "lineTwo": row.line_two,
        "lineThree": row.line_three,
        "city": row.city,
        "state": row.state,
        "zipCode": row.zip_code,
        "country": row.country,
        "note": row.address_note,
    }
    if not any(fields.values()):
        return None
    return {name: _text(value) for name, value in fields.items()}


def site_json(site: Site | None) -> JsonDict | None:
    if site is None:
        return None
    return {
        "id": site.pk,
        "name": site.name,
        "active": site.active,
        "phoneNumber": _text(site.phone_number),
        "address": address_json(site),
    }


def patient_json(patient: Patient | None) -> JsonDict | None:
    if patient is None:
        return None
    return {
        "id": patient.pk,
        "externalIdentifier": patient.external_identifier,
        "firstName": patient.first_name,
        "lastName": patient.last_name,
        "dateOfBirth": patient.date_of_birth.isoformat() if patient.date_of_birth else None,
        "email": _text(patient.email),
        "phoneNumber": _text(patient.phone_number),
        "archived": patient.archived,
        "address": address_json(patient),
        "site": site_json(patient.site),
        "enrolled": patient.enrolled,
        "sex": patient.sex,
    }


def item_json(item: Item) -> JsonDict:
    return {
        "id": item.pk,
        "manufacturer": {"id": item.manufacturer.pk, "name": item.manufacturer.name},
        "name": item.name,
        "model": _text(item.model),
        "sku": item.sku,
        "orderable": item.orderable,
    }


def kit_json(kit: Kit) -> JsonDict:
    return {
        "id": kit.pk,
        "name": kit.name,
        "archived": kit.archived,
        "kitItems": [
            {"item": item_json(line.item), "count": line.count} for line in kit.kit_items.all()
        ],
    }


def kits_json(kits: Iterable[Kit]) -> list[JsonDict]:
    return [kit_json(kit) for kit in kits]


def patients_json(patients: Iterable[Patient]) -> list[JsonDict]:
    return [patient_json(patient) or {} for patient in patients]


def kit_queryset() -> QuerySet[Kit]:
    lines = KitItem.objects.select_related("item__manufacturer").order_by("id")
    return Kit.objects.prefetch_related(Prefetch("kit_items", queryset=lines))


def order_queryset() -> QuerySet[Order]:
    """Everything order_json touches, in a fixed number of queries per page."""
    lines = KitItem.objects.select_related("item__manufacturer").order_by("id")
    return Order.objects.select_related("patient__site", "site").prefetch_related(
        "external_ids",
        "order_items__item__manufacturer",
        "order_kits__kit",
        Prefetch("order_kits__kit__kit_items", queryset=lines),
        "order_notes",
    )


def orders_json(orders: Iterable[Order]) -> list[JsonDict]:
    now = timezone.now()
    return [order_json(order, now) for order in orders]


def order_json(order: Order, now: datetime | None = None) -> JsonDict:
    index = status.reached(order, now)
    kits = [(line.kit, line.count) for line in order.order_kits.all()]
    units = status.device_units(order, kits) if index >= PACKED else []
    devices = [_device_json(order, unit, index) for unit in units]
    return {
        "id": order.pk,
        "externalOrderIds": [row.value for row in order.external_ids.all()],
        "patient": patient_json(order.patient),
        "site": site_json(order.site),
        "currentStatus": status.STATUSES[index],
        "orderItems": [
            {"item": item_json(line.item), "count": line.count} for line in order.order_items.all()
        ],
        "orderKits": [{"kit": kit_json(kit), "count": count} for kit, count in kits],
        "orderEvents": status.events(order, index),
        "orderNotes": [
            {"note": row.note, "createdAt": status.timestamp(row.created_at), "createdBy": API_USER}
            for row in order.order_notes.all()
        ],
        "trackingNumbers": status.tracking_numbers(order, index),
        "devices": devices,
        "packedKits": _packed_kits(kits, units, devices) if index >= PACKED else [],
        "shippingOption": _text(order.shipping_option),
        "emailLabel": order.email_label,
        "returnItems": order.return_items,
        "returnDevices": order.return_devices,
        "returnPackedKits": order.return_packed_kits,
    }


def _device_json(order: Order, unit: DeviceUnit, index: int) -> JsonDict:
    delivered = index >= DELIVERED
    patient = order.patient
    return {
        "id": unit.id,
        "item": item_json(unit.item),
        "currentStatus": status.device_status(order, index),
        "used": False,
        "currentPatient": patient_json(patient) if delivered else None,
        "site": site_json(order.site or (patient.site if patient else None)),
        "lastHealthCheck": status.timestamp(status.step_time(order, DELIVERED))
        if delivered
        else None,
        "deviceIdentifiers": [{"type": kind, "value": value} for kind, value in unit.identifiers],
        "deviceEvents": [],
        "externalIdentifier": None,
        "disabledReadings": False,
    }


def _packed_kits(
    kits: list[tuple[Kit, int]], units: list[DeviceUnit], devices: list[JsonDict]
) -> list[JsonDict]:
    """One entry per kit unit, holding the devices packed into it."""
    by_unit: dict[int, list[JsonDict]] = {}
    for unit, device in zip(units, devices, strict=True):
        if unit.packed_kit is not None:
            by_unit.setdefault(unit.packed_kit, []).append(device)
    packed: list[JsonDict] = []
    for kit, count in kits:
        body = kit_json(kit)
        for _ in range(min(count, status.MAX_DEVICES - len(packed))):
            packed.append({"kit": body, "devices": by_unit.get(len(packed) + 1, [])})
    return packed
