"""latest.json and the printed table: every figure by size, and the issue's targets checked."""

import json
import os
import platform
import socket
import subprocess
from pathlib import Path
from typing import Any

from django.db import connection

PAGE_FIGURES = [
    "floor", "badge", "history", "history_cold", "history_state", "history_search", "detail",
    "detail_requests", "attention", "audit", "audit_filtered", "admin", "admin_search",
    "picker",
]  # fmt: skip
TARGET_PAGES = [
    "history", "history_cold", "history_state", "history_search", "detail", "detail_requests",
    "attention", "audit", "audit_filtered",
]  # fmt: skip


def machine() -> dict[str, Any]:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kb = int(line.split()[1])
    return {
        "hostname": socket.gethostname(),
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def code_version() -> dict[str, Any]:
    """The commit measured, and whether the tree had uncommitted changes (others' work)."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        run = subprocess.run(  # noqa: S603 -- git, from PATH, fixed arguments
            ["git", *args],  # noqa: S607
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        )
        return run.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def database() -> dict[str, str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
        else:
            cursor.execute("SELECT sqlite_version()")
        version = str(cursor.fetchone()[0])
    return {"vendor": connection.vendor, "version": version}


def by_size(figures: dict[str, dict[str, Any]], key: str) -> dict[int, Any]:
    return {int(size): value for size, value in figures.get(key, {}).items()}


def targets(figures: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets, judged at the largest and smallest sizes measured."""
    checks: list[dict[str, Any]] = []

    def check(name: str, value: Any, ok: bool) -> None:
        checks.append({"target": name, "value": value, "ok": ok})

    for key in TARGET_PAGES:
        sizes = by_size(figures, key)
        if not sizes:
            continue
        big, small = sizes[max(sizes)], sizes[min(sizes)]
        check(f"{key} p95 ≤ 50 ms at {max(sizes):,}", big["p95"], big["p95"] <= 50)
        if len(sizes) > 1:
            ratio = round(big["p95"] / small["p95"], 2)
            check(f"{key} p95 at {max(sizes):,} ≤ 1.5 × at {min(sizes):,}", ratio, ratio <= 1.5)
    for ours, theirs in (("history", "admin"), ("history_search", "admin_search")):
        mine, stock = by_size(figures, ours), by_size(figures, theirs)
        if mine and stock:
            size = max(mine)
            ratio = round(stock[size]["p50"] / mine[size]["p50"], 1)
            check(f"{ours} ≥ 10 × faster (p50) than {theirs} at {size:,}", ratio, ratio >= 10)
    history, floor = by_size(figures, "history"), by_size(figures, "floor")
    for size in sorted(set(history) & set(floor)):
        ratio = round(history[size]["p50"] / floor[size]["p50"], 1)
        check(f"history p50 ≤ 3 × floor at {size:,}", ratio, ratio <= 3)
    for export in by_size(figures, "export").values():
        if export["rows"] >= 100_000:
            check("export of 100,000 ≤ 10 s", export["seconds_max"], export["seconds_max"] <= 10)
            check("export peak RSS ≤ 150 MB", export["peak_rss_mb"], export["peak_rss_mb"] <= 150)
    for size, pipe in by_size(figures, "pipeline").items():
        rate = pipe["one_worker"]["orders_per_s"]
        check(f"pipeline ≥ 50 orders/s per worker at {size:,}", rate, rate >= 50)
        wait = pipe["queued_to_first_attempt"]["p95"]
        check(f"queued-to-first-attempt p95 ≤ 2 s at {size:,}", wait, wait <= 2000)
    for size, weight in by_size(figures, "weight").items():
        total = weight["total"]
        check(f"New order first visit ≤ 150 KB at {size:,}", total, total <= 150 * 1024)
        break
    return checks


def write(path: Path, results: dict[str, Any]) -> None:
    results["targets"] = targets(results["figures"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


def _page_cell(figure: dict[str, Any]) -> str:
    cpu = f" ({figure['server_cpu_ms']:.0f})" if "server_cpu_ms" in figure else ""
    return f"{figure['p50']:.1f} / {figure['p95']:.1f}{cpu}"


def table(results: dict[str, Any]) -> str:
    sizes = [str(size) for size in results["sizes"]]
    figures = results["figures"]
    width = 30
    lines = [
        f"orderdesk bench · {results['date']} · {results['machine']['cpus']} CPUs "
        f"{results['machine']['cpu_model']} · {results['database']['vendor']} "
        f"{results['database']['version']}",
        "figure".ljust(18) + "".join(f"{int(size):>{width},}" for size in sizes),
        "(pages: p50 / p95 ms, server CPU ms per request)",
    ]
    for key in PAGE_FIGURES:
        row = figures.get(key, {})
        cells = [_page_cell(row[s]) if s in row else "—" for s in sizes]
        lines.append(key.ljust(18) + "".join(cell.rjust(width) for cell in cells))
    extra = {
        "export (100k)": lambda v: f"{v['seconds_max']:.1f} s {v['peak_rss_mb']:.0f} MB",
        "export rows": lambda v: f"{v['rows']:,}",
        "pipeline x1": lambda v: f"{v['one_worker']['orders_per_s']} orders/s",
        "pipeline x2": lambda v: f"{v['two_workers']['orders_per_s']} orders/s",
        "first attempt": lambda v: "{p50:.0f} / {p95:.0f} ms".format(
            **v["queued_to_first_attempt"]
        ),
        "weight": lambda v: f"{v['total'] / 1024:.1f} KB",
        "audit/order": lambda v: "{rows_per_order} rows {bytes_per_order:,} B".format(
            **v["storage"]
        ),
        "audit/delivered": lambda v: (
            "{rows_per_delivered_order} rows {bytes_per_delivered_order:,} B".format(**v["storage"])
        ),
        "calls/life": lambda v: "{} / {} webhooks".format(
            v["calls"]["without_webhooks"]["delivered_mean"],
            v["calls"]["with_webhooks"]["delivered_mean"],
        ),
        "sync": lambda v: "{orders_per_second} /s (need {needed_for_100k_open_per_second})".format(
            **v.get("sync", {"orders_per_second": "—", "needed_for_100k_open_per_second": "—"})
        ),
    }
    sources = {
        "export (100k)": "export",
        "export rows": "export",
        "pipeline x1": "pipeline",
        "pipeline x2": "pipeline",
        "first attempt": "pipeline",
        "weight": "weight",
        "audit/order": "tracking",
        "audit/delivered": "tracking",
        "calls/life": "tracking",
        "sync": "tracking",
    }
    for label, show in extra.items():
        row = figures.get(sources[label], {})
        cells = [show(row[s]) if s in row else "—" for s in sizes]
        lines.append(label.ljust(18) + "".join(cell.rjust(width) for cell in cells))
    lines.append("")
    for check in results.get("targets", []):
        lines.append(f"{'ok  ' if check['ok'] else 'MISS'} {check['target']}: {check['value']}")
    return "\n".join(lines)
