"""The three roles and what each may do. Roles are Django groups holding these permissions."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseBase

COORDINATOR, SUPPORT, ADMIN = "coordinator", "support", "admin"

VIEW_ORDERS = "accounts.view_orders"
CREATE_ORDERS = "accounts.create_orders"
WORK_QUEUE = "accounts.work_queue"
VIEW_AUDIT = "accounts.view_audit"
ADMINISTER = "accounts.administer"

# Kept in step with the data migration accounts/0002_roles.py.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    COORDINATOR: [VIEW_ORDERS, CREATE_ORDERS],
    SUPPORT: [VIEW_ORDERS, CREATE_ORDERS, WORK_QUEUE, VIEW_AUDIT],
    # Admins also manage people in Django's admin (users only; groups stay as migrated).
    ADMIN: [
        VIEW_ORDERS,
        CREATE_ORDERS,
        WORK_QUEUE,
        VIEW_AUDIT,
        ADMINISTER,
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
    ],
}


def roles_with(perm: str) -> list[str]:
    return [role for role, perms in ROLE_PERMISSIONS.items() if perm in perms]


def role_of(user: Any) -> str:
    names = set(user.groups.values_list("name", flat=True))
    for role in (ADMIN, SUPPORT, COORDINATOR):
        if role in names:
            return role
    return ""


ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponseBase])


def role_required(perm: str) -> Callable[[ViewFunc], ViewFunc]:
    """403 with the roles that may, for a signed-in user lacking `perm`."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.has_perm(perm):
                needed = " or ".join(roles_with(perm))
                raise PermissionDenied(f"This page needs the {needed} role.")
            return view(request, *args, **kwargs)

        # Lets tests find every role-guarded page and check each role against it.
        wrapper.required_permission = perm  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def ensure_role_groups() -> None:
    """Create the role groups if missing (a flushed test database loses the migration's)."""
    from django.contrib.auth.models import Group, Permission

    for role, perms in ROLE_PERMISSIONS.items():
        group, created = Group.objects.get_or_create(name=role)
        if created:
            codenames = [perm.split(".", 1)[1] for perm in perms]
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label="accounts", codename__in=codenames
                )
            )
