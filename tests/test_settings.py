"""Production settings: what stops start-up, what `check --deploy` says, and the headers a
real gunicorn sends. Each runs Django in a subprocess with a clean environment, because
settings are read once per process."""

import http.client
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.utils import timezone

from orderdesk.core.healthcheck import main as healthcheck
from tests.support.ports import REUSE_PORT_ARG, held_port

MANAGE = [sys.executable, str(settings.BASE_DIR / "manage.py")]
REQUIRED = ["SECRET_KEY", "ALLOWED_HOSTS", "IMPILO_BASE_URL", "IMPILO_API_KEY"]
ADMIN_PASSWORD = "a-production-password-1"
# Each manage.py run below may take its 300 s on a busy machine.
pytestmark = pytest.mark.timeout(660)


def production_env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ["HOME"],
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        # The health probe sends the first name; the tests below use 127.0.0.1.
        "ALLOWED_HOSTS": "orderdesk.example.org,127.0.0.1",
        "IMPILO_BASE_URL": "https://app.impiloplatform.com",
        "IMPILO_API_KEY": "production-key-for-tests",
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value}


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MANAGE, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize("missing", REQUIRED)
def test_production_start_up_stops_without_a_required_variable(tmp_path, missing: str) -> None:
    result = manage(production_env(tmp_path, **{missing: ""}), "check")
    assert result.returncode != 0
    assert f"{missing} must be set when DEBUG is off" in result.stderr


def test_production_start_up_stops_on_a_malformed_number(tmp_path) -> None:
    result = manage(production_env(tmp_path, IMPILO_READ_TIMEOUT="ten"), "check")
    assert result.returncode != 0
    assert "IMPILO_READ_TIMEOUT must be a number, got 'ten'" in result.stderr


def test_production_settings_pass_the_deploy_checks(tmp_path) -> None:
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "DEBUG")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "System check identified no issues (0 silenced)."


def variables_settings_reads() -> set[str]:
    source = (settings.BASE_DIR / "orderdesk" / "settings.py").read_text()
    return set(re.findall(r'env_\w+\(\s*"([A-Z][A-Z0-9_]*)"', source))


def test_env_example_lists_exactly_the_variables_settings_reads() -> None:
    example = (settings.BASE_DIR / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", example, re.M))
    assert listed == variables_settings_reads()


def test_every_variable_in_env_example_has_a_comment() -> None:
    lines = (settings.BASE_DIR / ".env.example").read_text().splitlines()
    for number, line in enumerate(lines):
        if re.match(r"^[A-Z][A-Z0-9_]*=", line):
            assert lines[number - 1].startswith("#"), f"{line} has no comment above it"


def test_readme_documents_every_variable() -> None:
    readme = (settings.BASE_DIR / "README.md").read_text()
    missing = {name for name in variables_settings_reads() if f"`{name}`" not in readme}
    assert not missing


def test_demo_settings_need_only_debug_switched_on(tmp_path) -> None:
    env = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], "DEBUG": "true"}
    assert manage(env, "check").returncode == 0


def test_debug_is_off_unless_switched_on(tmp_path) -> None:
    """With nothing set, orderdesk is production: it asks for its secrets."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"]}
    result = manage(env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


DEBUG_PROBE = (
    "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"
)


def printed_by(code: str, tmp_path, **overrides: str) -> str:
    """What `code` prints in a fresh process with the production settings module."""
    env = production_env(tmp_path, **overrides)
    env["DJANGO_SETTINGS_MODULE"] = "orderdesk.settings"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_production_variables_without_debug_run_with_debug_off(tmp_path) -> None:
    assert printed_by(DEBUG_PROBE, tmp_path, DEBUG="") == "False"


# (variables, the name the refusal must give, what it must tell the operator to do)
WEAK_SETTINGS = {
    "short secret key": ({"SECRET_KEY": "x" * 49}, "SECRET_KEY", "secrets.token_urlsafe(50)"),
    "development secret key": (
        {"SECRET_KEY": "django-insecure-orderdesk-development-only"},
        "SECRET_KEY",
        "secrets.token_urlsafe(50)",
    ),
    "plain http to Impilo": (
        {"IMPILO_BASE_URL": "http://app.impiloplatform.com"},
        "IMPILO_BASE_URL",
        "use https://",
    ),
    "plain http to a private address": (
        {"IMPILO_BASE_URL": "http://10.0.0.5:8080"},
        "IMPILO_BASE_URL",
        "use https://",
    ),
    "sandbox with its published key": (
        {"IMPILO_SANDBOX": "true", "IMPILO_SANDBOX_API_KEY": "sandbox-demo-key"},
        "IMPILO_SANDBOX_API_KEY",
        "set IMPILO_SANDBOX=false",
    ),
    "sandbox with no key of its own": (
        {"IMPILO_SANDBOX": "true"},
        "IMPILO_SANDBOX_API_KEY",
        "set IMPILO_SANDBOX=false",
    ),
}


@pytest.mark.parametrize(("weak", "name", "remedy"), WEAK_SETTINGS.values(), ids=WEAK_SETTINGS)
def test_production_start_up_refuses_weak_settings(tmp_path, weak, name, remedy) -> None:
    result = manage(production_env(tmp_path, **weak), "check")
    assert result.returncode != 0
    assert f"{name} must" in result.stderr
    assert "when DEBUG is off" in result.stderr
    assert remedy in result.stderr


@pytest.mark.parametrize(
    "overrides",
    [
        {"IMPILO_BASE_URL": "http://127.0.0.1:9000/sandbox/impilo"},
        {"IMPILO_BASE_URL": "http://localhost:9000"},
        {"IMPILO_BASE_URL": "http://[::1]:9000"},
        {"IMPILO_SANDBOX": "true", "IMPILO_SANDBOX_API_KEY": "a-sandbox-key-of-our-own"},
    ],
    ids=["loopback", "localhost", "loopback IPv6", "sandbox with its own key"],
)
def test_production_start_up_accepts_loopback_http_and_a_private_sandbox_key(
    tmp_path, overrides
) -> None:
    result = manage(production_env(tmp_path, **overrides), "check")
    assert result.returncode == 0, result.stderr


SETTINGS_PROBE = """
import django, json
django.setup()
from django.conf import settings
print(json.dumps([settings.SESSION_COOKIE_AGE, settings.SESSION_RENEW_SECONDS]))
"""


def test_session_idle_minutes_sets_the_session_age_renewed_on_each_request(tmp_path) -> None:
    assert printed_by(SETTINGS_PROBE, tmp_path, SESSION_IDLE_MINUTES="7") == "[420, 42]"


def move_clock(monkeypatch, by: timedelta) -> None:
    later = timezone.now() + by
    monkeypatch.setattr(timezone, "now", lambda: later)


@pytest.mark.django_db
def test_activity_keeps_a_session_alive_past_the_idle_limit(coordinator_client, monkeypatch):
    idle = timedelta(seconds=settings.SESSION_COOKIE_AGE)
    for _ in range(3):  # three steps that add up to well past one idle period
        move_clock(monkeypatch, idle - timedelta(seconds=settings.SESSION_RENEW_SECONDS + 1))
        assert coordinator_client.get("/")["Location"] == "/orders/"


@pytest.mark.django_db
def test_an_idle_session_expires_and_sends_the_user_to_login(coordinator_client, monkeypatch):
    assert coordinator_client.get("/")["Location"] == "/orders/"
    move_clock(monkeypatch, timedelta(seconds=settings.SESSION_COOKIE_AGE + 60))
    assert coordinator_client.get("/")["Location"] == "/accounts/login/?next=/"


# --- a real gunicorn with production settings ---------------------------------------------


class Served:
    def __init__(self, port: int) -> None:
        self.port = port
        self.origin = f"https://127.0.0.1:{port}"

    def request(
        self,
        method: str,
        path: str,
        *,
        https: bool = True,
        body: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        sent = dict(headers or {})
        if https:  # as the TLS-terminating proxy in front of gunicorn would say
            sent["X-Forwarded-Proto"] = "https"
        if body is not None:
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        response.read()
        connection.close()
        return response


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Served]:
    tmp_path = tmp_path_factory.mktemp("production")
    env = production_env(
        tmp_path,
        BEHIND_TLS_PROXY="true",
        DJANGO_SUPERUSER_USERNAME="boss",
        DJANGO_SUPERUSER_PASSWORD=ADMIN_PASSWORD,
        DJANGO_SUPERUSER_EMAIL="boss@example.org",
    )
    for step in (["migrate", "-v0"], ["collectstatic", "--noinput", "-v0"]):
        result = manage(env, *step)
        assert result.returncode == 0, result.stderr
    assert manage(env, "createsuperuser", "--noinput").returncode == 0
    port = held_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "orderdesk.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            REUSE_PORT_ARG,
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        with pytest.MonkeyPatch.context() as patch:  # the probe reads the container's env
            patch.setenv("ALLOWED_HOSTS", env["ALLOWED_HOSTS"])
            while healthcheck(["healthcheck", str(port)]) != 0:
                assert process.poll() is None, (tmp_path / "gunicorn.log").read_text()
                assert time.monotonic() < deadline, "gunicorn did not become healthy"
                time.sleep(0.3)
        yield Served(port)
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def cookie(response: http.client.HTTPResponse, name: str) -> str:
    found = [c for c in response.headers.get_all("Set-Cookie") or [] if c.startswith(name + "=")]
    assert found, f"no {name} cookie in {response.headers}"
    return found[0]


def assert_secure_cookie(header: str) -> None:
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert {"secure", "httponly"} <= attributes, header
    assert "SameSite=Lax" in header


def test_pages_carry_the_security_headers(served) -> None:
    response = served.request("GET", "/accounts/login/")
    assert response.status == 200
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert_secure_cookie(cookie(response, "csrftoken"))


def test_signing_in_sets_a_secure_http_only_session_cookie(served) -> None:
    page = served.request("GET", "/accounts/login/")
    csrf_cookie = cookie(page, "csrftoken").split(";")[0]
    token = csrf_cookie.split("=", 1)[1]
    response = served.request(
        "POST",
        "/accounts/login/",
        body=urlencode(
            {"username": "boss", "password": ADMIN_PASSWORD, "csrfmiddlewaretoken": token}
        ),
        headers={"Cookie": csrf_cookie, "Origin": served.origin},
    )
    assert response.status == 302, response.headers
    assert response.headers["Location"] == "/orders/"
    assert_secure_cookie(cookie(response, "sessionid"))


def test_plain_http_is_redirected_to_https_without_hsts(served) -> None:
    response = served.request("GET", "/accounts/login/", https=False)
    assert response.status == 301
    assert response.headers["Location"] == f"{served.origin}/accounts/login/"
    assert "Strict-Transport-Security" not in response.headers


def test_healthz_answers_plain_http_for_load_balancers(served) -> None:
    response = served.request("GET", "/healthz", https=False)
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"


def test_unknown_host_is_refused(served) -> None:
    response = served.request("GET", "/accounts/login/", headers={"Host": "evil.example"})
    assert response.status == 400


def test_collected_static_files_are_served_with_hashed_names(served) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    connection.request("GET", "/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    html = connection.getresponse().read().decode()
    connection.close()
    stylesheet = re.search(r'href="(/static/css/orderdesk\.[0-9a-f]{12}\.css)"', html)
    assert stylesheet, "the page does not link the hashed stylesheet"
    response = served.request("GET", stylesheet.group(1))
    assert response.status == 200
    assert "max-age=315360000" in response.headers["Cache-Control"]


def test_error_pages_show_no_debug_details(served) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    connection.request("GET", "/no-such-page/", headers={"X-Forwarded-Proto": "https"})
    response = connection.getresponse()
    html = response.read().decode()
    connection.close()
    assert response.status == 404
    assert "URLconf" not in html
    assert "DEBUG = True" not in html
