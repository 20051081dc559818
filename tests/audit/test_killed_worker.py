"""A real `manage.py run_worker` process, SIGKILLed while Impilo holds its request: the
request still gets its audit row, and the order still ends in a state a person can see."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from orderdesk.audit import pending
from orderdesk.audit.models import ApiCall, PendingCall
from orderdesk.orders.engine import pipeline
from orderdesk.orders.models import Order, State
from orderdesk.sandbox import faults
from orderdesk.sandbox.models import FaultRule, RequestLog
from orderdesk.sandbox.testing import orders_with_reference
from tests.orders.engine.test_pipeline import fast_pipeline, make_orders, settle
from tests.support.worker import wait_until

pytestmark = pytest.mark.django_db(transaction=True)
__all__ = ["fast_pipeline"]  # a fixture, used by name


def database_env() -> dict[str, str]:
    """Point a child process at this test's own database (SQLite file or PostgreSQL)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return {"SQLITE_PATH": str(db["NAME"])}
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}"
    return {"DATABASE_URL": f"{url}:{db['PORT'] or 5432}/{db['NAME']}"}


def start_worker(sandbox_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")},
        **database_env(),
        "IMPILO_BASE_URL": sandbox_url,
        "IMPILO_API_KEY": django_settings.SANDBOX_API_KEY,
        "IMPILO_SANDBOX": "false",
        "IMPILO_CONNECT_TIMEOUT": "1",
        "IMPILO_READ_TIMEOUT": "10",
        "ORDER_LEASE_SECONDS": "2",
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--no-periodic", "--interval", "0.05"],
            cwd=django_settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_a_worker_killed_mid_send_leaves_every_request_audited(
    coordinator, fast_pipeline, settings, tmp_path
) -> None:
    rule = faults.inject("latency", delay=3.0, count=1, method="POST", path=r"/api/v3/order$")
    [order] = make_orders(coordinator, 1)
    before = RequestLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    log = tmp_path / "worker.log"
    worker = start_worker(fast_pipeline, log)
    try:
        held = wait_until(FaultRule.objects.filter(pk=rule.pk, fired__gt=0).exists, timeout=60)
        assert held, log.read_text()
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)

    # Killed with the request at Impilo: only the pending row tells of it.
    assert PendingCall.objects.filter(order=order, action="order_create").count() == 1
    assert not ApiCall.objects.filter(order=order, action="order_create").exists()

    # The sandbox finishes the held request (and logs it); then the call is no longer in
    # flight for recovery with these settings (timeouts 1 + 1, no grace).
    assert wait_until(RequestLog.objects.filter(pk__gt=before).exists, timeout=15)
    settings.IMPILO_CONNECT_TIMEOUT = 1.0
    settings.IMPILO_READ_TIMEOUT = 1.0
    settings.AUDIT_PENDING_GRACE_SECONDS = 0.0
    assert wait_until(lambda: pending.recover_orphans() > 0, timeout=10)

    received = set(RequestLog.objects.filter(pk__gt=before).values_list("request_id", flat=True))
    audited = set(ApiCall.objects.values_list("request_id", flat=True))
    assert received, "the sandbox logged no request"
    assert received <= audited, f"requests without an audit row: {received - audited}"
    assert not PendingCall.objects.exists()
    call = ApiCall.objects.get(order=order, action="order_create")
    assert (call.outcome, call.process_stopped, call.status_code) == ("ambiguous", True, None)

    # The order: its lease runs out, the sweeper sends it to reconciliation, which finds it
    # at Impilo (the held request did create it) instead of sending it again.
    assert wait_until(lambda: pipeline.sweep_expired_leases() == 1, timeout=10)
    assert settle([order]) == {order.reference: State.SUBMITTED}
    assert orders_with_reference(order.reference) == 1
    assert Order.objects.get(pk=order.pk).impilo_id
