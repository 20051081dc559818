"""Issue 8 item 6: `check --deploy`, security headers and cookie flags on the DEBUG=false
server, session fixation, logout, idle expiry, and CSRF on every state-changing request.

Idle expiry needs minutes of real waiting, so `begin()` starts it first, on a second
gunicorn with a short SESSION_IDLE_MINUTES, and `run()` collects its result at the end.
"""

import subprocess
import threading
import time
from dataclasses import dataclass, field

import requests

from verify.checks.access import TABLE, _probes, expected
from verify.context import Context
from verify.report import Row
from verify.stack import MANAGE, PYTHON, ROOT, held_port
from verify.web import Client, is_login_redirect

TLS = {"X-Forwarded-Proto": "https"}
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
# Not cookie-authenticated, so CSRF does not apply: a shared secret or the API key.
CSRF_EXEMPT = {"impilo_webhook"} | {name for name, rule in TABLE.items() if rule.need == "api_key"}


@dataclass
class IdleProbe:
    steps: list[str] = field(default_factory=list)
    passed: bool = False
    thread: threading.Thread | None = None
    server: subprocess.Popen[bytes] | None = None


PROBE = IdleProbe()


def begin(ctx: Context) -> None:
    PROBE.thread = threading.Thread(target=_idle_probe, args=(ctx,), daemon=True)
    PROBE.thread.start()


def _idle_probe(ctx: Context) -> None:
    idle = ctx.sizes.idle_minutes * 60
    port = held_port()
    log = (ctx.stack.folder / "gunicorn-idle.log").open("ab")
    command = [PYTHON, "-m", "gunicorn", "orderdesk.wsgi", "--chdir", str(ROOT)]
    command += ["--bind", f"127.0.0.1:{port}", "--reuse-port", "--workers", "1", "--threads", "2"]
    env = ctx.stack.env(SESSION_IDLE_MINUTES=str(ctx.sizes.idle_minutes))
    PROBE.server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(base + "/healthz", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.3)
        client = Client(base, "coordinator")
        client.login(ctx.username("coordinator"), ctx.passwords["coordinator"])
        cookie = client.cookies.get("sessionid") or ""
        login_at = time.monotonic()

        def still_in(at: float) -> bool:
            time.sleep(max(0.0, login_at + at - time.monotonic()))
            response = requests.get(
                base + "/orders/", cookies={"sessionid": cookie}, timeout=30, allow_redirects=False
            )
            return response.status_code == 200

        # Activity keeps the session alive past one idle period from sign-in...
        kept = still_in(idle * 2 / 3) and still_in(idle * 4 / 3)
        PROBE.steps.append(f"active at {idle * 4 // 3} s after sign-in: {'in' if kept else 'out'}")
        # ...and idleness ends it, on the server (the old cookie is sent regardless).
        expired = not still_in(idle * 4 / 3 + idle + 8)
        PROBE.steps.append(f"after {idle + 8} s idle: {'signed out' if expired else 'still in'}")
        PROBE.passed = kept and expired
    except Exception as exc:
        PROBE.steps.append(f"probe error: {exc!r}")
    finally:
        PROBE.server.terminate()
        PROBE.server.wait(timeout=20)


def run(ctx: Context) -> list[Row]:
    rows = [_deploy_check(ctx), _headers(ctx), _fixation(ctx), _csrf(ctx)]
    if PROBE.thread is not None:
        PROBE.thread.join(timeout=ctx.sizes.idle_minutes * 60 * 3 + 120)
    rows.append(
        Row(
            "sessions: idle expiry",
            f"SESSION_IDLE_MINUTES={ctx.sizes.idle_minutes} on a second server; requests "
            "while active, then idle",
            "activity extends the session; idleness ends it server-side",
            "; ".join(PROBE.steps) or "did not run",
            PROBE.passed,
        )
    )
    return rows


def _deploy_check(ctx: Context) -> Row:
    env = ctx.stack.env()
    for key in ("SECURE_SSL_REDIRECT", "IMPILO_SANDBOX"):
        env.pop(key, None)
    env.update(IMPILO_BASE_URL="https://impilo.invalid", IMPILO_SANDBOX="false")
    result = subprocess.run(  # noqa: S603
        [PYTHON, MANAGE, "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    output = (result.stdout + result.stderr).strip().splitlines()
    issues = [line for line in output if line.startswith("?:") or "WARNING" in line]
    return Row(
        "headers: check --deploy",
        "manage.py check --deploy --fail-level WARNING with production settings",
        "no issues",
        f"exit {result.returncode}; {len(issues)} issue(s)"
        + (f": {' | '.join(issues[:3])}" if issues else f": {output[-1] if output else ''}"),
        result.returncode == 0 and not issues,
    )


def _headers(ctx: Context) -> Row:
    admin = ctx.client("admin")
    pages = [
        "/accounts/login/",
        "/orders/",
        "/orders/new/",
        "/audit/",
        "/orders/OD-NOSUCH/",
        "/healthz",
    ]
    problems: list[str] = []
    for path in pages:
        response = admin.get(path, headers=TLS)
        problems += [f"{path}: {p}" for p in _header_problems(response, html=path != "/healthz")]
    # Cookies as a browser behind the TLS proxy receives them.
    fresh = Client(ctx.stack.base_url, "anonymous")
    page = fresh.get("/accounts/login/", headers=TLS)
    login = fresh.post_form(
        "/accounts/login/",
        {"username": ctx.username("support"), "password": ctx.passwords["support"]},
        headers={**TLS, "Referer": f"https://127.0.0.1:{ctx.stack.port}/accounts/login/"},
    )
    cookies = page.headers.get("Set-Cookie", "") + " || " + login.headers.get("Set-Cookie", "")
    for name, flags in (
        ("csrftoken", ("Secure", "SameSite=Lax")),
        ("sessionid", ("Secure", "HttpOnly", "SameSite=Lax")),
    ):
        part = next((c for c in cookies.split(" || ") if f"{name}=" in c), "")
        if not part:
            problems.append(f"no {name} cookie set (login HTTP {login.status_code})")
        problems += [
            f"{name} cookie lacks {flag}" for flag in flags if flag.lower() not in part.lower()
        ]
    return Row(
        "headers: security headers, cookies",
        f"{len(pages)} pages as admin over the TLS proxy; sign-in cookies",
        "CSP without unsafe-inline, HSTS ≥ 1 year, X-Frame-Options DENY, Referrer-Policy, "
        "nosniff; cookies Secure, HttpOnly (session), SameSite",
        f"{len(problems)} problem(s)" + (": " + " | ".join(problems[:4]) if problems else ""),
        not problems,
    )


def _header_problems(response: requests.Response, html: bool) -> list[str]:
    h = response.headers
    problems = []
    hsts = h.get("Strict-Transport-Security", "")
    if "max-age=" not in hsts or int(hsts.split("max-age=")[1].split(";")[0]) < 31536000:
        problems.append(f"HSTS {hsts!r}")
    if h.get("X-Frame-Options") != "DENY":
        problems.append(f"X-Frame-Options {h.get('X-Frame-Options')!r}")
    if h.get("X-Content-Type-Options") != "nosniff":
        problems.append("no nosniff")
    if h.get("Referrer-Policy") not in (
        "same-origin",
        "strict-origin-when-cross-origin",
        "no-referrer",
    ):
        problems.append(f"Referrer-Policy {h.get('Referrer-Policy')!r}")
    if html:
        csp = h.get("Content-Security-Policy", "")
        if (
            "default-src 'self'" not in csp
            or "unsafe-inline" in csp
            or "frame-ancestors 'none'" not in csp
        ):
            problems.append(f"CSP {csp[:60]!r}")
    return problems


def _fixation(ctx: Context) -> Row:
    base = ctx.stack.base_url
    checks: dict[str, bool] = {}
    # An attacker's own valid session, planted in the victim's browser before sign-in.
    attacker = ctx.client("coordinator")
    planted = attacker.cookies.get("sessionid") or ""
    victim = Client(base, "anonymous")
    victim.get("/accounts/login/")
    victim.cookies.set("sessionid", planted, domain="127.0.0.1", path="/")
    victim.post_form(
        "/accounts/login/",
        {"username": ctx.username("support"), "password": ctx.passwords["support"]},
    )
    replay = requests.get(
        base + "/orders/attention/",
        cookies={"sessionid": planted},
        timeout=30,
        allow_redirects=False,
    )
    checks["planted id grants nothing of the victim's"] = replay.status_code != 200
    # A made-up id is not adopted either.
    made_up = Client(base, "anonymous")
    made_up.cookies.set(
        "sessionid", "vfyfixation0123456789abcdefghijkl", domain="127.0.0.1", path="/"
    )
    made_up.login(ctx.username("coordinator"), ctx.passwords["coordinator"])
    checks["made-up id not adopted"] = (
        made_up.cookies.get("sessionid") != "vfyfixation0123456789abcdefghijkl"
    )
    # Signing out ends the session on the server, not just in the browser.
    leaving = ctx.client("admin")
    old = leaving.cookies.get("sessionid") or ""
    leaving.post_form("/accounts/logout/", {})
    again = requests.get(
        base + "/orders/", cookies={"sessionid": old}, timeout=30, allow_redirects=False
    )
    checks["logout ends the session server-side"] = is_login_redirect(again)
    failed = [name for name, ok in checks.items() if not ok]
    return Row(
        "sessions: fixation, logout",
        "attacker's and made-up session ids planted before sign-in; old cookie after logout",
        "sign-in issues a new id; planted ids get nothing; logout invalidates",
        f"{len(checks) - len(failed)}/{len(checks)} held"
        + (f"; failed: {', '.join(failed)}" if failed else ""),
        not failed,
    )


def _csrf(ctx: Context) -> Row:
    """Every state-changing method of every URL, by a role allowed to use it, without the
    token (expect 403), and with the token but a foreign Origin (expect 403)."""
    probes, _ = _probes(ctx)
    clients = {role: ctx.client(role) for role in ("coordinator", "support", "admin")}
    tried, problems = 0, []
    for probe in probes:
        if probe.name in CSRF_EXEMPT or probe.guessed or probe.name == "logout":
            continue
        for method in STATE_CHANGING:
            role = next((r for r in clients if expected(probe.rule, r, method) == "ok"), None)
            if role is None:
                continue
            client = clients[role]
            tried += 2
            bare = client.request(method, probe.path)
            if bare.status_code != 403:
                problems.append(
                    f"{method} {probe.path} as {role} without token: {bare.status_code}"
                )
            foreign = client.request(
                method, probe.path,
                headers={"X-CSRFToken": client.csrf, "Origin": "https://evil.example"},
            )  # fmt: skip
            if foreign.status_code != 403:
                problems.append(f"{method} {probe.path} from evil.example: {foreign.status_code}")
    anonymous = Client(ctx.stack.base_url, "anonymous")
    login = anonymous.post("/accounts/login/", data={"username": "x", "password": "y"})
    tried += 1
    if login.status_code != 403:
        problems.append(f"login without token: {login.status_code}")
    return Row(
        "csrf: state-changing requests",
        f"{tried} requests: every POST/PUT/PATCH/DELETE a role may make, without the token "
        "or from a foreign Origin (webhook and sandbox API are key-authenticated)",
        "403 every time",
        f"{tried - len(problems)}/{tried} refused"
        + (": " + " | ".join(problems[:4]) if problems else ""),
        not problems,
    )
