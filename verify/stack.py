"""The system under test: a fresh database, gunicorn and the task worker as subprocesses.

Everything runs on loopback with production settings (DEBUG off, static files collected,
the sandbox served by the same gunicorn). The database is SQLite in a temporary folder by
default; with DATABASE_URL set it is a private PostgreSQL server started for this run, so
that stopping it (the crash check) takes nobody else's database down.
"""

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from orderdesk.core import gunicorn_conf

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
MANAGE = str(ROOT / "manage.py")
# A value that must never leave orderdesk: it is the Impilo key for this whole run.
PLANTED_KEY = "vfy-key-" + secrets.token_hex(12)


def free_port() -> int:
    """A port free now (for PostgreSQL, which cannot share one: see held_port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_held: list[socket.socket] = []  # closed when verify ends


def held_port() -> int:
    """A port no one else is handed until verify ends: the picking socket stays bound with
    SO_REUSEPORT (never listening), and our gunicorns bind it too with --reuse-port, across
    every restart. Only listening sockets receive connections."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", 0))
    _held.append(sock)
    return int(sock.getsockname()[1])


class Database:
    kind = "base"
    restartable = False
    why_not_restartable = ""

    def env(self) -> dict[str, str]:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        raise NotImplementedError

    def destroy(self) -> None:
        pass

    def dump_text(self) -> bytes:
        raise NotImplementedError


class SqliteDatabase(Database):
    kind = "sqlite"
    why_not_restartable = (
        "SQLite is a file inside the app's own processes: there is no server to stop"
    )

    def __init__(self, folder: Path) -> None:
        self.path = folder / "orderdesk.sqlite3"

    def env(self) -> dict[str, str]:
        return {"SQLITE_PATH": str(self.path)}

    def dump_text(self) -> bytes:
        import sqlite3

        with sqlite3.connect(self.path) as conn:
            return "\n".join(conn.iterdump()).encode("utf-8", "replace")


def _pg_bin() -> Path | None:
    base = Path("/usr/lib/postgresql")
    versions = sorted(
        (p for p in base.glob("*/bin/initdb")), key=lambda p: int(p.parts[-3]), reverse=True
    )
    return versions[0].parent if versions else None


class PostgresServer(Database):
    """A throwaway PostgreSQL cluster in a temporary folder, on a free loopback port."""

    kind = "postgresql"
    restartable = True

    def __init__(self, folder: Path) -> None:
        bin_dir = _pg_bin()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL's server binaries are not installed")
        self.bin = bin_dir
        self.data = folder / "pgdata"
        self.port = free_port()
        self.log = folder / "postgresql.log"
        self.data.mkdir(parents=True)
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(folder, "postgres")
            shutil.chown(self.data, "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "verify")

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.data.parent)  # noqa: S603

    def env(self) -> dict[str, str]:
        return {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{self.port}/verify"}

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()

    def dump_text(self) -> bytes:
        command = [str(self.bin / "pg_dump"), "-h", "127.0.0.1", "-p", str(self.port)]
        command += ["-U", "postgres", "verify"]
        return subprocess.run(command, check=True, capture_output=True).stdout  # noqa: S603


def make_database(folder: Path) -> Database:
    if os.environ.get("DATABASE_URL"):
        return PostgresServer(folder)
    return SqliteDatabase(folder)


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        if not self.alive():
            return
        self.popen.send_signal(sig)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(timeout=10)


@dataclass
class Stack:
    folder: Path
    db: Database
    port: int = field(default_factory=held_port)
    # Impilo (the sandbox) on its own server, as the real one is: orderdesk's page threads
    # waiting on Impilo must not also be the threads Impilo needs to answer.
    impilo_port: int = field(default_factory=held_port)
    impilo: Process | None = None
    web_threads: int = gunicorn_conf.threads
    overrides: dict[str, str] = field(default_factory=dict)
    web: Process | None = None
    workers: list[Process] = field(default_factory=list)
    log_paths: list[Path] = field(default_factory=list)
    _worker_count: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("VERIFY_")
            and key not in ("DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
        }
        env.update(
            DJANGO_SETTINGS_MODULE="orderdesk.settings",
            PYTHONUNBUFFERED="1",
            DEBUG="false",
            SECRET_KEY=self._secret_key,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            PORT=str(self.port),
            IMPILO_SANDBOX="true",
            IMPILO_BASE_URL=f"http://127.0.0.1:{self.impilo_port}/sandbox/impilo",
            IMPILO_API_KEY=PLANTED_KEY,
            IMPILO_SANDBOX_API_KEY=PLANTED_KEY,
            IMPILO_WEBHOOK_SECRET=self._webhook_secret,
            # Loopback is plain HTTP; a TLS proxy is simulated by X-Forwarded-Proto.
            SECURE_SSL_REDIRECT="false",
            BEHIND_TLS_PROXY="true",
            STATIC_ROOT=str(self.folder / "static"),
            # Short waits, so retries, leases and the breaker all happen within minutes.
            ORDER_RETRY_BASE_SECONDS="0.2",
            ORDER_RETRY_MAX_SECONDS="2",
            ORDER_MAX_ATTEMPTS="6",
            ORDER_LEASE_SECONDS="5",
            IMPILO_CONNECT_TIMEOUT="1",
            IMPILO_READ_TIMEOUT="2",
            # A killed worker's pending audit row is recovered 1 + 2 + 15 s after its call.
            AUDIT_PENDING_GRACE_SECONDS="15",
            BREAKER_COOL_OFF_SECONDS="2",
            # Above the load check's 10 s read timeout: "absent" only once a create is over.
            ORDER_ABSENT_AFTER_SECONDS="15",
            # A task lost with the database (claimed, then the connection died) is replaced
            # after this: the restart check allows 120 s to settle.
            ORDER_STALE_SECONDS="20",
            # No background status sync: each check counts sandbox requests against audit
            # rows, so calls must happen only when a check causes them.
            ORDER_SYNC_MIN_SECONDS="864000",
            ORDER_SYNC_MAX_SECONDS="864000",
            LOG_LEVEL="INFO",
        )
        env.update(self.db.env())
        env.update(self.overrides)
        env.update(extra)
        return env

    def __post_init__(self) -> None:
        self._secret_key = secrets.token_urlsafe(50)
        self._webhook_secret = "vfy-hook-" + secrets.token_hex(16)

    @property
    def webhook_secret(self) -> str:
        return self._webhook_secret

    def manage(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(  # noqa: S603
            [PYTHON, MANAGE, *args],
            env=env or self.env(),
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def prepare(self, patients: int = 600) -> None:
        self.manage("migrate", "--noinput")
        self.manage("createcachetable")
        self.manage("seed_sandbox", "--patients", str(patients))
        self.manage("collectstatic", "--noinput", "-v0")

    # --- gunicorn ---------------------------------------------------------------------

    def start_web(self) -> None:
        if self.impilo is None or not self.impilo.alive():
            self.impilo = self._gunicorn("impilo", self.impilo_port, workers=2, threads=8)
        self.web = self._gunicorn("gunicorn", self.port, threads=self.web_threads)

    def _gunicorn(
        self, name: str, port: int, *, threads: int, workers: int | None = None
    ) -> Process:
        log = self.folder / f"{name}.log"
        access = self.folder / ("access.log" if name == "gunicorn" else f"{name}-access.log")
        self.log_paths += [p for p in (log, access) if p not in self.log_paths]
        # The Dockerfile's command (its settings: core/gunicorn_conf.py, whose access-log
        # format leaves out query strings), plus an access log: status codes count 500 pages.
        command = [PYTHON, "-m", "gunicorn", "orderdesk.wsgi", "--chdir", str(ROOT)]
        command += ["--config", "python:orderdesk.core.gunicorn_conf"]
        command += ["--bind", f"127.0.0.1:{port}", "--reuse-port", "--threads", str(threads)]
        command += ["--workers", str(workers)] if workers else []
        command += ["--access-logfile", str(access)]
        handle = log.open("ab")
        popen = subprocess.Popen(  # noqa: S603
            command, env=self.env(), cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT
        )
        process = Process(name, popen, log)
        self._wait_until_up(process, port)
        return process

    def _wait_until_up(self, process: Process, port: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not process.alive():
                raise RuntimeError(f"{process.name} stopped; see {process.log}")
            try:
                url = f"http://127.0.0.1:{port}/healthz"
                with urllib.request.urlopen(url, timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"{process.name} did not answer /healthz in time")

    def stop_web(self) -> None:
        if self.web:
            self.web.stop()
            self.web = None

    def restart(self, **overrides: str) -> None:
        """Both processes again, with these settings instead (e.g. longer timeouts)."""
        self.stop_workers()
        self.stop_web()
        self.overrides = dict(overrides)
        self.start_web()
        self.start_worker()

    # --- the worker ---------------------------------------------------------------------

    def start_worker(self, *, periodic: bool = True, **extra: str) -> Process:
        self._worker_count += 1
        log = self.folder / "worker.log"
        if log not in self.log_paths:
            self.log_paths.append(log)
        handle = log.open("ab")
        popen = subprocess.Popen(  # noqa: S603
            [PYTHON, MANAGE, "run_worker", "--interval", "0.1"]
            + ([] if periodic else ["--no-periodic"]),
            env=self.env(**extra),
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        process = Process(f"worker-{self._worker_count}", popen, log)
        self.workers.append(process)
        return process

    def stop_workers(self, sig: int = signal.SIGTERM) -> None:
        for worker in self.workers:
            worker.stop(sig)
        self.workers = []

    def kill_workers(self) -> None:
        for worker in self.workers:
            if worker.alive():
                worker.popen.send_signal(signal.SIGKILL)
                worker.popen.wait(timeout=10)
        self.workers = []

    def worker_starts(self) -> int:
        """How many workers have logged that their task loop began."""
        path = self.folder / "worker.log"
        return path.read_bytes().count(b"Starting worker") if path.exists() else 0

    def shutdown(self) -> None:
        self.stop_workers()
        self.stop_web()
        if self.impilo:
            self.impilo.stop()

    def logs_text(self) -> bytes:
        return b"\n".join(p.read_bytes() for p in self.log_paths if p.exists())

    def access_log_size(self) -> int:
        path = self.folder / "access.log"
        return path.stat().st_size if path.exists() else 0

    def server_errors_since(self, offset: int) -> list[str]:
        """5xx answers of orderdesk's own pages (the sandbox's injected ones excluded)."""
        path = self.folder / "access.log"
        if not path.exists():
            return []
        with path.open("rb") as handle:
            handle.seek(offset)
            lines = handle.read().decode("utf-8", "replace").splitlines()
        errors = []
        for line in lines:
            parts = line.split('"')
            if len(parts) < 3:
                continue
            request, rest = parts[1], parts[2].split()
            status = rest[0] if rest else ""
            if status.startswith("5") and " /sandbox/impilo/api/" not in f" {request}":
                errors.append(f"{request} -> {status}")
        return errors
