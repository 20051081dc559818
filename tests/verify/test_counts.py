"""`make verify` counts a sandbox request as audited only if its own X-Request-ID has an
audit row: a row for a call that never reached the sandbox (a worker killed just before
sending, recovered from its pending row) must not make up for a request that has none."""

import pytest

from orderdesk.audit.models import Outcome, record
from orderdesk.sandbox.models import RequestLog
from verify.orders import count, mark


class NoStack:
    """The two things count() asks of the stack: its access log, here empty."""

    def access_log_size(self) -> int:
        return 0

    def server_errors_since(self, offset: int) -> list[str]:
        return []


def received(request_id: str) -> None:
    RequestLog.objects.create(
        method="POST", path="/api/v3/order", status=201, request_id=request_id
    )


def audited(request_id: str) -> None:
    record(action="order_create", method="POST", url="u", request_id=request_id, outcome=Outcome.OK)


@pytest.mark.django_db
def test_requests_are_matched_to_their_own_audit_rows() -> None:
    received("before-the-mark")
    since = mark(NoStack())
    received("a")
    audited("a")
    received("b")  # no row: the request the check is there to catch
    audited("never-sent")  # recovered, but it never reached the sandbox
    result = count([], since, NoStack(), quiet_seconds=0)
    assert (result.sandbox_requests, result.audited_requests) == (2, 1)
    assert result.unaudited == 1
    assert not result.holds()
    assert "sandbox requests 2 / with audit row 1" in result.text()
