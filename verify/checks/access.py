"""Issue 8 item 4: every URL × every method × {anonymous, coordinator, support, admin}
against a table of what each role may do, written here from the roles' description
(docs/architecture.md#what-orderdesk-is), not read from the views' decorators.

URLs come from the URLconf itself, so a page added later and missing from the table fails
this check instead of going unchecked. Pages about one order or one audit row are tried
with a real id belonging to someone else and with a guessed one: a role that may not see
them must get the same answer for both (no way to learn which ids exist).
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests

from verify.context import ROLES, Context
from verify.report import Row
from verify.web import Client, is_login_redirect

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
ANY = frozenset(METHODS)
# What each role may do (the roles; admins also manage users and the catalog).
CAN = {
    "anonymous": set(),
    "coordinator": {"view_orders", "create_orders"},
    "support": {"view_orders", "create_orders", "work_queue", "view_audit"},
    "admin": {"view_orders", "create_orders", "work_queue", "view_audit", "administer"},
}


@dataclass(frozen=True)
class Rule:
    need: str  # "public", "signed_in", "api_key", "webhook_secret", "absent", or a CAN entry
    methods: frozenset[str]
    query: str = ""
    state: str = ""  # the order state this page is about, if any
    signed_in_methods: frozenset[str] | None = None  # if signed-in people get other answers
    ok_is: str = "ok"  # what success looks like ("login": sent to the sign-in page)


def m(*names: str) -> frozenset[str]:
    return frozenset(names)


TABLE: dict[str, Rule] = {
    "home": Rule("signed_in", ANY),
    "healthz": Rule("public", m("GET")),
    # Django's form views treat PUT as POST (same CSRF check); signed-in people are sent on.
    "login": Rule("public", m("GET", "HEAD", "POST", "PUT", "OPTIONS"), signed_in_methods=ANY),
    "logout": Rule("signed_in", m("POST", "OPTIONS"), ok_is="login"),
    # Sign-in with an identity provider: not there (404) unless OIDC_ISSUER is set.
    "oidc_start": Rule("absent", ANY),
    "oidc_callback": Rule("absent", ANY),
    "impilo_webhook": Rule("webhook_secret", m("POST")),
    "orders:list": Rule("view_orders", m("GET", "POST")),  # POST: the search form
    "orders:export": Rule("administer", m("GET")),
    "orders:chart": Rule("view_orders", m("GET")),
    "orders:webhooks": Rule("administer", m("GET")),
    "orders:sync_stopped_export": Rule("administer", m("GET")),
    "orders:attention": Rule("work_queue", m("GET")),
    "orders:attention_badge": Rule("work_queue", m("GET")),
    "orders:bulk_resubmit": Rule("work_queue", m("POST")),
    "orders:new": Rule("create_orders", m("GET", "POST")),
    "orders:patient_search": Rule("create_orders", m("POST")),
    "orders:patient_card": Rule("create_orders", m("POST")),
    "orders:line_row": Rule("create_orders", m("GET"), "?kind=item"),
    "orders:detail": Rule("view_orders", m("GET")),
    "orders:edit": Rule("create_orders", m("GET", "POST"), state="draft"),
    "orders:edit_resubmit": Rule("work_queue", m("GET", "POST"), state="rejected"),
    "orders:check": Rule("work_queue", m("POST")),
    "orders:refresh": Rule("view_orders", m("POST")),
    "orders:requests": Rule("view_audit", m("GET")),
    "orders:action": Rule("work_queue", m("GET", "POST")),
    "audit:list": Rule("view_audit", m("GET")),
    "audit:detail": Rule("view_audit", m("GET")),
    "sandbox:api_orders": Rule("api_key", ANY),
    "sandbox:api_order": Rule("api_key", ANY),
    "sandbox:api_patients": Rule("api_key", ANY),
    "sandbox:api_kits": Rule("api_key", ANY),
    "sandbox:api_sites": Rule("api_key", ANY),
    "sandbox:api_not_found": Rule("api_key", ANY),
    "sandbox:faults": Rule("administer", m("GET", "POST")),
}
# Django's admin: (model, page) -> roles that get the page; others are sent to its login
# (not staff) or refused (staff without the permission).
ADMIN_PAGES = {
    ("accounts.user", "changelist"): {"admin"},
    ("accounts.user", "add"): {"admin"},
    ("auth.group", "changelist"): set(),
    ("auth.group", "add"): set(),
    ("audit.apicall", "changelist"): {"admin"},
    ("audit.apicall", "add"): set(),
    ("audit.auditview", "changelist"): {"admin"},
    ("audit.auditview", "add"): set(),
    ("catalog.site", "changelist"): {"admin"},
    ("catalog.item", "changelist"): {"admin"},
    ("catalog.kit", "changelist"): {"admin"},
    # django-tasks-db's queue: no role is given its permissions.
    ("django_tasks_database.dbtaskresult", "changelist"): set(),
}


def expected(rule: Rule, role: str, method: str) -> str:
    if rule.need == "absent":
        return "404"
    if rule.need == "api_key":
        return "401"
    if rule.need == "webhook_secret":
        return "401" if method == "POST" else "405"
    if rule.need == "public":
        methods = (
            rule.signed_in_methods
            if role != "anonymous" and rule.signed_in_methods
            else rule.methods
        )
        return "ok" if method in methods else "405"
    if role == "anonymous":
        return "login"
    if rule.need != "signed_in" and rule.need not in CAN[role]:
        # A method the page never answers may be refused as such before the role is asked.
        return "403" if method in rule.methods else "403|405"
    if method not in rule.methods:
        return "405"
    return rule.ok_is if method != "OPTIONS" else "ok"


def observed(response: requests.Response) -> str:
    if is_login_redirect(response):
        return "login"
    if response.status_code < 400:
        return "ok"
    return str(response.status_code)


@dataclass(frozen=True)
class Probe:
    name: str
    path: str
    rule: Rule
    guessed: bool = False


def run(ctx: Context) -> list[Row]:
    clients = {role: ctx.client(role) for role in ("anonymous", *ROLES)}
    clients["anonymous"].get("/accounts/login/")  # a CSRF cookie, so 403s mean refusals
    probes, unknown = _probes(ctx)
    tried = mismatches = 0
    problems: list[str] = [f"{name}: not in the table" for name in unknown]
    for probe in probes:
        for role, client in clients.items():
            for method in METHODS:
                if probe.name == "logout" and method in ("POST", "DELETE", "PUT", "PATCH"):
                    client = _fresh(ctx, role)  # signing out must not end the shared session
                want = _want(probe, role, method)
                got = observed(_send(client, method, probe.path))
                tried += 1
                if got not in want.split("|"):
                    mismatches += 1
                    problems.append(f"{method} {probe.path} as {role}: {got}, table says {want}")
    admin_tried, admin_problems = _admin_pages(ctx, clients)
    ctx.details["access"] = problems + admin_problems
    rows = [
        Row(
            "access: every URL",
            f"{len({p.name for p in probes})} URL patterns ({len(probes)} paths incl. guessed "
            f"ids) × {len(METHODS)} methods × 4 roles = {tried} requests",
            "each answer is the table's (login / 403 / 405 / 401 / ok; guessed ids "
            "answered as real ones for roles without access)",
            f"{tried - mismatches}/{tried} as the table; {len(unknown)} URL(s) missing from "
            f"it" + ("; " + " | ".join(problems[:5]) if problems else ""),
            not problems,
        ),
        Row(
            "access: Django admin",
            f"{len(ADMIN_PAGES) + 1} admin pages × 4 roles = {admin_tried} requests",
            "only admins (staff) reach it; users, catalog and audit as the table; audit "
            "rows cannot be added",
            f"{admin_tried - len(admin_problems)}/{admin_tried} as the table"
            + ("; " + " | ".join(admin_problems[:5]) if admin_problems else ""),
            not admin_problems,
        ),
    ]
    return rows


def _fresh(ctx: Context, role: str) -> Client:
    client = ctx.client(role)
    if role == "anonymous":
        client.get("/accounts/login/")
    return client


def _want(probe: Probe, role: str, method: str) -> str:
    want = expected(probe.rule, role, method)
    if probe.guessed and want == "ok":
        return "404"  # allowed to look, but there is nothing there
    return want


def _send(client: Client, method: str, path: str) -> requests.Response:
    headers = {"X-CSRFToken": client.csrf, "Referer": client.base_url + "/"}
    return client.request(method, path, headers=headers, timeout=60)


def _probes(ctx: Context) -> tuple[list[Probe], list[str]]:
    from django.urls import URLPattern, URLResolver, get_resolver

    samples = _samples(ctx)
    probes: list[Probe] = []
    unknown: list[str] = []

    def walk(patterns: Any, prefix: str, namespace: str) -> Iterator[tuple[str, str]]:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                if entry.namespace == "admin":
                    continue  # its own table below
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            elif isinstance(entry, URLPattern):
                yield f"{namespace}{entry.name}", prefix + str(entry.pattern)

    for name, route in walk(get_resolver().url_patterns, "", ""):
        rule = TABLE.get(name)
        if rule is None:
            unknown.append(name)
            continue
        real, guess = _fill(route, rule, samples)
        probes.append(Probe(name, real + rule.query, rule))
        if guess:
            probes.append(Probe(name, guess + rule.query, rule, guessed=True))
    return probes, unknown


def _fill(route: str, rule: Rule, samples: dict[str, str]) -> tuple[str, str]:
    """The route with real sample values, and with guessed ones (if it has an id)."""
    route = route.replace("^", "").replace("$", "")
    if "api/" in route:
        return "/" + route.replace("<int:order_id>", "1"), ""
    ref = samples.get(rule.state or "any", samples["any"])
    real = route.replace("<reference:reference>", ref).replace("<slug:action>", "resubmit")
    real = real.replace("<int:pk>", samples["call"])
    if real == route:
        return "/" + route, ""
    guess = route.replace("<reference:reference>", "OD-ZZZZZZZZ").replace(
        "<slug:action>", "resubmit"
    )
    guess = guess.replace("<int:pk>", "987654321")
    return "/" + real, "/" + guess


def _samples(ctx: Context) -> dict[str, str]:
    """Real ids, made by someone other than the coordinator who probes them."""
    from orderdesk.audit.models import ApiCall
    from orderdesk.orders.models import Order

    admin = ctx.client("admin")
    catalog = ctx.ensure_catalog()
    from random import Random

    from verify.orders import order_form, reference_of

    draft = [(k, v) if k != "action" else (k, "draft") for k, v in order_form(catalog, Random(3))]
    draft_ref = reference_of(admin.post_form("/orders/new/", draft).headers.get("Location", ""))
    any_order = Order.objects.exclude(created_by__username=ctx.username("coordinator")).first()
    rejected = Order.objects.filter(state="rejected").first() or _rejected_order(ctx, admin)
    call = ApiCall.objects.order_by("id").first()
    return {
        "any": any_order.reference if any_order else "OD-00000000",
        "draft": draft_ref or "OD-00000000",
        "rejected": rejected.reference if rejected else "OD-00000000",
        "call": str(call.pk if call else 1),
    }


def _rejected_order(ctx: Context, client: Client) -> Any:
    """An order Impilo refused: its stock set to zero for a moment (insufficient inventory)."""
    from random import Random

    from orderdesk.orders.models import Order
    from orderdesk.sandbox.testing import set_stock, stock
    from verify.orders import create_orders, settle

    catalog = ctx.ensure_catalog()
    item = catalog.items[0]
    before = stock(item)
    set_stock(item, 0)
    try:
        one = type(catalog)(
            items=[item], kits=[], sites=catalog.sites, patient_tokens=catalog.patient_tokens
        )
        refs = create_orders([client], one, 1, seed=Random(1).randrange(1000))
        settle(refs, timeout=60)
    finally:
        set_stock(item, before)
    return Order.objects.filter(reference=refs[0], state="rejected").first()


def _admin_pages(ctx: Context, clients: dict[str, Client]) -> tuple[int, list[str]]:
    from django.contrib import admin

    registered = {m._meta.label_lower for m in admin.site._registry}
    problems = [f"admin model {label}: not in the table" for label in sorted(registered)
                if not any(label == key[0] for key in ADMIN_PAGES)]  # fmt: skip
    tried = 0
    pages = [("/admin/", {"admin"})]
    for (label, page), allowed in ADMIN_PAGES.items():
        if label in registered:
            app, model = label.split(".")
            pages.append((f"/admin/{app}/{model}/{'add/' if page == 'add' else ''}", allowed))
    for path, allowed in pages:
        for role, client in clients.items():
            response = client.get(path)
            tried += 1
            location = response.headers.get("Location", "")
            if role in allowed:
                ok = response.status_code == 200
            elif role == "admin":
                ok = response.status_code == 403
            else:
                ok = response.status_code == 302 and "login/" in location
            if not ok:
                problems.append(f"GET {path} as {role}: HTTP {response.status_code} {location}")
    return tried, problems
