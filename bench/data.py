"""The bench dataset: N orders over three years, as orderdesk itself would have left them.

Per order: 1 to 5 lines (3 on average), the timeline events its state implies, and 2 to 5
audit rows with Impilo-shaped bodies. 5 % of orders are in failing states (rejected,
failed, needs review, outcome unknown). Patients come from the sandbox, seeded with
100,000 people, so names and ids match what the picker finds. A few orders, spread over
the years, went through 5 attempts: the detail page figure opens those.

Rows are generated from one fixed random seed in batches and bulk loaded (bench/load.py):
a million orders takes minutes on PostgreSQL.
"""

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import DatabaseError, transaction
from django.utils import timezone

from bench import calls, lifecycle
from bench.load import Row, Table, analyze, fast_load, reset_sequences
from orderdesk.accounts.models import User
from orderdesk.audit.models import ApiCall
from orderdesk.orders.engine import status_sync
from orderdesk.orders.models import REFERENCE_ALPHABET, Order, OrderEvent, OrderLine, State
from orderdesk.sandbox import seed as sandbox_seed
from orderdesk.sandbox import seed_data
from orderdesk.sandbox.models import Patient

RANDOM_SEED = 7
STALLED_DAYS = 30
SPAN = timedelta(days=3 * 365)
BATCH = 5000
COORDINATORS = 20
DETAIL_ORDERS = 10
SEARCH_NAMES = 200
BENCH_USER, BENCH_PASSWORD = "bench", "bench-password-not-secret"
# (state, share of all orders); the rest are submitted.
STATE_SHARES = [
    (State.REJECTED, 0.02),
    (State.FAILED, 0.015),
    (State.NEEDS_REVIEW, 0.01),
    (State.UNKNOWN, 0.005),
    (State.DRAFT, 0.003),
    (State.RESOLVED, 0.005),
]
ORDERABLE_ITEMS = [row for row in seed_data.ITEMS if row[4]]
ORDERABLE_KITS = [row for row in seed_data.KITS if not row[2] and not row[3]]
ACTIVE_SITES = [row for row in seed_data.SITES if row[2]]
SITE_NAMES = {row[0]: row[1] for row in seed_data.SITES}
Progress = Callable[[str], None]


@dataclass
class Dataset:
    """What the measurements need to know about the data they run against."""

    orders: int
    patients: int
    detail_references: list[str] = field(default_factory=list)
    # Patient names that orders carry, each searched once: the Orders page caches its
    # counts per filter, and a person searching for a patient rarely repeats a search.
    search_names: list[str] = field(default_factory=list)
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)


def reference(n: int) -> str:
    """A unique OD-XXXXXXXX for order n: an odd multiplier is a bijection mod 32**8."""
    value = (n * 0x5DEECE66D + 0xB) % 32**8
    chars = []
    for _ in range(8):
        value, digit = divmod(value, 32)
        chars.append(REFERENCE_ALPHABET[digit])
    return "OD-" + "".join(chars)


def generate(orders: int, patients: int, progress: Progress = print) -> Dataset:
    started = timezone.now()
    progress(f"seeding the sandbox with {patients:,} patients")
    sandbox_seed.seed(patients)
    creators, support = _users()
    people = _patients()
    tables = {model: Table(model) for model in (Order, OrderLine, OrderEvent, ApiCall)}
    builder = Builder(orders, people, creators, support)
    progress(f"generating {orders:,} orders")
    with fast_load(list(tables)):
        for start in range(0, orders, BATCH):
            with transaction.atomic():
                for model, rows in builder.batch(start, min(start + BATCH, orders)).items():
                    tables[model].write(calls.link_blobs(rows) if model is ApiCall else rows)
            if (start // BATCH) % 20 == 19:
                progress(f"  {start + BATCH:,} orders")
        progress("building indexes")
    reset_sequences(list(tables))
    progress("analyzing")
    analyze()
    return Dataset(
        orders=orders,
        patients=patients,
        detail_references=[reference(n) for n in builder.detail_numbers],
        search_names=list(builder.search_names),
        seconds=(timezone.now() - started).total_seconds(),
        rows={model._meta.label: table.rows for model, table in tables.items()},
    )


def detail_numbers(total: int) -> list[int]:
    """The orders with 5 attempts, spread evenly over the years."""
    spread = max(total // DETAIL_ORDERS, 1)
    return sorted({min(k * spread + spread // 2, total - 1) for k in range(DETAIL_ORDERS)})


def name_every(total: int) -> int:
    return max(total // (SEARCH_NAMES * 3), 1)


def existing(orders: int) -> Dataset | None:
    """The dataset a previous run left for this size, if that is what the database holds
    (`--reuse-data`: measure again without building a million orders again)."""
    try:
        found = Order.objects.count()
        bench_user = User.objects.filter(username=BENCH_USER).exists()
    except DatabaseError:
        return None
    # Each run's pipeline figure adds a few hundred orders of its own.
    if not bench_user or not orders <= found < orders + 10_000:
        return None
    every = name_every(orders)
    names: dict[str, None] = {}
    sampled = Order.objects.filter(id__in=[n + 1 for n in range(0, orders, every)])
    for name in sampled.order_by("id").values_list("patient_name", flat=True):
        if name and len(names) < SEARCH_NAMES:
            names[name] = None
    return Dataset(
        orders=orders,
        patients=Patient.objects.count(),
        detail_references=[reference(n) for n in detail_numbers(orders)],
        search_names=list(names),
    )


def _users() -> tuple[list[int], int]:
    """The bench's own admin (superuser, to see the stock admin too) and the creators."""
    admin = User.objects.create_superuser(BENCH_USER, "bench@example.org", BENCH_PASSWORD)
    admin.groups.add(Group.objects.get(name="admin"))
    unusable = make_password(None)
    creators = User.objects.bulk_create(
        User(username=f"coordinator{n:02d}", first_name="Coord", last_name=f"{n:02d}",
             password=unusable)
        for n in range(1, COORDINATORS + 1)
    )  # fmt: skip
    Group.objects.get(name="coordinator").user_set.add(*creators)
    support = User.objects.create(username="support01", password=unusable)
    Group.objects.get(name="support").user_set.add(support)
    return [user.pk for user in creators], support.pk


PatientRow = tuple[int, str, str, str, str, str, int | None, str, str, str]


def _patients() -> list[PatientRow]:
    rows = Patient.objects.order_by("id").values_list(
        "id", "first_name", "last_name", "date_of_birth", "external_identifier",
        "line_one", "site_id", "city", "state", "zip_code",
    )  # fmt: skip
    return [
        (pk, first, last, dob.isoformat() if dob else "", ext or "", line, site, city, st, zip_)
        for pk, first, last, dob, ext, line, site, city, st, zip_ in rows
    ]


class Builder:
    """The rows of every order, batch after batch; order n's content depends only on n."""

    def __init__(
        self, total: int, people: list[PatientRow], creators: list[int], support: int
    ) -> None:
        self.total = total
        self.people = people
        self.creators = creators
        self.support = support
        self.end = timezone.now() - timedelta(minutes=30)
        self.step = SPAN / max(total, 1)
        self.detail_numbers = detail_numbers(total)
        self.search_names: dict[str, None] = {}  # ordered and distinct
        self.name_every = name_every(total)
        self.ids = {"event": 0, "call": 0, "line": 0}

    def batch(self, start: int, end: int) -> dict[Any, list[Row]]:
        out: dict[Any, list[Row]] = {Order: [], OrderLine: [], OrderEvent: [], ApiCall: []}
        details = set(self.detail_numbers)
        for n in range(start, end):
            rng = random.Random(RANDOM_SEED * 1_000_003 + n)
            self._order(n, rng, n in details, out)
        return out

    def _next(self, kind: str) -> int:
        self.ids[kind] += 1
        return self.ids[kind]

    def _order(self, n: int, rng: random.Random, detail: bool, out: dict[Any, list[Row]]) -> None:
        created = self.end - SPAN + self.step * (n + rng.random())
        state = State.SUBMITTED if detail else _state(rng)
        order = self._recipient(n, rng) | {
            "id": n + 1,
            "reference": reference(n),
            "state": state,
            "created_by_id": self.creators[n % len(self.creators)],
            "created_at": created,
            "form_token": uuid.UUID(int=n + 1),
            "attempt_limit": 0,
            "attempts": 0,
            "payload_version": 1,
            "last_error": "",
            "last_error_kind": "",
            "impilo_status": "",
            "external_ids": [f"CRM-{rng.randrange(10**6):06d}"] if rng.random() < 0.3 else [],
        }
        lines = [
            ("item", rng.choice(ORDERABLE_ITEMS)[0], rng.randint(1, 3))
            if rng.random() < 0.7
            else ("kit", rng.choice(ORDERABLE_KITS)[0], 1)
            for _ in range(rng.randint(1, 5))
        ]
        for position, (kind, pk, count) in enumerate(lines):
            name = calls.ITEMS[pk][2] if kind == "item" else calls.KITS[pk]["name"]
            out[OrderLine].append(
                {"id": self._next("line"), "order_id": n + 1, "kind": kind, "impilo_id": pk,
                 "name": name, "count": count, "position": position}
            )  # fmt: skip
        History(self, order, lines, rng, attempts=5 if detail else 0).write(out)
        out[Order].append(order)
        name = order["patient_name"]
        if name and n % self.name_every == 0 and len(self.search_names) < SEARCH_NAMES:
            self.search_names[name] = None

    def _recipient(self, n: int, rng: random.Random) -> dict[str, Any]:
        if rng.random() < 0.85:
            pk, first, last, dob, ext, line, site, city, st, zip_ = rng.choice(self.people)
            name = f"{first} {last}"
            return {
                "recipient_type": "patient", "patient_impilo_id": pk, "patient_name": name,
                "patient_date_of_birth": dob, "patient_external_id": ext,
                "site_impilo_id": None, "site_name": SITE_NAMES.get(site or 0, ""),
                "recipient_city": city,
                "_json": calls.Recipient(
                    patient={"id": pk, "externalIdentifier": ext or None, "firstName": first,
                             "lastName": last, "dateOfBirth": dob or None, "archived": False,
                             "address": calls.address(line, city, st, zip_),
                             "site": {"id": site, "name": SITE_NAMES.get(site or 0)},
                             "enrolled": True},
                    site=None,
                ),
            }  # fmt: skip
        pk, name, _, phone, line, _, city, st, zip_ = rng.choice(ACTIVE_SITES)
        return {
            "recipient_type": "site", "patient_impilo_id": None, "patient_name": "",
            "patient_date_of_birth": "", "patient_external_id": "", "site_impilo_id": pk,
            "site_name": name, "recipient_city": city,
            "_json": calls.Recipient(
                patient=None,
                site={"id": pk, "name": name, "active": True, "phoneNumber": phone,
                      "address": calls.address(line, city, st, zip_)},
            ),
        }  # fmt: skip


def _state(rng: random.Random) -> str:
    draw = rng.random()
    for state, share in STATE_SHARES:
        if draw < share:
            return state
        draw -= share
    return State.SUBMITTED


# What each attempt's call ended in, and the state it left the order in.
ATTEMPT_STATE = {
    "unavailable": State.RETRY_WAIT,
    "ambiguous": State.UNKNOWN,
    "rejected": State.REJECTED,
    "created": State.SUBMITTED,
}
# How the last attempt ended for each final state; any other ended "ambiguous".
LAST_ATTEMPT: dict[str, str] = {
    State.SUBMITTED: "created",
    State.REJECTED: "rejected",
    State.FAILED: "unavailable",
}


class History:
    """One order's timeline and audit rows, consistent with its final state."""

    def __init__(
        self, builder: Builder, order: Row, lines: list[tuple[str, int, int]],
        rng: random.Random, attempts: int,
    ) -> None:  # fmt: skip
        self.b, self.order, self.lines, self.rng = builder, order, lines, rng
        self.calls = attempts or rng.randint(2, 5)
        self.forced_attempts = attempts
        self.at: datetime = order["created_at"]
        self.state = ""
        self.state_at = self.at
        self.events: list[Row] = []
        self.rows: list[Row] = []

    def write(self, out: dict[Any, list[Row]]) -> None:
        order, recipient = self.order, self.order.pop("_json")
        self._event(State.DRAFT, actor=order["created_by_id"], reason="Order created")
        final = order["state"]
        if final != State.DRAFT:
            self._send(final, recipient)
        order.update(state_changed_at=self.state_at, updated_at=self.at)
        out[OrderEvent].extend(self.events)
        out[ApiCall].extend(self.rows)

    def _send(self, final: str, recipient: calls.Recipient) -> None:
        order, rng = self.order, self.rng
        self._later(rng.uniform(1, 120))
        self._event(State.QUEUED, actor=order["created_by_id"], reason="Submitted by coordinator")
        order.update(queued_at=self.at, attempt_limit=8)
        body = calls.order_json(
            impilo_id=900_000 + order["id"], reference=order["reference"],
            external_ids=order["external_ids"], recipient=recipient, lines=self.lines,
            status="processing", created=self.at,
        )  # fmt: skip
        endings = self._endings(final)
        for attempt, kind in enumerate(endings, start=1):
            self._attempt(attempt, kind, body, last=attempt == len(endings), final=final)
        order["attempts"] = len(endings)
        if final in (State.NEEDS_REVIEW, State.RESOLVED):
            self._later(3)
            self._call("listed", None, calls.list_page(body), "order?page=0&size=250")
            self._event(State.NEEDS_REVIEW, reason="Impilo's list could not tell")
        if final == State.RESOLVED:
            self._later(rng.uniform(600, 86_400))
            self._event(State.RESOLVED, actor=self.b.support, reason="Found at Impilo by phone")
        if final == State.SUBMITTED:
            self._fetches(body)
        if final in (State.FAILED, State.REJECTED, State.UNKNOWN, State.NEEDS_REVIEW):
            order.update(last_error=calls.ENDINGS[endings[-1]][3],
                         last_error_kind=calls.ENDINGS[endings[-1]][2])  # fmt: skip
        if final == State.NEEDS_REVIEW:
            order["last_error_kind"] = "needs_review"

    def _endings(self, final: str) -> list[str]:
        """The outcome of each attempt, last one deciding the state."""
        tries = self.calls - (1 if final in (State.NEEDS_REVIEW, State.RESOLVED) else 0)
        if final == State.SUBMITTED:
            tries = self.forced_attempts or (1 if self.rng.random() < 0.9 else 2)
        last = LAST_ATTEMPT.get(final, "ambiguous")
        return ["unavailable"] * (max(tries, 1) - 1) + [last]

    def _attempt(self, attempt: int, kind: str, body: str, *, last: bool, final: str) -> None:
        order = self.order
        self._event(State.SENDING, label="worker", reason="Sending to Impilo")
        request = calls.create_request(
            order["reference"], order["external_ids"], order["patient_impilo_id"],
            order["site_impilo_id"], self.lines,
        )  # fmt: skip
        self._call(kind, attempt, request, "order", response=body)
        self._later(0.4 if kind != "ambiguous" else 10)
        to_state = State.FAILED if (last and final == State.FAILED) else ATTEMPT_STATE[kind]
        self._event(to_state, label="worker", reason=calls.ENDINGS[kind][3] or "Created")
        if kind == "created":
            order.update(
                impilo_id=900_000 + order["id"],
                impilo_status="processing",
                impilo_order=body,
                submitted_at=self.at,
                impilo_synced_at=self.at,
                impilo_sync_due_at=status_sync.next_check(self.at, self.at, "processing"),
            )
        if not last:  # the backoff before the next attempt
            self._later(5 * 2**attempt * self.rng.uniform(0.8, 1.2))

    def _fetches(self, body: str) -> None:
        """Status fetches on orderdesk's real schedule over the order's life (bench/lifecycle),
        each answered with the order as Impilo then had it. Polling of an order that never
        ends is cut at STALLED_DAYS here even where the code under test would go on: the
        stored history stays buildable, and calls per year are simulated apart."""
        order = self.order
        life = lifecycle.draw(self.rng)
        sent = order["submitted_at"]
        end = min(self.b.end, sent + timedelta(days=STALLED_DAYS))
        as_created = json.loads(body)
        changed_at = {status: sent + after for after, status in life.changes}
        status, fetched = "", body
        for at in lifecycle.fetch_times(life, sent, end, webhooks=False):
            self.at = at
            if life.status_at(at - sent) != status:
                status = life.status_at(at - sent)
                seen = [(s, t) for s, t in changed_at.items() if t <= at]
                fetched = json.dumps(
                    as_created
                    | {
                        "currentStatus": status,
                        "statusHistory": [{"status": s, "at": t.isoformat()} for s, t in seen],
                    }
                )
            self._call("fetched", None, "", f"order/{order['impilo_id']}", response=fetched)
        if status:
            order.update(
                impilo_status=status,
                impilo_order=fetched,
                impilo_synced_at=self.at,
                impilo_sync_due_at=status_sync.next_check(sent, self.at, status),
            )

    def _later(self, seconds: float) -> None:
        self.at = min(self.at + timedelta(seconds=seconds), self.b.end)

    def _event(self, to_state: str, *, actor: int | None = None, label: str = "",
               reason: str = "") -> None:  # fmt: skip
        self.events.append(
            {"id": self.b._next("event"), "order_id": self.order["id"], "at": self.at,
             "actor_id": actor, "actor_label": label, "from_state": self.state,
             "to_state": to_state, "reason": reason, "data": None}
        )  # fmt: skip
        self.state, self.state_at = to_state, self.at

    def _call(self, kind: str, attempt: int | None, request: str, path: str,
              response: str = "") -> None:  # fmt: skip
        self.rows.append(
            calls.call_row(
                pk=self.b._next("call"), order_id=self.order["id"], at=self.at, kind=kind,
                attempt=attempt, request_body=request, response_body=response,
                url=f"{calls.BASE_URL}/{path}", request_id=f"{self.rng.getrandbits(128):032x}",
            )
        )  # fmt: skip
