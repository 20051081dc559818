"""Every fault kind over a real socket: what the client sees and whether an order was made."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from orderdesk.sandbox import faults, testing
from orderdesk.sandbox.models import FaultRule, RequestLog

ORDER_PATH = r"/api/v3/order$"


@pytest.fixture
def body(ids):
    return {
        "externalOrderIds": ["OD-FAULT1"],
        "patient": {"id": ids.patient},
        "orderItems": [{"item": {"id": ids.item}, "count": 1}],
    }


def created() -> int:
    return testing.orders_with_reference("OD-FAULT1")


def test_latency_delays_a_normal_answer(api, body) -> None:
    faults.inject("latency", delay=0.4)

    started = time.monotonic()
    response = api.post("/order", body)

    assert time.monotonic() - started >= 0.4
    assert response.status_code == 201
    assert created() == 1


def test_reset_is_a_real_tcp_reset_and_creates_nothing(api, body) -> None:
    faults.inject("reset", path=ORDER_PATH)

    with pytest.raises(requests.ConnectionError) as caught:
        api.post("/order", body)

    assert isinstance(caught.value.__context__ or caught.value.args[0], Exception)
    assert "reset by peer" in str(caught.value).lower() or "104" in str(caught.value)
    assert created() == 0
    log = RequestLog.objects.get()
    assert (log.status, log.fault) == (0, "reset")
    assert api.get("/patient", size=1).status_code == 200  # the server lives on


def test_reset_after_create_creates_the_order_then_resets(api, body) -> None:
    faults.inject("reset_after_create", count=1)

    with pytest.raises(requests.ConnectionError):
        api.post("/order", body)

    assert created() == 1
    assert api.post("/order", body).status_code == 201
    assert created() == 2


def test_timeout_after_create_creates_the_order_while_the_client_gives_up(api, body) -> None:
    faults.inject("timeout_after_create", delay=1.0)

    with pytest.raises(requests.ReadTimeout):
        api.post("/order", body, timeout=(2, 0.3))

    assert created() == 1


def test_timeout_no_create_answers_503_late_and_creates_nothing(api, body) -> None:
    faults.inject("timeout_no_create", delay=0.4)

    started = time.monotonic()
    response = api.post("/order", body)

    assert time.monotonic() - started >= 0.4
    assert response.status_code == 503
    assert created() == 0


def test_garbage_201_creates_the_order_and_answers_an_unreadable_body(api, body) -> None:
    faults.inject("garbage_201")

    response = api.post("/order", body)

    assert response.status_code == 201
    with pytest.raises(requests.JSONDecodeError):
        response.json()
    assert created() == 1


def test_concurrent_requests_never_overshoot_a_rule_count(api) -> None:
    faults.inject("status", status=503, count=2)

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda _: api.get("/kit").status_code, range(12)))

    assert sorted(statuses).count(503) == 2
    assert FaultRule.objects.get().remaining == 0
