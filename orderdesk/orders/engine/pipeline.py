"""The worker's side of an order's submission: send, classify the outcome, reconcile, sweep
(docs/architecture.md#the-order-state-machine).

No database transaction is ever open while Impilo is being called: the `sending` state and
its lease are committed first, so a crash mid-call leaves a trace the sweeper can find.
"""

import logging
import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django_tasks import task

from orderdesk.accounts.models import User
from orderdesk.audit.actions import Action
from orderdesk.audit.models import ApiCall, PendingCall
from orderdesk.impilo import errors
from orderdesk.impilo.client import ImpiloClient
from orderdesk.impilo.types import ImpiloOrder
from orderdesk.orders.engine import gate
from orderdesk.orders.engine.payload import build_request
from orderdesk.orders.engine.status_sync import next_check
from orderdesk.orders.models import Order, SendingGate, State
from orderdesk.orders.transitions import Outcome, note, transition

logger = logging.getLogger(__name__)
WORKER = "worker"
RECONCILE_DELAY_SECONDS = 3.0
RECONCILE_TRIES = 5


def send(order_id: int) -> str:
    """Try to create the order at Impilo once. Returns a word for the task result."""

    resume_at = gate.closed_until()
    if resume_at is not None:
        enqueue_send(order_id, run_after=resume_at)
        return "gate closed"
    now = timezone.now()
    lease = now + timedelta(seconds=settings.ORDER_LEASE_SECONDS)
    outcome = transition(
        order_id,
        from_states=[State.QUEUED, State.RETRY_WAIT],
        to_state=State.SENDING,
        actor_label=WORKER,
        reason="Sending to Impilo",
        condition=Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        attempts=F("attempts") + 1,
        lease_until=lease,
    )
    if not outcome.ok:
        return "not claimable"
    order = Order.objects.get(pk=order_id)
    try:
        with ImpiloClient(order=order, attempt=order.attempts) as client:
            created = client.create_order(build_request(order))
    except errors.ImpiloError as exc:
        return _after_failure(order, exc)
    mark_submitted(order, created, reason=f"Impilo created order {created.id}")
    gate.record_success()
    return "submitted"


def mark_submitted(
    order: Order,
    created: ImpiloOrder,
    *,
    reason: str,
    # A lease may have run out during a slow but successful call: the answer still counts.
    from_states: Iterable[str] = (State.SENDING, State.UNKNOWN),
    actor: User | None = None,
) -> Outcome:
    now = timezone.now()
    return transition(
        order.pk,
        from_states=from_states,
        to_state=State.SUBMITTED,
        actor=actor,
        actor_label="" if actor else WORKER,
        reason=reason,
        impilo_id=created.id,
        impilo_status=created.current_status or "",
        impilo_order=created.raw,
        impilo_synced_at=now,
        impilo_sync_due_at=next_check(now, now, created.current_status),
        submitted_at=now,
        lease_until=None,
        next_attempt_at=None,
        last_error="",
        last_error_kind="",
    )


def _after_failure(order: Order, exc: errors.ImpiloError) -> str:

    kind = type(exc).__name__
    common: dict[str, Any] = {
        "last_error": exc.message,
        "last_error_kind": kind,
        "lease_until": None,
    }
    if isinstance(exc, errors.ImpiloRejected):
        transition(
            order.pk,
            from_states=[State.SENDING],
            to_state=State.REJECTED,
            actor_label=WORKER,
            reason=f"Impilo rejected the order: {exc.message}",
            data={"raw": exc.raw_message},
            **common,
        )
        return "rejected"
    if isinstance(exc, errors.ImpiloAmbiguous):
        gate.record_failure(exc.message)
        run_at = timezone.now() + timedelta(seconds=RECONCILE_DELAY_SECONDS)
        transition(
            order.pk,
            from_states=[State.SENDING],
            to_state=State.UNKNOWN,
            actor_label=WORKER,
            reason=f"Impilo may have created the order ({exc.message}); checking",
            then=lambda: enqueue_reconcile(order.pk, run_after=run_at),
            **common,
        )
        return "unknown"
    if isinstance(exc, errors.ImpiloAuthError):
        gate.pause_for_auth(exc.message)
    else:
        gate.record_failure(exc.message)
    return _retry_later(order, exc, common)


def _retry_later(order: Order, exc: errors.ImpiloError, common: dict[str, Any]) -> str:

    if order.attempts >= order.attempt_limit:
        transition(
            order.pk,
            from_states=[State.SENDING],
            to_state=State.FAILED,
            actor_label=WORKER,
            reason=f"Gave up after {order.attempts} attempts: {exc.message}",
            **common,
        )
        return "failed"
    delay = backoff_seconds(order.attempts, getattr(exc, "retry_after", None))
    run_at = timezone.now() + timedelta(seconds=delay)
    transition(
        order.pk,
        from_states=[State.SENDING],
        to_state=State.RETRY_WAIT,
        actor_label=WORKER,
        reason=f"Impilo did not take the order ({exc.message}); retrying",
        then=lambda: enqueue_send(order.pk, run_after=run_at),
        next_attempt_at=run_at,
        **common,
    )
    return "retry"


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Capped exponential backoff with jitter; Impilo's Retry-After is a floor."""
    ceiling: float = min(
        settings.ORDER_RETRY_MAX_SECONDS,
        settings.ORDER_RETRY_BASE_SECONDS * 2 ** max(0, attempts - 1),
    )
    delay = ceiling * random.uniform(0.5, 1.0)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.ORDER_RETRY_MAX_SECONDS))
    return delay


def reconcile(order_id: int, tries: int = 1) -> str:
    """Find out whether an `unknown` order exists at Impilo by looking for its reference."""

    order = Order.objects.filter(pk=order_id, state=State.UNKNOWN).first()
    if order is None:
        return "not unknown"
    try:
        found, verdict = find_by_reference(order)
    except errors.ImpiloError as exc:
        if tries >= RECONCILE_TRIES:
            _needs_review(order, f"Impilo could not be asked ({exc.message})")
            return "needs review"
        note(order.pk, actor_label=WORKER, reason=f"Could not check Impilo yet: {exc.message}")
        run_at = timezone.now() + timedelta(seconds=backoff_seconds(tries))
        enqueue_reconcile(order.pk, run_after=run_at, tries=tries + 1)
        return "check later"
    if found is not None:
        mark_submitted(order, found, reason=f"Found at Impilo as order {found.id}")
        return "found"
    if verdict == "absent" and (settled_at := absence_certain_at(order)) > timezone.now():
        # Not yet: the last create may still commit at Impilo. Look again then, quietly.
        enqueue_reconcile(order.pk, run_after=settled_at, tries=tries)
        return "check later"
    if verdict == "absent" and order.attempts >= order.attempt_limit:
        transition(
            order.pk,
            from_states=[State.UNKNOWN],
            to_state=State.FAILED,
            actor_label=WORKER,
            reason=f"Checked Impilo: not there; gave up after {order.attempts} attempts",
        )
        return "failed"
    if verdict == "absent":
        # Impilo was struggling a moment ago: back off before trying again, as for a 503.
        run_at = timezone.now() + timedelta(seconds=backoff_seconds(order.attempts))
        transition(
            order.pk,
            from_states=[State.UNKNOWN],
            to_state=State.RETRY_WAIT,
            actor_label=WORKER,
            reason="Checked Impilo: the order is not there; sending it again",
            then=lambda: enqueue_send(order.pk, run_after=run_at),
            next_attempt_at=run_at,
        )
        return "absent"
    _needs_review(order, verdict)
    return "needs review"


def absence_certain_at(order: Order) -> datetime:
    """When "not in Impilo's list" can be trusted: ORDER_ABSENT_AFTER_SECONDS after the
    order's last create was sent. A create that outlasted our read timeout can still be
    running at Impilo and commit after we looked; resending then would make a duplicate."""
    window = timedelta(seconds=settings.ORDER_ABSENT_AFTER_SECONDS)
    if PendingCall.objects.filter(order=order, action=Action.ORDER_CREATE).exists():
        return timezone.now() + window  # a create is still in flight (or its worker died)
    last = (
        ApiCall.objects.filter(order=order, action=Action.ORDER_CREATE)
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    return last + window if last is not None else timezone.now()


def find_by_reference(order: Order, actor: User | None = None) -> tuple[ImpiloOrder | None, str]:
    """Page through Impilo's order list: it has no lookup by external id
    (docs/impilo.md#idempotency-and-reconciliation)."""
    unreadable = 0
    with ImpiloClient(order=order, actor=actor) as client:
        for page_number in range(1, settings.ORDER_RECONCILE_PAGES + 1):
            page = client.list_orders(page=page_number, size=250)
            for candidate in page.content:
                if order.reference in candidate.external_order_ids:
                    return candidate, "found"
            unreadable += page.skipped
            if page.last or not page.content:
                if unreadable:
                    return None, f"Impilo's order list had {unreadable} unreadable entries"
                return None, "absent"
    return None, (
        f"Impilo has more than {settings.ORDER_RECONCILE_PAGES} pages of orders; "
        "orderdesk could not tell whether this one is among them"
    )


def _needs_review(order: Order, why: str) -> None:
    transition(
        order.pk,
        from_states=[State.UNKNOWN],
        to_state=State.NEEDS_REVIEW,
        actor_label=WORKER,
        reason=f"A person must decide: {why}",
        last_error=why,
        last_error_kind="needs_review",
    )


def sweep_expired_leases() -> int:
    """A `sending` whose lease ran out means a worker died mid-call: outcome unknown."""

    swept = 0
    expired = Order.objects.filter(state=State.SENDING, lease_until__lt=timezone.now())
    for order_id in expired.values_list("pk", flat=True)[:500]:
        outcome = transition(
            order_id,
            from_states=[State.SENDING],
            to_state=State.UNKNOWN,
            actor_label="sweeper",
            reason="The worker stopped while sending; checking whether Impilo has the order",
            condition=Q(lease_until__lt=timezone.now()),
            then=partial(enqueue_reconcile, order_id),
            lease_until=None,
            last_error="Worker stopped during the call",
            last_error_kind="lease_expired",
        )
        swept += outcome.ok
    return swept


def requeue_stale() -> int:
    """Safety net: an order waiting ORDER_STALE_SECONDS past its time gets a fresh task.

    Its task can be lost: a task loop that claimed it when the database went away leaves
    it marked running. Claims are conditional, so a duplicate task does no harm. Not while
    sending is paused: each task would only re-enqueue itself until the gate opens.
    """

    if gate.closed_until() is not None:
        return 0
    cutoff = timezone.now() - timedelta(seconds=settings.ORDER_STALE_SECONDS)
    stale = Order.objects.filter(
        state__in=[State.QUEUED, State.RETRY_WAIT], next_attempt_at__lt=cutoff
    ).values_list("pk", flat=True)[:500]
    for order_id in stale:
        enqueue_send(order_id)
    return len(stale)


def probe_auth_pause() -> bool:
    """While Impilo refuses our key, ask cheaply whether it works again."""
    if not SendingGate.objects.filter(pk=1, auth_paused=True).exists():
        return False
    try:
        with ImpiloClient() as client:
            client.list_kits(page=1, size=1)
    except errors.ImpiloError as exc:
        logger.info("Impilo key still refused: %s", exc.message)
        return False
    gate.resume_after_auth()
    # Orders held back while the key was refused go now, not at their next scheduled check.

    waiting = Order.objects.filter(state=State.RETRY_WAIT).values_list("pk", flat=True)[:1000]
    for order_id in waiting:
        enqueue_send(order_id)
    return True


# --- The background tasks (django-tasks, database backend) --------------------------------
# They live here, beside the work they run, because that work enqueues them in turn. Enqueue
# calls are made inside the transaction that changes the order's state, so the task row and
# the state change commit together.


@task()
def send_order(order_id: int) -> str:
    return send(order_id)


@task()
def reconcile_order(order_id: int, tries: int = 1) -> str:
    return reconcile(order_id, tries)


def enqueue_send(order_id: int, run_after: datetime | None = None) -> None:
    send_order.using(run_after=run_after).enqueue(order_id)


def enqueue_reconcile(order_id: int, run_after: datetime | None = None, tries: int = 1) -> None:
    reconcile_order.using(run_after=run_after).enqueue(order_id, tries)
