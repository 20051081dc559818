"""How big each check is. The defaults are the issue's full sizes; VERIFY_SCALE=ci shrinks
every one so a whole run fits in CI, and each knob can be set on its own (VERIFY_<NAME>)."""

import os
from dataclasses import dataclass, fields

from orderdesk.core import gunicorn_conf

FULL = {
    "fault_orders": 100,  # orders per fault kind
    "mix_orders": 500,  # orders under a random mix of faults
    "kills": 50,  # SIGKILLs of the worker per phase (before, during, after a send)
    "db_restarts": 3,
    "load_seconds": 300,  # each of the two load phases
    "load_warmup_seconds": 20,  # before them: errors count, times do not
    "load_users": 30,
    "idle_minutes": 1,  # SESSION_IDLE_MINUTES of the idle-expiry probe
    "a11y": 1,  # 0 skips the browser check (reported as not run, i.e. FAIL)
    "web_threads": gunicorn_conf.threads,  # gunicorn --threads, as in the Dockerfile
}
CI = {
    "fault_orders": 6,
    "mix_orders": 50,
    "kills": 5,
    "db_restarts": 1,
    "load_seconds": 60,
    "load_warmup_seconds": 20,
    "load_users": 30,
    "idle_minutes": 1,
    "a11y": 1,
    "web_threads": gunicorn_conf.threads,
}


@dataclass(frozen=True)
class Sizes:
    fault_orders: int
    mix_orders: int
    kills: int
    db_restarts: int
    load_seconds: int
    load_warmup_seconds: int
    load_users: int
    idle_minutes: int
    a11y: int
    web_threads: int

    @property
    def scale(self) -> str:
        return os.environ.get("VERIFY_SCALE", "full")


def sizes() -> Sizes:
    base = CI if os.environ.get("VERIFY_SCALE", "").lower() == "ci" else FULL
    values = {}
    for f in fields(Sizes):
        raw = os.environ.get(f"VERIFY_{f.name.upper()}", "").strip()
        values[f.name] = int(raw) if raw else base[f.name]
    return Sizes(**values)


def only() -> set[str]:
    """VERIFY_ONLY=faults,access runs just those checks (for working on one)."""
    raw = os.environ.get("VERIFY_ONLY", "")
    return {name.strip() for name in raw.split(",") if name.strip()}
