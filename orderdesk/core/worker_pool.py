"""Several task loops in one worker process, like Celery's concurrency.

One django-tasks-db loop sends one order at a time, and most of its time goes waiting:
for Impilo's answer and for the database's commits. N loops in threads overlap those
waits: each claims its own task (select_for_update(skip_locked) on PostgreSQL, an
exclusive transaction on SQLite) and has its own database connection (Django keeps one
per thread) and HTTP session to Impilo (impilo/client.py), both closed when its loop ends.

Signals can only be installed from the main thread, so the pool installs one handler for
all loops instead of each Worker's own. The first SIGTERM/SIGINT clears every loop's
`running` flag: a loop that is sending an order finishes that order, then stops; an idle
loop stops at its next poll (interval seconds). A second signal exits at once, as the
library's own handler does.
"""

import logging
import os
import signal
import socket
import threading
from types import FrameType

from django.db import connections
from django.dispatch import Signal
from django_tasks_db.management.commands.db_worker import Worker

from orderdesk.core.worker_loop import run_through_outages

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)


# Sent in a task loop's own thread as the loop ends, so that layers above core can release
# what that thread holds (the Impilo client closes its kept-alive connection: a server
# thread may be holding it). A signal, because core sits below them and imports none.
loop_finished = Signal()


def process_name() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


class WorkerPool:
    def __init__(
        self,
        threads: int,
        interval: float,
        *,
        name: str | None = None,
        startup_delay: bool = True,
    ) -> None:
        """`name` (default host-pid) must be unique among all running pools: each loop's id,
        name-tN, is recorded on the tasks it claims. The startup delay (up to 1 s, random)
        keeps workers started together from polling in step."""
        if threads < 1:
            raise ValueError("a worker needs at least one thread")
        self.stopping = threading.Event()
        self.failed = False
        self.workers = [
            Worker(
                queue_names=["default"],
                interval=interval,
                batch=False,
                backend_name="default",
                startup_delay=startup_delay,
                max_tasks=None,
                worker_id=f"{name or process_name()}-t{index}"[-64:],
                excluded_queue_names=[],
            )
            for index in range(threads)
        ]

    def install_signals(self) -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.strsignal(signum)
        if self.stopping.is_set():
            logger.warning("Received %s again: exiting without waiting for running tasks", name)
            os._exit(1)
        logger.warning(
            "Received %s - shutting down gracefully: orders being sent finish first"
            " (send it again to force)",
            name,
        )
        self.stop()

    def stop(self) -> None:
        self.stopping.set()
        for worker in self.workers:
            worker.running = False

    def run(self) -> None:
        """Run every loop in its own thread until stop(); returns when all have ended.

        Raises RuntimeError when a loop ended on an error, so the process exits non-zero
        and its supervisor restarts it, as when the single loop's error escaped.
        """
        threads = [
            threading.Thread(target=self._run_loop, args=(worker,), name=worker.worker_id)
            for worker in self.workers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            # A timed join: the main thread must keep waking up to run signal handlers.
            while thread.is_alive():
                thread.join(timeout=0.5)
        if self.failed:
            raise RuntimeError("a task loop failed (see the log above)")

    def _run_loop(self, worker: Worker) -> None:
        try:
            run_through_outages(worker, stopping=self.stopping)
        except Exception:
            # One loop's unexpected failure must not leave the others running unseen.
            logger.exception("Task loop %s failed; stopping the worker", worker.worker_id)
            self.failed = True
            self.stop()
        finally:
            connections.close_all()  # this thread's connections only
            loop_finished.send(sender=WorkerPool)
