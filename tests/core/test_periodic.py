import threading

import pytest

from orderdesk.core import periodic

# run_forever closes stale database connections after each job.
pytestmark = pytest.mark.django_db

calls: list[str] = []
stop = threading.Event()


def record() -> None:
    calls.append("record")


def explode() -> None:
    calls.append("explode")
    raise RuntimeError("a job that fails")


def record_and_stop() -> None:
    calls.append("stop")
    if calls.count("stop") == 2:
        stop.set()


@pytest.fixture(autouse=True)
def fresh() -> None:
    calls.clear()
    stop.clear()


def test_load_jobs_imports_each_configured_job(settings) -> None:
    settings.PERIODIC_JOBS = [("tests.core.test_periodic.record", 5)]
    assert periodic.load_jobs() == [("tests.core.test_periodic.record", record, 5.0)]


def test_a_failing_job_is_logged_and_the_others_keep_running(settings, caplog) -> None:
    settings.PERIODIC_JOBS = [
        ("tests.core.test_periodic.explode", 0),
        ("tests.core.test_periodic.record_and_stop", 0),
    ]
    periodic.run_forever(stop, tick=0.01)
    assert calls == ["explode", "stop", "explode", "stop"]
    assert "periodic job tests.core.test_periodic.explode failed" in caplog.text


def test_a_job_waits_its_interval_between_runs(settings) -> None:
    settings.PERIODIC_JOBS = [
        ("tests.core.test_periodic.record", 3600),
        ("tests.core.test_periodic.record_and_stop", 0),
    ]
    periodic.run_forever(stop, tick=0.01)
    assert calls.count("record") == 1
