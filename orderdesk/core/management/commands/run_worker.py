"""The task worker: WORKER_THREADS django-tasks-db loops (core/worker_pool.py) plus the
periodic jobs (core/periodic.py)."""

import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orderdesk.core import periodic
from orderdesk.core.worker_pool import WorkerPool


class Command(BaseCommand):
    help = "Run the background worker: queued tasks and the periodic jobs."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=0.2, help="seconds between polls")
        parser.add_argument("--no-periodic", action="store_true", help="queued tasks only")
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            help="task loops run at once (default: WORKER_THREADS)",
        )

    def handle(
        self, *args: Any, interval: float, no_periodic: bool, threads: int | None, **options: Any
    ) -> None:
        count = settings.WORKER_THREADS if threads is None else threads
        if count < 1:
            raise CommandError("--threads / WORKER_THREADS must be at least 1")
        pool = WorkerPool(threads=count, interval=interval)
        pool.install_signals()
        if not no_periodic:
            threading.Thread(
                target=periodic.run_forever, args=(pool.stopping,), daemon=True, name="periodic"
            ).start()
        try:
            pool.run()
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            pool.stop()
