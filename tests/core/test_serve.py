"""`make run`'s last step: the web server and the worker side by side, and Ctrl-C stops both."""

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings

PLANTED_NAME = "Quintessa Marlowe-Pym"
# The module's server fixture migrates a fresh database (up to 300 s on a busy machine).
pytestmark = pytest.mark.timeout(660)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> list[int]:
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(child) for child in found.stdout.split()]


def descendants(pid: int) -> list[int]:
    return [grandchild for child in children_of(pid) for grandchild in [child, *descendants(child)]]


def alive(pids: list[int]) -> list[int]:
    def running(pid: int) -> bool:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        return state != "Z"  # a zombie has stopped; only its parent has not reaped it

    return [pid for pid in pids if running(pid)]


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ["HOME"],
        "SQLITE_PATH": str(tmp_path_factory.mktemp("serve") / "db.sqlite3"),
        "DEBUG": "true",
        "IMPILO_SANDBOX": "false",  # no catalog sync: this is about the processes
    }
    manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, timeout=300)
    return env


@pytest.fixture
def serve(env, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path, list[int]]]:
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, settings.BASE_DIR / "manage.py", "serve", "--port", str(free_port())],
            cwd=tmp_path,  # serve must not depend on being started from the project folder
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal would give it
        )
    started: list[int] = []
    try:
        wait_for(lambda: b"Starting worker" in log.read_bytes() or process.poll() is not None, 90)
        assert b"orderdesk is up" in log.read_bytes(), log.read_text()
        started = descendants(process.pid)
        yield process, log, started
    finally:
        for pid in alive([process.pid, *started]):
            os.kill(pid, signal.SIGKILL)
        process.wait(10)


def test_serve_runs_the_web_server_and_the_worker(serve) -> None:
    _, _, started = serve
    commands = [command_line(pid) for pid in started]
    assert any("gunicorn orderdesk.wsgi" in command for command in commands), commands
    assert any("run_worker" in command for command in commands), commands


def test_the_terminals_ctrl_c_reaches_only_serve_which_stops_each_child_once(serve) -> None:
    process, _, _ = serve
    children = children_of(process.pid)
    assert len(children) == 2
    assert all(os.getpgid(child) != os.getpgid(process.pid) for child in children)


@pytest.mark.parametrize(
    "how",
    ["ctrl-c to the terminal's process group", "SIGTERM to serve", "SIGHUP to serve"],
)
def test_stopping_serve_stops_the_web_server_and_the_worker(serve, how: str) -> None:
    process, log, started = serve
    if how.startswith("ctrl-c"):
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGTERM if "SIGTERM" in how else signal.SIGHUP)
    process.wait(30)
    assert wait_for(lambda: not alive(started), 20), log.read_text()
    assert "Stopping" in log.read_text()
    # One signal each: the worker finishes its current task instead of abandoning it.
    assert "shutting down gracefully" in log.read_text()
    assert "terminating current task" not in log.read_text()


def test_the_access_log_has_paths_but_no_query_strings_or_referrers(serve) -> None:
    # Patient search is /orders/new/patients/?q=<name>: a query string in a log is a
    # patient name in a log. The referrer of a page after a search carries it too.
    _, log, _ = serve
    port = re.search(rb"Listening at: http://127\.0\.0\.1:(\d+)", log.read_bytes())
    assert port, log.read_text()
    base = f"http://127.0.0.1:{port.group(1).decode()}"
    query = "?" + urlencode({"q": PLANTED_NAME})
    for path in ("/orders/new/patients/", "/no-such-page/"):
        request = urllib.request.Request(
            base + path + query, headers={"Referer": f"{base}/orders/{query}"}
        )
        with contextlib.suppress(urllib.error.HTTPError):  # the 404, and login's answer
            urllib.request.urlopen(request, timeout=10).close()
    assert wait_for(lambda: b'"GET /no-such-page/" 404' in log.read_bytes(), 10), log.read_text()
    text = log.read_text()
    assert re.search(r'"GET /orders/new/patients/" 302 \d+ms', text), text
    assert "Not Found: /no-such-page/" in text  # Django's own line: the path only
    for leak in (PLANTED_NAME, "Quintessa", urlencode({"q": PLANTED_NAME})):
        assert leak not in text
