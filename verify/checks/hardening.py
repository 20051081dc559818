"""Issue 15, findings 6-12: no patient identifiers in URLs (real Chromium), production
defaults and start-up refusals, no key on error pages, no-store pages, key redaction in
every encoding, the CSV formula guard, and the per-person limit on Impilo calls."""

import re
import secrets
import subprocess
import sys
from typing import Any
from urllib.parse import unquote_plus

from verify.checks.a11y import CHROMIUM, _base
from verify.context import PLANTED_FIRST, PLANTED_LAST, Context
from verify.report import Row
from verify.stack import MANAGE, PYTHON, ROOT


def run(ctx: Context) -> list[Row]:
    return [
        _phi_in_urls(ctx),
        _start_up_refusals(ctx),
        _key_on_error_pages(),
        _cache_headers(ctx),
        _redaction(),
        _csv_guard(),
        _person_limit(ctx),
    ]


# --- 6. PHI in URLs -----------------------------------------------------------------------


def _planted_values() -> list[str]:
    from orderdesk.sandbox.models import Patient

    patient = Patient.objects.get(last_name=PLANTED_LAST)
    values = [PLANTED_FIRST, PLANTED_LAST, f"{PLANTED_FIRST} {PLANTED_LAST}"]
    values.append(patient.external_identifier or "")
    if patient.date_of_birth:
        values.append(patient.date_of_birth.isoformat())
    return [value.lower() for value in values if value]


def _phi_in_urls(ctx: Context) -> Row:
    from playwright.sync_api import sync_playwright

    values = _planted_values()
    urls: list[str] = []
    history: list[str] = []
    steps: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            for role, flow in (("coordinator", _order_flow), ("support", _search_flow)):
                context = browser.new_context(base_url=_base(ctx))
                page = context.new_page()
                page.set_default_timeout(20000)
                page.on("request", lambda request: urls.append(request.url))
                page.on("framenavigated", lambda frame: urls.append(frame.url))
                _sign_in(page, ctx, role)
                steps.append(f"{role}: {flow(page)}")
                history += _history(page)
                context.close()
            context = browser.new_context(base_url=_base(ctx))
            page = context.new_page()
            page.set_default_timeout(20000)
            page.on("request", lambda request: urls.append(request.url))
            _sign_in(page, ctx, "admin")
            steps.append(f"admin: {_search_flow(page)}; {_audit_flow(page)}")
            history += _history(page)
            context.close()
        finally:
            browser.close()
    found = [url for url in urls + history if any(v in unquote_plus(url).lower() for v in values)]
    ctx.details.setdefault("hardening", []).extend(f"PHI in URL: {u}" for u in found[:20])
    flows_ok = all("done" in step for step in steps)
    return Row(
        "hardening: PHI in URLs",
        f"Chromium: coordinator searches by name and identifier, chooses, submits; support "
        f"and admin search Orders by name, open the order and the audit log; "
        f"{len(values)} identifying values of a planted patient",
        "0 values in any request URL or history entry; every flow completes",
        f"{len(urls)} requests, {len(history)} history entries: {len(found)} with PHI; "
        + "; ".join(steps),
        flows_ok and not found and len(urls) > 20,
    )


def _sign_in(page: Any, ctx: Context, role: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(ctx.username(role))
    page.get_by_label("Password").fill(ctx.passwords[role])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/orders/"))


def _order_flow(page: Any) -> str:
    try:
        page.goto("/orders/new/")
        box = page.get_by_label("Search patients")
        box.fill(PLANTED_LAST)
        choice = page.locator("#patient-results .picker-choice").first
        choice.wait_for()
        choice.click()
        page.locator("#patient-card").wait_for()
        page.locator("select[name=line-id]").first.select_option(index=1)
        page.get_by_role("button", name="Submit order").click()
        page.wait_for_url(re.compile(r"/orders/OD-[0-9A-Z]+/$"))
        return "done"
    except Exception as exc:
        return f"failed: {exc.__class__.__name__}"


def _search_flow(page: Any) -> str:
    try:
        page.goto("/orders/")
        search = page.get_by_label("Search", exact=True)
        search.fill(f"{PLANTED_FIRST} {PLANTED_LAST}")
        search.press("Enter")
        page.wait_for_url(re.compile(r"search_id="))
        page.locator("#order-results tbody tr a").first.click()
        page.wait_for_url(re.compile(r"/orders/OD-[0-9A-Z]+/$"))
        return "done"
    except Exception as exc:
        return f"failed: {exc.__class__.__name__}"


def _audit_flow(page: Any) -> str:
    try:
        page.goto("/audit/")
        page.locator("#apicall-rows a").first.click()
        page.wait_for_load_state()
        return "audit done"
    except Exception as exc:
        return f"audit failed: {exc.__class__.__name__}"


def _history(page: Any) -> list[str]:
    urls = [page.url]
    for _ in range(page.evaluate("history.length") - 1):
        if page.go_back(wait_until="commit") is None and page.url == urls[-1]:
            break
        urls.append(page.url)
    return urls


# --- 7, 8. Production defaults and start-up refusals --------------------------------------

WEAK = {
    "SECRET_KEY short": {"SECRET_KEY": "x" * 49},
    "SECRET_KEY development": {"SECRET_KEY": "django-insecure-orderdesk-development-only"},
    "IMPILO_BASE_URL http remote": {"IMPILO_BASE_URL": "http://impilo.example.org"},
    "IMPILO_SANDBOX_API_KEY published": {
        "IMPILO_SANDBOX": "true",
        "IMPILO_SANDBOX_API_KEY": "sandbox-demo-key",
    },
}
DEBUG_PROBE = (
    "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
)


def _start_up_refusals(ctx: Context) -> Row:
    base = ctx.stack.env()
    base.update(IMPILO_BASE_URL="https://impilo.invalid", IMPILO_SANDBOX="false")
    refused = []
    for name, weak in WEAK.items():
        result = _manage({**base, **weak}, "check")
        variable = name.split()[0]
        if result.returncode != 0 and f"{variable} must" in result.stderr:
            refused.append(name)
    unset = {key: value for key, value in base.items() if key != "DEBUG"}
    debug = subprocess.run(  # noqa: S603
        [PYTHON, "-c", DEBUG_PROBE], env=unset, cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return Row(
        "hardening: start-up refusals",
        f"manage.py check with DEBUG unset, and with {len(WEAK)} weak settings: " + ", ".join(WEAK),
        "DEBUG off when unset; each weak setting refused, naming its variable",
        f"DEBUG when unset: {debug or '?'}; refused {len(refused)}/{len(WEAK)}",
        debug == "False" and len(refused) == len(WEAK),
    )


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603
        [PYTHON, MANAGE, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )


# Made at run time (the page shows source lines) and global (the page shows the variables
# of the frames above the failing code, which are not ours to mark).
ERROR_PAGE_KEY = f"vfy-live-key-{secrets.token_hex(12)}"


def _key_on_error_pages() -> Row:
    """The DEBUG technical page for a failure inside code holding the key."""
    from django.test import RequestFactory, override_settings
    from django.views.debug import technical_500_response

    from orderdesk.audit.models import request_columns

    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("unprintable header")

    with override_settings(DEBUG=True, IMPILO_API_KEY=ERROR_PAGE_KEY):
        try:
            request_columns(
                action="patient_search",
                method="GET",
                url="https://impilo.invalid/api/v3/patient",
                request_headers={"Impilo-API-Key": ERROR_PAGE_KEY, "X-Trace": Unprintable()},
            )
            page = ""
        except RuntimeError:
            response = technical_500_response(RequestFactory().get("/"), *sys.exc_info())
            page = response.content.decode()
    shown = page.count(ERROR_PAGE_KEY)
    return Row(
        "hardening: key on error pages",
        "DEBUG technical 500 page for an exception inside the audit of a call (key in "
        "frame variables and headers)",
        "the page is made, and shows the key 0 times",
        f"page {len(page)} characters; key shown {shown} times",
        bool(page) and shown == 0,
    )


# --- 9. Cache headers -------------------------------------------------------------------

CACHED_PAGES = ["/orders/", "/orders/new/", "/orders/attention/", "/audit/", "/orders/chart/"]


def _cache_headers(ctx: Context) -> Row:
    admin = ctx.client("admin")
    checked, bad = 0, []
    for path in CACHED_PAGES:
        for headers in ({}, {"HX-Request": "true"}):
            response = admin.get(path, headers=headers)
            control = {p.strip() for p in response.headers.get("Cache-Control", "").split(",")}
            vary = response.headers.get("Vary", "").lower()
            checked += 1
            if not {"no-store", "private"} <= control or "hx-request" not in vary:
                bad.append(f"{path}{' (htmx)' if headers else ''}")
    return Row(
        "hardening: cache headers",
        f"{len(CACHED_PAGES)} signed-in pages, as a page and as an htmx request",
        "Cache-Control: no-store, private and Vary: HX-Request on every one",
        f"{checked} responses, {len(bad)} without them" + (f": {', '.join(bad)}" if bad else ""),
        not bad and checked == 2 * len(CACHED_PAGES),
    )


# --- 10. Redaction, 11. CSV guard ------------------------------------------------------------


def _redaction() -> Row:
    from urllib.parse import quote, quote_plus

    from django.test import override_settings

    from orderdesk.audit.present import pretty_body
    from orderdesk.audit.redact import redact_text

    key = "vfy-Key/With+Odd=Chars"
    spellings = [
        key,
        quote(key, safe=""),
        quote(key, safe="").lower(),
        quote_plus(key),
        quote(quote(key, safe=""), safe=""),
        key.replace("/", "\\/"),
        "".join(f"\\u{ord(c):04x}" for c in key),
        "".join(f"\\u{ord(c):04X}" for c in key),
        key.upper(),
        key.lower(),
        "".join(f"&#{ord(c)};" for c in key),
        "".join(f"&#x{ord(c):x};" for c in key),
    ]
    left = []
    with override_settings(IMPILO_API_KEY=key):
        for spelling in spellings:
            stored = redact_text(f'{{"echo": "{spelling}"}}', key)
            shown = pretty_body('{"echo": "' + spelling.replace('"', '\\"') + '"}')
            if key.lower() in (stored + shown).lower() or spelling in stored:
                left.append(spelling)
    return Row(
        "hardening: key redaction",
        f"{len(spellings)} spellings of the key (raw, percent, JSON, HTML, letter case) in "
        "a stored body and on the audit page after pretty-printing",
        "every spelling redacted, before and after pretty-printing",
        f"{len(spellings) - len(left)}/{len(spellings)} redacted",
        not left,
    )


def _csv_guard() -> Row:
    from orderdesk.orders.selectors.csv_export import safe_cell

    starters = ["=1", "+1", "-1", "@x", "\tx", "\rx", " =1", "  +1", "\u3000@x"]
    starters += ["＝1", "＋1", "－1", "＠x", " ＝1", "﹦1"]
    unguarded = [s for s in starters if not safe_cell(s).startswith("'")]
    return Row(
        "hardening: CSV formula guard",
        f"{len(starters)} formula starters: ASCII, after spaces, full-width and small forms",
        "every such cell starts with an apostrophe",
        f"{len(starters) - len(unguarded)}/{len(starters)} guarded",
        not unguarded,
    )


# --- 12. Per-person limit -----------------------------------------------------------------


def _person_limit(ctx: Context) -> Row:
    from orderdesk.audit.models import ApiCall

    limit = int(ctx.stack.env().get("IMPILO_CALLS_PER_PERSON_PER_MINUTE") or 30)
    coordinator = ctx.client("coordinator")
    before = ApiCall.objects.filter(action="patient_search").count()
    answers = [
        coordinator.post_form("/orders/new/patients/", {"patient_query": "an"}).text
        for _ in range(limit + 5)
    ]
    refused = sum("Impilo requests a minute" in text for text in answers)
    sent = ApiCall.objects.filter(action="patient_search").count() - before
    admin_search = ctx.client("admin").post_form("/orders/new/patients/", {"patient_query": "an"})
    other_ok = "Impilo requests a minute" not in admin_search.text
    return Row(
        "hardening: per-person Impilo limit",
        f"{limit + 5} patient searches in a row by one person (limit {limit}/min), then one "
        "by another person",
        f"at most {limit} reach Impilo, the rest get the message; the other person is served",
        f"{sent} sent, {refused} refused with the message; other person served: {other_ok}",
        sent <= limit and refused >= 5 and other_ok,
    )
