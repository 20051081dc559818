"""The Orders page's sorts and their keyset cursors.

Pages are found by keyset, not OFFSET: a cursor holds the sort's values of the row where a
page ended (or, going back, began), and the next page is the rows strictly after it (the
previous one the rows strictly before it), read from the sort's index. OFFSET would read and
throw away every earlier row, and grows slower with each page.
"""

from typing import Any

from django.db.models import Q

from orderdesk.core import listing
from orderdesk.orders.models import Order

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
    return listing.encode_cursor([getattr(order, name) for name, _ in SORTS[sort]])


def decode_cursor(text: str, sort: str) -> list[Any]:
    """The values encode_cursor() wrote, typed again; ValueError for anything else."""
    keys = SORTS.get(sort)
    if keys is None:
        raise ValueError("cursor does not match the sort")
    values = listing.decode_cursor(text, len(keys))
    typed: list[Any] = []
    for (name, _), value in zip(keys, values, strict=True):
        if name == "created_at":
            typed.append(listing.cursor_time(value))
        elif name == "id":
            typed.append(listing.cursor_id(value))
        elif isinstance(value, str):
            typed.append(value)
        else:
            raise ValueError(f"bad {name} in cursor")
    return typed
