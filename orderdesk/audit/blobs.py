"""Where an audit row's bodies and headers live: each distinct text once, by its SHA-256.

A status poll gets the same answer again and again while nothing changes, so the calls
share one stored copy of it. Texts are zlib-compressed here on every database: SQLite
compresses nothing, and PostgreSQL's own TOAST compression starts only at about 2 KB and
works per row, so doing it here keeps one code path and one on-disk format.

Headers are stored as JSON with the values that differ on every call (the request id,
the date) kept on the call's row instead (ApiCall.header_values), so the rest is shared
too; reading puts those values back where they were.
"""

import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

# Header values that change with every call: kept on the row, not in the shared copy.
PER_CALL_HEADERS = frozenset({"date", "x-request-id", "expires", "age"})
COMPRESSION_LEVEL = 6
# Stands in a shared header text for the call's request id (no header value has a NUL).
THE_REQUEST_ID = "\u0000request-id"


def digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def pack(text: str) -> bytes:
    return zlib.compress(text.encode("utf-8"), COMPRESSION_LEVEL)


def unpack(data: bytes | memoryview) -> str:
    return zlib.decompress(bytes(data)).decode("utf-8")


def unpack_start(data: bytes | memoryview, chars: int) -> str:
    """The first `chars` characters of a packed text, decompressing no more than needed.

    `data` may itself be only the start of the packed bytes (what SUBSTR read)."""
    # A character is at most 4 bytes of UTF-8; an incomplete last one is dropped.
    raw = zlib.decompressobj().decompress(bytes(data), 4 * chars)
    return raw.decode("utf-8", errors="ignore")[:chars]


def split_headers(
    headers: Mapping[str, object], request_id: str = ""
) -> tuple[str, dict[str, object]]:
    """The shareable JSON of the headers, and the per-call values taken out of it. A value
    that is the call's own request id (kept on its row anyway) is only marked."""
    shared: dict[str, object] = {}
    own: dict[str, object] = {}
    for name, value in headers.items():
        if str(name).lower() not in PER_CALL_HEADERS:
            shared[name] = value
        elif request_id and value == request_id:
            shared[name] = THE_REQUEST_ID
        else:
            shared[name] = ""
            own[name] = value
    return json.dumps(shared, ensure_ascii=False), own


def join_headers(
    shared_json: str, own: Mapping[str, object], request_id: str = ""
) -> dict[str, Any]:
    headers: dict[str, Any] = json.loads(shared_json) if shared_json else {}
    for name, value in headers.items():
        if value == THE_REQUEST_ID:
            headers[name] = request_id
    for name, value in own.items():
        headers[name] = value
    return headers


def store(texts: Iterable[str]) -> dict[str, int]:
    """The blob id of each text, inserting the ones not stored yet (safe when two
    processes store the same text at once: the second insert is ignored)."""
    from orderdesk.audit.models import AuditBlob

    by_digest = {digest(text): text for text in set(texts)}
    if not by_digest:
        return {}
    found = dict(AuditBlob.objects.filter(digest__in=list(by_digest)).values_list("digest", "pk"))
    found = {bytes(key): pk for key, pk in found.items()}
    missing = [key for key in by_digest if key not in found]
    if missing:
        AuditBlob.objects.bulk_create(
            [
                AuditBlob(digest=key, data=pack(by_digest[key]), chars=len(by_digest[key]))
                for key in missing
            ],
            ignore_conflicts=True,
        )
        added = AuditBlob.objects.filter(digest__in=missing).values_list("digest", "pk")
        found |= {bytes(key): pk for key, pk in added}
    return {text: found[key] for key, text in by_digest.items()}
