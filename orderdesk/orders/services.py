"""What people's actions on orders mean. Views call these; the worker's side is pipeline.py."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from orderdesk.accounts.models import User
from orderdesk.impilo.errors import ImpiloError
from orderdesk.orders.engine import pipeline
from orderdesk.orders.forms import LineRow
from orderdesk.orders.models import (
    Order,
    OrderEvent,
    OrderLine,
    OrderPayloadVersion,
    RecipientType,
    State,
)
from orderdesk.orders.patients import PatientChoice
from orderdesk.orders.states import CHECKABLE, RESOLVABLE, RESUBMITTABLE
from orderdesk.orders.transitions import Outcome, lost_outcome, note, transition


@dataclass(frozen=True)
class OrderInput:
    recipient_type: str
    patient: PatientChoice | None
    site_id: int | None
    site_name: str
    site_city: str
    lines: list[LineRow]
    external_ids: list[str]


def order_create(*, actor: User, data: OrderInput, form_token: uuid.UUID, submit: bool) -> Order:
    """Save a new order (as a draft, or queued for sending) exactly once per form token.

    A double click, a browser retry or back-and-resubmit all carry the same token: the first
    creates the order, the others find it. They wait for each other rather than race into
    the unique constraint: a failed INSERT would be written, patient name and all, to
    PostgreSQL's server log.
    """
    existing = Order.objects.filter(form_token=form_token).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            _wait_for_twins(form_token)
            existing = Order.objects.filter(form_token=form_token).first()
            if existing is not None:
                return existing
            order = Order(created_by=actor, form_token=form_token, state=State.DRAFT)
            _apply(order, data)
            order.save()
            _save_lines(order, data.lines)
            OrderEvent.objects.create(
                order=order, actor=actor, to_state=State.DRAFT, reason="Order created"
            )
            if submit:
                _queue(order, actor=actor, reason="Submitted by coordinator")
    except IntegrityError:
        # Not reached while the twins wait for each other above; kept so that a database
        # set up without that guarantee still shows a twin the winner's order, not a 500.
        return Order.objects.get(form_token=form_token)
    order.refresh_from_db()
    return order


FORM_TOKEN_LOCKS = 0x4F44  # "OD": the advisory lock namespace of form tokens


def _wait_for_twins(form_token: uuid.UUID) -> None:
    """Hold, until this transaction ends, a lock every submission of this token takes.

    PostgreSQL: an advisory lock on the token (two tokens sharing the key only wait for
    each other). SQLite takes its write lock at BEGIN (transaction_mode IMMEDIATE), which
    already puts every writing transaction in a line. Either way the check for an existing
    order that follows sees the twin's committed order.
    """
    if connection.vendor != "postgresql":
        return
    key = int.from_bytes(form_token.bytes[:4], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [FORM_TOKEN_LOCKS, key])


CONTENT_FIELDS = (
    "recipient_type",
    "patient_impilo_id",
    "patient_name",
    "patient_date_of_birth",
    "patient_external_id",
    "site_impilo_id",
    "site_name",
    "recipient_city",
    "external_ids",
)


def order_update_draft(*, actor: User, order: Order, data: OrderInput, submit: bool) -> Outcome:
    """Change a draft's contents (and optionally submit it) if it is still a draft."""
    with transaction.atomic():
        if not _replace_contents(order, data, expected_state=State.DRAFT):
            return lost_outcome(order.pk)
        if submit:
            return _queue(order, actor=actor, reason="Submitted by coordinator")
    return Outcome(ok=True, from_state=State.DRAFT, current_state=State.DRAFT)


def _replace_contents(
    order: Order, data: OrderInput, *, expected_state: str, **fields: Any
) -> bool:
    """Overwrite recipient, lines and external ids, only if the order is still as expected."""
    version = order.payload_version
    _apply(order, data)
    values = {name: getattr(order, name) for name in CONTENT_FIELDS}
    changed = Order.objects.filter(
        pk=order.pk, state=expected_state, payload_version=version
    ).update(updated_at=timezone.now(), **values, **fields)
    if changed:
        order.lines.all().delete()
        _save_lines(order, data.lines)
    return bool(changed)


def _queue(
    order: Order,
    *,
    actor: User,
    reason: str,
    from_states: tuple[str, ...] = (State.DRAFT,),
    data: dict[str, Any] | None = None,
) -> Outcome:
    """Queue for sending with a fresh attempt budget; the task commits with the state."""
    now = timezone.now()
    return transition(
        order.pk,
        from_states=from_states,
        to_state=State.QUEUED,
        actor=actor,
        reason=reason,
        data=data,
        then=lambda: pipeline.enqueue_send(order.pk),
        next_attempt_at=now,
        queued_at=now,
        attempt_limit=F("attempts") + settings.ORDER_MAX_ATTEMPTS,
        last_error="",
        last_error_kind="",
    )


def _apply(order: Order, data: OrderInput) -> None:
    order.recipient_type = data.recipient_type
    patient = data.patient if data.recipient_type == RecipientType.PATIENT else None
    order.patient_impilo_id = patient.id if patient else None
    order.patient_name = patient.name if patient else ""
    order.patient_date_of_birth = patient.date_of_birth if patient else ""
    order.patient_external_id = patient.external_id if patient else ""
    is_site = data.recipient_type == RecipientType.SITE
    order.site_impilo_id = data.site_id if is_site else None
    order.site_name = data.site_name if is_site else (patient.site_name if patient else "")
    order.recipient_city = (patient.city if patient else data.site_city) or ""
    order.external_ids = data.external_ids


def _save_lines(order: Order, rows: list[LineRow]) -> None:
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            kind=row.kind,
            impilo_id=row.impilo_id or 0,
            name=row.name,
            count=row.count,
            position=index,
        )
        for index, row in enumerate(rows)
    )


# --- Support actions (the needs-attention queue) -----------------------------------------


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    message: str


def order_resubmit(*, actor: User, order: Order, reason: str) -> ActionResult:
    """Queue a stuck order again with the same reference and payload.

    From `unknown` only once a check in this very action found it absent at Impilo: if
    Impilo has it, resending would ship the devices twice.
    """
    if order.state == State.UNKNOWN:
        return _resubmit_unknown(actor=actor, order=order, reason=reason)
    outcome = _queue(order, actor=actor, reason=f"Resubmitted: {reason}", from_states=RESUBMITTABLE)
    if not outcome.ok:
        return ActionResult(False, outcome.loser_message(order.reference))
    return ActionResult(True, f"{order.reference} is queued again with the same reference.")


def _resubmit_unknown(*, actor: User, order: Order, reason: str) -> ActionResult:
    check = order_check_impilo(actor=actor, order=order)
    if check.ok and "not at Impilo" in check.message:
        outcome = _queue(
            order,
            actor=actor,
            reason=f"Resubmitted after Impilo was checked: {reason}",
            from_states=(State.UNKNOWN,),
        )
        if outcome.ok:
            return ActionResult(True, f"Impilo does not have {order.reference}: queued again.")
        return ActionResult(False, outcome.loser_message(order.reference))
    return ActionResult(False, f"Not resubmitted. {check.message}")


def order_check_impilo(*, actor: User, order: Order) -> ActionResult:
    """Look for the order at Impilo by its reference, now, and act on what is found."""
    if order.state not in CHECKABLE:
        return ActionResult(
            False, f"{order.reference} is “{order.get_state_display()}”: there is nothing to check."
        )
    try:
        found, verdict = pipeline.find_by_reference(order, actor=actor)
    except ImpiloError as exc:
        return ActionResult(False, f"Impilo could not be asked: {exc.message}")
    if found is not None:
        outcome = pipeline.mark_submitted(
            order,
            found,
            reason=f"{actor} checked Impilo: it has this order as {found.id}",
            from_states=CHECKABLE,
            actor=actor,
        )
        if not outcome.ok:
            return ActionResult(False, outcome.loser_message(order.reference))
        return ActionResult(
            True, f"Impilo has {order.reference} as order {found.id}; it is now marked as sent."
        )
    if verdict == "absent" and (settled_at := pipeline.absence_certain_at(order)) > timezone.now():
        # The last create may still be running at Impilo and commit after this look: a
        # resend now could ship the devices twice.
        note(
            order.pk,
            actor=actor,
            reason="Checked Impilo: not there yet; the last send may still arrive",
        )
        local = timezone.localtime(settled_at).strftime("%H:%M:%S")
        return ActionResult(
            False,
            f"{order.reference} is not at Impilo yet, but the last send may still reach it: "
            f"check again after {local}.",
        )
    if verdict == "absent":
        note(order.pk, actor=actor, reason="Checked Impilo: the order is not there")
        return ActionResult(True, f"{order.reference} is not at Impilo.")
    note(order.pk, actor=actor, reason=f"Checked Impilo: could not tell ({verdict})")
    return ActionResult(False, f"Impilo's answer did not settle it: {verdict}.")


def order_mark_resolved(*, actor: User, order: Order, reason: str) -> ActionResult:
    """Settled outside orderdesk (e.g. ordered by phone). Nothing is sent or cancelled."""
    outcome = transition(
        order.pk,
        from_states=RESOLVABLE,
        to_state=State.RESOLVED,
        actor=actor,
        reason=f"Marked resolved: {reason}",
        lease_until=None,
        next_attempt_at=None,
    )
    if not outcome.ok:
        return ActionResult(False, outcome.loser_message(order.reference))
    return ActionResult(True, f"{order.reference} is marked resolved. Nothing was sent.")


def order_edit_resubmit(
    *, actor: User, order: Order, data: OrderInput, reason: str, old_payload: str
) -> ActionResult:
    """A rejected order, corrected: the old payload is kept as a version, the new one sent."""
    version = order.payload_version
    with transaction.atomic():
        if not _replace_contents(
            order, data, expected_state=State.REJECTED, payload_version=version + 1
        ):
            return ActionResult(False, lost_outcome(order.pk).loser_message(order.reference))
        OrderPayloadVersion.objects.create(
            order=order, version=version, payload=old_payload, replaced_by=actor, reason=reason
        )
        outcome = _queue(
            order,
            actor=actor,
            reason=f"Edited and resubmitted: {reason}",
            from_states=(State.REJECTED,),
            data={"replaced_version": version},
        )
    if not outcome.ok:
        return ActionResult(False, outcome.loser_message(order.reference))
    return ActionResult(True, f"{order.reference} was changed and queued again.")
