"""Run the real worker (core/worker_pool.py: WORKER_THREADS django-tasks-db loops, as
`run_worker` runs them) in a thread, for tests that need the pipeline."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings

from orderdesk.core.worker_pool import WorkerPool


class WorkerThread:
    def __init__(self, name: str = "test-worker") -> None:
        self.pool = WorkerPool(
            settings.WORKER_THREADS, interval=0.05, name=name, startup_delay=False
        )
        # Each loop closes its own connections when it ends (WorkerPool._run_loop).
        self.thread = threading.Thread(target=self.pool.run, daemon=True, name=name)

    def start(self) -> "WorkerThread":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.pool.stop()
        self.thread.join(timeout=30)


@contextmanager
def running_workers(count: int = 1) -> Iterator[list[WorkerThread]]:
    workers = [WorkerThread(f"test-worker-{n}").start() for n in range(count)]
    try:
        yield workers
    finally:
        for worker in workers:
            worker.stop()


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()
