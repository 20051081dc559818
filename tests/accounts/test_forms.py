import time

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from orderdesk.accounts.forms import ADDRESS_ALLOWANCE, client_address
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

THROTTLED = "Too many failed sign-in attempts"


@pytest.fixture(autouse=True)
def small_throttle(settings) -> None:
    settings.LOGIN_THROTTLE_ATTEMPTS = 3
    settings.LOGIN_THROTTLE_SECONDS = 120


def sign_in(client: Client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def fail(client: Client, username: str, times: int, address: str = "10.0.0.1") -> None:
    for _ in range(times):
        response = sign_in(client, username, "not-the-password", address)
        assert response.status_code == 200


def test_right_password_signs_in_and_redirects_to_orders(client, coordinator) -> None:
    response = sign_in(client, "coordinator", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:list")


def test_repeated_failures_refuse_even_the_right_password(client, coordinator) -> None:
    fail(client, "coordinator", 3)
    response = sign_in(client, "coordinator", PASSWORD)
    assert response.status_code == 200
    assert THROTTLED in response.content.decode()
    assert "Wait 2 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failures_below_the_limit_do_not_refuse_the_right_password(client, coordinator) -> None:
    fail(client, "coordinator", 2)
    assert sign_in(client, "coordinator", PASSWORD).status_code == 302


def test_throttle_counts_usernames_case_insensitively(client, coordinator) -> None:
    fail(client, "Coordinator", 3)
    assert THROTTLED in sign_in(client, "coordinator", PASSWORD).content.decode()


def test_throttle_applies_from_any_address(client, coordinator) -> None:
    fail(client, "coordinator", 3, address="10.0.0.1")
    response = sign_in(client, "coordinator", PASSWORD, address="10.9.9.9")
    assert THROTTLED in response.content.decode()


def test_throttle_lifts_after_login_throttle_seconds(client, coordinator, settings) -> None:
    settings.LOGIN_THROTTLE_SECONDS = 2
    fail(client, "coordinator", 3)
    assert THROTTLED in sign_in(client, "coordinator", PASSWORD).content.decode()
    time.sleep(2.1)  # the cache expires entries by the real clock
    assert sign_in(client, "coordinator", PASSWORD).status_code == 302


def test_successful_sign_in_resets_the_username_count(client, coordinator) -> None:
    fail(client, "coordinator", 2)
    assert sign_in(client, "coordinator", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    fail(client, "coordinator", 2)
    assert sign_in(client, "coordinator", PASSWORD).status_code == 302


def test_one_address_spraying_many_usernames_is_refused(client, coordinator) -> None:
    for n in range(3 * ADDRESS_ALLOWANCE):
        fail(client, f"guess-{n}", 1, address="10.6.6.6")
    response = sign_in(client, "coordinator", PASSWORD, address="10.6.6.6")
    assert THROTTLED in response.content.decode()
    assert sign_in(Client(), "coordinator", PASSWORD, address="10.7.7.7").status_code == 302


def test_a_few_typos_behind_one_address_do_not_lock_out_colleagues(
    client, coordinator, support
) -> None:
    fail(client, "support", 3, address="10.5.5.5")
    assert sign_in(client, "coordinator", PASSWORD, address="10.5.5.5").status_code == 302


def test_client_address_is_remote_addr_without_a_proxy(settings) -> None:
    settings.BEHIND_TLS_PROXY = False
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert client_address(request) == "10.1.1.1"


def test_client_address_behind_the_proxy_is_the_hop_it_added(settings) -> None:
    settings.BEHIND_TLS_PROXY = True
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7"
    )
    assert client_address(request) == "203.0.113.7"


def test_client_address_behind_the_proxy_without_the_header_is_remote_addr(settings) -> None:
    settings.BEHIND_TLS_PROXY = True
    assert client_address(RequestFactory().get("/", REMOTE_ADDR="10.0.0.2")) == "10.0.0.2"
