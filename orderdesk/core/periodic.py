"""Jobs the worker runs on a timer (lease sweeper, status sync, catalog sync ...).

django-tasks has no scheduler, so each worker process runs a small loop that calls these
directly. Several workers may call the same job at once: every job is written to be safe
under that (conditional updates), so no lock is needed.
"""

import contextlib
import logging
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, close_old_connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def load_jobs() -> list[tuple[str, Callable[[], object], float]]:
    return [(path, import_string(path), float(every)) for path, every in settings.PERIODIC_JOBS]


def run_forever(stop: threading.Event, tick: float = 1.0) -> None:
    jobs = load_jobs()
    next_run = {path: 0.0 for path, _, _ in jobs}
    while not stop.is_set():
        now = time.monotonic()
        for path, job, every in jobs:
            if now < next_run[path]:
                continue
            next_run[path] = now + every
            try:
                job()
            except Exception:
                logger.exception("periodic job %s failed", path)
            finally:
                _drop_broken_connections()
        stop.wait(tick)


def _drop_broken_connections() -> None:
    # During a database outage closing the broken connection may fail as well: the thread
    # must go on, and connect afresh once the database is back.
    with contextlib.suppress(DatabaseError):
        close_old_connections()
