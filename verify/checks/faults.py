"""Issue 8 item 1: every fault Impilo can show, over N orders each, then a random mix.

Sandbox faults are rules in the sandbox's table, acting on half of the order POSTs while a
batch runs. Connection refused and connect timeout cannot come from a server that answers,
so for those the worker is restarted pointing at a closed port or at a listener whose
queue is full, then back at the sandbox.
"""

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import partial
from typing import Any

from verify.context import Context
from verify.orders import Counts, count, create_orders, mark, settle
from verify.report import Row

ORDER_POST = {"method": "POST", "path": r"/api/v3/order$"}
MUST = "all settled, 0 dup, 0 lost, every sandbox request audited, 0 500s"


def _retry_date() -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)


# (name, fault rule arguments); the rule fires on the first and then half of the order POSTs
# of the batch.
SANDBOX_FAULTS: list[tuple[str, dict[str, Any]]] = [
    ("read timeout before create", {"kind": "timeout_no_create", "delay": 3.0}),
    ("read timeout after create", {"kind": "timeout_after_create", "delay": 3.0}),
    ("reset before create", {"kind": "reset"}),
    ("reset after create", {"kind": "reset_after_create"}),
    ("HTTP 500", {"kind": "status", "status": 500}),
    ("HTTP 502", {"kind": "status", "status": 502}),
    ("HTTP 503", {"kind": "status", "status": 503}),
    ("HTTP 504", {"kind": "status", "status": 504}),
    ("429 Retry-After seconds", {"kind": "rate_limit", "retry_after": "1"}),
    ("429 Retry-After date", {"kind": "rate_limit", "retry_after": "DATE"}),
    ("429 Retry-After garbage", {"kind": "rate_limit", "retry_after": "soon, maybe"}),
    ("429 Retry-After huge", {"kind": "rate_limit", "retry_after": "999999999"}),
    ("201 unreadable body", {"kind": "garbage_201"}),
    # Any 401 pauses all sending until a probe (every 15 s) finds the key works again.
    ("401 key refused", {"kind": "status", "status": 401, "count": 2, "rate": 1.0}),
]


def run(ctx: Context) -> list[Row]:
    rows = []
    n = ctx.sizes.fault_orders
    batches: list[tuple[str, Callable[[], Row]]] = [
        (name, partial(_sandbox_batch, ctx, name, arguments, n))
        for name, arguments in SANDBOX_FAULTS
    ]
    batches.append(
        ("connection refused", partial(_network_batch, ctx, "connection refused", _closed_port, n))
    )
    batches.append(
        ("connect timeout", partial(_network_batch, ctx, "connect timeout", _full_backlog, n))
    )
    batches.append(("random mix", partial(_mix, ctx, ctx.sizes.mix_orders)))
    for name, batch in batches:
        try:
            rows.append(batch())
        except Exception as exc:  # one broken batch must not hide the others' counts
            from orderdesk.sandbox import faults

            faults.clear()
            rows.append(
                Row(f"fault: {name}", "(the batch itself)", MUST, f"crashed: {exc!r}", False)
            )
    return rows


def _inject(arguments: dict[str, Any]) -> None:
    from orderdesk.sandbox import faults

    args = {"rate": 0.5, **ORDER_POST, **arguments}
    if args.get("retry_after") == "DATE":
        args["retry_after"] = _retry_date()
    faults.inject(**args)


def inject_for_batch(arguments: dict[str, Any]) -> None:
    """The batch's rule; the first order POST always meets the fault, so a small batch
    cannot miss it by chance, and then it acts on half of them."""
    if "count" not in arguments:
        _inject({**arguments, "rate": 1.0, "count": 1})
    _inject(arguments)


def _sandbox_batch(ctx: Context, name: str, arguments: dict[str, Any], n: int) -> Row:
    from orderdesk.sandbox import faults
    from orderdesk.sandbox.models import FaultRule

    catalog = ctx.ensure_catalog()
    since = mark(ctx.stack)
    inject_for_batch(arguments)
    refs = create_orders([ctx.client("coordinator")], catalog, n, seed=sum(map(ord, name)))
    waited = settle(refs, timeout=120 + 3 * n)
    fired = sum(FaultRule.objects.values_list("fired", flat=True))
    faults.clear()
    result = count(refs, since, ctx.stack)
    return _row(f"fault: {name}", f"{n} orders, fault fired {fired}×", result, waited, fired)


def _network_batch(ctx: Context, name: str, target: Any, n: int) -> Row:
    catalog = ctx.ensure_catalog()
    since = mark(ctx.stack)
    with target() as port:
        ctx.stack.stop_workers()
        ctx.stack.start_worker(IMPILO_BASE_URL=f"http://127.0.0.1:{port}/sandbox/impilo")
        refs = create_orders([ctx.client("coordinator")], catalog, n, seed=len(name))
        tried = _wait_for_attempts(refs, at_least=2, timeout=60 + 2 * n)
        ctx.stack.stop_workers()
    ctx.stack.start_worker()
    ctx.stack.start_worker()
    waited = settle(refs, timeout=120 + 3 * n)
    result = count(refs, since, ctx.stack)
    tried_text = f"{n} orders, {tried} tried ≥2× unreachable"
    return _row(f"fault: {name}", tried_text, result, waited, tried)


def _wait_for_attempts(refs: list[str], at_least: int, timeout: float) -> int:
    from orderdesk.orders.models import Order

    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        done = Order.objects.filter(reference__in=refs, attempts__gte=at_least).count()
        if done == len(refs):
            break
        time.sleep(0.5)
    return done


@contextmanager
def _closed_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    yield port


@contextmanager
def _full_backlog() -> Iterator[int]:
    """A listener that never accepts, its queue full: new connections hang, then time out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(listener.getsockname())
        fillers.append(filler)
    try:
        yield int(listener.getsockname()[1])
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def _mix(ctx: Context, n: int) -> Row:
    """Every sandbox fault, shuffled among fault-free requests: a queue of one-use rules.

    The sandbox applies the first matching rule (its `rate` decides only for that one), so
    a mix is a shuffled list of single-use rules; "latency 0" rules are the fault-free
    turns. About a third of the order POSTs and a tenth of the reconciliation reads fail.
    """
    from orderdesk.sandbox import faults
    from orderdesk.sandbox.models import FaultRule

    catalog = ctx.ensure_catalog()
    since = mark(ctx.stack)
    plan: list[dict[str, Any]] = []
    for _ in range(2 * n):
        if ctx.rng.random() < 0.33:
            plan.append(dict(ctx.rng.choice(SANDBOX_FAULTS)[1]))
        else:
            plan.append({"kind": "latency", "delay": 0.0})
    for arguments in plan:
        _inject({**arguments, "rate": 1.0, "count": 1})
    for _ in range(n // 10 + 1):
        faults.inject("status", method="GET", path=r"/api/v3/order$", status=503, count=1)
    clients = [ctx.client("coordinator"), ctx.client("support")]
    refs = create_orders(clients, catalog, n, seed=4242)
    waited = settle(refs, timeout=180 + 2 * n)
    fired = FaultRule.objects.exclude(kind="latency").filter(fired__gt=0).count()
    faults.clear()
    result = count(refs, since, ctx.stack)
    tried = f"{n} orders, {len(plan)} one-use rules on POSTs, {fired} faults fired"
    return _row("fault: random mix", tried, result, waited, fired)


def _row(check: str, tried: str, result: Counts, waited: float, fired: int) -> Row:
    """A row passes only if its fault really happened: `fired` is how often, as the
    sandbox's fault rules counted it (or, for a network fault, how many orders met it)."""
    measured = result.text() + f"; settled in {waited:.0f} s"
    if result.server_errors:
        measured += f"; e.g. {result.server_errors[0]}"
    if fired == 0:
        measured += "; the fault never fired, so nothing was tested"
    return Row(check, tried, MUST + ", fault fired ≥1×", measured, result.holds() and fired > 0)
