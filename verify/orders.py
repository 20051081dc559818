"""Orders as a coordinator makes them (over HTTP), and the invariants every check counts.

The orchestrator also has Django set up against the same database (verify.django_env), so it
can read the outcome directly: orders' states, the sandbox's orders and request log, and
the audit rows. It never changes orderdesk's data except through the web pages, apart from
the sandbox's fault rules, which are the sandbox's own control panel.
"""

import re
import time
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html import unescape
from random import Random
from typing import TYPE_CHECKING

from verify.web import Client

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from orderdesk.audit.models import ApiCall

CHOOSE = re.compile(r'value="choose:([^"]+)"')
DETAIL = re.compile(r"/orders/(OD-[0-9A-Z]+)/(?:edit/)?$")
SETTLED = ("submitted", "rejected", "failed", "needs_review", "resolved")


@dataclass
class Catalog:
    items: list[int]
    kits: list[int]
    sites: list[int]
    patient_tokens: list[str] = field(default_factory=list)


def load_catalog(client: Client, patient_queries: Sequence[str]) -> Catalog:
    from orderdesk.catalog.models import active_sites, orderable_items, orderable_kits

    catalog = Catalog(
        items=list(orderable_items().values_list("impilo_id", flat=True)[:10]),
        kits=[k.impilo_id for k in orderable_kits() if not k.is_loaner][:5],
        sites=list(active_sites().values_list("impilo_id", flat=True)[:5]),
    )
    for query in patient_queries:
        catalog.patient_tokens += patient_tokens(client, query)[:3]
    if not (catalog.items and catalog.sites and catalog.patient_tokens):
        raise RuntimeError(f"catalog incomplete: {catalog}")
    return catalog


def patient_tokens(client: Client, query: str) -> list[str]:
    response = client.post_form("/orders/new/patients/", {"patient_query": query})
    return [unescape(token) for token in CHOOSE.findall(response.text)]


def order_form(catalog: Catalog, rng: Random, *, token: str | None = None) -> list[tuple[str, str]]:
    """A valid New order POST: a patient (or now and then a site) and one to three lines."""
    data = [("form_token", token or str(uuid.uuid4())), ("action", "submit")]
    if rng.random() < 0.75:
        data += [("recipient_type", "patient"), ("patient", rng.choice(catalog.patient_tokens))]
    else:
        data += [("recipient_type", "site"), ("site", str(rng.choice(catalog.sites)))]
    for item in rng.sample(catalog.items, rng.randint(1, min(3, len(catalog.items)))):
        data += [("line-kind", "item"), ("line-id", str(item)), ("line-count", "1")]
    return data


def reference_of(location: str) -> str | None:
    found = DETAIL.search(location)
    return found.group(1) if found else None


def create_orders(clients: Sequence[Client], catalog: Catalog, count: int, seed: int) -> list[str]:
    """`count` orders submitted through the New order form, four at a time."""

    def one(n: int) -> str:
        rng = Random(seed * 100_003 + n)
        client = clients[n % len(clients)]
        response = client.post_form("/orders/new/", order_form(catalog, rng))
        ref = reference_of(response.headers.get("Location", ""))
        if response.status_code != 302 or ref is None:
            raise RuntimeError(
                f"order entry answered {response.status_code} "
                f"(to {response.headers.get('Location', '-')}): {response.text[:300]}"
            )
        return ref

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, range(count)))


def states(refs: Iterable[str]) -> dict[str, str]:
    from orderdesk.orders.models import Order

    return dict(Order.objects.filter(reference__in=list(refs)).values_list("reference", "state"))


def settle(refs: Sequence[str], timeout: float) -> float:
    """Wait until every order is in a state the worker no longer changes; seconds taken."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if set(states(refs).values()) <= set(SETTLED) and len(states(refs)) == len(refs):
            break
        time.sleep(0.5)
    return time.monotonic() - started


@dataclass
class Counts:
    orders: int = 0
    settled: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    duplicated: int = 0  # references Impilo holds more than once
    lost: int = 0  # "submitted" here but not at Impilo, or at Impilo under another id
    contradicted: int = 0  # failed/rejected here although Impilo has it
    sandbox_requests: int = 0
    audited_requests: int = 0  # sandbox requests whose X-Request-ID has an ApiCall row
    pending_left: int = 0  # pending audit rows recovery had not converted by the end
    server_errors: list[str] = field(default_factory=list)

    @property
    def unaudited(self) -> int:
        return self.sandbox_requests - self.audited_requests

    def holds(self) -> bool:
        return (
            self.settled == self.orders
            and not self.duplicated
            and not self.lost
            and not self.contradicted
            and self.unaudited == 0
            and not self.server_errors
        )

    def text(self) -> str:
        states_text = ", ".join(f"{k} {v}" for k, v in sorted(self.by_state.items()))
        return (
            f"{self.orders} orders ({states_text}); settled {self.settled}/{self.orders}; "
            f"dup at Impilo {self.duplicated}; lost {self.lost}; "
            f"failed-but-at-Impilo {self.contradicted}; sandbox requests "
            f"{self.sandbox_requests} / with audit row {self.audited_requests}; "
            f"500 pages {len(self.server_errors)}"
            + (f"; pending audit rows left {self.pending_left}" if self.pending_left else "")
        )


@dataclass
class Marker:
    """Counters at the start of a check, to count only what happened during it."""

    requests: int  # the last sandbox RequestLog id
    log_offset: int


def quiesce(timeout: float = 30) -> None:
    """Wait until no call to the sandbox is in flight: its log and the audit stay put for
    two seconds (a call's audit row is written after its answer)."""
    from orderdesk.sandbox.models import RequestLog

    deadline = time.monotonic() + timeout
    seen: list[tuple[int, int]] = []
    while time.monotonic() < deadline:
        seen.append((RequestLog.objects.count(), _reached().count()))
        if len(seen) >= 3 and seen[-1] == seen[-2] == seen[-3]:
            return
        time.sleep(1)


def await_audit_recovery() -> int:
    """Wait (bounded) until every pending audit row is gone: a worker killed mid-call
    leaves one, which the workers' recovery job turns into an ApiCall row once the call
    can no longer be in flight (audit/pending.py). Returns how many are left."""
    from django.conf import settings

    from orderdesk.audit.models import PendingCall
    from orderdesk.audit.pending import orphan_age

    every = dict(settings.PERIODIC_JOBS).get("orderdesk.audit.pending.recover_orphans", 60)
    deadline = time.monotonic() + orphan_age().total_seconds() + float(every) + 30
    while PendingCall.objects.exists() and time.monotonic() < deadline:
        time.sleep(1)
    return PendingCall.objects.count()


def mark(stack: object) -> Marker:
    from orderdesk.sandbox.models import RequestLog

    quiesce()
    last = RequestLog.objects.order_by("-id").values_list("id", flat=True).first()
    return Marker(
        requests=last or 0,
        log_offset=stack.access_log_size(),  # type: ignore[attr-defined]
    )


def _reached() -> "QuerySet[ApiCall]":
    """Audit rows of calls that reached the server (refused or unconnected ones did not)."""
    from orderdesk.audit.models import ApiCall

    return ApiCall.objects.exclude(outcome="unavailable")


def count(refs: Sequence[str], since: Marker, stack: object, quiet_seconds: float = 3) -> Counts:
    from orderdesk.audit.models import ApiCall
    from orderdesk.orders.models import Order
    from orderdesk.sandbox.models import ExternalOrderId, RequestLog

    # A faulted request may still be sleeping in the sandbox before it writes its log row.
    time.sleep(quiet_seconds)
    quiesce()
    result = Counts(orders=len(refs))
    orders = list(Order.objects.filter(reference__in=list(refs)))
    at_impilo: dict[str, list[int]] = {}
    for value, order_id in ExternalOrderId.objects.filter(value__in=list(refs)).values_list(
        "value", "order_id"
    ):
        at_impilo.setdefault(value, []).append(order_id)
    for order in orders:
        result.by_state[order.state] = result.by_state.get(order.state, 0) + 1
        result.settled += order.state in SETTLED
        held = at_impilo.get(order.reference, [])
        result.duplicated += len(held) > 1
        if order.state == "submitted" and (len(held) != 1 or order.impilo_id not in held):
            result.lost += 1
        if order.state in ("failed", "rejected") and held:
            result.contradicted += 1
    result.settled -= len(refs) - len(orders)  # a reference with no order at all is lost
    result.lost += len(refs) - len(orders)
    result.pending_left = await_audit_recovery()
    received = RequestLog.objects.filter(id__gt=since.requests)
    result.sandbox_requests = received.count()
    # Matched one by one on the X-Request-ID the sandbox logged: a request counts as
    # audited only if its own call has a row, whatever other rows exist.
    ids = ApiCall.objects.exclude(request_id="").values("request_id")
    result.audited_requests = received.filter(request_id__in=ids).count()
    result.server_errors = stack.server_errors_since(since.log_offset)  # type: ignore[attr-defined]
    return result
