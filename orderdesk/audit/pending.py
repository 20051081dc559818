"""Audit first: a call is written down before its bytes go out
(docs/architecture.md#audit-first-calls).

The session calls open_call() (committed at once: Impilo calls never run inside
transaction.atomic) before sending, and close_call() after, which writes the ApiCall row
and deletes the pending one in one transaction. So at any moment either the pending row or
the final row exists, never neither: a process SIGKILLed mid-call leaves its pending row,
and recover_orphans() (a periodic job) turns it into an ApiCall of unknown outcome once
the call can no longer be in flight.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from orderdesk.audit.models import (
    PROCESS_STOPPED,
    ApiCall,
    Outcome,
    PendingCall,
    record,
    request_columns,
)

logger = logging.getLogger(__name__)

STOPPED_MESSAGE = (
    "The process making this call stopped before recording its outcome: Impilo may or may "
    "not have received and acted on the request."
)
RECOVER_BATCH = 200


@sensitive_variables()
def open_call(*, request_id: str, **request: Any) -> PendingCall:
    """Write the pending row of a call about to be sent (models.request_columns' arguments),
    redacted as ApiCall rows are."""
    return PendingCall.objects.create(request_id=request_id[:64], **request_columns(**request))


@sensitive_variables()
def close_call(request_id: str, **call: Any) -> ApiCall:
    """Replace the pending row by the call's ApiCall row (models.record's arguments).

    If recovery already replaced it (a call that outlived the grace period), the real
    outcome is still written: a second row that tells the truth beats a lost answer.
    """
    with transaction.atomic():
        gone, _ = PendingCall.objects.filter(request_id=request_id).delete()
        row = record(request_id=request_id, **call)
    if not gone:
        logger.warning("audit: call %s had no pending row (recovered already?)", request_id)
    return row


def orphan_age() -> timedelta:
    """How old a pending row must be before its call cannot still be in flight."""
    seconds = (
        float(settings.IMPILO_CONNECT_TIMEOUT)
        + float(settings.IMPILO_READ_TIMEOUT)
        + float(settings.AUDIT_PENDING_GRACE_SECONDS)
    )
    return timedelta(seconds=seconds)


def recover_orphans(now: datetime | None = None) -> int:
    """Turn pending rows whose process died into ApiCall rows of unknown outcome.

    Safe to run in several workers at once: each row is claimed by a conditional delete
    inside the transaction that writes its ApiCall, and only the worker whose delete
    removed the row writes one (the other's delete waits for the lock, then finds nothing).
    """
    cutoff = (now or timezone.now()) - orphan_age()
    orphans = list(PendingCall.objects.filter(at__lt=cutoff).order_by("at")[:RECOVER_BATCH])
    recovered = 0
    for pending in orphans:
        with transaction.atomic():
            claimed, _ = PendingCall.objects.filter(pk=pending.pk).delete()
            if claimed:
                _record_stopped(pending)
                recovered += 1
    if recovered:
        logger.warning("audit: recorded %d call(s) whose process stopped mid-call", recovered)
    return recovered


@sensitive_variables()
def _record_stopped(pending: PendingCall) -> ApiCall:
    return record(
        action=pending.action,
        actor=pending.actor_id,
        order=pending.order_id,
        attempt=pending.attempt,
        at=pending.at,
        method=pending.method,
        url=pending.url,
        request_id=pending.request_id,
        request_headers=pending.request_headers,
        request_body=pending.request_body,
        request_body_truncated=pending.request_body_truncated,
        outcome=Outcome.AMBIGUOUS,
        error_class=PROCESS_STOPPED,
        error_message=STOPPED_MESSAGE,
    )
