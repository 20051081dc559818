import re

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def csrf_token_from(response) -> str:
    match = TOKEN.search(response.content.decode())
    assert match, "the page has no CSRF token"
    return match.group(1)


def test_login_page_renders_for_anonymous_visitors(client) -> None:
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "Sign in to orderdesk" in response.content.decode()


def test_signed_in_user_visiting_login_goes_to_orders(coordinator_client) -> None:
    response = coordinator_client.get(reverse("login"))
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:list")


def test_login_follows_a_local_next(client, coordinator) -> None:
    response = client.post(
        reverse("login"),
        {"username": "coordinator", "password": PASSWORD, "next": "/orders/new/"},
    )
    assert response["Location"] == "/orders/new/"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "https:///evil.example/",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
    ],
)
def test_login_ignores_an_off_site_next(client, coordinator, next_url: str) -> None:
    response = client.post(
        reverse("login"), {"username": "coordinator", "password": PASSWORD, "next": next_url}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:list")


def test_login_page_does_not_echo_an_off_site_next(client) -> None:
    response = client.get(reverse("login"), {"next": "https://evil.example/"})
    assert "evil.example" not in response.content.decode()


def test_login_rotates_the_session_key(client, coordinator) -> None:
    session = client.session
    session["planted"] = "by an attacker"
    session.save()
    planted_key = session.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = planted_key

    client.post(reverse("login"), {"username": "coordinator", "password": PASSWORD})

    new_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key != planted_key
    assert not Session.objects.filter(session_key=planted_key).exists()
    assert client.session["_auth_user_id"] == str(coordinator.pk)


def test_login_without_csrf_token_is_refused(coordinator) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "coordinator", "password": PASSWORD})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


def test_login_with_csrf_token_signs_in(coordinator) -> None:
    client = Client(enforce_csrf_checks=True)
    token = csrf_token_from(client.get(reverse("login")))
    response = client.post(
        reverse("login"),
        {"username": "coordinator", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(coordinator.pk)


def test_logout_without_csrf_token_is_refused_and_keeps_the_session(coordinator) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    response = client.post(reverse("logout"))
    assert response.status_code == 403
    assert client.session["_auth_user_id"] == str(coordinator.pk)


def test_logout_with_csrf_token_signs_out_and_returns_to_login(coordinator) -> None:
    client = Client(enforce_csrf_checks=True)
    token = csrf_token_from(client.get(reverse("login")))
    client.force_login(coordinator)
    response = client.post(reverse("logout"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert "_auth_user_id" not in client.session


def test_logout_by_get_is_not_allowed(coordinator_client) -> None:
    assert coordinator_client.get(reverse("logout")).status_code == 405
