"""What every sandbox API endpoint shares: the key check, faults, the request log, errors, paging.

Views raise ApiError; `api_endpoint` turns it into Impilo's guessed error body
{"status": N, "message": "..."}: Impilo publishes no error schema (docs/impilo.md#errors).
"""

import hmac
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables

from orderdesk.sandbox import faults, sockets
from orderdesk.sandbox.models import RequestLog

logger = logging.getLogger(__name__)
MAX_PAGE_SIZE = 250
DEFAULT_PAGE_SIZE = 15
MAX_ID = 2**63 - 1  # Impilo ids are int64; larger numbers cannot name anything.


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@contextmanager
def sandbox_transaction() -> Iterator[None]:
    """A transaction for the sandbox's own writes whose commit need not wait for the disk
    (PostgreSQL writes it out within a moment; a clean stop loses nothing). The sandbox is
    a test double sharing orderdesk's database: without this, its two commits per created
    order were a fifth of the bench's time per order on PostgreSQL. orderdesk's own commits,
    in their own transactions, still wait for the disk."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


def error_response(status: int, message: str) -> JsonResponse:
    return JsonResponse({"status": status, "message": message}, status=status)


def json_response(data: object, status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})


def read_json(request: HttpRequest) -> object:
    try:
        return json.loads(request.body)
    except RequestDataTooBig:
        raise ApiError(413, "Request body too large") from None
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise ApiError(400, f"Malformed JSON request body: {exc}") from exc


ViewFunc = Callable[..., HttpResponseBase]


def api_endpoint(*methods: str) -> Callable[[ViewFunc], ViewFunc]:
    """Faults first (they stand for the network and proxies), then the key, then the view."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            response: HttpResponseBase | None = faults.before_view(request)
            if response is None:
                response = _authorised_call(view, methods, request, *args, **kwargs)
            return _finish(request, response)

        return login_not_required(csrf_exempt(wrapper))

    return decorator


@sensitive_variables()
def _authorised_call(
    view: ViewFunc, methods: Sequence[str], request: HttpRequest, *args: Any, **kwargs: Any
) -> HttpResponseBase:
    expected = str(getattr(settings, "SANDBOX_API_KEY", "") or "")
    given = request.headers.get("Impilo-API-Key", "")
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        return error_response(401, "Missing or invalid Impilo-API-Key header")
    if methods and request.method not in methods:
        # As for any other path the sandbox lacks (e.g. GET site): Impilo may well have it.
        return error_response(404, f"No sandbox endpoint for {request.method} {request.path}")
    try:
        return view(request, *args, **kwargs)
    except ApiError as exc:
        return error_response(exc.status, exc.message)
    except Exception:
        # A sandbox bug still answers (and is logged) like an API would: every request counts.
        logger.exception("Sandbox error on %s %s", request.method, request.path)
        return error_response(500, "Internal sandbox error")


def _finish(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """Log before any injected sleep or reset, so the row exists whatever the client sees."""
    kind = getattr(response, "sandbox_fault", "")
    reset = kind in faults.RESET_KINDS
    with sandbox_transaction():
        RequestLog.objects.create(
            method=request.method or "",
            path=request.path[:500],
            query=request.META.get("QUERY_STRING", "")[:1000],
            status=0 if reset else response.status_code,
            fault=kind,
            request_id=request.headers.get("X-Request-ID", "")[:64],
        )
    if reset:
        return sockets.reset_connection(request)
    time.sleep(getattr(response, "sandbox_sleep", 0.0))
    return response


# --- Query parameters -------------------------------------------------------------------------


def page_params(request: HttpRequest) -> tuple[int, int]:
    page = int_param(request, "page", 1)
    size = int_param(request, "size", DEFAULT_PAGE_SIZE)
    if page < 1:
        raise ApiError(400, "page must be 1 or more (the first page is 1)")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ApiError(400, f"size must be between 1 and {MAX_PAGE_SIZE}")
    return page, size


def int_param(request: HttpRequest, name: str, default: int) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    return _to_int(name, raw)


def int_list_param(request: HttpRequest, name: str) -> list[int]:
    """Repeatable (?id=1&id=2) and comma-separated (?id=1,2) forms both work."""
    values = [part for raw in request.GET.getlist(name) for part in raw.split(",")]
    return [_to_int(name, value) for value in values if value.strip()]


def _to_int(name: str, raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number, got {raw!r}") from None
    if abs(value) > MAX_ID:
        raise ApiError(400, f"{name} is out of range")
    return value


def bool_param(request: HttpRequest, name: str) -> bool | None:
    raw = request.GET.get(name)
    if raw is None or not raw.strip():
        return None
    lowered = raw.strip().lower()
    if lowered in {"true", "1"}:
        return True
    if lowered in {"false", "0"}:
        return False
    raise ApiError(400, f"{name} must be true or false, got {raw!r}")


def date_param(request: HttpRequest, name: str) -> date | None:
    raw = request.GET.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ApiError(400, f"{name} must be a date (YYYY-MM-DD), got {raw!r}") from None


def page_of(
    queryset: QuerySet[Any],
    page: int,
    size: int,
    serialize: Callable[[Iterable[Any]], list[dict[str, Any]]],
) -> dict[str, Any]:
    """Impilo's Page wrapper (docs/impilo.md#paging); `page` is 1-based."""
    total = queryset.count()
    start = (page - 1) * size
    rows = queryset[start : start + size] if start < total else []
    return {
        "content": serialize(rows),
        "page": page,
        "size": size,
        "total": total,
        "first": page == 1,
        "last": start + size >= total,
    }
