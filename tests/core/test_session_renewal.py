"""The idle timeout renews a session in use at most once per SESSION_RENEW_SECONDS."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

pytestmark = pytest.mark.django_db


def session_writes(client, path: str = "/orders/") -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return sum(
        1
        for q in queries.captured_queries
        if "django_session" in q["sql"] and not q["sql"].lstrip().upper().startswith("SELECT")
    )


def move_clock(monkeypatch, by: timedelta) -> None:
    later = timezone.now() + by
    monkeypatch.setattr(timezone, "now", lambda: later)


def test_pages_in_a_row_write_the_session_once(coordinator) -> None:
    client = Client()
    client.force_login(coordinator)
    assert session_writes(client) == 1  # the first page after signing in renews it
    assert session_writes(client) == 0
    assert session_writes(client) == 0


def test_a_session_is_renewed_again_once_the_interval_has_passed(
    coordinator_client, monkeypatch
) -> None:
    assert session_writes(coordinator_client) == 0  # renewed just now (conftest)
    # Well inside the interval: a loaded machine may take seconds between two requests.
    move_clock(monkeypatch, timedelta(seconds=settings.SESSION_RENEW_SECONDS // 2))
    assert session_writes(coordinator_client) == 0
    move_clock(monkeypatch, timedelta(seconds=settings.SESSION_RENEW_SECONDS))
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
