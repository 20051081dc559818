"""The sending gate: a circuit breaker for outages and a full stop when Impilo refuses our key.

Only outcomes where Impilo did not act or was struggling count as failures; a rejection is
Impilo working normally.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from orderdesk.orders.models import SendingGate

AUTH_RECHECK_SECONDS = 15.0


def closed_until() -> datetime | None:
    """When sending may resume, or None if it may go on now."""
    gate = SendingGate.get()
    now = timezone.now()
    if gate.auth_paused:
        return now + timedelta(seconds=AUTH_RECHECK_SECONDS)
    if gate.open_until and gate.open_until > now:
        return gate.open_until
    return None


def record_success() -> None:
    SendingGate.objects.filter(pk=1).exclude(consecutive_failures=0, open_until=None).update(
        consecutive_failures=0, open_until=None, changed_at=timezone.now()
    )


def record_failure(reason: str) -> None:
    SendingGate.get()
    SendingGate.objects.filter(pk=1).update(consecutive_failures=F("consecutive_failures") + 1)
    gate = SendingGate.get()
    if gate.consecutive_failures >= settings.BREAKER_FAILURE_THRESHOLD:
        now = timezone.now()
        SendingGate.objects.filter(pk=1).update(
            open_until=now + timedelta(seconds=settings.BREAKER_COOL_OFF_SECONDS),
            reason=f"Paused after {gate.consecutive_failures} failures in a row: {reason}",
            changed_at=now,
        )


def pause_for_auth(reason: str) -> None:
    SendingGate.get()
    SendingGate.objects.filter(pk=1).update(
        auth_paused=True, reason=reason, changed_at=timezone.now()
    )


def resume_after_auth() -> None:
    SendingGate.objects.filter(pk=1, auth_paused=True).update(
        auth_paused=False,
        consecutive_failures=0,
        open_until=None,
        reason="",
        changed_at=timezone.now(),
    )


def banner_text() -> str:
    """What admins see while sending is stopped, or "" when it flows."""
    gate = SendingGate.objects.filter(pk=1).first()
    if gate is None:
        return ""
    if gate.auth_paused:
        return (
            "Sending to Impilo is paused: Impilo refused orderdesk's API key. Check "
            "IMPILO_API_KEY; sending resumes by itself once the key works. " + gate.reason
        )
    if gate.open_until and gate.open_until > timezone.now():
        local = timezone.localtime(gate.open_until).strftime("%H:%M:%S")
        return f"Sending to Impilo is paused until {local} after repeated failures. {gate.reason}"
    return ""
