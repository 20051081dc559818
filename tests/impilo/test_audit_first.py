"""Audit first: the session commits a pending row before any byte reaches Impilo, and
replaces it by exactly one ApiCall row once the call is over.

The loopback server looks in the database, from its own thread and connection, at the
moment the request reaches it: what it sees is what a SIGKILL at that moment would leave.
"""

import json
import socket
import threading
from typing import Any

import pytest
from django.db import DatabaseError, connection

from orderdesk.audit.models import ApiCall, PendingCall
from orderdesk.audit.redact import REDACTED
from orderdesk.impilo import errors
from orderdesk.impilo.client import CreateOrderRequest, ImpiloClient
from tests.impilo.conftest import KEY, only_call
from tests.impilo.servers import RawServer, closed_port, reply_after, response_bytes

pytestmark = pytest.mark.django_db(transaction=True)

REFERENCE = "OD-AUDITFIRST"
CREATED = b'{"id": 77, "externalOrderIds": ["OD-AUDITFIRST"]}'


@pytest.fixture(autouse=True)
def short_timeouts(impilo_settings):
    impilo_settings.IMPILO_CONNECT_TIMEOUT = 0.5
    impilo_settings.IMPILO_READ_TIMEOUT = 2.0


def create(base_url: str) -> None:
    request = CreateOrderRequest(
        patient_id=1, site_id=None, items=[(2, 1)], kits=[], external_order_ids=[REFERENCE]
    )
    ImpiloClient(base_url=base_url).create_order(request)


class Witness:
    """A server behaviour: on receiving the request, note the audit tables, then answer."""

    def __init__(self) -> None:
        self.pending: list[dict[str, Any]] = []
        self.calls = -1

    def __call__(self, conn: socket.socket, stop: threading.Event) -> None:
        try:
            fields = ("request_id", "url", "request_headers", "request_body")
            self.pending = [dict(row) for row in PendingCall.objects.values(*fields)]
            self.calls = ApiCall.objects.count()
        finally:
            connection.close()  # this thread's own connection
        conn.sendall(response_bytes(201, CREATED, {}))


def test_the_pending_row_is_committed_before_the_request_arrives() -> None:
    witness = Witness()
    with RawServer(witness) as server:
        create(server.url)
    sent_id = _request_id(server.requests[0])
    assert [row["request_id"] for row in witness.pending] == [sent_id]
    assert witness.calls == 0
    row = witness.pending[0]
    assert REFERENCE in str(row["request_body"])
    assert KEY not in json.dumps(row)
    assert row["request_headers"]["Impilo-API-Key"] == REDACTED
    # After the call: the one ApiCall row, and no pending row left.
    call = only_call()
    assert call.request_id == sent_id
    assert not PendingCall.objects.exists()


def test_a_failed_call_also_leaves_one_row_and_no_pending_one() -> None:
    with RawServer(reply_after(5.0)) as server, pytest.raises(errors.ImpiloAmbiguous):
        create(server.url)
    assert only_call().outcome == "ambiguous"
    assert not PendingCall.objects.exists()
    with pytest.raises(errors.ImpiloUnavailable):
        create(f"http://127.0.0.1:{closed_port()}")
    assert ApiCall.objects.count() == 2
    assert not PendingCall.objects.exists()


def test_no_request_goes_out_if_its_pending_row_cannot_be_written(monkeypatch) -> None:

    def broken(**_: object) -> None:
        raise DatabaseError("database unavailable")

    monkeypatch.setattr(PendingCall.objects, "create", broken)
    with RawServer(reply_after(0.0)) as server, pytest.raises(DatabaseError):
        create(server.url)
    assert server.requests == []


def _request_id(raw: bytes) -> str:
    for line in raw.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"x-request-id":
            return value.strip().decode()
    raise AssertionError("the request carried no X-Request-ID")
