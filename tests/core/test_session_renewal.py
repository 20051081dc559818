"""The idle timeout renews a session in use at most once per SESSION_RENEW_SECONDS."""

from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orderdesk.core.session_renewal import RENEWED_AT, SIGNED_IN_AT

pytestmark = pytest.mark.django_db

REAL_NOW = timezone.now


def session_writes(client, path: str = "/orders/") -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return sum(
        1
        for q in queries.captured_queries
        if "django_session" in q["sql"] and not q["sql"].lstrip().upper().startswith("SELECT")
    )


def move_clock(monkeypatch, by: timedelta) -> None:
    """Stop the clock `by` after the real now (each call counts from the real clock)."""
    later = REAL_NOW() + by
    monkeypatch.setattr(timezone, "now", lambda: later)


def clock_at(monkeypatch, epoch: float) -> None:
    at = datetime.fromtimestamp(epoch, tz=UTC)
    monkeypatch.setattr(timezone, "now", lambda: at)


def test_pages_in_a_row_write_the_session_once(coordinator) -> None:
    client = Client()
    client.force_login(coordinator)
    assert session_writes(client) == 1  # the first page after signing in renews it
    assert session_writes(client) == 0
    assert session_writes(client) == 0


def test_a_session_is_renewed_again_once_the_interval_has_passed(
    coordinator_client, monkeypatch
) -> None:
    renewed_at = coordinator_client.session[RENEWED_AT]
    clock_at(monkeypatch, renewed_at)
    assert session_writes(coordinator_client) == 0  # renewed just now (conftest)
    clock_at(monkeypatch, renewed_at + settings.SESSION_RENEW_SECONDS - 1)
    assert session_writes(coordinator_client) == 0
    clock_at(monkeypatch, renewed_at + settings.SESSION_RENEW_SECONDS)
    assert session_writes(coordinator_client) == 1


def test_a_renewal_pushes_the_expiry_and_the_cookie_age(coordinator_client, monkeypatch) -> None:
    move_clock(monkeypatch, timedelta(seconds=settings.SESSION_RENEW_SECONDS))
    response = coordinator_client.get("/orders/")
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == settings.SESSION_COOKIE_AGE
    session = coordinator_client.session
    left = (session.get_expiry_date() - timezone.now()).total_seconds()
    assert left == pytest.approx(settings.SESSION_COOKIE_AGE, abs=5)


def test_anonymous_requests_create_no_session(client) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies


# --- Background polls and the absolute lifetime ----------------------------------------------

POLL = {"HTTP_HX_REQUEST": "true", "HTTP_X_BACKGROUND_POLL": "true"}
BADGE = "/orders/attention/badge/"


def expiry(client) -> float:
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    return Session.objects.get(session_key=key).expire_date.timestamp()


def test_a_background_poll_does_not_renew_the_session(support_client, monkeypatch) -> None:
    before = expiry(support_client)
    move_clock(monkeypatch, timedelta(seconds=settings.SESSION_RENEW_SECONDS + 5))
    with CaptureQueriesContext(connection) as queries:
        response = support_client.get(BADGE, **POLL)
    assert response.status_code == 200
    writes = [q for q in queries.captured_queries if "django_session" in q["sql"]]
    assert not [q for q in writes if not q["sql"].lstrip().upper().startswith("SELECT")]
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert expiry(support_client) == before


def test_a_request_the_person_makes_with_htmx_still_renews(support_client, monkeypatch) -> None:
    before = expiry(support_client)
    move_clock(monkeypatch, timedelta(seconds=settings.SESSION_RENEW_SECONDS + 5))
    assert support_client.get(BADGE, HTTP_HX_REQUEST="true").status_code == 200
    assert expiry(support_client) > before


def test_polling_alone_lets_the_session_end_after_the_idle_limit(support_client, monkeypatch):
    for minutes in range(1, settings.SESSION_IDLE_MINUTES + 2):
        move_clock(monkeypatch, timedelta(minutes=minutes))
        response = support_client.get(
            BADGE, HTTP_HX_CURRENT_URL="http://testserver/orders/", **POLL
        )
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Forders%2F"


def test_an_expired_htmx_request_is_sent_to_sign_in_as_a_whole_page(client) -> None:
    response = client.get(
        BADGE, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/orders/ABC/?q=Smith"
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == "/accounts/login/?next=%2Forders%2FABC%2F"
    assert response.content == b""


@pytest.mark.parametrize(
    "current", ["https://evil.example/orders/", "//evil.example/x", "javascript:alert(1)", ""]
)
def test_the_sign_in_redirect_keeps_next_on_this_site(client, current) -> None:
    response = client.get(BADGE, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=current)
    assert response["HX-Redirect"] == "/accounts/login/?next=%2F"


def test_an_expired_page_request_still_redirects_normally(client) -> None:
    response = client.get("/orders/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_signing_in_starts_the_absolute_lifetime(client, coordinator) -> None:
    from tests.conftest import PASSWORD

    client.post("/accounts/login/", {"username": "coordinator", "password": PASSWORD})
    started = client.session[SIGNED_IN_AT]
    assert abs(started - timezone.now().timestamp()) < 60


def test_an_active_session_ends_after_session_max_hours(
    coordinator_client, settings, monkeypatch
) -> None:
    settings.SESSION_MAX_HOURS = 1
    for minutes in (20, 40, 59):  # active all along: within the idle limit each time
        move_clock(monkeypatch, timedelta(minutes=minutes))
        assert coordinator_client.get("/orders/").status_code == 200
    move_clock(monkeypatch, timedelta(minutes=61))
    response = coordinator_client.get("/orders/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in coordinator_client.session


@pytest.mark.parametrize("value", ["0", "-1", "twelve"])
def test_a_bad_session_max_hours_stops_start_up_with_its_name(value) -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "DEBUG": "true", "SESSION_MAX_HOURS": value}
    result = subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "check"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "SESSION_MAX_HOURS" in result.stderr
