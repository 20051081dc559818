"""The load check leaves the warm-up's times out of the p95 but never its errors."""

from verify.checks.load import (
    WARM_UP,
    Record,
    Sample,
    _phase_errors,
    load_passes,
    must_hold,
    p95_gates,
)


def test_warm_up_errors_count_with_the_normal_phase_only() -> None:
    record = Record()
    record.samples += [
        Sample("order list", 502, 0.1, WARM_UP),
        Sample("order list", 200, 0.1, "normal"),
        Sample("audit log", 500, 0.1, "slow Impilo"),
    ]
    assert _phase_errors(record, "normal") == ["order list: HTTP 502"]
    assert _phase_errors(record, "slow Impilo") == ["audit log: HTTP 500"]


def test_at_ci_size_the_p95_is_reported_but_errors_still_fail() -> None:
    gate = p95_gates("ci")
    assert gate is False
    assert load_passes(0, 2.0, 0.5, gate) is True  # slow, but only a timing
    assert load_passes(1, 0.1, 0.5, gate) is False  # an error fails at any size
    assert "reported" in must_hold(0.5, (), gate)


def test_at_full_size_the_p95_limit_holds() -> None:
    gate = p95_gates("full")
    assert gate is True
    assert load_passes(0, 0.6, 0.5, gate) is False
    assert load_passes(0, 0.4, 0.5, gate) is True
    assert must_hold(0.5, (), gate) == "0 errors; page p95 ≤ 500 ms"
