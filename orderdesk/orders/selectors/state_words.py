"""An order's submission state in words, for people (docs/architecture.md#states)."""

from django.utils import timezone

from orderdesk.orders.models import Order, State


def describe(order: Order) -> str:
    state = order.state
    if state == State.QUEUED:
        return "Waiting to send"
    if state == State.SENDING:
        return f"Sending to Impilo — attempt {order.attempts} of {order.attempt_limit}"
    if state == State.SUBMITTED:
        return f"Sent to Impilo — Impilo order {order.impilo_id}"
    if state == State.REJECTED:
        return f"Impilo rejected: {order.last_error}"
    if state == State.RETRY_WAIT:
        when = (
            timezone.localtime(order.next_attempt_at).strftime("%H:%M:%S")
            if order.next_attempt_at
            else "soon"
        )
        return (
            f"Retrying at {when} — attempt {order.attempts + 1} of "
            f"{order.attempt_limit}. Last error: {order.last_error}"
        )
    if state == State.UNKNOWN:
        return "Outcome unknown — checking Impilo"
    if state == State.FAILED:
        return f"Failed after {order.attempts} attempts: {order.last_error}"
    if state == State.NEEDS_REVIEW:
        return f"Needs review: {order.last_error}"
    if state == State.RESOLVED:
        return "Resolved outside orderdesk"
    return "Draft — not sent"


def badge_class(order: Order) -> str:
    return {
        State.SUBMITTED: "text-bg-success",
        State.RESOLVED: "text-bg-secondary",
        State.REJECTED: "text-bg-danger",
        State.FAILED: "text-bg-danger",
        State.NEEDS_REVIEW: "text-bg-warning",
        State.UNKNOWN: "text-bg-warning",
        State.DRAFT: "text-bg-light",
    }.get(State(order.state), "text-bg-info")
