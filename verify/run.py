"""`make verify`: build the stack, run every check, print one table, exit 1 on any FAIL."""

import importlib
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from verify import config, django_env
from verify.report import Row, table
from verify.stack import ROOT, Stack, make_database

# Run in this order: secrets goes last, because it reads what all the others left behind.
CHECKS = (
    "faults", "crashes", "bad_input", "access", "headers", "load", "a11y", "hardening",
    "signin", "secrets",
)  # fmt: skip
RESULTS = ROOT / "verify" / "results"


def say(text: str) -> None:
    print(f"[verify {time.strftime('%H:%M:%S')}] {text}", flush=True)


def main() -> int:
    sizes = config.sizes()
    only = config.only()
    folder = Path(tempfile.mkdtemp(prefix="orderdesk-verify-"))
    os.chmod(folder, 0o755)  # noqa: S103 -- a private PostgreSQL server runs as the postgres user
    say(f"sizes: {sizes}; work folder {folder}")
    db = make_database(folder)
    stack = Stack(folder, db, web_threads=sizes.web_threads)
    rows: list[Row] = []
    details: dict[str, list[str]] = {}
    started = time.monotonic()
    try:
        rows = _run(stack, sizes, only, details)
    finally:
        stack.shutdown()
        db.destroy()
    elapsed = time.monotonic() - started
    text = table(rows)
    failed = [row for row in rows if row.passed is False]
    summary = (
        f"{len(rows)} checks, {len(failed)} failed, {db.kind}, scale "
        f"{sizes.scale}, {elapsed / 60:.1f} min"
    )
    print("\n" + text + "\n" + summary, flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.txt").write_text(text + "\n" + summary + "\n")
    lines = [f"{check}: {line}" for check, found in details.items() for line in found]
    (RESULTS / "latest-details.txt").write_text("\n".join(lines) + "\n")
    if failed or os.environ.get("VERIFY_KEEP"):
        say(f"logs kept in {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failed or not rows else 0


def _run(
    stack: Stack, sizes: config.Sizes, only: set[str], details: dict[str, list[str]]
) -> list[Row]:
    from verify.context import Context, create_people, plant_patients

    say(f"preparing a fresh {stack.db.kind} database (migrate, seed, collectstatic)")
    stack.prepare()
    django_env.setup(stack.env())
    passwords = create_people()
    plant_patients()
    stack.start_web()
    stack.manage("sync_catalog")
    stack.start_worker()
    stack.start_worker()
    ctx = Context(stack=stack, sizes=sizes, passwords=passwords, details=details)
    say(f"orderdesk is up at {stack.base_url}")
    modules = {name: importlib.import_module(f"verify.checks.{name}") for name in CHECKS}
    for module in modules.values():
        if hasattr(module, "begin") and (not only or module.__name__.rsplit(".", 1)[1] in only):
            module.begin(ctx)  # e.g. the idle-session probe, which needs minutes of waiting
    rows: list[Row] = []
    for name, module in modules.items():
        if only and name not in only:
            continue
        say(f"check {name}")
        t0 = time.monotonic()
        try:
            new = module.run(ctx)
        except Exception as exc:
            traceback.print_exc(file=sys.stdout)
            new = [Row(name, "(the check itself)", "runs to the end", f"crashed: {exc!r}", False)]
            _recover(stack)
        for row in new:
            say(f"  {row.verdict}  {row.check}: {row.measured}")
        if any(not worker.alive() for worker in stack.workers):
            say("  a worker had exited: starting new ones for the next check")
            details.setdefault("run", []).append(f"a worker had exited during {name}")
            stack.stop_workers()
            stack.start_worker()
            stack.start_worker()
        say(f"  {name} took {time.monotonic() - t0:.0f} s")
        rows += new
    return rows


def _recover(stack: Stack) -> None:
    """A crashed check must not leave the next one without a server or a worker."""
    from orderdesk.sandbox import faults

    try:
        if stack.db.restartable:
            stack.db.start()
    except Exception:  # noqa: S110 -- it was running already
        pass
    django_env.reconnect()
    faults.clear()
    if stack.web is None or not stack.web.alive():
        stack.start_web()
    stack.stop_workers()
    stack.start_worker()
    stack.start_worker()
