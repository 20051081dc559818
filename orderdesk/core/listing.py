"""What every list page shares: keyset cursors as URL-safe text, the query string of its
valid filters, and whole days as time ranges.

A cursor holds the sort values of the row where a page ended, as base64 of a JSON list;
datetimes travel as ISO text and come back typed by the caller, which knows its columns.
"""

import base64
import binascii
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any

from django.http import QueryDict
from django.utils import timezone

MAX_ID = 2**63 - 1  # BIGINT: a larger number would be a database error, not "no match"


def encode_cursor(values: Sequence[object]) -> str:
    plain = [value.isoformat() if isinstance(value, datetime) else value for value in values]
    text = json.dumps(plain, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(text: str, length: int) -> list[Any]:
    """The list encode_cursor() wrote, of `length` values; ValueError for anything else."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        values = json.loads(raw.decode())
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("unreadable cursor") from exc
    if not isinstance(values, list) or len(values) != length:
        raise ValueError("cursor of the wrong shape")
    return values


def cursor_time(value: object) -> datetime:
    """A datetime read back from a cursor: ISO text with its time zone."""
    if not isinstance(value, str):
        raise ValueError("bad time in cursor")
    moment = datetime.fromisoformat(value)
    if timezone.is_naive(moment):
        raise ValueError("naive time in cursor")
    return moment


def cursor_id(value: object) -> int:
    if not (isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID):
        raise ValueError("bad id in cursor")
    return value


def encode_time_id(at: datetime, pk: int) -> str:
    """The cursor of a list in (time, id) order: the audit log, the needs-attention queue."""
    return encode_cursor([at, pk])


def decode_time_id(text: str) -> tuple[datetime, int]:
    at, pk = decode_cursor(text, 2)
    return cursor_time(at), cursor_id(pk)


def query_string(values: Mapping[str, object], names: Iterable[str], **extra: str) -> str:
    """The named values that are set, dates as ISO, then `extra` (e.g. a cursor) if set."""
    params = QueryDict(mutable=True)
    for name in names:
        value = values.get(name)
        if isinstance(value, date):
            params[name] = value.isoformat()
        elif value not in (None, ""):
            params[name] = str(value)
    for name, value in extra.items():
        if value:
            params[name] = value
    return params.urlencode()


def day_start(day: date) -> datetime:
    """The first moment of `day` in the current time zone; day + 1 ends it."""
    return timezone.make_aware(datetime.combine(day, time.min))
