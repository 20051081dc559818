"""The one way an order changes state: a conditional update plus its timeline event.

`filter(pk=…, state=from).update(…)` changes at most one row and tells us whether we won.
Two people (or two workers) acting at once: exactly one update matches, the other learns
who acted. This holds on SQLite and PostgreSQL alike; select_for_update would not.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from orderdesk.accounts.models import User
from orderdesk.orders.models import Order, OrderEvent
from orderdesk.orders.states import State, may_move


@dataclass(frozen=True)
class Outcome:
    ok: bool
    from_state: str = ""
    current_state: str = ""
    last_actor: str = ""

    def loser_message(self, reference: str) -> str:
        label = State(self.current_state).label if self.current_state else "unknown"
        who = f" by {self.last_actor}" if self.last_actor else ""
        return f"{reference} was already changed{who}; it is now “{label}”. Nothing was done."


def transition(
    order_id: int,
    *,
    from_states: Iterable[str],
    to_state: str,
    actor: User | None = None,
    actor_label: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    then: Callable[[], None] | None = None,
    condition: Q | None = None,
    **fields: Any,
) -> Outcome:
    """Move the order from one of `from_states` to `to_state`, or do nothing.

    `then` runs inside the same transaction after a successful update: enqueueing the next
    task there means a crash can never leave the new state without its task, or vice versa.
    A move that states.ALLOWED_MOVES does not list is a programming error: ValueError.
    """
    from_states = tuple(from_states)
    if refused := [state for state in from_states if not may_move(state, to_state)]:
        raise ValueError(f"orders may not move from {sorted(map(str, refused))} to {to_state}")
    now = timezone.now()
    with transaction.atomic():
        for from_state in from_states:
            changed = Order.objects.filter(condition or Q(), pk=order_id, state=from_state).update(
                state=to_state, state_changed_at=now, updated_at=now, **fields
            )
            if changed:
                OrderEvent.objects.create(
                    order_id=order_id,
                    at=now,
                    actor=actor,
                    actor_label=actor_label,
                    from_state=from_state,
                    to_state=to_state,
                    reason=reason,
                    data=data,
                )
                if then is not None:
                    then()
                return Outcome(ok=True, from_state=from_state, current_state=to_state)
    return lost_outcome(order_id)


def lost_outcome(order_id: int) -> Outcome:
    """What a caller that lost a race is told: the state now and who last acted."""
    state = Order.objects.filter(pk=order_id).values_list("state", flat=True).first() or ""
    last = (
        OrderEvent.objects.filter(order_id=order_id)
        .select_related("actor")
        .order_by("-at", "-id")
        .first()
    )
    return Outcome(ok=False, current_state=state, last_actor=last.who if last else "")


def note(
    order_id: int, *, actor: User | None = None, actor_label: str = "", reason: str, **data: Any
) -> None:
    """A timeline entry that changes no state (e.g. "checked Impilo: not found yet")."""
    OrderEvent.objects.create(
        order_id=order_id, actor=actor, actor_label=actor_label, reason=reason, data=data or None
    )
