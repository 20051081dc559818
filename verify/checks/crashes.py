"""Issue 8 item 2: the worker SIGKILLed before, during and after a send; the database
stopped and started while orders are queued (PostgreSQL only: SQLite has no server).

Each kill targets one order in a known phase, observed in the database:
  before  the worker has committed `sending` but its request has not reached the sandbox
  during  the sandbox has received the request and is holding it (a latency fault)
  after   the sandbox has created the order but its answer has not arrived yet
After all kills, normal workers (with the lease sweeper) must bring every order to a
state a person can see, with no duplicate at Impilo.
"""

import time
from collections.abc import Callable
from random import Random
from typing import Any

import requests

from verify import django_env
from verify.context import Context
from verify.orders import Counts, count, create_orders, mark, settle
from verify.report import Row

MUST = "all settled, 0 dup, 0 lost, every sandbox request audited, 0 500s"
ORDER_POST: dict[str, Any] = {"method": "POST", "path": r"/api/v3/order$"}


def run(ctx: Context) -> list[Row]:
    rows = [_kills(ctx, phase, ctx.sizes.kills) for phase in ("before", "during", "after")]
    rows.append(_database_restart(ctx))
    return rows


def _wait(condition: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def _fresh_worker(ctx: Context) -> None:
    """One worker without the periodic jobs, so a kill hits order sending and nothing else."""
    before = ctx.stack.worker_starts()
    ctx.stack.start_worker(periodic=False)
    _wait(lambda: ctx.stack.worker_starts() > before, timeout=30, step=0.05)


def _kills(ctx: Context, phase: str, kills: int) -> Row:
    from orderdesk.orders.models import Order
    from orderdesk.sandbox import faults
    from orderdesk.sandbox.models import ExternalOrderId, FaultRule

    catalog = ctx.ensure_catalog()
    client = ctx.client("coordinator")
    since = mark(ctx.stack)
    ctx.stack.stop_workers()
    refs: list[str] = []
    hit = 0
    rng = Random(len(phase))
    for n in range(kills):
        _fresh_worker(ctx)
        kind = "timeout_after_create" if phase == "after" else "latency"
        rule = faults.inject(kind, delay=3.0, count=1, **ORDER_POST)
        fired = FaultRule.objects.filter(pk=rule.pk, fired__gt=0)
        [ref] = create_orders([client], catalog, 1, seed=rng.randrange(10**6) + n)
        refs.append(ref)
        if phase == "before":
            sending = Order.objects.filter(reference=ref, state="sending")
            landed = _wait(sending.exists, 10, step=0.002)
        elif phase == "during":
            landed = _wait(fired.exists, 10, step=0.005)
        else:
            landed = _wait(ExternalOrderId.objects.filter(value=ref).exists, 10)
        ctx.stack.kill_workers()
        # "before" counts only if the request had not reached the sandbox at the kill.
        hit += landed and (phase != "before" or not fired.exists())
        faults.clear()
    ctx.stack.start_worker()
    ctx.stack.start_worker()
    # A task claimed by a killed worker is only picked up again by the 5-minute safety net.
    waited = settle(refs, timeout=420)
    result = count(refs, since, ctx.stack)
    tried = f"{kills} SIGKILLs {phase} a send; {hit} landed in that phase"
    return kill_row(phase, tried, result, waited, hit)


def kill_row(phase: str, tried: str, result: Counts, waited: float, hit: int) -> Row:
    row = _row(f"crash: kill {phase} send", tried, result, waited)
    # The kill must have landed in its phase at least once (for "during" and "after", as
    # the sandbox recorded it: the fault rule fired, the order was created).
    row.must_hold += ", ≥1 kill landed in that phase"
    if hit == 0:
        row.measured += "; no kill landed in that phase, so nothing was tested"
    row.passed = bool(row.passed) and hit > 0
    return row


def _database_restart(ctx: Context) -> Row:
    stack = ctx.stack
    tried = f"{ctx.sizes.db_restarts}× stop the database 8 s while orders are queued"
    must = MUST + "; /healthz 503 while down"
    if not stack.db.restartable:
        return Row("crash: database restart", tried, must, stack.db.why_not_restartable, None)
    catalog = ctx.ensure_catalog()
    client = ctx.client("coordinator")
    since = mark(stack)
    refs: list[str] = []
    health_down = health_up = 0
    for n in range(ctx.sizes.db_restarts):
        refs += create_orders([client], catalog, 10, seed=777 + n)
        stack.db.stop()
        django_env.reconnect()
        health_down += _wait(lambda: _health(stack.base_url) == 503, timeout=10, step=0.2)
        time.sleep(8)
        stack.db.start()
        health_up += _wait(lambda: _health(stack.base_url) == 200, timeout=30, step=0.2)
        django_env.reconnect()
    # Workers and web processes were not restarted: they must find the database again.
    refs += create_orders([client], catalog, 10, seed=999)
    waited = settle(refs, timeout=120)
    dead = [w.name for w in stack.workers if not w.alive()]
    if dead:
        # Counted as a failure below; new workers let the rest of the battery go on.
        stack.stop_workers()
        stack.start_worker()
        stack.start_worker()
        waited += settle(refs, timeout=300)
    result = count(refs, since, stack)
    result.server_errors = [e for e in result.server_errors if "/healthz" not in e]
    row = _row("crash: database restart", tried, result, waited)
    row.must_hold = must
    row.measured += f"; /healthz 503 while down {health_down}/{ctx.sizes.db_restarts}"
    row.measured += f", 200 after {health_up}/{ctx.sizes.db_restarts}"
    row.measured += f"; workers that exited by themselves: {len(dead)}/2"
    if dead:
        row.measured += " (restarted by verify to go on)"
    row.passed = bool(row.passed) and health_down == health_up == ctx.sizes.db_restarts
    row.passed = row.passed and not dead
    return row


def _health(base_url: str) -> int:
    try:
        return requests.get(f"{base_url}/healthz", timeout=5).status_code
    except requests.RequestException:
        return 0


def _row(check: str, tried: str, result: Counts, waited: float) -> Row:
    measured = result.text() + f"; settled in {waited:.0f} s"
    if result.unaudited > 0:
        measured += (
            f"; {result.unaudited} request(s) the sandbox received have no audit row "
            "(matched by X-Request-ID, after waiting for recovery of pending rows)"
        )
    if result.server_errors:
        measured += f"; e.g. {result.server_errors[0]}"
    return Row(check, tried, MUST, measured, result.holds())
