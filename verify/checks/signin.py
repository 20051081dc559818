"""Issue 15 items 1-5: every sign-in door shares one throttle, in a burst and in parallel;
look-alike usernames share their account's budget; the admin role cannot raise its own or
anyone's power; background polls do not keep a session alive, and no session outlives
SESSION_MAX_HOURS.

A password was checked exactly when the sign-in page answers with its wrong-password error
(200); a refused attempt gets the lockout page (429) and its password is never checked.
Attempts carry their own X-Forwarded-For (the stack runs behind a simulated TLS proxy), so
the loopback address that the other checks sign in from keeps its budget.

The session probes need minutes of real waiting, so `begin()` starts them on two more
gunicorns with short limits, and `run()` collects their results at the end.
"""

import re
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import count

import requests

from verify.context import Context
from verify.report import Row
from verify.stack import PYTHON, ROOT, free_port
from verify.web import Client

DOORS = ("/accounts/login/", "/admin/login/")
# The sign-in page's and the admin's wrong-password errors.
WRONG = re.compile(r"Please enter (a|the) correct username and password")
LOCKED = "Too many failed sign-in attempts"
PASSWORD = "Vfy-sign-in-password-42"  # noqa: S105 -- the probe people's own
BURST = 12
PARALLEL = 16
# The first is the account itself once NFKC-normalised, as Django signs in.
LOOK_ALIKES = ("ｖｆｙ－ｌｏｏｋｙ", "VFY-LOOKY", "ｖfy-looky", "vfy-looky ", "Ｖfy-Looky")
_addresses = count(1)


def next_address() -> str:
    """A fresh client address for each attempt (documentation range, never contacted)."""
    n = next(_addresses)
    return f"198.51.{100 + n // 250}.{n % 250 + 1}"


def limit() -> int:
    from django.conf import settings

    return int(settings.LOGIN_THROTTLE_ATTEMPTS)


def make_person(username: str, role: str = "admin", superuser: bool = False) -> None:
    from django.contrib.auth.models import Group

    from orderdesk.accounts.models import User

    user = User.objects.create_user(username=username, password=PASSWORD)
    user.is_staff = role == "admin" or superuser
    user.is_superuser = superuser
    user.save()
    if role:
        user.groups.add(Group.objects.get(name=role))


def attempt(base: str, door: str, username: str, password: str, start=None) -> str:
    """One sign-in from a fresh address: checked, refused, signed in, or HTTP <code>."""
    headers = {"X-Forwarded-For": next_address()}
    client = Client(base, "anonymous", record=False)
    client.get(door, headers=headers)
    if start is not None:
        start.wait(timeout=60)
    response = client.post_form(door, {"username": username, "password": password}, headers=headers)
    if response.status_code == 200 and WRONG.search(response.text):
        return "checked"
    if response.status_code == 429 and LOCKED in response.text:
        return "refused"
    if response.status_code == 302:
        return "signed in"
    return f"HTTP {response.status_code}"


def run(ctx: Context) -> list[Row]:
    rows = [_burst(ctx), _parallel(ctx), _look_alikes(ctx), _escalation(ctx)]
    if PROBES.thread is not None:
        PROBES.thread.join(timeout=600)
    rows += PROBES.rows or [
        Row("sessions: polling, lifetime", "second servers", "ran", "did not run", False)
    ]
    return rows


# --- Items 1 and 3: the throttle at every door -------------------------------------------------


def _burst(ctx: Context) -> Row:
    base, n = ctx.stack.base_url, limit()
    found, ok = [], True
    for i, door in enumerate(DOORS):
        user = f"vfy-burst-{i}"
        make_person(user)
        seen = Counter(attempt(base, door, user, "wrong-password") for _ in range(BURST))
        right = attempt(base, door, user, PASSWORD)
        found.append(
            f"{door}: {seen['checked']} checked, {seen['refused']} refused, "
            f"then right password {right}"
        )
        ok &= seen["checked"] == n and seen["refused"] == BURST - n and right == "refused"
    # Both doors draw on one budget: some failures at each, then the right one at each.
    make_person("vfy-burst-both")
    half = [attempt(base, DOORS[k % 2], "vfy-burst-both", "wrong-password") for k in range(n)]
    rights = [attempt(base, door, "vfy-burst-both", PASSWORD) for door in DOORS]
    found.append(
        f"{n} failures alternating doors ({Counter(half)['checked']} checked), "
        f"then right password at each: {', '.join(rights)}"
    )
    ok &= Counter(half)["checked"] == n and rights == ["refused", "refused"]
    return Row(
        "sign-in: burst per door",
        f"{BURST} wrong passwords in a row per door, each from a new address, then the right "
        f"one; {n} failures alternating doors (LOGIN_THROTTLE_ATTEMPTS={n})",
        f"{n} checked per username across all doors; then even the right password refused",
        "; ".join(found),
        ok,
    )


def _parallel(ctx: Context) -> Row:
    base, n = ctx.stack.base_url, limit()
    make_person("vfy-race")
    start = threading.Barrier(PARALLEL)
    with ThreadPoolExecutor(PARALLEL) as pool:
        outcomes = list(
            pool.map(
                lambda k: attempt(base, DOORS[k % 2], "vfy-race", f"wrong-{k}", start),
                range(PARALLEL),
            )
        )
    seen = Counter(outcomes)
    right = attempt(base, DOORS[0], "vfy-race", PASSWORD)
    return Row(
        "sign-in: parallel burst",
        f"{PARALLEL} wrong passwords at once for one user, half per door, each from its own "
        "address (gunicorn, real password hasher)",
        f"at most {n} checked, the rest refused; then the right password refused",
        f"{seen['checked']} checked, {seen['refused']} refused"
        + "".join(f", {k}: {v}" for k, v in seen.items() if k not in ("checked", "refused"))
        + f"; then right password {right}",
        seen["checked"] <= n
        and seen["checked"] + seen["refused"] == PARALLEL
        and right == "refused",
    )


# --- Item 2: look-alike usernames ------------------------------------------------------------


def _look_alikes(ctx: Context) -> Row:
    base, n = ctx.stack.base_url, limit()
    make_person("vfy-looky", role="coordinator")
    # Django signs a look-alike in as the account itself (NFKC): the reason they must share.
    same_account = attempt(base, DOORS[0], LOOK_ALIKES[0], PASSWORD)
    spellings = [LOOK_ALIKES[k % len(LOOK_ALIKES)] for k in range(n)]
    seen = Counter(attempt(base, DOORS[k % 2], s, "wrong") for k, s in enumerate(spellings))
    right = attempt(base, DOORS[0], "vfy-looky", PASSWORD)
    return Row(
        "sign-in: look-alike usernames",
        f"{len(set(spellings))} spellings of vfy-looky (full-width, upper case, trailing space, "
        f"mixed): {n} wrong passwords, then the right one as vfy-looky",
        "all spellings draw on vfy-looky's one budget: the right password is then refused",
        f"right password as {LOOK_ALIKES[0]!r}: {same_account}; {seen['checked']} wrong checked; "
        f"then right password as vfy-looky: {right}",
        same_account == "signed in" and seen["checked"] == n and right == "refused",
    )


# --- Item 4: no privilege escalation through the user admin ---------------------------------------


def _escalation(ctx: Context) -> Row:
    from django.contrib.auth.models import Group, Permission

    from orderdesk.accounts.models import User

    make_person("vfy-root", role="", superuser=True)
    make_person("vfy-esc-target", role="coordinator")
    admin = ctx.client("admin")
    me, root, target = (
        User.objects.get(username=name) for name in ("vfy-admin", "vfy-root", "vfy-esc-target")
    )
    power = [
        ("is_superuser", "on"),
        ("is_staff", "on"),
        *(("user_permissions", str(pk)) for pk in Permission.objects.values_list("pk", flat=True)),
        *(("groups", str(pk)) for pk in Group.objects.values_list("pk", flat=True)),
    ]

    def change(user: User, role: str, **extra: str) -> int:
        url = f"/admin/accounts/user/{user.pk}/change/"
        admin.get(url)
        fields = {"username": user.username, "first_name": user.first_name, "email": "",
                  "is_active": "on", "role": role, "_save": "Save", **extra}  # fmt: skip
        return admin.post_form(url, [*fields.items(), *power]).status_code

    def powerless(name: str, role: str) -> bool:
        user = User.objects.get(username=name)
        return (
            not user.is_superuser
            and not user.user_permissions.exists()
            and list(user.groups.values_list("name", flat=True)) == [role]
            and user.is_staff == (role == "admin")
        )

    held: dict[str, bool] = {}
    change(me, "admin")
    held["admin makes itself superuser"] = powerless("vfy-admin", "admin")
    change(target, "support")
    held["admin gives a person more than a role"] = powerless("vfy-esc-target", "support")
    admin.get("/admin/accounts/user/add/")
    add = {"username": "vfy-escalated", "usable_password": "true", "password1": PASSWORD,
           "password2": PASSWORD, "role": "coordinator", "_save": "Save"}  # fmt: skip
    admin.post_form("/admin/accounts/user/add/", [*add.items(), *power])
    held["admin creates a superuser"] = powerless("vfy-escalated", "coordinator")
    bad = change(target, "superuser")
    held["admin gives an unknown role"] = bad == 200 and powerless("vfy-esc-target", "support")
    listing = admin.get("/admin/accounts/user/")
    held["superuser listed to admin"] = (
        listing.status_code == 200 and f"/admin/accounts/user/{root.pk}/change/" not in listing.text
    )
    held["superuser's page opens for admin"] = (
        admin.get(f"/admin/accounts/user/{root.pk}/change/").status_code != 200
    )
    password_url = f"/admin/accounts/user/{root.pk}/password/"
    admin.get("/admin/")
    taken = admin.post_form(
        password_url, {"password1": "Taken-over-77x", "password2": "Taken-over-77x"}
    )
    change(root, "coordinator", is_active="")
    root.refresh_from_db()
    held["admin changes a superuser's password"] = taken.status_code == 404 and root.check_password(
        PASSWORD
    )
    held["admin demotes or deactivates a superuser"] = root.is_superuser and root.is_active
    failed = [name for name, ok in held.items() if not ok]
    return Row(
        "admin: privilege escalation",
        f"{len(held)} attempts by the admin role: crafted POSTs with is_superuser, is_staff, "
        "every permission and group; a superuser's pages, password and flags",
        "every attempt refused: nobody gains power beyond one role; superusers untouched",
        f"{len(held) - len(failed)}/{len(held)} refused"
        + (f"; got through: {', '.join(failed)}" if failed else ""),
        not failed,
    )


# --- Item 5: sessions on second servers with short limits -------------------------------------


@dataclass
class Probes:
    rows: list[Row] = field(default_factory=list)
    thread: threading.Thread | None = None


PROBES = Probes()
POLL = {"HX-Request": "true", "X-Background-Poll": "true"}


def begin(ctx: Context) -> None:
    PROBES.thread = threading.Thread(target=_session_probes, args=(ctx,), daemon=True)
    PROBES.thread.start()


def _session_probes(ctx: Context) -> None:
    idle = ctx.sizes.idle_minutes * 60
    lifetime = idle * 1.5
    with ThreadPoolExecutor(2) as pool:
        polling = pool.submit(_polling_probe, ctx, idle)
        absolute = pool.submit(_lifetime_probe, ctx, idle, lifetime)
        for name, future in (("polling is not activity", polling), ("absolute lifetime", absolute)):
            try:
                PROBES.rows.append(future.result())
            except Exception as exc:
                PROBES.rows.append(
                    Row(
                        f"sessions: {name}", "second server", "runs", f"probe error: {exc!r}", False
                    )
                )


def _server(ctx: Context, name: str, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (ctx.stack.folder / f"gunicorn-{name}.log").open("ab")
    command = [PYTHON, "-m", "gunicorn", "orderdesk.wsgi", "--chdir", str(ROOT)]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2"]
    server = subprocess.Popen(  # noqa: S603 -- our own command line
        command, env=ctx.stack.env(**env), stdout=log, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.get(base + "/healthz", timeout=2)
            break
        except requests.RequestException:
            time.sleep(0.3)
    return server, base


def _signed_in_cookie(ctx: Context, base: str) -> str:
    client = Client(base, "support", record=False)
    client.login(ctx.username("support"), ctx.passwords["support"])
    return client.cookies.get("sessionid") or ""


def _polling_probe(ctx: Context, idle: int) -> Row:
    tried = (
        f"SESSION_IDLE_MINUTES={idle // 60} on a second server: sign in, open /orders/, then only "
        "the attention badge's background poll every 10 s (HX-Request, X-Background-Poll)"
    )
    server, base = _server(ctx, "polling", SESSION_IDLE_MINUTES=str(idle // 60))
    try:
        cookie = _signed_in_cookie(ctx, base)
        started = time.monotonic()
        requests.get(base + "/orders/", cookies={"sessionid": cookie}, timeout=30)
        answers: list[tuple[float, requests.Response]] = []
        while time.monotonic() - started < idle + 30:
            time.sleep(10)
            response = requests.get(
                base + "/orders/attention/badge/",
                cookies={"sessionid": cookie},
                headers={**POLL, "HX-Current-URL": base + "/orders/"},
                timeout=30,
                allow_redirects=False,
            )
            answers.append((time.monotonic() - started, response))
            if response.status_code != 200:
                break
        after = requests.get(
            base + "/orders/", cookies={"sessionid": cookie}, timeout=30, allow_redirects=False
        )
    finally:
        server.terminate()
        server.wait(timeout=20)
    in_polls = sum(1 for _, r in answers if r.status_code == 200)
    at, last = answers[-1]
    redirect = last.headers.get("HX-Redirect", "")
    ok = (
        last.status_code == 204
        and redirect == "/accounts/login/?next=%2Forders%2F"
        and idle - 10 <= at <= idle + 20
        and in_polls == len(answers) - 1
        and after.status_code == 302
    )
    return Row(
        "sessions: polling is not activity",
        tried,
        "signed out about the idle limit after the last real request; the poll that finds "
        "it ended gets HX-Redirect to sign-in (no login page swapped into the badge)",
        f"{in_polls} polls answered while signed in; at {at:.0f} s: HTTP {last.status_code}, "
        f"HX-Redirect {redirect!r}; the page itself then: HTTP {after.status_code}",
        ok,
    )


def _lifetime_probe(ctx: Context, idle: int, lifetime: float) -> Row:
    hours = lifetime / 3600
    server, base = _server(
        ctx, "lifetime", SESSION_IDLE_MINUTES=str(idle // 60), SESSION_MAX_HOURS=f"{hours:.6f}"
    )
    try:
        cookie = _signed_in_cookie(ctx, base)
        started = time.monotonic()
        answers: list[tuple[float, int]] = []
        while time.monotonic() - started < lifetime + 40:
            response = requests.get(
                base + "/orders/", cookies={"sessionid": cookie}, timeout=30, allow_redirects=False
            )
            answers.append((time.monotonic() - started, response.status_code))
            if response.status_code != 200:
                break
            time.sleep(10)
    finally:
        server.terminate()
        server.wait(timeout=20)
    at, status = answers[-1]
    active = sum(1 for _, s in answers if s == 200)
    return Row(
        "sessions: absolute lifetime",
        f"SESSION_MAX_HOURS={hours:.4f} ({lifetime:.0f} s) on a second server; a real page "
        "request every 10 s, so the idle limit never ends it",
        "signed out at the lifetime however active",
        f"{active} pages while signed in; signed out (HTTP {status}) at {at:.0f} s",
        status == 302 and lifetime - 12 <= at <= lifetime + 15 and active == len(answers) - 1,
    )
