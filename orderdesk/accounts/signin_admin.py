"""The sign-in log in Django's admin: read-only, for the admin role."""

from django.contrib import admin
from django.http import HttpRequest

from orderdesk.accounts import roles
from orderdesk.accounts.models import SignInEvent


@admin.register(SignInEvent)
class SignInEventAdmin(admin.ModelAdmin[SignInEvent]):
    list_display = ["at", "outcome", "door", "who", "user", "client_address", "reason"]
    list_filter = ["outcome", "door", "at"]
    search_fields = ["who", "client_address", "reason", "user__username"]
    date_hierarchy = "at"
    list_select_related = ["user"]
    readonly_fields = ["at", "outcome", "door", "who", "user", "client_address", "reason"]

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm(roles.ADMINISTER)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
