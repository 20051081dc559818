"""The task worker's loop, kept running through database outages.

django-tasks-db's Worker.run() lets a database error escape, and the process exits: after a
PostgreSQL restart (or a SQLite volume that went away) queued orders would wait until
someone restarted the worker. Here the loop starts again once the database answers.
"""

import contextlib
import logging
import threading

from django.db import DatabaseError, connections
from django.db.utils import InterfaceError, OperationalError
from django_tasks_db.management.commands.db_worker import Worker

logger = logging.getLogger(__name__)

RETRY_SECONDS = 2.0


def run_through_outages(
    worker: Worker, stopping: threading.Event, retry_seconds: float = RETRY_SECONDS
) -> None:
    """worker.run() until stopped (worker.running cleared and `stopping` set, see
    core/worker_pool.py), waiting out each database outage."""
    while worker.running:
        try:
            worker.run()
        except (OperationalError, InterfaceError) as exc:
            if not worker.running:
                return  # asked to stop while the database was away: nothing left to wait for
            # The type only: a driver's message can quote a statement and its values.
            logger.warning(
                "Database unavailable (%s); trying again in %.0f s",
                type(exc).__name__,
                retry_seconds,
            )
            _drop_connections()
            # Woken by the stop signal, so stopping the worker stays prompt during an outage.
            stopping.wait(retry_seconds)


def _drop_connections() -> None:
    # The broken connections must not be reused; closing a dead one may itself fail.
    with contextlib.suppress(DatabaseError):
        connections.close_all()
