"""The load check leaves the warm-up's times out of the p95 but never its errors."""

from verify.checks.load import WARM_UP, Record, Sample, _phase_errors


def test_warm_up_errors_count_with_the_normal_phase_only() -> None:
    record = Record()
    record.samples += [
        Sample("order list", 502, 0.1, WARM_UP),
        Sample("order list", 200, 0.1, "normal"),
        Sample("audit log", 500, 0.1, "slow Impilo"),
    ]
    assert _phase_errors(record, "normal") == ["order list: HTTP 502"]
    assert _phase_errors(record, "slow Impilo") == ["audit log: HTTP 500"]
