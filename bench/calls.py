"""Audit rows for the bench dataset: what orderdesk's ImpiloSession would have written.

Bodies are Impilo-shaped JSON of realistic size: a create request of a few hundred bytes,
and order responses of 2 to 4 KB (the full patient, site, items and kits, as Impilo answers).
"""

import json
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from orderdesk.sandbox import seed_data

BASE_URL = "https://app.impiloplatform.com/api/v3"
REQUEST_HEADERS = {
    "User-Agent": "orderdesk/0.1.0",
    "Accept-Encoding": "gzip, deflate",
    "Accept": "application/json",
    "Connection": "keep-alive",
    "Impilo-API-Key": "[REDACTED]",
    "Content-Type": "application/json",
}
RESPONSE_HEADERS = {
    "Content-Type": "application/json",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Strict-Transport-Security": "max-age=31536000",
    "Server": "impilo",
}


def response_headers(at: datetime, body: str, request_id: str) -> str:
    """Impilo's response headers: the date and request id differ on every call."""
    return json.dumps(
        {"Date": format_datetime(at, usegmt=True)}
        | RESPONSE_HEADERS
        | {"Content-Length": str(len(body.encode())), "X-Request-ID": request_id}
    )


def link_blobs(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for the ApiCall table of the code under test: where bodies and headers are kept
    in blobs (orderdesk.audit.blobs), store those and put their ids in the rows."""
    from orderdesk.audit import models

    if not hasattr(models, "link_blobs"):
        return rows  # the inline columns of older code take the rows as they are
    texts = ("request_headers", "request_body", "response_headers", "response_body")
    calls = []
    for row in rows:
        call = models.ApiCall(header_values={}, request_id=row["request_id"])
        for name in texts:
            value = row.pop(name)
            setattr(call, name, json.loads(value) if name.endswith("headers") else value)
        calls.append(call)
    models.link_blobs(calls)
    for row, call in zip(rows, calls, strict=True):
        row.update({f"{name}_blob_id": getattr(call, f"{name}_blob_id") for name in texts})
        row["header_values"] = json.dumps(call.header_values)
    return rows


MANUFACTURERS = dict(seed_data.MANUFACTURERS)
ITEMS = {row[0]: row for row in seed_data.ITEMS}
STATUSES = ["processing", "awaitingShipment", "shipped", "inTransit", "delivered"]


def item_json(item_id: int) -> dict[str, Any]:
    pk, maker, name, model, orderable, _ = ITEMS[item_id]
    return {
        "id": pk,
        "manufacturer": {"id": maker, "name": MANUFACTURERS[maker]},
        "name": name,
        "model": model,
        "sku": f"{pk:07d}",
        "orderable": orderable,
    }


KITS = {
    pk: {
        "id": pk,
        "name": name,
        "archived": archived,
        "kitItems": [{"item": item_json(item), "count": count} for item, count in contents],
    }
    for pk, name, archived, _, contents in seed_data.KITS
}


@dataclass(frozen=True)
class Recipient:
    """An order's patient or site as Impilo would return it, as ready-made JSON."""

    patient: dict[str, Any] | None
    site: dict[str, Any] | None


def address(line_one: str, city: str, state: str, zip_code: str) -> dict[str, Any]:
    return {
        "lineOne": line_one,
        "lineTwo": None,
        "lineThree": None,
        "city": city,
        "state": state,
        "zipCode": zip_code,
        "country": "USA",
        "note": None,
    }


def order_json(
    *,
    impilo_id: int,
    reference: str,
    external_ids: list[str],
    recipient: Recipient,
    lines: list[tuple[str, int, int]],
    status: str,
    created: datetime,
) -> str:
    """The order as Impilo's create and fetch answers carry it
    (docs/impilo.md#the-fields-orderdesk-relies-on)."""
    body = {
        "id": impilo_id,
        "externalOrderIds": [reference, *external_ids],
        "patient": recipient.patient,
        "site": recipient.site,
        "currentStatus": status,
        "orderItems": [
            {"item": item_json(pk), "count": count} for kind, pk, count in lines if kind == "item"
        ],
        "orderKits": [
            {"kit": KITS[pk], "count": count} for kind, pk, count in lines if kind == "kit"
        ],
        "orderNotes": [],
        "shippingOption": "standard",
        "statusHistory": [{"status": "processing", "at": created.isoformat()}],
        "createdAt": created.isoformat(),
    }
    return json.dumps(body)


def create_request(
    reference: str, external_ids: list[str], patient_id: int | None, site_id: int | None,
    lines: list[tuple[str, int, int]],
) -> str:  # fmt: skip
    body: dict[str, Any] = {"externalOrderIds": [reference, *external_ids]}
    if patient_id:
        body["patient"] = {"id": patient_id}
    else:
        body["site"] = {"id": site_id}
    body["orderItems"] = [
        {"item": {"id": pk}, "count": count} for kind, pk, count in lines if kind == "item"
    ]
    body["orderKits"] = [
        {"kit": {"id": pk}, "count": count} for kind, pk, count in lines if kind == "kit"
    ]
    return json.dumps(body)


# How each kind of call ended: (outcome, status, error class, error message, duration ms).
ENDINGS: dict[str, tuple[str, int | None, str, str, int]] = {
    "created": ("ok", 201, "", "", 420),
    "fetched": ("ok", 200, "", "", 180),
    "listed": ("ok", 200, "", "", 650),
    "unavailable": (
        "unavailable", None, "ImpiloUnavailable",
        "Could not connect to Impilo: connection refused", 3,
    ),
    "ambiguous": (
        "ambiguous", None, "ImpiloAmbiguous",
        "Impilo did not answer within 10 seconds; it may have created the order", 10002,
    ),
    "rejected": ("rejected", 422, "ImpiloRejected", "Patient has no shipping address", 240),
}  # fmt: skip
REJECTION = json.dumps({"message": "Patient has no shipping address", "status": 422})


def call_row(
    *,
    pk: int,
    order_id: int,
    at: datetime,
    kind: str,
    attempt: int | None,
    request_body: str,
    response_body: str,
    url: str,
    request_id: str,
) -> dict[str, Any]:
    outcome, status, error_class, message, duration = ENDINGS[kind]
    action = {"fetched": "order_fetch", "listed": "order_list"}.get(kind, "order_create")
    answered = status is not None
    return {
        "id": pk,
        "at": at,
        "actor_id": None,
        "action": action,
        "order_id": order_id,
        "attempt": attempt if action == "order_create" else None,
        "method": "POST" if action == "order_create" else "GET",
        "url": url,
        "request_id": request_id,
        "request_headers": json.dumps(REQUEST_HEADERS | {"X-Request-ID": request_id}),
        "request_body": request_body,
        "request_body_truncated": False,
        "status_code": status,
        "response_headers": response_headers(at, response_body, request_id) if answered else "{}",
        "response_body": (REJECTION if kind == "rejected" else response_body) if answered else "",
        "response_body_truncated": False,
        "duration_ms": duration,
        "error_class": error_class,
        "error_message": message,
        "outcome": outcome,
    }


def list_page(order_body: str) -> str:
    """A reconciliation page (List Orders) that holds this order among others."""
    return '{"content":[' + order_body + '],"page":0,"size":250,"totalElements":1,"last":true}'
