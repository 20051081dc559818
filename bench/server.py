"""The bench's own database, gunicorn and worker processes, with production settings.

The server runs with DEBUG off (compressed, hashed static files from a collectstatic into a
temporary STATIC_ROOT), the built-in sandbox as Impilo on the same port, and plain HTTP on
loopback: SECURE_SSL_REDIRECT is off, everything else is as in production.
"""

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_KEY = "bench-sandbox-key"  # the sandbox's own key, loopback only
# Workers, threads and the access-log format as every other way orderdesk is served.
GUNICORN_CONFIG = "python:orderdesk.core.gunicorn_conf"


@dataclass(frozen=True)
class Database:
    """Where the bench data lives: never the dev database, dropped and made for each size."""

    vendor: str  # "sqlite" or "postgresql"
    location: str  # a file path, or a database URL

    @classmethod
    def choose(cls, database_url: str, sqlite_path: str, pg_name: str) -> "Database":
        if not database_url:
            return cls("sqlite", sqlite_path)
        if not database_url.startswith(("postgres://", "postgresql://")):
            raise SystemExit("bench: DATABASE_URL must be PostgreSQL (or unset for SQLite).")
        if "bench" not in pg_name:
            raise SystemExit("bench: the database name must contain 'bench'; it is dropped.")
        parts = urlsplit(database_url)
        return cls("postgresql", urlunsplit(parts._replace(path="/" + pg_name)))

    @property
    def label(self) -> str:
        return self.location if self.vendor == "sqlite" else urlsplit(self.location).path[1:]

    def env(self) -> dict[str, str]:
        if self.vendor == "sqlite":
            return {"SQLITE_PATH": self.location}
        return {"DATABASE_URL": self.location}

    def recreate(self) -> None:
        if self.vendor == "sqlite":
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(self.location + suffix).unlink(missing_ok=True)
            return
        import psycopg

        parts = urlsplit(self.location)
        name = parts.path[1:]
        admin_url = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_env(database: Database, port: int, static_root: str) -> dict[str, str]:
    """Production settings for every process of the bench (this one, gunicorn, workers)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    env.update(database.env())
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        IMPILO_SANDBOX="true",
        IMPILO_SANDBOX_API_KEY=SANDBOX_KEY,
        IMPILO_API_KEY=SANDBOX_KEY,
        IMPILO_BASE_URL=f"http://127.0.0.1:{port}/sandbox/impilo",
        PORT=str(port),
        STATIC_ROOT=static_root,
        LOG_LEVEL="WARNING",
    )
    return env


class Processes:
    """gunicorn and task workers started by the bench, stopped by their own pids."""

    def __init__(self, env: dict[str, str], port: int, log_dir: Path) -> None:
        self.env, self.port, self.log_dir = env, port, log_dir
        self.web: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_web(self) -> None:
        log = (self.log_dir / "gunicorn.log").open("ab")
        self.web = subprocess.Popen(  # noqa: S603
            [
                sys.executable, "-m", "gunicorn", "orderdesk.wsgi", "--chdir", str(ROOT),
                "--config", GUNICORN_CONFIG, "--bind", f"127.0.0.1:{self.port}",
                "--timeout", "600",
            ],
            env=self.env, stdout=log, stderr=subprocess.STDOUT,
            cwd=ROOT,  # gunicorn imports its --config before it applies --chdir
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while True:
            if self.web.poll() is not None:
                raise SystemExit(f"bench: gunicorn stopped; see {self.log_dir / 'gunicorn.log'}")
            try:
                if requests.get(self.base_url + "/healthz", timeout=5).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass  # not up yet, or too busy to answer yet (a loaded machine)
            if time.monotonic() > deadline:
                raise SystemExit("bench: gunicorn did not answer /healthz within 60 s")
            time.sleep(0.2)

    def web_workers(self) -> list[int]:
        """The pids of gunicorn's worker processes (children of its master)."""
        assert self.web is not None
        return children(self.web.pid)

    def start_workers(self, count: int) -> None:
        log = (self.log_dir / "worker.log").open("ab")
        for _ in range(count):
            self.workers.append(
                subprocess.Popen(  # noqa: S603
                    [sys.executable, str(ROOT / "manage.py"), "run_worker", "--no-periodic"],
                    cwd=ROOT,
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )

    def stop_workers(self) -> None:
        _stop(self.workers)
        self.workers = []

    def stop(self) -> None:
        self.stop_workers()
        if self.web is not None:
            _stop([self.web])
            self.web = None


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: split after it.
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far (all their threads)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def reset_peak_rss(pid: int) -> bool:
    """Start a fresh high-water mark (Linux: `echo 5 > clear_refs`); False if refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0
