"""The order's submission states, the moves allowed between them, and the questions pages
and services ask about a state. This module is the one place these rules live: see
docs/architecture.md#the-order-state-machine for the diagram and a sentence on each move.

`transitions.transition()` refuses any move that `ALLOWED_MOVES` does not list.
"""

from django.db import models


class State(models.TextChoices):
    DRAFT = "draft", "Draft"
    QUEUED = "queued", "Waiting to send"
    SENDING = "sending", "Sending to Impilo"
    SUBMITTED = "submitted", "Sent to Impilo"
    REJECTED = "rejected", "Rejected by Impilo"
    RETRY_WAIT = "retry_wait", "Waiting to retry"
    FAILED = "failed", "Failed"
    UNKNOWN = "unknown", "Outcome unknown"
    NEEDS_REVIEW = "needs_review", "Needs review"
    RESOLVED = "resolved", "Resolved outside orderdesk"


# States a person must act on; the worker will not settle these by itself.
ATTENTION_STATES = (State.REJECTED, State.FAILED, State.NEEDS_REVIEW, State.UNKNOWN)
# States in which the worker is still expected to act.
IN_FLIGHT_STATES = (State.QUEUED, State.SENDING, State.RETRY_WAIT, State.UNKNOWN)
# States no one moves an order out of.
FINAL_STATES = (State.SUBMITTED, State.RESOLVED)

# Support may queue these again as they are (same reference, same payload). An `unknown`
# order is not among them: it may be resubmitted only after a check of Impilo in the same
# action found it absent (services.order_resubmit).
RESUBMITTABLE = (State.FAILED, State.NEEDS_REVIEW)
# Settled outside orderdesk ("Mark resolved"): nothing is sent or cancelled.
RESOLVABLE = (State.REJECTED, State.FAILED, State.NEEDS_REVIEW, State.UNKNOWN)
# "Check Impilo now": a stuck order that Impilo may have after all.
CHECKABLE = (State.UNKNOWN, State.NEEDS_REVIEW, State.FAILED, State.RETRY_WAIT, State.REJECTED)

# from state -> the states it may move to. Every `transition()` call is one of these.
ALLOWED_MOVES: dict[State, frozenset[State]] = {
    # A coordinator submits a draft.
    State.DRAFT: frozenset({State.QUEUED}),
    # The worker claims an order to send it.
    State.QUEUED: frozenset({State.SENDING}),
    State.RETRY_WAIT: frozenset({State.SENDING, State.SUBMITTED}),
    # What the create call's outcome means (pipeline classifies it).
    State.SENDING: frozenset(
        {State.SUBMITTED, State.REJECTED, State.RETRY_WAIT, State.FAILED, State.UNKNOWN}
    ),
    # Reconciling an order whose outcome is unknown, or support acting on it.
    State.UNKNOWN: frozenset(
        {
            State.SUBMITTED,
            State.RETRY_WAIT,
            State.FAILED,
            State.NEEDS_REVIEW,
            State.QUEUED,
            State.RESOLVED,
        }
    ),
    # Support's actions on stuck orders; a check may find the order at Impilo after all.
    State.FAILED: frozenset({State.QUEUED, State.RESOLVED, State.SUBMITTED}),
    State.NEEDS_REVIEW: frozenset({State.QUEUED, State.RESOLVED, State.SUBMITTED}),
    State.REJECTED: frozenset({State.QUEUED, State.RESOLVED, State.SUBMITTED}),
    State.SUBMITTED: frozenset(),
    State.RESOLVED: frozenset(),
}


def may_move(from_state: str, to_state: str) -> bool:
    return to_state in ALLOWED_MOVES.get(State(from_state), frozenset())


def needs_attention(state: str) -> bool:
    return state in ATTENTION_STATES


def is_in_flight(state: str) -> bool:
    return state in IN_FLIGHT_STATES


def is_final(state: str) -> bool:
    return state in FINAL_STATES


def may_resubmit(state: str) -> bool:
    """Whether support is offered "Resubmit": as it is, or (unknown) after a check."""
    return state in RESUBMITTABLE or state == State.UNKNOWN


def may_resolve(state: str) -> bool:
    return state in RESOLVABLE


def may_check_impilo(state: str) -> bool:
    return state in CHECKABLE
