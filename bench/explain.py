"""Why is a page slow? Run it in-process against the bench database left by the last size
of `make bench`, and print each SQL query with its time and plan, then the Python profile.

    .venv/bin/python bench/explain.py /orders/ [--repeat 20] [--profile]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python bench/explain.py /orders/

Same settings as the bench server (DEBUG off), signed in as the bench's admin user.
"""

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TMP = Path(tempfile.gettempdir())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("path")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="print the top Python functions")
    parser.add_argument("--htmx", action="store_true", help="send HX-Request: true")
    parser.add_argument("--sqlite-path", default=str(TMP / "orderdesk-bench.sqlite3"))
    parser.add_argument("--pg-name", default="bench")
    args = parser.parse_args(argv)
    from bench.server import Database, bench_env

    database = Database.choose(os.environ.get("DATABASE_URL", ""), args.sqlite_path, args.pg_name)
    for name in ("DATABASE_URL", "SQLITE_PATH"):
        os.environ.pop(name, None)
    os.environ.update(bench_env(database, 8000, str(TMP / "orderdesk-bench-static")))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench.data import BENCH_USER
    from orderdesk.accounts.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username=BENCH_USER))
    headers = {"HX-Request": "true"} if args.htmx else {}
    client.get(args.path, headers=headers)  # warm caches and connections
    timings = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        client.get(args.path, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    print(f"{args.path}: in-process p50 {timings[len(timings) // 2]:.1f} ms, min {timings[0]:.1f}")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(args.path, headers=headers)
    print(f"status {response.status_code}, {len(captured.captured_queries)} queries")
    for query in captured.captured_queries:
        sql = query["sql"]
        print(f"\n-- {float(query['time']) * 1000:.1f} ms\n{sql[:1500]}")
        print(explain(sql))
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.repeat):
            client.get(args.path, headers=headers)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            35
        )
    return 0


def explain(sql: str) -> str:
    from django.db import connection

    if not sql.lstrip().upper().startswith("SELECT"):
        return ""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join("   " + " ".join(str(part) for part in row) for row in cursor.fetchall())


if __name__ == "__main__":
    sys.path[0] = str(ROOT)
    sys.exit(main())
