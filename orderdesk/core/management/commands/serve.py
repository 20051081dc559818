"""`make run`: the web server and the task worker together; Ctrl-C stops both."""

import signal
import subprocess
import sys
import time
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

GUNICORN_CONFIG = "python:orderdesk.core.gunicorn_conf"


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop_gracefully(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    # One SIGTERM each: gunicorn finishes its requests, the worker its current task. A
    # second signal would make the worker abandon that task, hence the children's own
    # process groups: Ctrl-C reaches only this process, which stops each child once.
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    try:
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    except KeyboardInterrupt:  # Ctrl-C again: stop now
        for process in processes.values():
            process.kill()


class Command(BaseCommand):
    help = "Run gunicorn and the task worker side by side (development and demo)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, port: int, **options: Any) -> None:
        # Ctrl-C, `kill` and a closed terminal all stop the children through this process.
        # SIGINT is set explicitly because a shell starting us in the background ignores it.
        for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(stop_signal, _stop)
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        # Workers, threads and a log format without query strings: core/gunicorn_conf.py.
        # Threads also matter here because orderdesk calls the sandbox it serves itself.
        web = subprocess.Popen(  # noqa: S603
            [
                python,
                "-m",
                "gunicorn",
                "orderdesk.wsgi",
                "--config",
                GUNICORN_CONFIG,
                "--chdir",
                str(settings.BASE_DIR),
                "--bind",
                f"127.0.0.1:{port}",
                "--access-logfile",
                "-",
            ],
            cwd=settings.BASE_DIR,  # gunicorn imports its --config before it applies --chdir
            process_group=0,
        )
        processes = {"web": web}
        try:
            self._wait_until_up(port, web)
            if settings.IMPILO_SANDBOX_ENABLED or settings.IMPILO_API_KEY:
                self._sync_catalog()
            processes["worker"] = subprocess.Popen(  # noqa: S603
                [python, manage, "run_worker"], process_group=0
            )
            self.stdout.write(self.style.SUCCESS(f"orderdesk is up at http://127.0.0.1:{port}/"))
            self.stdout.flush()  # visible at once even when the output goes to a file or pipe
            while all(p.poll() is None for p in processes.values()):
                time.sleep(0.5)
            raise CommandError("A process stopped on its own; stopping the other.")
        except KeyboardInterrupt:
            self.stdout.write("Stopping…")
        finally:
            _stop_gracefully(processes)

    def _sync_catalog(self) -> None:
        # An Impilo that is down must not keep people from signing in and seeing history.
        try:
            call_command("sync_catalog")
        except Exception as exc:
            self.stderr.write(f"Catalog sync failed, keeping the catalog as it was: {exc}")

    def _wait_until_up(self, port: int, web: subprocess.Popen[bytes]) -> None:
        url = f"http://127.0.0.1:{port}/healthz"
        for _ in range(120):
            if web.poll() is not None:
                raise CommandError("The web server did not start (is the port in use?).")
            try:
                with urllib.request.urlopen(url, timeout=2):
                    return
            except OSError:
                time.sleep(0.25)
        raise CommandError("The web server did not answer /healthz within 30 seconds.")
