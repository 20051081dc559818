"""The Orders list as CSV, streamed row by row so memory stays flat for any number of orders.

Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return) as a
formula; a patient name like "=HYPERLINK(...)" must arrive as text, so such cells get a
leading apostrophe (OWASP "CSV injection").
"""

import csv
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from orderdesk.orders.models import Order, OrderLine

CHUNK = 2000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
HEADER = [
    "Reference", "Created at", "Created by", "State", "Recipient type", "Recipient",
    "Patient Impilo id", "Site Impilo id", "Impilo order id", "Impilo status",
    "External order ids", "Lines",
]  # fmt: skip
COLUMNS = (
    "reference", "created_at", "state", "recipient_type", "patient_impilo_id", "patient_name",
    "site_impilo_id", "site_name", "impilo_id", "impilo_status", "external_ids",
    "created_by__username",
)  # fmt: skip


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def order_row(order: Order) -> list[str]:
    lines = "; ".join(f"{line.count} × {line.name}" for line in order.lines.all())
    values: list[Any] = [
        order.reference,
        _when(order.created_at),
        order.created_by.username,
        order.get_state_display(),
        order.get_recipient_type_display(),
        order.recipient_label,
        order.patient_impilo_id,
        order.site_impilo_id,
        order.impilo_id,
        order.impilo_status,
        "; ".join(str(value) for value in order.external_ids or []),
        lines,
    ]
    return [safe_cell(value) for value in values]


def export_queryset(orders: QuerySet[Order]) -> Iterator[Order]:
    """Fetched in chunks (a server-side cursor on PostgreSQL), lines prefetched per chunk."""
    lines = Prefetch("lines", queryset=OrderLine.objects.only("order_id", "name", "count"))
    return (
        orders.select_related("created_by")
        .only(*COLUMNS)
        .prefetch_related(lines)
        .iterator(chunk_size=CHUNK)
    )


class _Echo:
    """csv.writer wants a file; this one hands each formatted row straight back."""

    def write(self, value: str) -> str:
        return value


def stream_csv(orders: Iterable[Order], flush_at: int = 64 * 1024) -> Iterator[bytes]:
    """CSV bytes in pieces of about `flush_at`: one write per row would be slow to serve."""
    writer = csv.writer(_Echo())
    # A byte-order mark so Excel reads the file as UTF-8 (names with accents).
    buffer = ["\ufeff" + writer.writerow(HEADER)]
    size = 0
    for order in orders:
        row = writer.writerow(order_row(order))
        buffer.append(row)
        size += len(row)
        if size >= flush_at:
            yield "".join(buffer).encode("utf-8")
            buffer, size = [], 0
    yield "".join(buffer).encode("utf-8")
