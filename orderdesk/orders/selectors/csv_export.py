"""The Orders list as CSV, streamed so memory stays flat for any number of orders.

Rows are read as plain tuples in chunks (a server-side cursor on PostgreSQL), and each
chunk's lines come in one more query: no model instances, no per-row queries.

Spreadsheets run a cell that starts with = + - @ (or a tab or carriage return) as a
formula; a patient name like "=HYPERLINK(...)" must arrive as text, so such cells get a
leading apostrophe (OWASP "CSV injection"). Some spreadsheets skip leading spaces and read
the full-width forms (＝ ＋ － ＠) as the ASCII ones, so those count too.
"""

import csv
import unicodedata
from collections.abc import Iterator
from datetime import tzinfo
from itertools import islice
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from orderdesk.orders.models import Order, OrderLine, RecipientType, State

CHUNK = 1000
FORMULA_STARTS = ("=", "+", "-", "@")
CONTROL_STARTS = ("\t", "\r", "\n")
HEADER = [
    "Reference", "Created at", "Created by", "State", "Recipient type", "Recipient",
    "Patient Impilo id", "Site Impilo id", "Impilo order id", "Impilo status",
    "External order ids", "Lines",
]  # fmt: skip
COLUMNS = (
    "pk", "reference", "created_at", "created_by__username", "state", "recipient_type",
    "patient_name", "site_name", "patient_impilo_id", "site_impilo_id", "impilo_id",
    "impilo_status", "external_ids",
)  # fmt: skip
STATE_LABELS = dict(State.choices)
RECIPIENT_LABELS = dict(RecipientType.choices)


def safe_cell(value: object) -> str:
    if value is None:
        return ""
    text = str(value)
    return "'" + text if starts_a_formula(text) else text


def starts_a_formula(text: str) -> bool:
    """True when a spreadsheet could read the cell as a formula: a tab, CR or newline
    first, or a formula sign (in any compatibility form, e.g. full-width) after any spaces."""
    if text.startswith(CONTROL_STARTS):
        return True
    first = text.lstrip()[:1]
    return unicodedata.normalize("NFKC", first).startswith(FORMULA_STARTS)


def order_row(row: tuple[Any, ...], lines: str, tz: tzinfo | None = None) -> list[str]:
    (_, reference, created_at, username, state, recipient_type, patient_name, site_name,
     patient_id, site_id, impilo_id, impilo_status, external_ids) = row  # fmt: skip
    if recipient_type == RecipientType.PATIENT:
        recipient = patient_name or f"Patient {patient_id}"
    else:
        recipient = site_name or f"Site {site_id}"
    values: list[Any] = [
        reference,
        created_at.astimezone(tz or timezone.get_current_timezone()).isoformat("T", "seconds"),
        username,
        STATE_LABELS.get(state, state),
        RECIPIENT_LABELS.get(recipient_type, recipient_type),
        recipient,
        patient_id,
        site_id,
        impilo_id,
        impilo_status,
        "; ".join(str(value) for value in external_ids or []),
        lines,
    ]
    return [safe_cell(value) for value in values]


def _lines_of(order_ids: list[int]) -> dict[int, str]:
    found: dict[int, list[str]] = {}
    lines = (
        OrderLine.objects.filter(order_id__in=order_ids)
        .order_by("order_id", "position", "id")
        .values_list("order_id", "count", "name")
    )
    for order_id, count, name in lines:
        found.setdefault(order_id, []).append(f"{count} × {name}")
    return {order_id: "; ".join(texts) for order_id, texts in found.items()}


def export_rows(orders: QuerySet[Order]) -> Iterator[list[str]]:
    tz = timezone.get_current_timezone()
    rows = orders.values_list(*COLUMNS).iterator(chunk_size=CHUNK)
    while chunk := list(islice(rows, CHUNK)):
        lines = _lines_of([row[0] for row in chunk])
        for row in chunk:
            yield order_row(row, lines.get(row[0], ""), tz)


class _Echo:
    """csv.writer wants a file; this one hands each formatted row straight back."""

    def write(self, value: str) -> str:
        return value


def stream_csv(rows: Iterator[list[str]], flush_at: int = 64 * 1024) -> Iterator[bytes]:
    """CSV bytes in pieces of about `flush_at`: one write per row would be slow to serve."""
    writer = csv.writer(_Echo())
    # A byte-order mark so Excel reads the file as UTF-8 (names with accents).
    buffer = ["\ufeff" + writer.writerow(HEADER)]
    size = 0
    for row in rows:
        text = writer.writerow(row)
        buffer.append(text)
        size += len(text)
        if size >= flush_at:
            yield "".join(buffer).encode("utf-8")
            buffer, size = [], 0
    yield "".join(buffer).encode("utf-8")
