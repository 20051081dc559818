"""Sign-in throttling (accounts/throttle.py through django-axes): every door shares one
budget per username and one per address."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from orderdesk.accounts.throttle import ADDRESS_ALLOWANCE, client_address, normalise_username
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-in attempts"
DOORS = ("login", "admin:login")


@pytest.fixture(autouse=True)
def small_throttle(settings) -> None:
    settings.LOGIN_THROTTLE_ATTEMPTS = 3
    settings.LOGIN_THROTTLE_SECONDS = 120


def sign_in(client: Client, username: str, password: str, address="10.0.0.1", door="login"):
    return client.post(
        reverse(door), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def fail(client: Client, username: str, times: int, address="10.0.0.1", door="login") -> None:
    for _ in range(times):
        response = sign_in(client, username, "not-the-password", address, door)
        assert response.status_code in (200, 429)


def is_locked_out(response) -> bool:
    return response.status_code == 429 and LOCKED in response.content.decode()


def move_clock(monkeypatch, by: timedelta) -> None:
    later = timezone.now() + by
    monkeypatch.setattr(timezone, "now", lambda: later)


def test_right_password_signs_in_and_redirects_to_orders(client, coordinator) -> None:
    response = sign_in(client, "coordinator", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("orders:list")


def test_a_wrong_password_below_the_limit_shows_the_form_error(client, coordinator) -> None:
    response = sign_in(client, "coordinator", "not-the-password")
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


@pytest.mark.parametrize("door", DOORS)
def test_repeated_failures_refuse_even_the_right_password(client, admin_user, door) -> None:
    fail(client, "admin", 3, door=door)
    response = sign_in(client, "admin", PASSWORD, door=door)
    assert is_locked_out(response)
    assert "Wait 2 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_checked_password_gets_the_form_error_and_a_refused_one_the_lockout_page(
    client, coordinator
) -> None:
    fail(client, "coordinator", 2)
    last_checked = sign_in(client, "coordinator", "not-the-password")
    assert last_checked.status_code == 200
    assert "Please enter a correct username and password" in last_checked.content.decode()
    assert is_locked_out(sign_in(client, "coordinator", "not-the-password"))


@pytest.mark.parametrize(("first", "then"), [("login", "admin:login"), ("admin:login", "login")])
def test_both_sign_in_pages_share_one_budget(client, admin_user, first, then) -> None:
    fail(client, "admin", 2, door=first)
    fail(client, "admin", 1, door=then)
    assert is_locked_out(sign_in(Client(), "admin", PASSWORD, address="10.9.9.9", door=then))


@pytest.mark.parametrize(
    "spelling", ["ｃoordinator", "ＣＯＯＲＤＩＮＡＴＯＲ", "Coordinator", "coordinator "]
)
def test_look_alike_spellings_share_the_usernames_budget(client, coordinator, spelling) -> None:
    fail(client, spelling, 3)
    assert is_locked_out(sign_in(client, "coordinator", PASSWORD, address="10.9.9.9"))


def test_normalise_username_folds_width_and_case() -> None:
    assert normalise_username("ｃoordinator") == "coordinator"
    assert normalise_username("Straße") == normalise_username("STRASSE")


def test_failures_below_the_limit_do_not_refuse_the_right_password(client, coordinator) -> None:
    fail(client, "coordinator", 2)
    assert sign_in(client, "coordinator", PASSWORD).status_code == 302


def test_throttle_applies_from_any_address(client, coordinator) -> None:
    fail(client, "coordinator", 3, address="10.0.0.1")
    assert is_locked_out(sign_in(client, "coordinator", PASSWORD, address="10.9.9.9"))


def test_throttle_lifts_after_login_throttle_seconds(client, coordinator, monkeypatch) -> None:
    fail(client, "coordinator", 3)
    move_clock(monkeypatch, timedelta(seconds=119))
    assert is_locked_out(sign_in(client, "coordinator", PASSWORD))
    # A refused attempt does not extend the window: it ends 120 s after the last check.
    move_clock(monkeypatch, timedelta(seconds=2))
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
    assert is_locked_out(sign_in(client, "coordinator", PASSWORD, address="10.6.6.6"))
    assert sign_in(Client(), "coordinator", PASSWORD, address="10.7.7.7").status_code == 302


def test_signing_in_does_not_clear_the_addresss_failures(client, coordinator, support) -> None:
    for n in range(3 * ADDRESS_ALLOWANCE - 1):
        fail(client, f"guess-{n}", 1, address="10.6.6.6")
    assert sign_in(client, "support", PASSWORD, address="10.6.6.6").status_code == 302
    fail(Client(), "guess-last", 1, address="10.6.6.6")
    assert is_locked_out(sign_in(Client(), "coordinator", PASSWORD, address="10.6.6.6"))


def test_a_few_typos_behind_one_address_do_not_lock_out_colleagues(
    client, coordinator, support
) -> None:
    fail(client, "support", 3, address="10.5.5.5")
    assert sign_in(client, "coordinator", PASSWORD, address="10.5.5.5").status_code == 302


def test_an_operator_lifts_a_lock_with_axes_reset_username(client, coordinator) -> None:
    fail(client, "coordinator", 3)
    call_command("axes_reset_username", "Coordinator")
    assert sign_in(client, "coordinator", PASSWORD).status_code == 302


def test_the_lockout_page_is_the_apps_own(client, coordinator) -> None:
    fail(client, "coordinator", 3)
    page = sign_in(client, "coordinator", PASSWORD).content.decode()
    assert "Sign-in paused" in page
    assert 'href="/accounts/login/"' in page
    assert "navbar" in page


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


def test_behind_the_proxy_a_spoofed_first_hop_does_not_escape_the_address_budget(
    client, coordinator, settings
) -> None:
    settings.BEHIND_TLS_PROXY = True
    for n in range(3 * ADDRESS_ALLOWANCE):
        client.post(
            reverse("login"),
            {"username": f"guess-{n}", "password": "x"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.7",
        )
    response = client.post(
        reverse("login"),
        {"username": "coordinator", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.200, 203.0.113.7",
    )
    assert is_locked_out(response)


def test_an_overlong_forwarded_address_still_gets_a_budget_that_fits(client, settings) -> None:
    from orderdesk.accounts.models import SignInBudget

    settings.BEHIND_TLS_PROXY = True
    client.post(
        reverse("login"),
        {"username": "x" * 400, "password": "y"},
        HTTP_X_FORWARDED_FOR="1" * 500,
    )
    keys = list(SignInBudget.objects.values_list("key", flat=True))
    assert len(keys) == 2
    max_length = SignInBudget._meta.get_field("key").max_length
    assert max_length is not None
    assert all(len(key) <= max_length for key in keys)
