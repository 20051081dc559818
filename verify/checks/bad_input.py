"""Issue 8 item 3: hostile input against the forms, query strings, htmx endpoints and the
webhook receiver. Each refused input must get a 4xx or a form error, create nothing, send
nothing to Impilo, and never a 500; whatever is shown back must be escaped.

Hostile text that is legitimately storable (markup in an external id, a reason, a webhook
type, a patient name arriving from Impilo) is accepted, then every page showing it must
escape it, and the CSV export must defuse spreadsheet formulas.
"""

import csv
import io
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

from verify.context import XSS_FIRST, Context
from verify.orders import order_form, patient_tokens, reference_of, settle
from verify.report import Row
from verify.web import PAGES, Client

XSS = '<script>alert("vfy-x")</script>'
XSS_IMG = '<img src=x onerror="alert(`vfy-i`)">'
MARKERS = (XSS, XSS_IMG, XSS_FIRST, "<svg/onload=alert(1)>")
FORM_ERROR = ("is-invalid", "alert-danger", "invalid-feedback", "errorlist", "text-danger")


@dataclass
class Case:
    group: str
    name: str
    send: Callable[[], requests.Response]
    expect: str  # "refused" (4xx or form error), "4xx", "handled" (<500), "local_redirect"


@dataclass
class Outcome:
    total: int = 0
    failures: list[str] = field(default_factory=list)


def run(ctx: Context) -> list[Row]:
    catalog = ctx.ensure_catalog()
    coordinator = ctx.client("coordinator")
    support = ctx.client("support")
    admin = ctx.client("admin")
    anonymous = ctx.client("anonymous")
    ref = _some_order(ctx)
    cases = _form_cases(ctx, coordinator, catalog)
    cases += _query_cases(coordinator, support, admin, anonymous, ref)
    cases += _webhook_cases(ctx)
    cases += _redirect_and_get_cases(ctx, coordinator, support, ref)
    results: dict[str, Outcome] = {}
    for case in cases:
        outcome = results.setdefault(case.group, Outcome())
        outcome.total += 1
        problem = _try(case)
        if problem:
            outcome.failures.append(f"{case.name}: {problem}")
    rows = [_row(group, outcome) for group, outcome in results.items()]
    rows.append(_duplicate_submission(ctx, coordinator, catalog))
    rows.append(_stored_xss(ctx, coordinator, support, admin))
    return rows


def _try(case: Case) -> str:
    from orderdesk.orders.models import Order
    from orderdesk.sandbox.models import RequestLog

    orders = Order.objects.count()
    posts = RequestLog.objects.filter(method="POST").count()
    try:
        response = case.send()
    except requests.RequestException as exc:
        return f"no answer ({type(exc).__name__})"
    status = response.status_code
    body = response.text if "html" in response.headers.get("Content-Type", "") else ""
    problems = []
    if status >= 500:
        problems.append(f"HTTP {status}")
    if case.expect == "refused" and not (
        400 <= status < 500 or (status == 200 and any(m in body for m in FORM_ERROR))
    ):
        problems.append(f"HTTP {status} with no error shown")
    if case.expect == "4xx" and not 400 <= status < 500:
        problems.append(f"HTTP {status}, not 4xx")
    if case.expect == "local_redirect":
        location = response.headers.get("Location", "")
        if not location.startswith("/") or location.startswith(("//", "/\\")):
            problems.append(f"redirects to {location!r}")
    raw = [marker for marker in MARKERS if marker in body]
    if raw:
        problems.append(f"unescaped {raw[0]!r}")
    if Order.objects.count() != orders:
        problems.append("an order was created")
        settle(list(Order.objects.values_list("reference", flat=True)[orders:]), timeout=60)
    if RequestLog.objects.filter(method="POST").count() != posts:
        problems.append("something was sent to Impilo")
    return "; ".join(problems)


def _some_order(ctx: Context) -> str:
    from orderdesk.orders.models import Order

    order = Order.objects.exclude(state="draft").order_by("id").first()
    assert order is not None, "the faults check runs first and leaves orders"
    return order.reference


def _form_cases(ctx: Context, client: Client, catalog: Any) -> list[Case]:
    from orderdesk.sandbox.testing import seed_ids

    ids = seed_ids()
    token = catalog.patient_tokens[0]
    item, site = catalog.items[0], catalog.sites[0]

    def form(**change: Any) -> list[tuple[str, str]]:
        base: dict[str, Any] = {
            "form_token": str(uuid.uuid4()),
            "action": "submit",
            "recipient_type": "patient",
            "patient": token,
            "line-kind": ["item"],
            "line-id": [str(item)],
            "line-count": ["1"],
        }
        base.update(change)
        pairs = []
        for key, value in base.items():
            for one in value if isinstance(value, list) else [value]:
                if one is not None:
                    pairs.append((key, str(one)))
        return pairs

    def post(data: list[tuple[str, str]], **kwargs: Any) -> Callable[[], requests.Response]:
        return lambda: client.post_form("/orders/new/", data, **kwargs)

    def counts(value: str) -> Callable[[], requests.Response]:
        return post(form(**{"line-count": [value]}))

    def external(value: str) -> Callable[[], requests.Response]:
        return post(form(external_ids=value))

    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    g = "bad input: order form"
    cases = [
        Case(g, "both recipients", post(form(site=site)), "refused"),
        Case(
            g, "site and patient as site", post(form(recipient_type="site", site=site)), "refused"
        ),
        Case(g, "neither recipient", post(form(patient="")), "refused"),
        Case(
            g,
            "no lines",
            post(form(**{"line-kind": [], "line-id": [], "line-count": []})),
            "refused",
        ),
        Case(g, "unknown recipient type", post(form(recipient_type="martian")), "refused"),
        Case(g, "tampered patient token", post(form(patient=tampered)), "refused"),
        Case(g, "forged patient token", post(form(patient="eyJpZCI6MX0:forged:sig")), "refused"),
        Case(
            g,
            "inactive site",
            post(form(recipient_type="site", patient="", site=ids.inactive_site)),
            "refused",
        ),
        Case(g, "unknown item id", post(form(**{"line-id": ["999999999"]})), "refused"),
        Case(
            g,
            "non-orderable item",
            post(form(**{"line-id": [str(ids.non_orderable_item)]})),
            "refused",
        ),
        Case(
            g,
            "archived kit",
            post(form(**{"line-kind": ["kit"], "line-id": [str(ids.archived_kit)]})),
            "refused",
        ),
        Case(
            g,
            "line kind evil",
            post(form(**{"line-kind": ["<evil>"], "line-id": ["x"]})),
            "refused",
        ),
        Case(
            g,
            "same item twice",
            post(
                form(
                    **{
                        "line-kind": ["item"] * 2,
                        "line-id": [str(item)] * 2,
                        "line-count": ["1", "1"],
                    }
                )
            ),
            "refused",
        ),
        Case(
            g,
            "500 lines",
            post(
                form(
                    **{
                        "line-kind": ["item"] * 500,
                        "line-id": [str(item)] * 500,
                        "line-count": ["1"] * 500,
                    }
                )
            ),
            "refused",
        ),
        Case(g, "form token not a UUID", post(form(form_token="' OR 1=1")), "refused"),  # noqa: S106
        Case(g, "missing CSRF token", lambda: client.post("/orders/new/", data=form()), "4xx"),
        Case(
            g,
            "spoofed HX-Request without CSRF",
            lambda: client.post("/orders/new/", data=form(), headers={"HX-Request": "true"}),
            "4xx",
        ),
    ]
    for value in ("0", "-1", "1000000000", "abc", "1.5", "true", "", "1e3", "NaN", "٣"):
        cases.append(Case(g, f"count {value!r}", counts(value), "refused"))
    for name, value in (
        ("external id 65 chars", "X" * 65),
        ("external id with NUL", "ab\x00cd"),
        ("external id with BEL", "ab\x07cd"),
        ("external id with ESC", "ab\x1b[31mcd"),
        ("duplicate external ids", "A1\nA1"),
        ("11 external ids", "\n".join(f"E{n}" for n in range(11))),
    ):
        cases.append(Case(g, name, external(value), "refused"))
    loaners = list(_loaner_kits())
    if loaners:
        kit = str(loaners[0])
        cases.append(
            Case(
                g,
                "loaner kit to a site",
                post(
                    form(
                        recipient_type="site",
                        patient="",
                        site=site,
                        **{"line-kind": ["kit"], "line-id": [kit]},
                    )
                ),
                "refused",
            )
        )
        cases.append(
            Case(
                g,
                "loaner kit count 2",
                post(form(**{"line-kind": ["kit"], "line-id": [kit], "line-count": ["2"]})),
                "refused",
            )
        )
    mass = [*form(**{"line-count": ["0"]}),
        ("state", "submitted"), ("impilo_id", "1"), ("reference", "OD-HACKED"),
        ("created_by", "1"), ("attempts", "99"), ("is_superuser", "1"),
    ]  # fmt: skip
    cases.append(Case(g, "mass assignment with an error", post(mass), "refused"))
    return cases


def _loaner_kits() -> list[int]:
    from orderdesk.catalog.models import orderable_kits

    return [kit.impilo_id for kit in orderable_kits() if kit.is_loaner]


def _query_cases(
    coordinator: Client, support: Client, admin: Client, anonymous: Client, ref: str
) -> list[Case]:
    g = "bad input: query strings and htmx"

    def get(
        client: Client, path: str, params: Any = None, **kw: Any
    ) -> Callable[[], requests.Response]:
        return lambda: client.get(path, params=params, **kw)

    def post(client: Client, path: str, data: Any, **kw: Any) -> Callable[[], requests.Response]:
        return lambda: client.post_form(path, data, **kw)

    htmx = {"HX-Request": "true"}
    return [
        Case(g, "list state=<script>", get(coordinator, "/orders/", {"state": XSS}), "handled"),
        Case(
            g,
            "list q=SQL",
            get(coordinator, "/orders/", {"q": "' OR 1=1; DROP TABLE orders_order; --"}),
            "handled",
        ),
        Case(g, "list q=NUL", get(coordinator, "/orders/", {"q": "a\x00b"}), "handled"),
        Case(g, "list q 100 kB", get(coordinator, "/orders/", {"q": "x" * 100_000}), "handled"),
        Case(
            g,
            "list bad dates",
            get(coordinator, "/orders/", {"date_from": "2024-13-45", "date_to": XSS}),
            "handled",
        ),
        Case(
            g,
            "list cursor garbage",
            get(coordinator, "/orders/", {"cursor": "%%%garbage\x00"}),
            "handled",
        ),
        Case(
            g,
            "list previous-page cursor garbage, and both cursors at once",
            get(coordinator, "/orders/", {"before": "W1td", "cursor": "W10"}),
            "handled",
        ),
        Case(
            g, "list sort dunder", get(coordinator, "/orders/", {"sort": "-__class__"}), "handled"
        ),
        Case(
            g,
            "list patient id 10^30",
            get(coordinator, "/orders/", {"patient": "1" + "0" * 30}),
            "handled",
        ),
        Case(
            g,
            "list repeated params",
            get(coordinator, "/orders/?state=a&state=b&state=" + "c" * 5000),
            "handled",
        ),
        Case(
            g,
            "export bad filters",
            get(admin, "/orders/export.csv", {"state": XSS, "date_from": "NaN"}),
            "handled",
        ),
        Case(
            g, "chart bad days", get(coordinator, "/orders/chart/", {"days": "-1e309"}), "handled"
        ),
        Case(
            g,
            "audit status abc",
            get(support, "/audit/", {"status": "abc", "order": XSS}),
            "handled",
        ),
        Case(
            g, "audit cursor garbage", get(support, "/audit/", {"cursor": "\x00" * 10}), "handled"
        ),
        Case(g, "audit detail id 10^30", get(support, "/audit/" + "9" * 30 + "/"), "4xx"),
        Case(
            g,
            "patient search <script>",
            post(coordinator, "/orders/new/patients/", {"patient_query": XSS}, headers=htmx),
            "handled",
        ),
        Case(
            g,
            "patient search 50 kB",
            post(
                coordinator, "/orders/new/patients/", {"patient_query": "a" * 50_000}, headers=htmx
            ),
            "handled",
        ),
        Case(
            g,
            "patient card tampered token",
            get(coordinator, "/orders/new/patient-card/", {"token": XSS}, headers=htmx),
            "4xx",
        ),
        Case(
            g,
            "line row kind <script>",
            get(coordinator, "/orders/new/line/", {"kind": XSS}, headers=htmx),
            "4xx",
        ),
        Case(
            g,
            "order ref <script>",
            get(coordinator, "/orders/" + quote(XSS, safe="") + "/"),
            "4xx",
        ),
        Case(g, "order ref NUL", get(coordinator, "/orders/OD-%00/"), "4xx"),
        Case(
            g,
            "requests diff ids garbage",
            get(support, f"/orders/{ref}/requests/", {"a": "-1", "b": XSS}, headers=htmx),
            "handled",
        ),
        Case(
            g,
            "spoofed HX-Request anonymous",
            get(anonymous, f"/orders/{ref}/", headers=htmx),
            "handled",
        ),
        Case(g, "unknown action slug", get(support, f"/orders/{ref}/explode/"), "4xx"),
    ]


def _webhook_cases(ctx: Context) -> list[Case]:
    g = "bad input: webhook receiver"
    url = f"{ctx.stack.base_url}/webhooks/impilo"
    good = {"Impilo-Webhook-Secret": ctx.stack.webhook_secret, "Content-Type": "application/json"}

    def post(
        body: bytes | str, headers: dict[str, str] | None = None
    ) -> Callable[[], requests.Response]:
        data = body.encode() if isinstance(body, str) else body
        return lambda: requests.post(
            url,
            data=data,
            headers=good if headers is None else headers,
            timeout=30,
            allow_redirects=False,
        )

    deep = "[" * 100_000 + "]" * 100_000
    return [
        Case(g, "no secret", post('{"id":1,"type":"x","payload":{}}', {}), "4xx"),
        Case(
            g,
            "wrong secret",
            post('{"id":1,"type":"x","payload":{}}', {"Impilo-Webhook-Secret": "nope"}),
            "4xx",
        ),
        Case(g, "not JSON", post("<xml/>"), "4xx"),
        Case(g, "JSON array", post("[1,2,3]"), "4xx"),
        Case(g, "NaN", post('{"id":1,"type":"x","payload":{"n":NaN}}'), "4xx"),
        Case(g, "Infinity via 1e999", post('{"id":1,"type":"x","payload":{"n":1e999}}'), "4xx"),
        Case(
            g, "nested 100,000 deep", post(f'{{"id":1,"type":"x","payload":{{"a":{deep}}}}}'), "4xx"
        ),
        Case(
            g,
            "2 MB body",
            post('{"id":1,"type":"x","payload":{"a":"' + "x" * 2_000_000 + '"}}'),
            "4xx",
        ),
        Case(g, "NUL in payload", post('{"id":1,"type":"x","payload":{"a":"\\u0000"}}'), "4xx"),
        Case(
            g,
            "id 200 chars",
            post(json.dumps({"id": "9" * 200, "type": "x", "payload": {}})),
            "4xx",
        ),
        Case(g, "invalid UTF-8", post(b'{"id":1,"type":"\xff\xfe","payload":{}}'), "4xx"),
        Case(
            g,
            "GET instead of POST",
            lambda: requests.get(url, headers=good, timeout=30, allow_redirects=False),
            "4xx",
        ),
    ]


def _redirect_and_get_cases(
    ctx: Context, coordinator: Client, support: Client, ref: str
) -> list[Case]:
    g = "bad input: redirects, GET on actions"

    def login_next(target: str) -> Callable[[], requests.Response]:
        def send() -> requests.Response:
            client = Client(ctx.stack.base_url, "anonymous")
            client.get("/accounts/login/", params={"next": target})
            data = {
                "username": ctx.username("coordinator"),
                "password": ctx.passwords["coordinator"],
                "next": target,
            }
            return client.post_form("/accounts/login/?next=" + quote(target, safe=""), data)

        return send

    cases = [
        Case(g, f"login next={target}", login_next(target), "local_redirect")
        for target in (
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "http://127.0.0.1.evil.example/",
        )
    ]
    cases += [
        Case(g, "GET check Impilo now", lambda: support.get(f"/orders/{ref}/check/"), "4xx"),
        Case(g, "GET refresh status", lambda: coordinator.get(f"/orders/{ref}/refresh/"), "4xx"),
        Case(
            g,
            "GET bulk resubmit",
            lambda: support.get(
                "/orders/attention/bulk-resubmit/",
                params={"reference": ref, "confirm": "1", "reason": "x"},
            ),
            "4xx",
        ),
        Case(g, "GET logout", lambda: coordinator.get("/accounts/logout/"), "4xx"),
        Case(
            g,
            "GET resubmit with reason",
            lambda: support.get(f"/orders/{ref}/resubmit/", params={"reason": "x"}),
            "handled",
        ),
        Case(
            g,
            "GET resolve with reason",
            lambda: support.get(f"/orders/{ref}/resolve/", params={"reason": "x"}),
            "handled",
        ),
        Case(
            g,
            "GET new order with submit",
            lambda: coordinator.get("/orders/new/", params={"action": "submit"}),
            "handled",
        ),
    ]
    return cases


def _duplicate_submission(ctx: Context, client: Client, catalog: Any) -> Row:
    """One form token posted five times (double click, retry, back and resubmit): one order."""
    from random import Random

    from orderdesk.orders.models import Order

    before = Order.objects.count()
    data = order_form(catalog, Random(5), token=str(uuid.uuid4()))
    refs = {
        reference_of(client.post_form("/orders/new/", data).headers.get("Location", ""))
        for _ in range(5)
    }
    created = Order.objects.count() - before
    ok = created == 1 and len(refs) == 1 and None not in refs
    return Row(
        "bad input: duplicate submission",
        "one form token POSTed 5 times",
        "exactly one order; every answer leads to it",
        f"{created} order(s) created; {len(refs)} distinct redirect(s)",
        ok,
    )


def _stored_xss(ctx: Context, coordinator: Client, support: Client, admin: Client) -> Row:
    """Markup and formulas stored where free text is allowed, then every page reading them."""
    from orderdesk.orders.models import Order

    catalog = ctx.ensure_catalog()
    hostile = patient_tokens(coordinator, "Vfy")  # the planted patient with a hostile name
    data = order_form(catalog, __import__("random").Random(9))
    data = [(k, v) for k, v in data if k not in ("recipient_type", "patient", "site")]
    data += [
        ("recipient_type", "patient"),
        ("patient", hostile[0] if hostile else catalog.patient_tokens[0]),
    ]
    data += [("external_ids", f'=HYPERLINK("http://x.invalid")\n{XSS}\n{XSS_IMG}')]
    response = coordinator.post_form("/orders/new/", data)
    ref = reference_of(response.headers.get("Location", "")) or ""
    settle([ref], timeout=60)
    order = Order.objects.get(reference=ref)
    stored = [XSS in order.external_ids, bool(hostile) and XSS_FIRST in order.patient_name]
    # A reason with markup on a support action (mark resolved), and a webhook type.
    support.get(f"/orders/{ref}/resolve/")
    support.post_form(f"/orders/{ref}/resolve/", {"reason": f"{XSS} {XSS_IMG}"})
    requests.post(
        f"{ctx.stack.base_url}/webhooks/impilo",
        json={
            "id": "vfy-xss",
            "type": XSS,
            "payload": {"note": XSS_IMG, "orderId": order.impilo_id},
        },
        headers={"Impilo-Webhook-Secret": ctx.stack.webhook_secret},
        timeout=30,
    )
    pages = [
        (coordinator, f"/orders/{ref}/"), (coordinator, "/orders/"),
        (coordinator, f"/orders/?q={ref}"),
        (support, f"/orders/{ref}/"), (support, f"/orders/{ref}/requests/"), (support, "/audit/"),
        (support, "/orders/attention/"), (admin, "/orders/webhooks/"), (admin, f"/orders/{ref}/"),
    ]  # fmt: skip
    unescaped = []
    for client, path in pages:
        html = client.get(path).text
        unescaped += [f"{path}: {m[:20]}" for m in MARKERS if m in html]
    search = coordinator.post_form("/orders/new/patients/", {"patient_query": "Vfy"}).text
    unescaped += [f"patient search: {m[:20]}" for m in MARKERS if m in search]
    for who, url, body in PAGES:  # every page any check fetched so far
        text = body.decode("utf-8", "replace")
        if "<html" in text[:500].lower() or "hx-" in text[:2000]:
            unescaped += [f"{url} ({who})" for m in MARKERS if m in text]
    formulas = _csv_formulas(admin, ref)
    ok = not unescaped and not formulas and all(stored)
    return Row(
        "bad input: stored XSS, CSV formulas",
        "markup in external ids, a support reason, a webhook type and a patient name from "
        "Impilo; formulas in external ids and the name",
        "stored as typed; escaped on every page; no CSV cell starts = + - @",
        f"stored {sum(stored)}/2; {len(pages)} pages + {len(PAGES.pages)} seen: "
        f"{len(unescaped)} unescaped{' e.g. ' + unescaped[0] if unescaped else ''}; "
        f"CSV cells starting with a formula sign: {len(formulas)}",
        ok,
    )


def _csv_formulas(admin: Client, ref: str) -> list[str]:
    response = admin.get("/orders/export.csv", params={"q": ref})
    text = response.content.decode("utf-8-sig", "replace")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    return [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


def _row(group: str, outcome: Outcome) -> Row:
    passed = outcome.total - len(outcome.failures)
    measured = f"{passed}/{outcome.total} held"
    if outcome.failures:
        measured += "; failed: " + " | ".join(outcome.failures[:4])
    return Row(
        group,
        f"{outcome.total} hostile inputs",
        "4xx or form error (or a safe answer); 0 orders created; 0 sent to Impilo; 0 500s; "
        "nothing unescaped",
        measured,
        not outcome.failures,
    )
