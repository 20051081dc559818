"""WorkerPool (core/worker_pool.py) on its own: loop ids, stopping, a failing loop, the
connections a loop leaves."""

import threading

import pytest
import requests
from django_tasks_db.management.commands.db_worker import Worker

from orderdesk.core.worker_pool import WorkerPool
from orderdesk.impilo.client import thread_session
from tests.impilo.servers import KeepAliveServer


def test_each_loop_has_its_own_id_under_the_pool_name() -> None:
    pool = WorkerPool(3, interval=0.1, name="host-42")
    assert [w.worker_id for w in pool.workers] == ["host-42-t0", "host-42-t1", "host-42-t2"]


def test_a_pool_needs_a_thread() -> None:
    with pytest.raises(ValueError, match="at least one thread"):
        WorkerPool(0, interval=0.1)


def test_one_failing_loop_stops_the_others_and_the_pool_reports_it(monkeypatch) -> None:
    seen_stop = threading.Event()

    def run(self: Worker) -> None:
        if self.worker_id.endswith("-t0"):
            raise ValueError("a bug in a task loop")
        while self.running:  # the other loops: idle until stopped
            seen_stop.wait(0.01)

    monkeypatch.setattr(Worker, "run", run)
    pool = WorkerPool(3, interval=0.01, name="p", startup_delay=False)
    with pytest.raises(RuntimeError, match="task loop failed"):
        pool.run()
    assert pool.stopping.is_set()
    assert not any(w.running for w in pool.workers)


def test_a_loop_that_ends_closes_its_kept_alive_connection_to_impilo(monkeypatch) -> None:
    """Else the server's thread for that connection waits on it (and, for the sandbox under
    a live server, keeps a database connection open) as long as the process lives."""
    sessions: list[requests.Session] = []

    def run(self: Worker) -> None:
        session = thread_session()
        # Through the session's own connection pool; its send() wants an audited client.
        session.get_adapter(server.url).send(requests.Request("GET", server.url).prepare())
        assert session.adapters["http://"].poolmanager.pools  # type: ignore[attr-defined]
        sessions.append(session)
        self.running = False  # one pass, then the loop ends

    monkeypatch.setattr(Worker, "run", run)
    with KeepAliveServer(b"{}") as server:
        WorkerPool(1, interval=0.01, name="p", startup_delay=False).run()
    [session] = sessions
    assert not session.adapters["http://"].poolmanager.pools  # type: ignore[attr-defined]
