"""The Orders page's sorts and their keyset cursors.

Pages are found by keyset, not OFFSET: a cursor holds the sort's values of the row where a
page ended (or, going back, began), and the next page is the rows strictly after it (the
previous one the rows strictly before it), read from the sort's index. OFFSET would read and
throw away every earlier row, and grows slower with each page.
"""

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone

from orderdesk.orders.models import Order

MAX_ID = 2**63 - 1  # BIGINT: a larger number would be a database error, not "no match"

# (field, descending) in order; each ends in a unique column so the keyset is exact.
Sort = tuple[tuple[str, bool], ...]
NEWEST: Sort = (("created_at", True), ("id", True))
SORTS: dict[str, Sort] = {
    "-created": NEWEST,
    "created": (("created_at", False), ("id", False)),
    "reference": (("reference", False),),
    "-reference": (("reference", True),),
    "state": (("state", False), *NEWEST),
    "-state": (("state", True), *NEWEST),
    "impilo_status": (("impilo_status", False), *NEWEST),
    "-impilo_status": (("impilo_status", True), *NEWEST),
}


def after_cursor(sort: str, values: list[Any]) -> Q:
    """Rows strictly after `values` in this sort: (a > x) or (a = x and b > y) or ..."""
    return _beyond(SORTS[sort], values, forward=True)


def before_cursor(sort: str, values: list[Any]) -> Q:
    """Rows strictly before `values` in this sort: (a < x) or (a = x and b < y) or ..."""
    return _beyond(SORTS[sort], values, forward=False)


def _beyond(keys: Sort, values: list[Any], *, forward: bool) -> Q:
    beyond = Q()
    for index, (name, desc) in enumerate(keys):
        step = Q(**{f"{name}__{'lt' if desc == forward else 'gt'}": values[index]})
        for prior in range(index):
            step &= Q(**{keys[prior][0]: values[prior]})
        beyond |= step
    return beyond


def encode_cursor(order: Order, sort: str) -> str:
    values = []
    for name, _ in SORTS[sort]:
        value = getattr(order, name)
        values.append(value.isoformat() if isinstance(value, datetime) else value)
    text = json.dumps(values, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(text: str, sort: str) -> list[Any]:
    """The values encode_cursor() wrote, typed again; ValueError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        values = json.loads(raw.decode())
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("unreadable cursor") from exc
    keys = SORTS.get(sort)
    if keys is None or not isinstance(values, list) or len(values) != len(keys):
        raise ValueError("cursor does not match the sort")
    typed: list[Any] = []
    for (name, _), value in zip(keys, values, strict=True):
        if name == "created_at" and isinstance(value, str):
            value = datetime.fromisoformat(value)
            if timezone.is_naive(value):
                raise ValueError("naive time in cursor")
        elif name == "id":
            if not (isinstance(value, int) and 0 < value <= MAX_ID):
                raise ValueError("bad id in cursor")
        elif not isinstance(value, str):
            raise ValueError(f"bad {name} in cursor")
        typed.append(value)
    return typed
