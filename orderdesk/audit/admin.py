"""The audit log in Django's admin: read-only, for those who may view the audit log.

No add, change or delete: the log is written by impilo/session.py only and kept as written.
The changelist never counts the whole table (it may hold millions of rows).
"""

from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

from orderdesk.accounts import roles
from orderdesk.audit.actions import Action
from orderdesk.audit.models import ApiCall, AuditView

COUNT_LIMIT = 10_000


class CappedCountPaginator(Paginator):  # type: ignore[type-arg]
    """Counts at most COUNT_LIMIT + 1 rows: enough for page links, cheap on any table size."""

    @cached_property
    def count(self) -> int:
        object_list: Any = self.object_list
        if isinstance(object_list, QuerySet):
            return object_list[: COUNT_LIMIT + 1].count()
        return len(object_list)


class ReadOnlyAudit(admin.ModelAdmin[Any]):
    paginator = CappedCountPaginator
    show_full_result_count = False
    actions = None

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(roles.VIEW_AUDIT)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.has_perm(roles.VIEW_AUDIT)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]


class ActionFilter(admin.SimpleListFilter):
    """Fixed choices: the default filter would SELECT DISTINCT over the whole table."""

    title = "action"
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return list(Action.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(ApiCall)
class ApiCallAdmin(ReadOnlyAudit):
    list_display = [
        "at", "action", "method", "status_code", "outcome", "duration_ms", "order",
        "request_id",
    ]  # fmt: skip
    list_filter = [ActionFilter, "outcome"]
    # Exact matches only: both columns are indexed, a LIKE '%…%' over millions of rows is not.
    search_fields = ["=request_id", "=order__reference"]
    search_help_text = "An exact request id or order reference."
    list_select_related = ["order"]
    ordering = ["-at", "-id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).defer("request_body", "response_body")


@admin.register(AuditView)
class AuditViewAdmin(ReadOnlyAudit):
    list_display = ["at", "viewer", "kind", "apicall_id", "query"]
    list_filter = ["kind"]
    search_fields = ["=viewer__username"]
    list_select_related = ["viewer"]
    ordering = ["-at", "-id"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(roles.ADMINISTER)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.has_perm(roles.ADMINISTER)
