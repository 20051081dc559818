"""PASSWORD_SIGN_IN=false closes both password doors so that they answer exactly as an
address that does not exist; the start-up checks of the sign-in settings."""

import re
import secrets
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.test import Client

from orderdesk.accounts.models import SignInEvent
from tests.conftest import PASSWORD
from tests.oidc_provider import Provider

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'(csrfmiddlewaretoken" value="|X-CSRFToken": ")[^"]+')


def without_tokens(response) -> str:
    return CSRF.sub("", response.content.decode())


@pytest.fixture
def passwords_off(oidc_settings: Provider, settings) -> None:
    settings.PASSWORD_SIGN_IN = False


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/accounts/login/"), ("get", "/admin/login/"), ("post", "/admin/login/")],
)
def test_a_closed_password_door_answers_as_if_it_did_not_exist(
    passwords_off, admin_user, method: str, path: str
) -> None:
    client = Client()
    answer = getattr(client, method)(path, {"username": "admin", "password": PASSWORD})
    nothing = getattr(client, method)("/accounts/no-such-door/", {"username": "admin"})
    assert answer.status_code == nothing.status_code == 404
    assert without_tokens(answer) == without_tokens(nothing)
    assert "_auth_user_id" not in client.session
    assert not SignInEvent.objects.exists()


def test_with_the_password_door_closed_the_login_page_offers_only_the_provider(
    passwords_off, client
) -> None:
    response = client.get("/accounts/login/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Sign in with Test Identity Provider" in page
    assert 'name="password"' not in page


def test_the_admin_sends_visitors_to_a_door_that_is_not_there(passwords_off, client) -> None:
    response = client.get("/admin/", follow=True)
    assert response.status_code == 404


def test_with_the_password_door_open_the_admin_sign_in_works(admin_user, client) -> None:
    response = client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def check(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
        "OIDC_CLIENT_ID": "orderdesk",
        "OIDC_CLIENT_SECRET": "a-client-secret",
        "OIDC_ROLE_MAP": "od-coordinators:coordinator",
    }
    production = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "orderdesk.example.org",
        "IMPILO_BASE_URL": "https://app.impiloplatform.com",
        "IMPILO_API_KEY": "production-key-for-tests",
    }
    merged = {**base, **production, **env}
    return subprocess.run(
        [sys.executable, str(django_settings.BASE_DIR / "manage.py"), "check"],
        env={name: value for name, value in merged.items() if value},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_an_http_issuer_stops_production_start_up_naming_the_variable(tmp_path) -> None:
    result = check(tmp_path, OIDC_ISSUER="http://idp.example.org/realms/care")
    assert result.returncode != 0
    assert "OIDC_ISSUER must be an https:// URL when DEBUG is off" in result.stderr


@pytest.mark.parametrize(
    "issuer", ["https://idp.example.org/realms/care", "http://127.0.0.1:8080/realms/care"]
)
def test_https_or_a_loopback_issuer_starts(tmp_path, issuer: str) -> None:
    result = check(tmp_path, OIDC_ISSUER=issuer)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OIDC_CLIENT_ID": ""}, "OIDC_CLIENT_ID must be set when OIDC_ISSUER is set"),
        ({"OIDC_ROLE_MAP": "od-x:boss"}, "OIDC_ROLE_MAP entries must be group:role"),
        ({"OIDC_ISSUER": "", "PASSWORD_SIGN_IN": "false"}, "PASSWORD_SIGN_IN=false needs"),
    ],
)
def test_incomplete_sign_in_settings_stop_start_up(tmp_path, env: dict, message: str) -> None:
    result = check(tmp_path, **{"OIDC_ISSUER": "https://idp.example.org", **env})
    assert result.returncode != 0
    assert message in result.stderr
