"""Fault rules: matching, counting, each status, and refusing nonsense (in-process client).

The kinds that need a real socket (resets, timeouts, latency) are in test_faults.py.
"""

import pytest

from orderdesk.sandbox import faults, testing
from orderdesk.sandbox.models import FaultRule
from orderdesk.sandbox.sockets import ConnectionResetBySandbox

ORDER_PATH = r"/api/v3/order$"


@pytest.fixture
def body(local_ids):
    return {
        "externalOrderIds": ["OD-FAULT1"],
        "patient": {"id": local_ids.patient},
        "orderItems": [{"item": {"id": local_ids.item}, "count": 1}],
    }


def created() -> int:
    return testing.orders_with_reference("OD-FAULT1")


@pytest.mark.parametrize("status", [500, 502, 503, 504, 401])
def test_a_status_fault_answers_that_status_and_creates_nothing(local_api, body, status) -> None:
    faults.inject("status", method="POST", path=ORDER_PATH, status=status, count=1)

    response = local_api.post("/order", body)

    assert response.status_code == status
    assert response.json()["status"] == status
    assert created() == 0
    assert local_api.post("/order", body).status_code == 201  # used up after one request


def test_rate_limit_answers_429_with_retry_after_verbatim(local_api, body) -> None:
    faults.inject("rate_limit", retry_after="Wed, 21 Oct 2026 07:28:00 GMT")

    response = local_api.post("/order", body)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "Wed, 21 Oct 2026 07:28:00 GMT"
    assert created() == 0


def test_create_faults_do_not_fire_on_rejected_orders(local_api, body) -> None:
    rule = faults.inject("garbage_201", count=1)

    rejected = local_api.post("/order", {**body, "patient": None})
    accepted = local_api.post("/order", body)

    assert rejected.status_code == 400
    assert rejected.json()["message"] == "patient or site required"
    assert accepted.status_code == 201
    assert accepted.content == faults.GARBAGE_BODY
    rule.refresh_from_db()
    assert (rule.remaining, rule.fired) == (0, 1)


def test_rules_match_on_method_and_path_and_the_lowest_id_wins(local_api, body) -> None:
    faults.inject("status", method="GET", path=r"/api/v3/kit$", status=502)
    faults.inject("status", path=r"/api/v3/kit", status=504)

    assert local_api.get("/kit").status_code == 502
    assert local_api.get("/patient").status_code == 200
    assert local_api.post("/order", body).status_code == 201


def test_a_rule_with_rate_zero_never_fires(local_api) -> None:
    faults.inject("status", status=500, rate=0.0)

    assert [local_api.get("/kit").status_code for _ in range(3)] == [200, 200, 200]


def test_clear_removes_every_rule(local_api) -> None:
    faults.inject("status", status=500)
    faults.clear()

    assert local_api.get("/kit").status_code == 200


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
