"""The state rules, move by move: every pair of states is either in the table of allowed
moves, and transition() makes it, or not, and transition() refuses it and changes nothing."""

from collections.abc import Callable
from itertools import product

import pytest

from orderdesk.accounts.models import User
from orderdesk.orders import states
from orderdesk.orders.models import Order, OrderEvent
from orderdesk.orders.states import State
from orderdesk.orders.transitions import transition

# Written out by hand from the state diagram in docs/architecture.md, so that a change to
# the table in states.py must be made twice, on purpose.
EXPECTED_MOVES = {
    ("draft", "queued"),
    ("queued", "sending"),
    ("retry_wait", "sending"),
    ("retry_wait", "submitted"),
    ("sending", "submitted"),
    ("sending", "rejected"),
    ("sending", "retry_wait"),
    ("sending", "failed"),
    ("sending", "unknown"),
    ("unknown", "submitted"),
    ("unknown", "retry_wait"),
    ("unknown", "failed"),
    ("unknown", "needs_review"),
    ("unknown", "queued"),
    ("unknown", "resolved"),
    ("failed", "queued"),
    ("failed", "resolved"),
    ("failed", "submitted"),
    ("needs_review", "queued"),
    ("needs_review", "resolved"),
    ("needs_review", "submitted"),
    ("rejected", "queued"),
    ("rejected", "resolved"),
    ("rejected", "submitted"),
}

ALL_PAIRS = list(product(State.values, State.values))


def test_the_table_is_the_expected_one() -> None:
    table = {(a.value, b.value) for a, targets in states.ALLOWED_MOVES.items() for b in targets}
    assert table == EXPECTED_MOVES
    assert set(states.ALLOWED_MOVES) == set(State)


@pytest.mark.django_db
@pytest.mark.parametrize(("from_state", "to_state"), ALL_PAIRS)
def test_transition_makes_exactly_the_allowed_moves(
    make_user: Callable[..., User], from_state: str, to_state: str
) -> None:
    user = make_user("support")
    order = Order.objects.create(created_by=user, recipient_type="site", state=from_state)
    if (from_state, to_state) in EXPECTED_MOVES:
        outcome = transition(order.pk, from_states=[from_state], to_state=to_state, actor=user)
        assert outcome.ok
        assert Order.objects.get(pk=order.pk).state == to_state
        assert OrderEvent.objects.filter(order=order, to_state=to_state).count() == 1
    else:
        with pytest.raises(ValueError, match="may not move"):
            transition(order.pk, from_states=[from_state], to_state=to_state, actor=user)
        assert Order.objects.get(pk=order.pk).state == from_state
        assert not OrderEvent.objects.filter(order=order).exists()


@pytest.mark.django_db
def test_a_refused_move_among_allowed_ones_refuses_the_whole_call(
    make_user: Callable[..., User],
) -> None:
    user = make_user("support")
    order = Order.objects.create(created_by=user, recipient_type="site", state=State.FAILED)
    with pytest.raises(ValueError, match="draft"):
        transition(order.pk, from_states=[State.FAILED, State.DRAFT], to_state=State.RESOLVED)
    assert Order.objects.get(pk=order.pk).state == State.FAILED


@pytest.mark.parametrize(
    ("predicate", "true_for"),
    [
        (states.needs_attention, {"rejected", "failed", "needs_review", "unknown"}),
        (states.is_in_flight, {"queued", "sending", "retry_wait", "unknown"}),
        (states.is_final, {"submitted", "resolved"}),
        (states.may_resubmit, {"failed", "needs_review", "unknown"}),
        (states.may_resolve, {"rejected", "failed", "needs_review", "unknown"}),
        (states.may_check_impilo, {"unknown", "needs_review", "failed", "retry_wait", "rejected"}),
    ],
)
def test_predicates(predicate: Callable[[str], bool], true_for: set[str]) -> None:
    assert {state for state in State.values if predicate(state)} == true_for


def test_no_move_leaves_a_final_state() -> None:
    for state in states.FINAL_STATES:
        assert not states.ALLOWED_MOVES[state]
