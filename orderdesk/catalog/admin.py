"""Catalog admin for the admin role: hide entries, mark loaner kits, add sites by hand.

Items and kits come only from Impilo (the sync), so they cannot be added or deleted here;
sites can, because Impilo offers no site list (docs/impilo.md#sites-items-and-kits).
Impilo-owned fields are read-only: the next sync would overwrite them anyway.
"""

from typing import Any

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from orderdesk.accounts import roles
from orderdesk.catalog.models import Item, Kit, KitItem, Site, Source


class AdministerOnly(admin.ModelAdmin[Any]):
    """Open to the admin role's `administer` permission, not to per-model permissions."""

    actions = ["deactivate", "activate"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(roles.ADMINISTER)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.has_perm(roles.ADMINISTER)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.has_perm(roles.ADMINISTER)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    @admin.action(description="Hide from the order form (deactivate)")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = queryset.update(active=False)
        self.message_user(request, f"Deactivated {count}.", messages.SUCCESS)

    @admin.action(description="Show on the order form (activate)")
    def activate(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = queryset.update(active=True)
        self.message_user(request, f"Activated {count}.", messages.SUCCESS)


@admin.register(Site)
class SiteAdmin(AdministerOnly):
    list_display = ["name", "impilo_id", "city", "state", "active", "impilo_active", "source"]
    list_filter = ["active", "impilo_active", "source", "state"]
    search_fields = ["name", "city", "=impilo_id"]
    readonly_fields = ["source", "synced_at", "updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(roles.ADMINISTER)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # A site typed in by mistake may go; one Impilo reported would only come back.
        allowed = request.user.has_perm(roles.ADMINISTER)
        return allowed and (obj is None or getattr(obj, "source", None) == Source.ADMIN)

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        if obj is not None and getattr(obj, "source", None) == Source.IMPILO:
            return [*self.readonly_fields, "impilo_id", "name", "impilo_active", "city",
                    "state", "phone"]  # fmt: skip
        return list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: Site, form: Any, change: bool) -> None:
        if not change:
            obj.source = Source.ADMIN
        super().save_model(request, obj, form, change)


@admin.register(Item)
class ItemAdmin(AdministerOnly):
    list_display = ["name", "impilo_id", "model", "sku", "manufacturer", "orderable", "active"]
    list_filter = ["active", "orderable", "manufacturer"]
    search_fields = ["name", "model", "sku", "manufacturer", "=impilo_id"]
    readonly_fields = [
        "impilo_id", "name", "model", "sku", "manufacturer", "orderable", "synced_at",
        "updated_at",
    ]  # fmt: skip


class KitItemInline(admin.TabularInline[KitItem, Kit]):
    model = KitItem
    fields = ["item", "count"]
    readonly_fields = ["item", "count"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.has_perm(roles.ADMINISTER)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Kit)
class KitAdmin(AdministerOnly):
    list_display = ["name", "impilo_id", "is_loaner", "archived", "active"]
    list_filter = ["active", "archived", "is_loaner"]
    search_fields = ["name", "=impilo_id", "kit_items__item__name"]
    readonly_fields = ["impilo_id", "name", "archived", "synced_at", "updated_at"]
    inlines = [KitItemInline]
