"""The audit log in Django's admin: read-only, for those who may view the audit log.

No add, change or delete: the log is written by impilo/session.py only and kept as written.
The changelist never counts the whole table (it may hold millions of rows).
"""

import json
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


# ApiCall's columns in the order they were always shown, the bodies and headers read from
# their blobs in place of the blob links.
SHOWN_FIELDS: list[str] = [
    "actor", "action", "attempt", "method", "url", "request_headers", "request_body",
    "request_body_truncated", "at", "order", "request_id", "status_code",
    "response_headers", "response_body", "response_body_truncated", "duration_ms",
    "error_class", "error_message", "outcome",
]  # fmt: skip


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

    fields = tuple(SHOWN_FIELDS)

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        return list(SHOWN_FIELDS)

    @admin.display(description="request headers")
    def request_headers(self, call: ApiCall) -> str:
        return json.dumps(call.request_headers, ensure_ascii=False) if call.request_headers else ""

    @admin.display(description="request body")
    def request_body(self, call: ApiCall) -> str:
        return str(call.request_body)

    @admin.display(description="response headers")
    def response_headers(self, call: ApiCall) -> str:
        headers = call.response_headers
        return json.dumps(headers, ensure_ascii=False) if headers else ""

    @admin.display(description="response body")
    def response_body(self, call: ApiCall) -> str:
        return str(call.response_body)


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
