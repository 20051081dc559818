"""The needs-attention queue: which orders a person must look at, and why, in words."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.timesince import timesince

from orderdesk.orders.models import Order
from orderdesk.orders.states import ATTENTION_STATES, State

RETRYING_LONG = "retrying"
PAGE_SIZE = 50
FILTER_CHOICES = [
    ("", "All"),
    (State.REJECTED, "Rejected by Impilo"),
    (State.FAILED, "Failed"),
    (State.NEEDS_REVIEW, "Needs review"),
    (State.UNKNOWN, "Outcome unknown"),
    (RETRYING_LONG, "Retrying for a long time"),
]
REASON_CHOICES = [
    ("", "Any reason"),
    ("ImpiloRejected", "Impilo refused the order's contents"),
    ("ImpiloUnavailable", "Impilo could not be reached"),
    ("ImpiloRateLimited", "Impilo asked us to slow down"),
    ("ImpiloAmbiguous", "Impilo's answer was lost or unreadable"),
    ("ImpiloAuthError", "Impilo refused orderdesk's key"),
    ("needs_review", "orderdesk could not tell whether Impilo has it"),
    ("lease_expired", "The worker stopped during the call"),
]


def retrying_cutoff() -> datetime:
    return timezone.now() - timedelta(minutes=settings.ORDER_ATTENTION_RETRY_MINUTES)


# Every state the queue can show; the partial index order_attention_queue_idx covers
# exactly these rows, so the queue never reads the million orders that are fine.
QUEUE_STATES = [*ATTENTION_STATES, State.RETRY_WAIT]
# The navigation badge counts at most this many: "999+" says enough, and counting
# tens of thousands of rows on every page would not.
BADGE_CAP = 1000


def attention_filter() -> Q:
    """Attention states, or retrying since before the cutoff.

    Written as one IN over the indexed states (then a condition on those rows only) rather
    than an OR of two conditions, which PostgreSQL answers by reading the whole table.
    """
    return Q(state__in=QUEUE_STATES) & (
        ~Q(state=State.RETRY_WAIT) | Q(queued_at__lt=retrying_cutoff())
    )


def queue(state: str = "", reason: str = "") -> QuerySet[Order]:
    """Oldest first: the order that has waited longest is the one to work next."""
    orders = Order.objects.filter(attention_filter())
    if state == RETRYING_LONG:
        orders = orders.filter(state=State.RETRY_WAIT)
    elif state:
        orders = orders.filter(state=state)
    if reason:
        orders = orders.filter(last_error_kind=reason)
    return orders.order_by("state_changed_at", "id")


def count(cap: int | None = None) -> int:
    """How many orders need attention, counting at most `cap` (each part an index range).

    Two counts, not one with an OR: each is answered from an index, the OR is not.
    """
    cap = cap or BADGE_CAP
    stuck = Order.objects.filter(state__in=ATTENTION_STATES).values("id")[:cap].count()
    if stuck >= cap:
        return cap
    retrying = Order.objects.filter(state=State.RETRY_WAIT, queued_at__lt=retrying_cutoff())
    return stuck + retrying.values("id")[: cap - stuck].count()


def badge_label(found: int, cap: int | None = None) -> str:
    """The badge's text: "" for none (the badge hides), "999+" at the cap."""
    cap = cap or BADGE_CAP
    if found >= cap:
        return f"{cap - 1}+"
    return str(found) if found else ""


def reason_in_words(order: Order) -> str:
    if order.state == State.REJECTED:
        return "Impilo rejected the order"
    if order.state == State.FAILED:
        return f"Gave up after {order.attempts} attempts"
    if order.state == State.NEEDS_REVIEW:
        return "orderdesk could not tell whether Impilo has it: a person must decide"
    if order.state == State.UNKNOWN:
        return "Impilo may or may not have it; orderdesk is checking"
    since = order.queued_at or order.created_at
    return f"Still retrying after {timesince(since)}"
