"""Fault injection: misbehaviours stored in a table, so every server thread and process sees them.

    inject("status", path=r"/api/v3/order$", method="POST", status=503, count=2)
    inject("reset_after_create", count=1)
    clear()

The first active rule (lowest id) that matches a request's method and path applies. Rules of
the "before" kinds act before the key check and the view, so nothing is created; the "create"
kinds act only when an order was just created (POST api/v3/order about to answer 201).
"""

import random
import re
import time

from django.db.models import F, Q, QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse

from orderdesk.sandbox.models import FaultRule

BEFORE_KINDS = ("latency", "status", "rate_limit", "reset", "timeout_no_create")
CREATE_KINDS = ("reset_after_create", "timeout_after_create", "garbage_201")
KINDS = BEFORE_KINDS + CREATE_KINDS
RESET_KINDS = ("reset", "reset_after_create")
KIND_HELP = {
    "latency": "sleep `delay` seconds, then answer normally",
    "status": "answer with HTTP `status` (default 500); nothing is created",
    "rate_limit": "answer 429 with Retry-After; nothing is created",
    "reset": "reset the TCP connection; nothing is created",
    "reset_after_create": "create the order, then reset the TCP connection",
    "timeout_after_create": "create the order, sleep `delay`, then answer normally",
    "timeout_no_create": "sleep `delay`, then answer 503; nothing is created",
    "garbage_201": "create the order, answer 201 with an unreadable body",
}
# Deliberately not JSON (and cut mid-way): what a broken proxy or a truncated body looks like.
GARBAGE_BODY = b'{"id": 9\xff\xfe<html><body>502 Bad Gat'


def inject(
    kind: str,
    *,
    method: str | None = None,
    path: str | None = None,
    count: int | None = None,
    rate: float = 1.0,
    status: int | None = None,
    retry_after: str | None = None,
    delay: float = 0.0,
) -> FaultRule:
    if kind not in KINDS:
        raise ValueError(f"Unknown fault kind {kind!r}; choose from {', '.join(KINDS)}")
    if path:
        re.compile(path)  # a bad pattern fails here, not on every request later
    if count is not None and count < 1:
        raise ValueError("count must be 1 or more (None = unlimited)")
    if not 0.0 <= rate <= 1.0:
        raise ValueError("rate must be between 0 and 1")
    if delay < 0:
        raise ValueError("delay must not be negative")
    if status is not None and not 100 <= status <= 599:
        raise ValueError("status must be an HTTP status code")
    return FaultRule.objects.create(
        kind=kind,
        method=(method or "").upper(),
        path=path or "",
        remaining=count,
        rate=rate,
        status=status if status is not None else (500 if kind == "status" else None),
        retry_after=retry_after or "",
        delay=delay,
    )


def clear() -> None:
    FaultRule.objects.all().delete()


def active_rules() -> QuerySet[FaultRule]:
    return FaultRule.objects.filter(Q(remaining__isnull=True) | Q(remaining__gt=0))


def take(request: HttpRequest, kinds: tuple[str, ...]) -> FaultRule | None:
    """The rule that fires for this request, if any, with its use counted (race-free)."""
    for rule in active_rules().filter(kind__in=kinds):
        if rule.method and rule.method != request.method:
            continue
        if rule.path and not re.search(rule.path, request.path):
            continue
        if random.random() >= rule.rate:
            return None
        fired = FaultRule.objects.filter(pk=rule.pk)
        if rule.remaining is not None:
            # Conditional update: two concurrent requests cannot both take the last use.
            fired = fired.filter(remaining__gt=0)
            claimed = fired.update(remaining=F("remaining") - 1, fired=F("fired") + 1)
        else:
            claimed = fired.update(fired=F("fired") + 1)
        if claimed:
            return rule
    return None


def before_view(request: HttpRequest) -> HttpResponse | None:
    """A response standing in for the real one, or None to go on (maybe after a delay)."""
    rule = take(request, BEFORE_KINDS)
    if rule is None:
        return None
    if rule.kind == "latency":
        time.sleep(rule.delay)
        return None
    if rule.kind == "status":
        status = rule.status or 500
        return _marked(_error(status, f"Injected fault: HTTP {status}"), rule)
    if rule.kind == "rate_limit":
        response = _error(429, "Too many requests")
        if rule.retry_after:
            response["Retry-After"] = rule.retry_after
        return _marked(response, rule)
    if rule.kind == "timeout_no_create":
        return _marked(_error(503, "Service unavailable (timed out)"), rule, sleep=rule.delay)
    return _marked(HttpResponse(status=500), rule)  # reset: the body never leaves


def after_create(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The 201 for a just-created order, possibly replaced by a create-phase fault."""
    rule = take(request, CREATE_KINDS)
    if rule is None:
        return response
    if rule.kind == "timeout_after_create":
        return _marked(response, rule, sleep=rule.delay)
    if rule.kind == "garbage_201":
        garbage = HttpResponse(GARBAGE_BODY, status=201, content_type="application/json")
        return _marked(garbage, rule)
    return _marked(response, rule)  # reset_after_create


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"status": status, "message": message}, status=status)


def _marked(response: HttpResponse, rule: FaultRule, sleep: float = 0.0) -> HttpResponse:
    """Tell api_endpoint what to do after logging: sleep, or reset the connection."""
    response.sandbox_fault = rule.kind  # type: ignore[attr-defined]
    response.sandbox_sleep = sleep  # type: ignore[attr-defined]
    return response
