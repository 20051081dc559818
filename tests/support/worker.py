"""Run the real django-tasks-db worker loop in a thread, for tests that need the pipeline."""

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection
from django_tasks_db.management.commands.db_worker import Worker


class WorkerThread:
    def __init__(self, name: str = "test-worker") -> None:
        self.worker = Worker(
            queue_names=["default"],
            interval=0.05,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=name,
            excluded_queue_names=[],
        )
        self.thread = threading.Thread(target=self._run, daemon=True, name=name)

    def _run(self) -> None:
        try:
            self.worker.run()
        finally:
            connection.close()

    def start(self) -> "WorkerThread":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.worker.running = False
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
