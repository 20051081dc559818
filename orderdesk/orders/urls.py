from django.urls import path, register_converter

from orderdesk.orders.views import detail, entry, needs_attention, order_list, support, webhooks


class ReferenceConverter:
    """An order reference's characters only: anything else (a NUL byte, which PostgreSQL
    refuses in a query, or markup) is a 404 from the resolver, not an error in a view."""

    regex = "[0-9A-Za-z-]{1,32}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ReferenceConverter, "reference")
app_name = "orders"
urlpatterns = [
    path("", order_list.order_list, name="list"),
    path("export.csv", order_list.order_export, name="export"),
    path("chart/", order_list.order_chart, name="chart"),
    path("webhooks/", webhooks.delivery_list, name="webhooks"),
    path("webhooks/not-checked.csv", webhooks.stopped_export, name="sync_stopped_export"),
    path("attention/", needs_attention.attention_list, name="attention"),
    path("attention/badge/", needs_attention.attention_badge, name="attention_badge"),
    path("attention/bulk-resubmit/", support.bulk_resubmit, name="bulk_resubmit"),
    path("new/", entry.order_new, name="new"),
    path("new/patients/", entry.patient_search, name="patient_search"),
    path("new/patient-card/", entry.patient_card, name="patient_card"),
    path("new/line/", entry.line_row, name="line_row"),
    path("<reference:reference>/", detail.order_detail, name="detail"),
    path("<reference:reference>/edit/", entry.order_edit, name="edit"),
    path("<reference:reference>/edit-resubmit/", support.order_edit_resubmit, name="edit_resubmit"),
    path("<reference:reference>/check/", support.order_check, name="check"),
    path("<reference:reference>/refresh/", detail.order_refresh, name="refresh"),
    path("<reference:reference>/requests/", detail.order_requests, name="requests"),
    # Last: it would otherwise swallow the fixed paths above.
    path("<reference:reference>/<slug:action>/", support.order_action, name="action"),
]
