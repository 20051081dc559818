"""A tiny run of `make bench`, so the benchmark cannot rot: it must build a dataset, serve
it with gunicorn, measure every figure and write latest.json in the documented shape.

Always on SQLite in a temporary folder: the bench drops and recreates its database.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from bench.report import PAGE_FIGURES

SIZE = "200"
REQUESTS = 3
PIPELINE_ORDERS = 6


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("bench")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    out = tmp / "latest.json"
    command = [
        sys.executable, "bench/run.py", "--sizes", SIZE, "--requests", str(REQUESTS),
        "--warmup", "1", "--patients", "500", "--pipeline-orders", str(PIPELINE_ORDERS),
        "--export-runs", "1", "--sync-orders", "5", "--out", str(out),
        "--sqlite-path", str(tmp / "bench.sqlite3"),
        "--static-root", str(tmp / "static"), "--log-dir", str(tmp / "logs"),
    ]  # fmt: skip
    run = subprocess.run(
        command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=180,
        check=False,
    )  # fmt: skip
    logs = "\n".join(path.read_text() for path in (tmp / "logs").glob("*.log"))
    assert run.returncode == 0, run.stdout + run.stderr + logs
    assert "orderdesk bench" in run.stdout  # the printed table
    return json.loads(Path(out).read_text())


def test_bench_names_machine_date_database_and_sizes(results) -> None:
    assert results["machine"]["cpus"] >= 1
    assert results["date"][:2] == "20"
    assert results["database"]["vendor"] == "sqlite"
    assert results["sizes"] == [int(SIZE)]
    assert results["datasets"][SIZE]["rows"]["orders.Order"] == int(SIZE)


def test_bench_times_every_page_figure_with_p50_and_p95(results) -> None:
    for key in PAGE_FIGURES:
        figure = results["figures"][key][SIZE]
        assert figure["n"] == REQUESTS, key
        assert 0 < figure["p50"] <= figure["p95"], key


def test_bench_exports_every_order_and_reads_the_servers_peak_memory(results) -> None:
    export = results["figures"]["export"][SIZE]
    assert export["rows"] == int(SIZE)
    assert export["seconds_p50"] > 0
    assert export["peak_rss_mb"] > 20  # a Django process, not an empty reading


def test_bench_sends_every_pipeline_order_with_one_worker_and_two(results) -> None:
    pipeline = results["figures"]["pipeline"][SIZE]
    for workers in ("one_worker", "two_workers"):
        assert pipeline[workers]["submitted"] == PIPELINE_ORDERS
        assert pipeline[workers]["orders_per_s"] > 0
    latency = pipeline["queued_to_first_attempt"]
    assert latency["submitted"] == latency["orders"]
    assert 0 < latency["p50"] <= latency["p95"]


def test_bench_weighs_the_new_order_page_with_its_compressed_assets(results) -> None:
    weight = results["figures"]["weight"][SIZE]
    assert any(path.endswith(".css") for path in weight["assets"])
    assert any(path.endswith(".js") for path in weight["assets"])
    # whitenoise serves the collected .gz files: what a browser downloads, not the originals
    assert all(asset["encoding"] == "gzip" for asset in weight["assets"].values())
    assert weight["total"] == weight["html"] + sum(a["bytes"] for a in weight["assets"].values())


def test_bench_checks_the_issues_targets(results) -> None:
    checked = {check["target"].split(" ")[0] for check in results["targets"]}
    assert {"history", "detail", "attention", "audit", "pipeline", "New"} <= checked


def test_bench_measures_what_status_tracking_costs(results) -> None:
    tracking = results["figures"]["tracking"][SIZE]
    storage = tracking["storage"]
    assert storage["audit_bytes"] > 0
    assert storage["rows_per_order"] > 2  # creates and the status fetches of each life
    calls = tracking["calls"]
    assert calls["with_webhooks"]["delivered_mean"] < calls["without_webhooks"]["delivered_mean"]
    assert tracking["sync"]["stored"] == 5
    assert tracking["sync"]["orders_per_second"] > 0
