"""The task worker: django-tasks-db's worker loop plus the periodic jobs (core/periodic.py)."""

import os
import socket
import threading
from typing import Any

from django.core.management.base import BaseCommand
from django_tasks_db.management.commands.db_worker import Worker

from orderdesk.core import periodic
from orderdesk.core.worker_loop import run_through_outages


class Command(BaseCommand):
    help = "Run the background worker: queued tasks and the periodic jobs."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=0.2, help="seconds between polls")
        parser.add_argument("--no-periodic", action="store_true", help="queued tasks only")

    def handle(self, *args: Any, interval: float, no_periodic: bool, **options: Any) -> None:
        stop = threading.Event()
        if not no_periodic:
            threading.Thread(target=periodic.run_forever, args=(stop,), daemon=True).start()
        worker = Worker(
            queue_names=["default"],
            interval=interval,
            batch=False,
            backend_name="default",
            startup_delay=True,
            max_tasks=None,
            worker_id=f"{socket.gethostname()}-{os.getpid()}"[:64],
            excluded_queue_names=[],
        )
        worker.configure_signals()
        try:
            run_through_outages(worker)
        finally:
            stop.set()
