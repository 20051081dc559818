"""What people's actions on orders mean. Views call these; the worker's side is pipeline.py."""

import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from orderdesk.accounts.models import User
from orderdesk.orders import tasks
from orderdesk.orders.forms import LineRow
from orderdesk.orders.models import Order, OrderEvent, OrderLine, RecipientType, State
from orderdesk.orders.patients import PatientChoice
from orderdesk.orders.transitions import Outcome, lost_outcome, transition


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

    A double click, a browser retry or back-and-resubmit all carry the same token: the
    unique constraint lets one of them create the order and the others find it.
    """
    existing = Order.objects.filter(form_token=form_token).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
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
        # Lost the race against a twin request with the same token: show the winner's order.
        return Order.objects.get(form_token=form_token)
    order.refresh_from_db()
    return order


def order_update_draft(*, actor: User, order: Order, data: OrderInput, submit: bool) -> Outcome:
    """Change a draft's contents (and optionally submit it) if it is still a draft."""
    with transaction.atomic():
        _apply(order, data)
        fields = {
            name: getattr(order, name)
            for name in (
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
        }
        changed = Order.objects.filter(pk=order.pk, state=State.DRAFT).update(
            updated_at=timezone.now(), **fields
        )
        if not changed:
            return lost_outcome(order.pk)
        order.lines.all().delete()
        _save_lines(order, data.lines)
        if submit:
            return _queue(order, actor=actor, reason="Submitted by coordinator")
    return Outcome(ok=True, from_state=State.DRAFT, current_state=State.DRAFT)


def _queue(order: Order, *, actor: User, reason: str) -> Outcome:
    now = timezone.now()
    return transition(
        order.pk,
        from_states=[State.DRAFT],
        to_state=State.QUEUED,
        actor=actor,
        reason=reason,
        then=lambda: tasks.enqueue_send(order.pk),
        next_attempt_at=now,
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
