"""Issue 8 item 8: axe-core (verify/vendor/axe.min.js, from the npm package) in Chromium on
every page and state, and flows done with the keyboard alone.

The pages' CSP forbids inline scripts, axe's included: the browser context bypasses CSP
for the injected script only (Playwright's bypass_csp), the pages themselves are unchanged.
"""

import contextlib
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verify.context import PLANTED_LAST, Context
from verify.report import Row

AXE = Path(__file__).resolve().parent.parent / "vendor" / "axe.min.js"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
BAD_IMPACT = ("serious", "critical")


@dataclass
class Findings:
    pages: int = 0
    violations: list[str] = field(default_factory=list)
    minor: int = 0
    errors: list[str] = field(default_factory=list)


def run(ctx: Context) -> list[Row]:
    if not ctx.sizes.a11y:
        return [Row("a11y", "(VERIFY_A11Y=0)", "runs", "not run", False)]
    from playwright.sync_api import sync_playwright

    _plant_failed_order(ctx)
    samples = _samples(ctx)
    findings = Findings()
    walks: dict[str, str] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            for role, states in _states(samples).items():
                page = _signed_in(browser, ctx, role)
                for name, path, act in states:
                    _audit(page, ctx, f"{role}: {name}", path, act, findings)
                page.context.close()
            walks["sign in"] = _walk_sign_in(browser, ctx)
            walks["create an order"] = _walk_create(browser, ctx)
            walks["resolve an order (support)"] = _walk_resolve(browser, ctx, samples)
        finally:
            browser.close()
    failed_walks = [name for name, result in walks.items() if result != "done"]
    return [
        Row(
            "a11y: axe-core",
            f"{findings.pages} pages and states (empty, filled, error) as each role",
            "0 serious or critical violations",
            f"{len(findings.violations)} serious/critical, {findings.minor} minor/moderate"
            + (f"; {' | '.join(findings.violations[:4])}" if findings.violations else "")
            + (f"; page errors: {' | '.join(findings.errors[:2])}" if findings.errors else ""),
            not findings.violations and not findings.errors,
        ),
        Row(
            "a11y: keyboard only",
            f"{len(walks)} flows with Tab, arrows, typing and Enter, no mouse",
            "each flow completes",
            "; ".join(f"{name}: {result}" for name, result in walks.items()),
            not failed_walks,
        ),
    ]


def _plant_failed_order(ctx: Context) -> None:
    """The support walk and the failed-order pages need an order that failed: make one
    (Impilo answers 429 until its attempts run out) unless an earlier check left one."""
    from orderdesk.orders.models import Order
    from orderdesk.sandbox import faults
    from verify.orders import create_orders, settle

    if Order.objects.filter(state__in=["failed", "needs_review"]).exists():
        return
    faults.inject("rate_limit", path=r"/api/v3/order$", method="POST", retry_after="0")
    try:
        refs = create_orders([ctx.client("coordinator")], ctx.ensure_catalog(), 1, seed=8)
        settle(refs, timeout=90)
    finally:
        faults.clear()


def _samples(ctx: Context) -> dict[str, str]:
    from orderdesk.audit.models import ApiCall
    from orderdesk.orders.models import Order

    out = {}
    for state in (
        "submitted",
        "failed",
        "rejected",
        "needs_review",
        "unknown",
        "resolved",
        "draft",
    ):
        order = Order.objects.filter(state=state).order_by("-id").first()
        if order:
            out[state] = order.reference
    call = ApiCall.objects.filter(action="order_create").order_by("-id").first()
    out["call"] = str(call.pk) if call else "1"
    return out


Act = Callable[[Any], None] | None


def _states(samples: dict[str, str]) -> dict[str, list[tuple[str, str, Act]]]:
    def search(page: Any) -> None:
        page.fill("#patient-query", PLANTED_LAST)
        page.wait_for_selector("#patient-results li", timeout=15000)

    def submit_empty(page: Any) -> None:
        page.get_by_role("button", name="Submit order").click()
        page.wait_for_load_state()

    def filled(page: Any) -> None:
        search(page)
        page.locator(".picker-choice").first.click()
        page.wait_for_selector(
            "#patient-picker .card, #patient-picker [data-chosen]", timeout=15000
        )
        page.get_by_role("button", name="Add kit").click()
        page.wait_for_timeout(500)

    coordinator: list[tuple[str, str, Act]] = [
        ("order list", "/orders/", None),
        ("order list, no match", "/orders/?q=nothing-matches-this", None),
        ("order list, bad filter", "/orders/?date_from=2024-13-45&patient=abc", None),
        ("order chart", "/orders/chart/", None),
        ("new order, empty", "/orders/new/", None),
        ("new order, search results", "/orders/new/", search),
        ("new order, filled", "/orders/new/", filled),
        ("new order, errors", "/orders/new/", submit_empty),
        ("403 page", "/audit/", None),
        ("404 page", "/orders/OD-NOSUCH0/", None),
    ]
    for state in ("submitted", "failed", "rejected", "needs_review", "unknown", "resolved"):
        if state in samples:
            coordinator.append((f"order detail, {state}", f"/orders/{samples[state]}/", None))
    if "draft" in samples:
        coordinator.append(("draft edit", f"/orders/{samples['draft']}/edit/", None))
    support: list[tuple[str, str, Act]] = [
        ("attention queue", "/orders/attention/", None),
        ("audit log", "/audit/", None),
        ("audit log, no match", "/audit/?order=OD-NOPE0000", None),
        ("audit log, bad filter", "/audit/?status=abc", None),
        ("audit call detail", f"/audit/{samples['call']}/", None),
    ]
    for state, slug in (("failed", "resubmit"), ("needs_review", "resolve"), ("failed", "resolve")):
        if state in samples:
            support.append((f"{slug} confirm ({state})", f"/orders/{samples[state]}/{slug}/", None))
    if "submitted" in samples:
        support.append(("order requests panel", f"/orders/{samples['submitted']}/requests/", None))
    if "rejected" in samples:
        support.append(("edit and resubmit", f"/orders/{samples['rejected']}/edit-resubmit/", None))
    admin: list[tuple[str, str, Act]] = [
        ("webhook deliveries", "/orders/webhooks/", None),
        ("sandbox faults", "/sandbox/impilo/faults/", None),
        ("order list (admin)", "/orders/?state=submitted", None),
    ]
    anonymous: list[tuple[str, str, Act]] = [
        ("sign-in", "/accounts/login/", None),
        ("sign-in, error", "/accounts/login/", _wrong_password),
    ]
    return {"anonymous": anonymous, "coordinator": coordinator, "support": support, "admin": admin}


def _wrong_password(page: Any) -> None:
    page.get_by_label("Username").fill("nobody")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _signed_in(browser: Any, ctx: Context, role: str) -> Any:
    context = browser.new_context(base_url=_base(ctx), bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(20000)
    if role != "anonymous":
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(ctx.username(role))
        page.get_by_label("Password").fill(ctx.passwords[role])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/orders/"))
    return page


def _base(ctx: Context) -> str:
    # "localhost" is a secure context, so Chromium keeps the Secure cookies of DEBUG=false.
    return ctx.stack.base_url.replace("127.0.0.1", "localhost")


def _audit(page: Any, ctx: Context, name: str, path: str, act: Act, findings: Findings) -> None:
    try:
        page.goto(path)
        page.wait_for_load_state("networkidle", timeout=10000)
        if act:
            act(page)
        page.add_script_tag(path=str(AXE))
        result = page.evaluate(
            "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
            " return r.violations.map(v => [v.id, v.impact, v.nodes.length,"
            " v.nodes.slice(0, 2).map(n => n.target.join(' ')).join(', ')]); }"
        )
    except Exception as exc:
        findings.errors.append(f"{name}: {type(exc).__name__}: {str(exc)[:120]}")
        _screenshot(page, ctx, name)
        return
    findings.pages += 1
    for rule, impact, nodes, where in result:
        if impact in BAD_IMPACT:
            findings.violations.append(f"{name} {path}: {rule} ({impact}, {nodes}× e.g. {where})")
        else:
            findings.minor += 1


def _screenshot(page: Any, ctx: Context, name: str) -> None:
    """What the page looked like when a step failed, kept beside the logs."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    # A missing picture must not hide the finding itself.
    with contextlib.suppress(Exception):
        page.screenshot(path=str(ctx.stack.folder / f"a11y-{slug}.png"), full_page=True)


def _tab_to(page: Any, selector: str, limit: int = 60) -> bool:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(
            "s => document.activeElement && document.activeElement.matches(s)", selector
        ):
            return True
    return False


def _walk_sign_in(browser: Any, ctx: Context) -> str:
    context = browser.new_context(base_url=_base(ctx))
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        if not _tab_to(page, "input[name=username]"):
            return "could not reach the username field"
        page.keyboard.type(ctx.username("coordinator"))
        page.keyboard.press("Tab")
        page.keyboard.type(ctx.passwords["coordinator"])
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/orders/"), timeout=15000)
        return "done"
    except Exception as exc:
        return f"stopped: {str(exc)[:100]}"
    finally:
        context.close()


def _walk_create(browser: Any, ctx: Context) -> str:
    page = _signed_in(browser, ctx, "coordinator")
    step = "open the form"
    try:
        page.goto("/orders/new/")
        step = "reach the patient search"
        assert _tab_to(page, "#patient-query")
        page.keyboard.type(PLANTED_LAST)
        step = "see results"
        page.wait_for_selector("#patient-results li", timeout=15000)
        step = "choose with arrow and Enter"
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "() => (document.querySelector('#id_patient') || {}).value",
            timeout=15000,
        )
        step = "choose an item"
        assert _tab_to(page, "select[name=line-id]")
        page.keyboard.press("ArrowDown")
        chosen = page.evaluate("() => document.activeElement.value")
        assert chosen, "the arrow key did not change the item"
        step = "submit"
        assert _tab_to(page, "button[value=submit]")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/orders/OD-[0-9A-Z]+/$"), timeout=20000)
        return "done"
    except Exception as exc:
        _screenshot(page, ctx, "walk create")
        return f"stopped at '{step}': {str(exc)[:80]}"
    finally:
        page.context.close()


def _walk_resolve(browser: Any, ctx: Context, samples: dict[str, str]) -> str:
    ref = samples.get("needs_review") or samples.get("failed")
    if not ref:
        return "done (no stuck order to resolve; nothing to walk)"
    page = _signed_in(browser, ctx, "support")
    step = "open the order"
    try:
        page.goto(f"/orders/{ref}/")
        step = "reach 'Mark resolved'"
        assert _tab_to(page, "a[href$='/resolve/'], button[formaction$='/resolve/']", limit=80)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/resolve/$"))
        step = "type a reason"
        assert _tab_to(page, "textarea[name=reason]")
        page.keyboard.type("Settled by phone with Impilo (keyboard walk)")
        step = "confirm"
        assert _tab_to(page, "button[type=submit]")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(rf"/orders/{ref}/$"))
        return "done"
    except Exception as exc:
        return f"stopped at '{step}': {str(exc)[:80]}"
    finally:
        page.context.close()
