"""The admin role manages people in Django's admin without any way to more power:
crafted POSTs included."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from orderdesk.accounts.models import User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

ESCALATION = {
    "is_superuser": "on",
    "is_staff": "on",
    "user_permissions": lambda: [str(pk) for pk in Permission.objects.values_list("pk", flat=True)],
    "groups": lambda: [str(pk) for pk in Group.objects.values_list("pk", flat=True)],
}


def crafted(data: dict) -> dict:
    extra = {key: value() if callable(value) else value for key, value in ESCALATION.items()}
    return {**data, **extra}


def change_data(user: User, **overrides) -> dict:
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "role": user.role or "coordinator",
        "_save": "Save",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def add_data(username: str, role: str) -> dict:
    return {
        "username": username,
        "usable_password": "true",
        "password1": "Another-good-password-9",
        "password2": "Another-good-password-9",
        "role": role,
        "_save": "Save",
    }


@pytest.fixture
def root(db) -> User:
    return User.objects.create_superuser("root", "root@example.org", PASSWORD)


def assert_powerless(user: User, role: str) -> None:
    user.refresh_from_db()
    assert not user.is_superuser
    assert not user.user_permissions.exists()
    assert list(user.groups.values_list("name", flat=True)) == [role]
    assert user.is_staff == (role == "admin")


def test_an_admin_cannot_make_itself_superuser(admin_client_, admin_user) -> None:
    url = reverse("admin:accounts_user_change", args=[admin_user.pk])
    response = admin_client_.post(url, crafted(change_data(admin_user)))
    assert response.status_code == 302
    assert_powerless(admin_user, "admin")


def test_an_admin_cannot_give_another_person_more_than_a_role(admin_client_, coordinator) -> None:
    url = reverse("admin:accounts_user_change", args=[coordinator.pk])
    response = admin_client_.post(url, crafted(change_data(coordinator, role="support")))
    assert response.status_code == 302
    assert_powerless(coordinator, "support")


def test_an_admin_creating_a_person_cannot_make_a_superuser(admin_client_) -> None:
    response = admin_client_.post(
        reverse("admin:accounts_user_add"), crafted(add_data("newcomer", "coordinator"))
    )
    assert response.status_code == 302
    assert_powerless(User.objects.get(username="newcomer"), "coordinator")


@pytest.mark.parametrize("role", ["coordinator", "support", "admin"])
def test_an_admin_creates_a_person_with_exactly_one_role(admin_client_, role) -> None:
    response = admin_client_.post(reverse("admin:accounts_user_add"), add_data("newcomer", role))
    assert response.status_code == 302
    person = User.objects.get(username="newcomer")
    assert_powerless(person, role)
    assert person.check_password("Another-good-password-9")


@pytest.mark.parametrize("role", [None, "", "superuser", "root"])
def test_a_missing_or_unknown_role_is_refused_and_changes_nothing(
    admin_client_, coordinator, role
) -> None:
    url = reverse("admin:accounts_user_change", args=[coordinator.pk])
    response = admin_client_.post(url, change_data(coordinator, role=role, first_name="Changed"))
    assert response.status_code == 200
    assert "role" in response.context["adminform"].form.errors
    coordinator.refresh_from_db()
    assert coordinator.first_name == "Coordinator"
    assert_powerless(coordinator, "coordinator")


def test_an_admin_deactivates_a_person(admin_client_, coordinator) -> None:
    url = reverse("admin:accounts_user_change", args=[coordinator.pk])
    response = admin_client_.post(url, change_data(coordinator, is_active=None))
    assert response.status_code == 302
    coordinator.refresh_from_db()
    assert not coordinator.is_active


def test_the_admins_form_has_only_the_allowed_fields(admin_client_, coordinator) -> None:
    url = reverse("admin:accounts_user_change", args=[coordinator.pk])
    form = admin_client_.get(url).context["adminform"].form
    assert set(form.fields) == {
        "username", "password", "first_name", "last_name", "email", "is_active", "role",
    }  # fmt: skip
    assert form.fields["role"].initial == "coordinator"


def test_superusers_are_invisible_to_an_admin(admin_client_, root, coordinator) -> None:
    own = reverse("admin:auth_user_password_change", args=[coordinator.pk])
    assert admin_client_.get(own).status_code == 200  # a person's password page, for contrast
    listing = admin_client_.get(reverse("admin:accounts_user_changelist"))
    assert "root" not in [str(u.username) for u in listing.context["cl"].result_list]
    change = admin_client_.get(reverse("admin:accounts_user_change", args=[root.pk]))
    assert change.status_code == 302  # the admin's "does not exist" redirect
    password = reverse("admin:auth_user_password_change", args=[root.pk])
    assert admin_client_.get(password).status_code == 404


def test_an_admin_cannot_change_a_superusers_password_or_fields(admin_client_, root) -> None:
    password_url = reverse("admin:auth_user_password_change", args=[root.pk])
    response = admin_client_.post(
        password_url, {"password1": "Taken-over-pass-77", "password2": "Taken-over-pass-77"}
    )
    assert response.status_code == 404
    change_url = reverse("admin:accounts_user_change", args=[root.pk])
    admin_client_.post(change_url, change_data(root, role="coordinator", is_active=None))
    root.refresh_from_db()
    assert root.check_password(PASSWORD)
    assert root.is_active
    assert root.is_superuser


def test_a_superuser_keeps_djangos_full_user_admin(client, root, coordinator) -> None:
    client.force_login(root)
    url = reverse("admin:accounts_user_change", args=[coordinator.pk])
    form = client.get(url).context["adminform"].form
    assert {"is_superuser", "groups", "user_permissions"} <= set(form.fields)


def test_a_crafted_post_of_djangos_full_user_form_gives_no_power(admin_client_, admin_user):
    """What the stock user admin accepted from an admin-role user: its whole form."""
    url = reverse("admin:accounts_user_change", args=[admin_user.pk])
    stock_form = {
        "last_login_0": "", "last_login_1": "",
        "date_joined_0": "2026-01-01", "date_joined_1": "09:00:00",
    }  # fmt: skip
    response = admin_client_.post(url, crafted(change_data(admin_user, **stock_form)))
    assert response.status_code == 302
    assert_powerless(admin_user, "admin")
