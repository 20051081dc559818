"""The session over real loopback sockets: every way a call can end raises the right
error and leaves exactly one audit row that says the same thing, without the key."""

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from orderdesk.audit.models import Outcome
from orderdesk.impilo import errors
from orderdesk.impilo.client import CreateOrderRequest, ImpiloClient
from orderdesk.impilo.errors import DEFAULT_RETRY_AFTER, MAX_RETRY_AFTER
from tests.impilo.conftest import KEY, only_call
from tests.impilo.servers import (
    RawServer,
    closed_port,
    full_backlog,
    reply,
    reply_after,
    reset,
)

pytestmark = pytest.mark.django_db

REFERENCE = "OD-SOCKTEST"


@pytest.fixture(autouse=True)
def short_timeouts(impilo_settings: SettingsWrapper) -> None:
    impilo_settings.IMPILO_CONNECT_TIMEOUT = 0.3
    impilo_settings.IMPILO_READ_TIMEOUT = 0.3


def create(base_url: str) -> None:
    request = CreateOrderRequest(
        patient_id=1, site_id=None, items=[(2, 1)], kits=[], external_order_ids=[REFERENCE]
    )
    ImpiloClient(base_url=base_url).create_order(request)


def test_a_refused_connection_is_unavailable() -> None:
    with pytest.raises(errors.ImpiloUnavailable) as caught:
        create(f"http://127.0.0.1:{closed_port()}")
    assert "connection was refused" in caught.value.message
    call = only_call()
    assert (call.outcome, call.status_code) == (Outcome.UNAVAILABLE, None)
    assert call.error_class == "ImpiloUnavailable ← requests.exceptions.ConnectionError"
    assert REFERENCE in call.request_body


def test_a_connect_timeout_is_unavailable() -> None:
    with full_backlog() as port, pytest.raises(errors.ImpiloUnavailable) as caught:
        create(f"http://127.0.0.1:{port}")
    assert "no connection within the time limit" in caught.value.message
    call = only_call()
    assert call.outcome == Outcome.UNAVAILABLE
    assert "ConnectTimeout" in call.error_class
    assert call.duration_ms is not None
    assert call.duration_ms >= 250


def test_a_read_timeout_is_ambiguous_because_impilo_may_have_created_the_order() -> None:
    with RawServer(reply_after(2.0)) as server, pytest.raises(errors.ImpiloAmbiguous) as caught:
        create(server.url)
    assert REFERENCE.encode() in server.requests[0]
    assert "may or may not have been created" in caught.value.message
    call = only_call()
    assert (call.outcome, call.status_code) == (Outcome.AMBIGUOUS, None)
    assert "ReadTimeout" in call.error_class


def test_a_reset_after_the_request_was_sent_is_ambiguous() -> None:
    with RawServer(reset()) as server, pytest.raises(errors.ImpiloAmbiguous) as caught:
        create(server.url)
    assert len(server.requests) == 1
    assert "connection dropped after the request was sent" in caught.value.message
    call = only_call()
    assert call.outcome == Outcome.AMBIGUOUS
    assert "ConnectionError" in call.error_class


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_ambiguous_and_keeps_the_body(status: int) -> None:
    with (
        RawServer(reply(status, b"<h1>Bad gateway</h1>")) as server,
        pytest.raises(errors.ImpiloAmbiguous) as caught,
    ):
        create(server.url)
    assert caught.value.status == status
    call = only_call()
    assert (call.outcome, call.status_code) == (Outcome.AMBIGUOUS, status)
    assert call.response_body == "<h1>Bad gateway</h1>"


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        ("7", 7.0),
        ("garbage", DEFAULT_RETRY_AFTER),
        ("86400", MAX_RETRY_AFTER),
        (None, DEFAULT_RETRY_AFTER),
    ],
)
def test_a_rate_limit_reports_retry_after(retry_after: str | None, expected: float) -> None:
    headers = {"Retry-After": retry_after} if retry_after else {}
    with (
        RawServer(reply(429, b"slow down", headers)) as server,
        pytest.raises(errors.ImpiloRateLimited) as caught,
    ):
        create(server.url)
    assert caught.value.retry_after == expected
    call = only_call()
    assert (call.outcome, call.status_code) == (Outcome.RATE_LIMITED, 429)
    assert call.response_headers.get("Retry-After") == retry_after


def test_a_rate_limit_given_as_an_http_date_waits_until_then() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    with (
        RawServer(reply(429, b"", {"Retry-After": when})) as server,
        pytest.raises(errors.ImpiloRateLimited) as caught,
    ):
        create(server.url)
    assert 55 <= caught.value.retry_after <= 60
    assert only_call().outcome == Outcome.RATE_LIMITED


def test_a_created_reply_with_a_garbage_body_is_ambiguous() -> None:
    with (
        RawServer(reply(201, b'{"id": 9\xff<html>502 Bad Gat')) as server,
        pytest.raises(errors.ImpiloAmbiguous) as caught,
    ):
        create(server.url)
    assert "could not be read" in caught.value.message
    call = only_call()
    assert (call.outcome, call.status_code) == (Outcome.AMBIGUOUS, 201)
    assert call.response_body.startswith('{"id": 9\ufffd<html>')


def test_an_unauthorised_key_is_an_auth_error_and_the_key_is_not_kept() -> None:
    body = json.dumps({"message": f"Invalid API key {KEY}"}).encode()
    with RawServer(reply(401, body)) as server, pytest.raises(errors.ImpiloAuthError) as caught:
        create(server.url)
    assert KEY.encode() in server.requests[0]  # it was sent...
    assert KEY not in caught.value.raw_message
    call = only_call()  # ...and is in no column of the row
    assert (call.outcome, call.status_code) == (Outcome.AUTH, 401)


def test_a_good_reply_over_the_wire_is_ok() -> None:
    with RawServer(reply(201, b'{"id": 77, "externalOrderIds": ["OD-SOCKTEST"]}')) as server:
        create(server.url)
    call = only_call()
    assert (call.outcome, call.status_code, call.error_class) == (Outcome.OK, 201, "")
