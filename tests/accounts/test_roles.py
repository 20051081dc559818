import importlib

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory

from orderdesk.accounts import roles

pytestmark = pytest.mark.django_db


def group_permissions(name: str) -> set[str]:
    group = Group.objects.get(name=name)
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def test_the_roles_migration_creates_each_group_with_its_permissions() -> None:
    # Run the migration's own function: a test database flushed by an earlier
    # transactional test no longer holds what migrate made.
    migration = importlib.import_module("orderdesk.accounts.migrations.0002_roles")
    Group.objects.all().delete()
    config = django_apps.get_app_config("accounts")
    models_module = config.models_module  # the migration sets it for its historical apps
    try:
        migration.create_roles(django_apps, None)
    finally:
        config.models_module = models_module
    for role in (roles.COORDINATOR, roles.SUPPORT, roles.ADMIN):
        assert group_permissions(role) == set(roles.ROLE_PERMISSIONS[role])


def test_role_permissions_match_the_data_migration() -> None:
    migration = importlib.import_module("orderdesk.accounts.migrations.0002_roles")
    assert {
        role: {f"accounts.{codename}" for codename in codenames}
        for role, codenames in migration.ROLE_PERMISSIONS.items()
    } == {role: set(perms) for role, perms in roles.ROLE_PERMISSIONS.items()}


def test_ensure_role_groups_recreates_groups_lost_to_a_flush() -> None:
    Group.objects.all().delete()
    roles.ensure_role_groups()
    for role in roles.ROLE_PERMISSIONS:
        assert group_permissions(role) == set(roles.ROLE_PERMISSIONS[role])


@pytest.mark.parametrize(
    ("role", "expected"),
    [("coordinator", "coordinator"), ("support", "support"), ("admin", "admin"), ("", "")],
)
def test_role_of_names_the_users_group(make_user, role: str, expected: str) -> None:
    assert make_user(role, username=f"u-{role or 'none'}").role == expected


def test_role_of_a_user_in_two_groups_is_the_stronger_one(make_user) -> None:
    user = make_user("coordinator")
    user.groups.add(Group.objects.get(name="admin"))
    assert user.role == "admin"


def test_roles_with_lists_every_role_holding_the_permission() -> None:
    assert roles.roles_with(roles.VIEW_AUDIT) == ["support", "admin"]
    assert roles.roles_with(roles.ADMINISTER) == ["admin"]


def test_role_required_denies_with_the_roles_that_may(coordinator) -> None:
    @roles.role_required(roles.WORK_QUEUE)
    def view(request):
        return HttpResponse("ok")

    request = RequestFactory().get("/")
    request.user = coordinator
    with pytest.raises(PermissionDenied, match="needs the support or admin role"):
        view(request)


def test_role_required_lets_a_permitted_role_through_and_marks_the_view(support) -> None:
    @roles.role_required(roles.WORK_QUEUE)
    def view(request):
        return HttpResponse("ok")

    request = RequestFactory().get("/")
    request.user = support
    assert view(request).content == b"ok"
    assert getattr(view, "required_permission", None) == roles.WORK_QUEUE
