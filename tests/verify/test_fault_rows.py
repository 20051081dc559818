"""A fault or crash row of `make verify` passes only if its fault really happened.

Before, a batch whose fault rule never fired (half of the POSTs, a few orders: about one
run in five) reported a pass for a fault it had not tried.
"""

import pytest
from django.test import RequestFactory

from orderdesk.sandbox import faults
from orderdesk.sandbox.models import FaultRule
from verify.checks.crashes import kill_row
from verify.checks.faults import _row, inject_for_batch
from verify.orders import Counts

pytestmark = pytest.mark.django_db
ALL_WELL = Counts(orders=6, settled=6, by_state={"submitted": 6})


def test_a_fault_row_whose_fault_never_fired_fails() -> None:
    row = _row("fault: HTTP 503", "6 orders, fault fired 0×", ALL_WELL, 12.0, fired=0)
    assert row.passed is False
    assert "never fired" in row.measured


def test_a_fault_row_whose_fault_fired_passes_when_the_orders_are_intact() -> None:
    assert _row("fault: HTTP 503", "6 orders", ALL_WELL, 12.0, fired=3).passed is True
    lost = Counts(orders=6, settled=6, lost=1)
    assert _row("fault: HTTP 503", "6 orders", lost, 12.0, fired=3).passed is False


@pytest.mark.parametrize("phase", ["before", "during", "after"])
def test_a_crash_row_with_no_kill_in_its_phase_fails(phase: str) -> None:
    assert kill_row(phase, "5 SIGKILLs", ALL_WELL, 30.0, hit=0).passed is False
    assert kill_row(phase, "5 SIGKILLs", ALL_WELL, 30.0, hit=2).passed is True


def test_the_first_order_post_of_a_batch_always_meets_its_fault(monkeypatch) -> None:
    """Even when every roll of the half-of-the-POSTs rule would miss."""
    monkeypatch.setattr("orderdesk.sandbox.faults.random.random", lambda: 0.99)
    inject_for_batch({"kind": "status", "status": 503})
    post = RequestFactory().post("/sandbox/impilo/api/v3/order")
    first = faults.take(post, faults.BEFORE_KINDS)
    assert first is not None
    assert first.kind == "status"
    assert faults.take(post, faults.BEFORE_KINDS) is None  # then only by chance
    assert sum(FaultRule.objects.values_list("fired", flat=True)) == 1
