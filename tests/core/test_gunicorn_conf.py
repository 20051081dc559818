"""gunicorn's shared settings (core/gunicorn_conf.py), as gunicorn itself reads them from the
Dockerfile's command, and the other ways of serving orderdesk taking the same ones."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests.test_dockerfile import exec_form, final_stage

ROOT = Path(settings.BASE_DIR)
CONFIG = "python:orderdesk.core.gunicorn_conf"
POSTGRES_DEFAULT_MAX_CONNECTIONS = 100


def effective_settings() -> dict[str, str]:
    """What gunicorn would run with: the Dockerfile's CMD plus --print-config."""
    command = exec_form(next(a for k, a in final_stage() if k == "CMD"))
    assert command[0] == "gunicorn"
    printed = subprocess.run(
        [sys.executable, "-m", *command, "--print-config"],
        cwd=ROOT,  # the image's WORKDIR holds the project
        env={"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    found = {}
    for line in printed.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            found[name.strip()] = value.strip()
    return found


def test_pages_get_sixteen_threads_per_process_within_postgresqls_connections() -> None:
    served = effective_settings()
    workers, threads = int(served["workers"]), int(served["threads"])
    # A slow Impilo holds one thread per patient search: 16 leave room for other pages.
    assert threads == 16
    assert workers == 2  # a 2-core host
    # Each thread keeps its own connection; two task workers (WORKER_THREADS task loops +
    # the periodic jobs each) and verify's sandbox server (2 x 8) need theirs too, with a
    # good 40 % of PostgreSQL's default to spare.
    task_workers = 2 * (settings.WORKER_THREADS + 1)
    assert workers * threads + task_workers + 2 * 8 <= POSTGRES_DEFAULT_MAX_CONNECTIONS * 0.6


def test_the_access_log_format_has_method_path_status_and_time_but_no_query() -> None:
    log_format = effective_settings()["access_log_format"]
    for part in ("%(m)s", "%(U)s", "%(s)s", "%(M)s"):
        assert part in log_format
    for leaky in ("%(r)s", "%(q)s", "%(f)s", "%(u)s", "{"):  # request line, query, referrer
        assert leaky not in log_format


def test_no_control_socket_for_processes_on_the_host_to_share_or_misuse() -> None:
    assert effective_settings()["control_socket_disable"] == "True"


def test_every_way_of_serving_takes_the_shared_settings() -> None:
    for launcher in (
        "Dockerfile",
        "orderdesk/core/management/commands/serve.py",
        "bench/server.py",
        "verify/stack.py",
    ):
        text = (ROOT / launcher).read_text()
        assert CONFIG in text, launcher
        assert "--access-logformat" not in text, launcher
