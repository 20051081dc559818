"""The pipeline figure: orders per second from queued to submitted, with one task worker
and with two, against the sandbox with no added latency; and, with orders arriving at a
steady pace, the time from queued to the worker's first attempt.

Orders are created as a coordinator's submit creates them (services.order_create: the
order, its lines and its task in one transaction). Workers run `manage.py run_worker
--no-periodic`: the send pipeline alone, without the status sync of the generated history,
with the shipped WORKER_THREADS task loops per process (x1 = one process).
"""

import time
import uuid
from datetime import datetime
from typing import Any

from django.db.models import Max, Min

from bench.client import percentile
from bench.server import Processes, cpu_seconds
from orderdesk.accounts.models import User
from orderdesk.orders import services
from orderdesk.orders.forms import LineRow
from orderdesk.orders.models import Order, OrderEvent, State
from orderdesk.orders.patients import PatientChoice
from orderdesk.sandbox.models import Patient

STEADY_RATE = 5.0  # orders per second: a busy morning is far less, an outage backlog more


def _patients(count: int) -> list[PatientChoice]:
    rows = Patient.objects.filter(archived=False, enrolled=True, site__active=True).order_by("id")
    return [
        PatientChoice(
            id=p.pk,
            name=f"{p.first_name} {p.last_name}",
            date_of_birth="",
            external_id="",
            site_name="",
            city=p.city,
            archived=False,
            enrolled=True,
        )
        for p in rows[:count]
    ]


def _create(actor: User, patient: PatientChoice) -> int:
    data = services.OrderInput(
        recipient_type="patient",
        patient=patient,
        site_id=None,
        site_name="",
        site_city=patient.city,
        lines=[
            LineRow(kind="item", impilo_id=1002, name="Blood Pressure Cuff (Standard)", count=1),
            LineRow(kind="kit", impilo_id=301, name="RPM Starter Kit - Blood Pressure", count=1),
        ],
        external_ids=[],
    )
    order = services.order_create(actor=actor, data=data, form_token=uuid.uuid4(), submit=True)
    return order.pk


def _wait_done(ids: list[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    waiting = Order.objects.filter(pk__in=ids, state__in=[State.QUEUED, State.SENDING])
    while waiting.exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: {waiting.count()} pipeline orders still waiting")
        time.sleep(0.2)


def _submitted(ids: list[int]) -> int:
    return Order.objects.filter(pk__in=ids, state=State.SUBMITTED).count()


def throughput(server: Processes, actor: User, workers: int, count: int) -> dict[str, Any]:
    """A backlog of `count` queued orders, then `workers` workers drain it."""
    ids = [_create(actor, patient) for patient in _patients(count)]
    web_pids = server.web_workers()
    web_cpu = cpu_seconds(web_pids)
    server.start_workers(workers)
    try:
        _wait_done(ids, timeout=60 + count)
        # Read before they stop; includes their start-up (Django import), a fixed cost.
        worker_cpu = cpu_seconds([worker.pid for worker in server.workers])
        web_cpu = cpu_seconds(web_pids) - web_cpu
    finally:
        server.stop_workers()
    events = OrderEvent.objects.filter(order_id__in=ids)
    first = events.filter(to_state=State.SENDING).aggregate(at=Min("at"))["at"]
    last = events.filter(to_state=State.SUBMITTED).aggregate(at=Max("at"))["at"]
    seconds = (last - first).total_seconds() if first and last else 0.0
    done = _submitted(ids)
    return {
        "orders": count,
        "submitted": done,
        "seconds": round(seconds, 2),
        "orders_per_s": round(done / seconds, 1) if seconds else 0.0,
        # CPU per order in the worker(s) and in gunicorn (orderdesk's sandbox answering):
        # what the rate would be on an idle machine, whatever else was running.
        "worker_cpu_ms_per_order": round(worker_cpu * 1000 / count, 1),
        "web_cpu_ms_per_order": round(web_cpu * 1000 / count, 1),
    }


def steady_latency(server: Processes, actor: User, count: int) -> dict[str, Any]:
    """One worker; orders arrive at STEADY_RATE per second; queued → first attempt, in ms."""
    patients = _patients(count + 1)
    server.start_workers(1)
    try:
        _wait_done([_create(actor, patients[0])], timeout=60)  # the worker is up and polling
        ids, started = [], time.monotonic()
        for index, patient in enumerate(patients[1:]):
            time.sleep(max(started + index / STEADY_RATE - time.monotonic(), 0))
            ids.append(_create(actor, patient))
        _wait_done(ids, timeout=60 + count)
    finally:
        server.stop_workers()
    queued: dict[int, datetime] = dict(
        Order.objects.filter(pk__in=ids).values_list("pk", "queued_at")  # type: ignore[arg-type]
    )
    first_attempt: dict[int, datetime] = {}
    for order_id, at in (
        OrderEvent.objects.filter(order_id__in=ids, to_state=State.SENDING)
        .order_by("at")
        .values_list("order_id", "at")
    ):
        first_attempt.setdefault(order_id, at)
    waits = [(first_attempt[pk] - queued[pk]).total_seconds() * 1000 for pk in first_attempt]
    return {
        "orders": count,
        "rate_per_s": STEADY_RATE,
        "p50": round(percentile(waits, 0.5), 1),
        "p95": round(percentile(waits, 0.95), 1),
        "submitted": _submitted(ids),
    }


def measure_pipeline(server: Processes, count: int) -> dict[str, Any]:
    actor = User.objects.get(username="coordinator01")
    one = throughput(server, actor, 1, count)
    print(f"  {'pipeline x1':<16} {one['orders_per_s']} orders/s", flush=True)
    two = throughput(server, actor, 2, count)
    print(f"  {'pipeline x2':<16} {two['orders_per_s']} orders/s", flush=True)
    latency = steady_latency(server, actor, max(count // 2, 5))
    print(f"  {'first attempt':<16} p50 {latency['p50']} ms   p95 {latency['p95']} ms", flush=True)
    return {"one_worker": one, "two_workers": two, "queued_to_first_attempt": latency}
