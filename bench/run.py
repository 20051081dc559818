"""`make bench`: for each size, build a fresh dataset, serve it with gunicorn, measure it.

    .venv/bin/python bench/run.py --sizes 10000,100000
    .venv/bin/python bench/run.py --sizes 10000 --figures pipeline
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python bench/run.py

Without DATABASE_URL the data lives in a SQLite file in /tmp; with it, in a database named
`bench` on that PostgreSQL server (never the database the URL names: it is dropped and
made again for every size). Prints a table and writes bench/results/latest.json.
"""

import argparse
import io
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ("pages", "export", "weight", "pipeline", "tracking")
TMP = Path(tempfile.gettempdir())


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="orders, comma-separated")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests per page first")
    parser.add_argument("--patients", type=int, default=100_000, help="sandbox patients")
    parser.add_argument("--pipeline-orders", type=int, default=300)
    parser.add_argument("--export-runs", type=int, default=3)
    parser.add_argument(
        "--sync-orders", type=int, default=200, help="orders the tracking figure's sync refreshes"
    )
    parser.add_argument(
        "--out",
        help="default bench/results/latest.json (all figures) or "
        "latest-<figures>.json (some), so a partial run keeps the full one",
    )
    parser.add_argument("--sqlite-path", default=str(TMP / "orderdesk-bench.sqlite3"))
    parser.add_argument("--static-root", default=str(TMP / "orderdesk-bench-static"))
    parser.add_argument("--log-dir", default=str(TMP / "orderdesk-bench-logs"))
    parser.add_argument(
        "--figures",
        default=",".join(FIGURES),
        help=f"which to measure, comma-separated: {', '.join(FIGURES)} (default: all)",
    )
    parser.add_argument("--pg-name", default="bench", help="PostgreSQL database to (re)create")
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="measure the data the last run left if it has this size (one size only)",
    )
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(size.replace("_", "")) for size in args.sizes.split(",") if size]
    except ValueError:
        parser.error("--sizes takes whole numbers, e.g. 10000,100000")
    if not args.sizes or min(args.sizes) < 20:
        parser.error("--sizes needs at least 20 orders per size")
    args.figures = [name for name in args.figures.split(",") if name]
    unknown = sorted(set(args.figures) - set(FIGURES))
    if unknown or not args.figures:
        parser.error(f"--figures takes some of {', '.join(FIGURES)}; not {', '.join(unknown)}")
    if args.out is None:
        some = "" if set(args.figures) == set(FIGURES) else "-" + "-".join(args.figures)
        args.out = str(ROOT / "bench" / "results" / f"latest{some}.json")
    if args.reuse_data and len(args.sizes) > 1:
        parser.error("--reuse-data measures one size: the database holds one dataset")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from bench.server import Database, bench_env, free_port

    database = Database.choose(os.environ.get("DATABASE_URL", ""), args.sqlite_path, args.pg_name)
    port = free_port()
    env = bench_env(database, port, args.static_root)
    for name in ("DATABASE_URL", "SQLITE_PATH"):
        os.environ.pop(name, None)
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from bench import report
    from orderdesk.core import gunicorn_conf

    print(f"bench: {database.vendor} database {database.label}; collecting static files")
    call_command("collectstatic", "--noinput", verbosity=0)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": report.machine(),
        "code": report.code_version(),
        "database": {"vendor": database.vendor},
        "sizes": [],
        "settings": {
            "requests_per_page": args.requests,
            "warmup_per_page": args.warmup,
            "gunicorn": (
                f"{gunicorn_conf.workers} workers × {gunicorn_conf.threads} threads (gthread), "
                "DEBUG off, loopback HTTP"
            ),
            # Each run_worker process of the pipeline figure runs the shipped default.
            "worker_threads": settings.WORKER_THREADS,
            "sandbox_patients": args.patients,
            "pipeline_orders": args.pipeline_orders,
            "figures": args.figures,
        },
        "datasets": {},
        "figures": {},
    }
    out = Path(args.out)
    for size in args.sizes:
        measure_size(size, args, database, env, port, results)
        report.write(out, results)
    print()
    print(report.table(results))
    print(f"\nbench: wrote {out}")
    return 0


def measure_size(
    size: int,
    args: argparse.Namespace,
    database: Any,
    env: dict[str, str],
    port: int,
    results: dict[str, Any],
) -> None:
    from django.core.management import call_command
    from django.db import connections

    from bench import data, figures, pipeline, report, tracking
    from bench.client import Client
    from bench.server import Processes

    print(f"\nbench: {size:,} orders")
    dataset = data.existing(size) if args.reuse_data else None
    if dataset is None:
        connections.close_all()
        database.recreate()
        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)
        dataset = data.generate(size, args.patients)
        print(f"  generated in {dataset.seconds:.0f} s: {dataset.rows}")
    else:
        print("  measuring the data the last run left (--reuse-data)")
        # Code under test may bring migrations (an index): measure with them applied.
        call_command("migrate", verbosity=0)
    results["database"] = report.database() | {"name": database.label}
    results["datasets"][str(size)] = {
        "seconds": round(dataset.seconds, 1),
        "rows": dataset.rows,
        "reused": not dataset.rows,
    }
    # Storage and calls first: they need no server, and other figures add rows of their own.
    costs = {"tracking": tracking.measure_costs()} if "tracking" in args.figures else {}
    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    server = Processes(env, port, log_dir)
    load_before = os.getloadavg()
    server.start_web()
    try:
        # The New order page's items and kits, learned from the sandbox as in production.
        call_command("sync_catalog", stdout=io.StringIO())
        client = Client(server.base_url)
        client.login(data.BENCH_USER, data.BENCH_PASSWORD)
        found: dict[str, Any] = dict(costs)
        if "pages" in args.figures:
            found |= figures.measure_pages(client, server, dataset, args.warmup, args.requests)
        if "export" in args.figures:
            found["export"] = figures.measure_export(client, server, size, args.export_runs)
        if "weight" in args.figures:
            found["weight"] = figures.measure_weight(client)
        if "pipeline" in args.figures:
            found["pipeline"] = pipeline.measure_pipeline(server, args.pipeline_orders)
        if "tracking" in args.figures:
            found["tracking"]["sync"] = tracking.measure_sync(found["tracking"], args.sync_orders)
    finally:
        server.stop()
        connections.close_all()
    # The machine may be shared: a load above its CPU count slows every figure down.
    results["datasets"][str(size)]["load_average"] = {
        "before": round(load_before[0], 2),
        "after": round(os.getloadavg()[0], 2),
    }
    for key, value in found.items():
        results["figures"].setdefault(key, {})[str(size)] = value
    results["sizes"].append(size)


if __name__ == "__main__":
    # Run as a script (`python bench/run.py`): import from the project root, not bench/.
    sys.path[0] = str(ROOT)
    sys.exit(main())
