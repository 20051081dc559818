"""Connections to Impilo: a thread's clients share one kept-alive connection while calls
come close together (a worker draining a backlog), and start afresh after a pause."""

import threading
import time
from collections.abc import Iterator

import pytest

from orderdesk.audit.models import ApiCall
from orderdesk.impilo import client as client_module
from orderdesk.impilo.client import ImpiloClient, close_thread_session, thread_session
from tests.impilo.servers import KeepAliveServer

pytestmark = pytest.mark.django_db
PAGE = b'{"content": [], "page": 1, "size": 1, "total": 0, "first": true, "last": true}'


@pytest.fixture(autouse=True)
def fresh_thread_session(impilo_settings) -> Iterator[None]:
    close_thread_session()
    yield
    close_thread_session()


def list_orders_from_new_clients(url: str, count: int, pause: float = 0.0) -> None:
    for _ in range(count):
        with ImpiloClient(base_url=url) as client:
            client.list_orders(page=1, size=1)
        time.sleep(pause)


def test_clients_calling_in_a_burst_share_one_connection() -> None:
    with KeepAliveServer(PAGE) as server:
        list_orders_from_new_clients(server.url, 3)
    assert server.connection_of == [1, 1, 1]
    assert ApiCall.objects.filter(action="order_list", status_code=200).count() == 3


def test_a_connection_idle_past_the_limit_is_not_reused(monkeypatch) -> None:
    monkeypatch.setattr(client_module, "IDLE_SECONDS", 0.05)
    with KeepAliveServer(PAGE) as server:
        list_orders_from_new_clients(server.url, 2, pause=0.2)
    assert server.connection_of == [1, 2]


def test_a_new_client_sends_no_cookie_an_earlier_one_was_given() -> None:
    with KeepAliveServer(PAGE, headers={"Set-Cookie": "lb=node-7; Path=/"}) as server:
        with ImpiloClient(base_url=server.url) as client:
            client.list_orders(page=1, size=1)
            client.list_orders(page=2, size=1)  # within one client, as before: kept
        list_orders_from_new_clients(server.url, 1)
    assert [b"lb=node-7" in request for request in server.requests] == [False, True, False]


def test_each_thread_has_its_own_session_and_closing_starts_a_new_one() -> None:
    mine = thread_session()
    theirs: list[object] = []
    worker = threading.Thread(target=lambda: theirs.append(thread_session()))
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert theirs[0] is not mine
    assert thread_session() is mine
    close_thread_session()
    assert thread_session() is not mine
