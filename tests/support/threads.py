"""Run one function in many threads at once, with every wait bounded.

A failure inside a thread is returned to the test (an assert there would only be a
warning); a thread that hangs fails the test after `timeout` instead of hanging the run.
"""

import threading
from collections.abc import Callable
from typing import TypeVar

from django.db import connection

Result = TypeVar("Result")


def run_together(
    work: Callable[[int], Result], count: int, *, timeout: float = 60.0
) -> list[Result]:
    """Call work(0) … work(count - 1), each in its own thread, released together.

    Returns the results in no particular order; raises the first exception a thread met,
    or AssertionError if a thread did not finish within `timeout` seconds.
    """
    start = threading.Barrier(count)
    results: list[Result] = []
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            start.wait(timeout=timeout)
            results.append(work(index))
        except BaseException as exc:  # handed to the test below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    stuck = [thread.name for thread in threads if thread.is_alive()]
    assert not stuck, f"{len(stuck)} of {count} threads still running after {timeout} s"
    if failures:
        raise failures[0]
    return results
