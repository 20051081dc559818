"""`make run`'s last step: the web server and the worker side by side, and Ctrl-C stops both."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def group_members(pgid: int) -> list[int]:
    found = subprocess.run(["ps", "-o", "pid=", "-g", str(pgid)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ["HOME"],
        "SQLITE_PATH": str(tmp_path_factory.mktemp("serve") / "db.sqlite3"),
        "IMPILO_SANDBOX": "false",  # no catalog sync: this is about the processes
    }
    manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, timeout=300)
    return env


@pytest.fixture
def serve(env, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
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
    try:
        wait_for(lambda: b"Starting worker" in log.read_bytes() or process.poll() is not None, 90)
        assert b"orderdesk is up" in log.read_bytes(), log.read_text()
        yield process, log
    finally:
        for pid in group_members(process.pid):
            os.kill(pid, signal.SIGKILL)
        process.wait(10)


def children_of(pid: int) -> list[int]:
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(child) for child in found.stdout.split()]


def test_serve_runs_the_web_server_and_the_worker(serve) -> None:
    process, _ = serve
    commands = [
        Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        for pid in children_of(process.pid)
    ]
    assert any(b"gunicorn orderdesk.wsgi" in command for command in commands), commands
    assert any(b"run_worker" in command for command in commands), commands


@pytest.mark.parametrize(
    "how",
    ["ctrl-c to the terminal's process group", "SIGTERM to serve", "SIGINT to serve"],
)
def test_stopping_serve_stops_the_web_server_and_the_worker(serve, how: str) -> None:
    process, log = serve
    assert len(group_members(process.pid)) >= 3
    if how.startswith("ctrl-c"):
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGTERM if "SIGTERM" in how else signal.SIGINT)
    process.wait(30)
    assert wait_for(lambda: not group_members(process.pid), 20), log.read_text()
    # The worker is asked to finish its current task, not to abandon it.
    assert "shutting down gracefully" in log.read_text()
    assert "terminating current task" not in log.read_text()
