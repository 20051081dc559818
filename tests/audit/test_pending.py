"""Audit first: a call's pending row, and the recovery of rows whose process died."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from orderdesk.accounts.models import User
from orderdesk.audit import pending
from orderdesk.audit.models import PROCESS_STOPPED, ApiCall, Outcome, PendingCall
from orderdesk.audit.redact import REDACTED
from orderdesk.orders.models import Order

KEY = "sk-live-Secret/Key+42"
# Connect 3 + read 10 + grace 60 (the defaults): older than this is an orphan.
ORPHAN = timedelta(seconds=3 + 10 + 60 + 1)


@pytest.fixture(autouse=True)
def timeouts(settings):
    settings.IMPILO_API_KEY = KEY
    settings.IMPILO_CONNECT_TIMEOUT = 3.0
    settings.IMPILO_READ_TIMEOUT = 10.0
    settings.AUDIT_PENDING_GRACE_SECONDS = 60.0


def open_call(request_id: str = "req-1", **overrides: object) -> PendingCall:
    fields: dict[str, object] = {
        "request_id": request_id,
        "action": "order_create",
        "method": "POST",
        "url": "https://impilo.test/api/v3/order",
        "request_headers": {"Impilo-API-Key": KEY, "X-Request-ID": request_id},
        "request_body": '{"externalOrderIds": ["OD-1"]}',
    }
    fields.update(overrides)
    return pending.open_call(**fields)  # type: ignore[arg-type]


def age(row: PendingCall, by: timedelta) -> None:
    PendingCall.objects.filter(pk=row.pk).update(at=timezone.now() - by)


@pytest.mark.django_db
def test_a_pending_row_never_keeps_the_key() -> None:
    row = open_call(
        url=f"https://impilo.test/api/v3/order?key={KEY}",
        request_headers={"Impilo-API-Key": KEY, "X-Echo": f"k={KEY}"},
        request_body=f'{{"note": "{KEY}"}}',
    )
    row.refresh_from_db()
    stored = json.dumps([row.url, row.request_headers, row.request_body])
    assert KEY not in stored
    assert row.request_headers["Impilo-API-Key"] == REDACTED
    assert REDACTED in row.url
    assert REDACTED in row.request_body


@pytest.mark.django_db
def test_closing_a_call_leaves_its_apicall_and_no_pending_row() -> None:
    open_call("req-close")
    pending.close_call(
        "req-close", action="order_create", method="POST", url="u", outcome=Outcome.OK
    )
    assert not PendingCall.objects.exists()
    assert list(ApiCall.objects.values_list("request_id", "outcome")) == [("req-close", "ok")]


@pytest.mark.django_db
def test_recovery_turns_an_old_orphan_into_one_call_of_unknown_outcome(
    coordinator: User,
) -> None:
    order = Order.objects.create(recipient_type="patient", created_by=coordinator)
    row = open_call("req-orphan", actor=coordinator, order=order, attempt=2)
    age(row, ORPHAN)
    row.refresh_from_db()

    assert pending.recover_orphans() == 1
    assert pending.recover_orphans() == 0  # run twice: still one row

    assert not PendingCall.objects.exists()
    [call] = ApiCall.objects.all()
    assert (call.request_id, call.outcome, call.status_code) == ("req-orphan", "ambiguous", None)
    assert (call.order_id, call.actor_id, call.attempt) == (order.pk, coordinator.pk, 2)
    assert call.at == row.at  # when the request went out, not when it was recovered
    assert call.error_class == PROCESS_STOPPED
    assert call.process_stopped
    assert "stopped before recording its outcome" in call.error_message
    assert "OD-1" in call.request_body
    assert call.request_headers["Impilo-API-Key"] == REDACTED
    assert KEY not in json.dumps([call.url, call.request_headers, call.request_body])


@pytest.mark.django_db
def test_a_young_pending_row_may_still_be_in_flight_and_is_left_alone() -> None:
    row = open_call("req-young")
    age(row, ORPHAN - timedelta(seconds=5))
    assert pending.recover_orphans() == 0
    assert PendingCall.objects.filter(request_id="req-young").exists()
    assert not ApiCall.objects.exists()


@pytest.mark.django_db
@override_settings(IMPILO_CONNECT_TIMEOUT=1.0, IMPILO_READ_TIMEOUT=2.0)
def test_the_age_of_an_orphan_follows_the_timeouts(settings) -> None:
    settings.AUDIT_PENDING_GRACE_SECONDS = 5.0
    row = open_call("req-short")
    age(row, timedelta(seconds=9))
    assert pending.recover_orphans() == 1


@pytest.mark.django_db
def test_a_call_that_outlived_recovery_still_records_its_real_outcome() -> None:
    row = open_call("req-late")
    age(row, ORPHAN)
    pending.recover_orphans()
    pending.close_call("req-late", action="order_create", method="POST", url="u", outcome="ok")
    outcomes = sorted(ApiCall.objects.values_list("outcome", flat=True))
    assert outcomes == ["ambiguous", "ok"]


@pytest.mark.django_db(transaction=True)
def test_workers_recovering_at_once_write_one_row_per_orphan() -> None:
    rows = [open_call(f"req-{n}") for n in range(12)]
    for row in rows:
        age(row, ORPHAN)
    start = threading.Barrier(3)
    counts: list[int] = []
    failures: list[BaseException] = []

    def recover() -> None:
        try:
            start.wait(timeout=60)
            counts.append(pending.recover_orphans())
        except BaseException as exc:  # reported below, not lost in the thread
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=recover) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a recovery hung"
    assert not failures, failures
    assert sum(counts) == 12
    assert ApiCall.objects.count() == 12
    assert ApiCall.objects.values("request_id").distinct().count() == 12
    assert not PendingCall.objects.exists()


def test_recovery_runs_on_the_workers_timer(settings) -> None:
    jobs = dict(settings.PERIODIC_JOBS)
    assert jobs["orderdesk.audit.pending.recover_orphans"] <= 30
