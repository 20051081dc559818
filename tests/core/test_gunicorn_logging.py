"""gunicorn's error log, run for real with the shared config: a failed request's query
string (a patient name) never reaches it, the path does."""

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

from orderdesk.core.gunicorn_logging import without_query
from tests.support.ports import REUSE_PORT_ARG, held_port

ROOT = Path(settings.BASE_DIR)
NAME = "Marisol Quenneville"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Error handling request GET /orders/export/?q=Maria&state=failed",
         "Error handling request GET /orders/export/?…"),
        ("Invalid HTTP request line: 'GET /x?q=Maria Lopez HTTP/1.1'",
         "Invalid HTTP request line: 'GET /x?… HTTP/1.1'"),
        ("[WARNING] Invalid request from ip=127.0.0.1: Invalid HTTP Version: 'Lopez HTTP/1.1'",
         "[WARNING] Invalid request from ip=127.0.0.1: Invalid HTTP Version: '…'"),
        ("Booting worker with pid: 12", "Booting worker with pid: 12"),
    ],
)  # fmt: skip
def test_query_strings_are_cut_from_a_line(line, expected) -> None:
    assert without_query(line) == expected


def wait_for(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert server.poll() is None, "gunicorn exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("gunicorn did not start")


def raw_request(port: int, request_line: str) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"{request_line}\r\nHost: x\r\n\r\n".encode())
        sock.recv(4096)


def test_the_error_log_names_the_path_of_a_failed_request_but_not_its_query() -> None:
    port = held_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "python:orderdesk.core.gunicorn_conf",
         "--workers", "1", "--threads", "2", "--bind", f"127.0.0.1:{port}", REUSE_PORT_ARG,
         "--error-logfile", "-", "tests.core.failing_wsgi:application"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_for(port, server)
        query = urllib.parse.quote(NAME)
        with pytest.raises(urllib.error.HTTPError):  # a 500 from gunicorn itself
            urllib.request.urlopen(f"http://127.0.0.1:{port}/orders/new/patients/?q={query}")
        raw_request(port, f"GET /orders/new/patients/?q={NAME} HTTP/1.1")
    finally:
        server.terminate()
        log, _ = server.communicate(timeout=30)
    assert "Error handling request GET /orders/new/patients/?…" in log
    assert "Invalid request from ip=127.0.0.1: Invalid HTTP Version: '…'" in log
    assert "RuntimeError: the database connection went away" in log  # the traceback stays
    for part in (NAME, "Marisol", "Quenneville", "Marisol%20Quenneville"):
        assert part not in log
