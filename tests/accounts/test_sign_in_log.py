"""The sign-in log records every sign-in and refusal at the password doors, keeps no
secret, and is read-only in Django's admin, for the admin role only."""

import pytest
from django.test import Client

from orderdesk.accounts.models import OIDCIdentity, SignInEvent
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_password_sign_in_is_recorded_with_who_when_and_from_where(coordinator) -> None:
    client = Client(REMOTE_ADDR="192.0.2.7")
    client.post("/accounts/login/", {"username": "coordinator", "password": PASSWORD})
    event = SignInEvent.objects.get()
    assert (event.door, event.outcome, event.who, event.user) == (
        "password",
        "signed_in",
        "coordinator",
        coordinator,
    )
    assert event.client_address == "192.0.2.7"
    assert event.at is not None


def test_a_wrong_password_is_recorded_as_refused_without_the_password(coordinator) -> None:
    Client().post("/accounts/login/", {"username": "coordinator", "password": "guess-Xq7"})
    event = SignInEvent.objects.get()
    assert (event.door, event.outcome, event.who) == ("password", "refused", "coordinator")
    assert event.reason == "username or password not accepted"
    stored = " ".join(str(value) for value in SignInEvent.objects.values_list().get())
    assert "guess-Xq7" not in stored


def test_the_admin_door_is_recorded_as_such(admin_user) -> None:
    client = Client()
    client.post("/admin/login/", {"username": "admin", "password": "wrong"})
    client.post("/admin/login/", {"username": "admin", "password": PASSWORD})
    assert list(SignInEvent.objects.order_by("id").values_list("door", "outcome")) == [
        ("admin", "refused"),
        ("admin", "signed_in"),
    ]


def test_an_identity_provider_account_cannot_use_a_password(coordinator) -> None:
    OIDCIdentity.objects.create(user=coordinator, issuer="https://idp.example.org", subject="s1")
    client = Client()
    response = client.post("/accounts/login/", {"username": "coordinator", "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    event = SignInEvent.objects.get()
    assert (event.outcome, event.reason) == ("refused", "account signs in at the identity provider")


def test_admins_read_the_log_in_the_admin_and_cannot_change_it(admin_client_, coordinator):
    Client().post("/accounts/login/", {"username": "coordinator", "password": "wrong"})
    event = SignInEvent.objects.get(outcome="refused")
    listing = admin_client_.get("/admin/accounts/signinevent/")
    assert listing.status_code == 200
    assert "username or password not accepted" in listing.content.decode()
    assert admin_client_.get("/admin/accounts/signinevent/add/").status_code == 403
    detail = admin_client_.get(f"/admin/accounts/signinevent/{event.pk}/change/")
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    response = admin_client_.post(
        f"/admin/accounts/signinevent/{event.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert SignInEvent.objects.filter(pk=event.pk).exists()


def test_support_cannot_read_the_log(support) -> None:
    support.is_staff = True
    support.save()
    client = Client()
    client.force_login(support)
    assert client.get("/admin/accounts/signinevent/").status_code == 403
