"""An order's life at Impilo, and the calls orderdesk makes over it.

After the create (retried for a share of orders), Impilo moves the order through its
statuses over a few days; a share of orders stall in a status no one listed as final and
never end. The status fetches come on orderdesk's real schedule (orders.sync.next_check),
and, with webhooks arriving, a delivery at each status change triggers a fetch as well.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from orderdesk.orders.engine import status_sync

HOUR = 3600.0
STALLED_SHARE = 0.05
RETRIED_SHARE = 0.1
# How long a webhook's fetch follows the status change (the worker picks the task up).
WEBHOOK_DELAY = timedelta(seconds=5)


@dataclass(frozen=True)
class Life:
    changes: list[tuple[timedelta, str]]  # (time after the send, status), first at 0
    final: bool

    def status_at(self, after: timedelta) -> str:
        current = self.changes[0][1]
        for at, status in self.changes:
            if at <= after:
                current = status
        return current


def draw(rng: random.Random) -> Life:
    """received at once, processing within hours, shipped in a day or so, delivered after
    two to five days; or stalled "onHold" for good."""
    processing = timedelta(seconds=rng.uniform(1, 8) * HOUR)
    shipped = timedelta(seconds=rng.uniform(18, 40) * HOUR)
    if rng.random() < STALLED_SHARE:
        changes = [(timedelta(0), "received"), (processing, "processing"), (shipped, "onHold")]
        return Life(changes, final=False)
    delivered = timedelta(seconds=rng.uniform(48, 120) * HOUR)
    changes = [
        (timedelta(0), "received"),
        (processing, "processing"),
        (shipped, "shipped"),
        (delivered, "delivered"),
    ]
    return Life(changes, final=True)


def create_attempts(rng: random.Random) -> int:
    return 2 if rng.random() < RETRIED_SHARE else 1


def _pacing_exists() -> bool:
    """Whether this code has webhook-first pacing (older code polled regardless)."""
    return hasattr(status_sync, "webhooks_live")


def fetch_times(life: Life, sent: datetime, end: datetime, *, webhooks: bool) -> list[datetime]:
    """When orderdesk fetches the order, until its status is final, the schedule ends, or
    `end` comes. Each fetch sets the next due time as status_sync.store does."""
    pushes = [sent + at + WEBHOOK_DELAY for at, _ in life.changes[1:]] if webhooks else []
    safety = timedelta(seconds=getattr(settings, "ORDER_SYNC_WEBHOOK_SAFETY_SECONDS", 0)) if (
        webhooks and _pacing_exists()
    ) else timedelta(0)  # fmt: skip
    times: list[datetime] = []
    last = sent
    due = status_sync.next_check(sent, sent, life.status_at(timedelta(0)))
    while True:
        poll = max(due, last + safety) if due is not None else None
        push = next((at for at in pushes if at > last), None)
        candidates = [at for at in (poll, push) if at is not None]
        if not candidates or min(candidates) > end:
            return times
        last = min(candidates)
        times.append(last)
        due = status_sync.next_check(sent, last, life.status_at(last - sent))


def calls_per_life(rng: random.Random, orders: int, *, webhooks: bool) -> dict[str, float]:
    """Impilo calls per order over its life (create attempts + fetches), simulated for
    `orders` lives: delivered orders and stalled ones (over a year) apart."""
    start = datetime(2026, 1, 1, tzinfo=datetime.now().astimezone().tzinfo)
    delivered: list[int] = []
    stalled: list[int] = []
    for _ in range(orders):
        life = draw(rng)
        calls = create_attempts(rng) + len(
            fetch_times(life, start, start + timedelta(days=365), webhooks=webhooks)
        )
        (delivered if life.final else stalled).append(calls)
    return {
        "delivered_mean": round(sum(delivered) / max(len(delivered), 1), 1),
        "delivered_max": max(delivered, default=0),
        "stalled_per_year": round(sum(stalled) / max(len(stalled), 1), 1),
    }
