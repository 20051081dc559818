"""Every fault kind over a real socket: what the client sees and whether an order was made."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from orderdesk.sandbox import faults, testing
from orderdesk.sandbox.models import FaultRule, RequestLog
from orderdesk.sandbox.sockets import ConnectionResetBySandbox

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


@pytest.mark.parametrize("status", [500, 502, 503, 504, 401])
def test_a_status_fault_answers_that_status_and_creates_nothing(api, body, status) -> None:
    faults.inject("status", method="POST", path=ORDER_PATH, status=status, count=1)

    response = api.post("/order", body)

    assert response.status_code == status
    assert response.json()["status"] == status
    assert created() == 0
    assert api.post("/order", body).status_code == 201  # used up after one request


def test_rate_limit_answers_429_with_retry_after_verbatim(api, body) -> None:
    faults.inject("rate_limit", retry_after="Wed, 21 Oct 2026 07:28:00 GMT")

    response = api.post("/order", body)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert created() == 0


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


def test_create_faults_do_not_fire_on_rejected_orders(api, body) -> None:
    rule = faults.inject("garbage_201", count=1)

    rejected = api.post("/order", {**body, "patient": None})
    accepted = api.post("/order", body)

    assert rejected.status_code == 400
    assert rejected.json()["message"] == "patient or site required"
    assert accepted.status_code == 201
    with pytest.raises(requests.JSONDecodeError):
        accepted.json()
    rule.refresh_from_db()
    assert (rule.remaining, rule.fired) == (0, 1)


def test_rules_match_on_method_and_path_and_the_lowest_id_wins(api, body) -> None:
    faults.inject("status", method="GET", path=r"/api/v3/kit$", status=502)
    faults.inject("status", path=r"/api/v3/kit", status=504)

    assert api.get("/kit").status_code == 502
    assert api.get("/patient").status_code == 200
    assert api.post("/order", body).status_code == 201


def test_a_rule_with_rate_zero_never_fires(api) -> None:
    faults.inject("status", status=500, rate=0.0)

    assert [api.get("/kit").status_code for _ in range(3)] == [200, 200, 200]


def test_concurrent_requests_never_overshoot_a_rule_count(api) -> None:
    faults.inject("status", status=503, count=2)

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(lambda _: api.get("/kit").status_code, range(12)))

    assert sorted(statuses).count(503) == 2
    assert FaultRule.objects.get().remaining == 0


def test_clear_removes_every_rule(api) -> None:
    faults.inject("status", status=500)
    faults.clear()

    assert api.get("/kit").status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "explode"}, "Unknown fault kind"),
        ({"kind": "status", "path": "("}, "missing"),
        ({"kind": "status", "count": 0}, "count must be 1 or more"),
        ({"kind": "latency", "rate": 1.5}, "rate must be between 0 and 1"),
        ({"kind": "latency", "delay": -1}, "delay must not be negative"),
        ({"kind": "status", "status": 42}, "status must be an HTTP status code"),
    ],
)
def test_inject_refuses_nonsense(db, kwargs, message) -> None:
    kind = kwargs.pop("kind")
    with pytest.raises(Exception, match=message):
        faults.inject(kind, **kwargs)
    assert FaultRule.objects.count() == 0


def test_without_a_socket_a_reset_raises_instead(local_api, local_ids) -> None:
    faults.inject("reset")

    with pytest.raises(ConnectionResetBySandbox):
        local_api.get("/kit")
