"""People in Django's admin.

A superuser gets Django's stock user admin. The admin role (staff, holding add_user and
change_user) may only create people, deactivate them and give each exactly one of the three
roles: it never sees superusers (so cannot touch their passwords), and its forms have no
is_superuser, is_staff, groups or user_permissions fields, so a crafted POST carrying them
changes nothing. is_staff follows the role: admins reach the admin site, nobody else does.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest

from orderdesk.accounts import roles
from orderdesk.accounts.models import User

ROLE_CHOICES = [
    (role, role.capitalize()) for role in (roles.COORDINATOR, roles.SUPPORT, roles.ADMIN)
]


class RoleField(forms.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ROLE_CHOICES, help_text="What this person may do.", **kwargs)


class RoleChangeForm(UserChangeForm[User]):
    role = RoleField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["role"].initial = self.instance.role


class RoleCreationForm(AdminUserCreationForm):
    role = RoleField()


@admin.register(User)
class PeopleAdmin(UserAdmin[User]):
    limited_fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Access", {"fields": ("is_active", "role")}),
    )
    limited_add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2", "role"),
            },
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        people = super().get_queryset(request)
        return people if request.user.is_superuser else people.filter(is_superuser=False)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def get_list_filter(self, request: HttpRequest) -> Any:
        return super().get_list_filter(request) if request.user.is_superuser else ("is_active",)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if request.user.is_superuser:
            return super().get_fieldsets(request, obj)
        return self.limited_add_fieldsets if obj is None else self.limited_fieldsets

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        # The form's fields are those the fieldsets name (get_fieldsets), nothing more.
        if not request.user.is_superuser:
            kwargs["form"] = RoleCreationForm if obj is None else RoleChangeForm
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        role = form.cleaned_data.get("role")
        if role:
            obj.is_staff = role == roles.ADMIN
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        role = form.cleaned_data.get("role")
        if role:
            form.instance.groups.set([Group.objects.get(name=role)])
