"""`manage.py run_worker` as a real process through a database outage (issue 8, crashes).

The outage is made for the backend the suite runs on, never skipped:

- PostgreSQL: the test database refuses new connections and the worker's own connections
  are terminated, which is what the worker sees while the server restarts;
- SQLite: the folder the worker reaches the database file through disappears (a symlink,
  removed), like a volume that went away: every new connection fails to open the file.

The test process keeps its own connection, so it can end the outage and check the result.
"""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django_tasks_db.models import DBTaskResult

from orderdesk.catalog.sync import sync_catalog
from orderdesk.orders.models import Order, State
from tests.orders.engine.test_pipeline import make_orders
from tests.support.worker import wait_until

pytestmark = pytest.mark.django_db(transaction=True)


class Outage:
    """Makes the database unreachable for the worker subprocess, then reachable again."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.name = str(connection.settings_dict["NAME"])
        self.app_name = f"orderdesk-outage-test-{os.getpid()}"
        self.link = tmp_path / "volume"
        if connection.vendor == "sqlite":
            self.link.symlink_to(Path(self.name).parent)

    def worker_env(self) -> dict[str, str]:
        if connection.vendor == "sqlite":
            return {"SQLITE_PATH": str(self.link / Path(self.name).name)}
        db = connection.settings_dict
        credentials = quote(db["USER"]) + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
        url = f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{self.name}"
        # libpq reads PGAPPNAME: it tells the worker's connections from the test's own.
        return {"DATABASE_URL": url, "PGAPPNAME": self.app_name}

    def begin(self) -> None:
        if connection.vendor == "sqlite":
            self.link.unlink()
            return
        connection.ensure_connection()  # ours, opened while connections are still allowed
        self._allow_connections(False)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = %s",
                [self.app_name],
            )

    def end(self) -> None:
        if connection.vendor == "sqlite":
            if not self.link.is_symlink():
                self.link.symlink_to(Path(self.name).parent)
            return
        self._allow_connections(True)

    def _allow_connections(self, allow: bool) -> None:
        # PostgreSQL changes this only from a connection to another database.
        import psycopg

        db = connection.settings_dict
        with psycopg.connect(
            host=db["HOST"],
            port=db["PORT"] or 5432,
            user=db["USER"],
            password=db["PASSWORD"] or None,
            dbname="postgres",
            autocommit=True,
        ) as admin:
            admin.execute(f'ALTER DATABASE "{self.name}" WITH ALLOW_CONNECTIONS {allow}')


@pytest.fixture
def outage(tmp_path: Path) -> Iterator[Outage]:
    made = Outage(tmp_path)
    try:
        yield made
    finally:
        made.end()  # whatever happened, later tests need their database back


class WorkerProcess:
    def __init__(self, env: dict[str, str], log: Path, *extra: str) -> None:
        self.log = log
        with log.open("wb") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "manage.py", "run_worker", "--interval", "0.1", *extra],
                cwd=settings.BASE_DIR,
                env={
                    "PATH": os.environ["PATH"],
                    "HOME": os.environ["HOME"],
                    "DEBUG": "true",
                    **env,
                },
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        started = wait_until(lambda: b"Starting worker" in self.text() or not self.alive(), 60)
        assert started, self.log.read_text()
        assert self.alive(), self.log.read_text()

    def text(self) -> bytes:
        return self.log.read_bytes()

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(20)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(10)


def _sent(order: Order) -> bool:
    return Order.objects.get(pk=order.pk).state == State.SUBMITTED


def _beats(path: Path) -> int:
    return path.read_text().count("beat") if path.exists() else 0


def test_the_worker_process_carries_on_after_the_database_went_away(
    sandbox, coordinator, outage: Outage, tmp_path: Path
) -> None:
    sync_catalog()
    beats = tmp_path / "beats"
    worker = WorkerProcess(
        {
            **outage.worker_env(),
            "DJANGO_SETTINGS_MODULE": "tests.support.worker_settings",
            "HEARTBEAT_FILE": str(beats),
            "IMPILO_BASE_URL": sandbox,
            "IMPILO_API_KEY": settings.SANDBOX_API_KEY,
        },
        tmp_path / "worker.log",
    )
    try:
        [before] = make_orders(coordinator, 1)
        assert wait_until(lambda: _sent(before), 60), worker.log.read_text()

        outage.begin()
        wait_until(lambda: b"Database unavailable" in worker.text() or not worker.alive(), 30)
        assert worker.alive(), worker.log.read_text()
        assert b"Database unavailable" in worker.text(), worker.log.read_text()
        beats_in_outage = _beats(beats)
        outage.end()

        [after] = make_orders(coordinator, 1)
        assert wait_until(lambda: _sent(after), 60), worker.log.read_text()
        assert worker.alive()
        task = DBTaskResult.objects.get(
            task_path__endswith="send_order", args_kwargs__args=[after.pk]
        )
        assert f"-{worker.popen.pid}-t" in task.worker_ids[-1]  # this very process
        # The periodic thread found the database again too.
        assert wait_until(lambda: _beats(beats) > beats_in_outage, 30), worker.log.read_text()
    finally:
        worker.stop()
    assert worker.popen.returncode == 0, worker.log.read_text()


def test_a_worker_waiting_out_an_outage_still_stops_at_once_on_sigterm(
    outage: Outage, tmp_path: Path
) -> None:
    worker = WorkerProcess(outage.worker_env(), tmp_path / "worker.log", "--no-periodic")
    try:
        outage.begin()
        wait_until(lambda: b"Database unavailable" in worker.text() or not worker.alive(), 30)
        assert worker.alive(), worker.log.read_text()
        assert b"Database unavailable" in worker.text(), worker.log.read_text()
        worker.popen.send_signal(signal.SIGTERM)
        assert worker.popen.wait(5) == 0
    finally:
        worker.stop()
