from django.urls import path

from orderdesk.orders import webhooks
from orderdesk.orders.views import attention, detail, entry, history, support

app_name = "orders"
urlpatterns = [
    path("", history.order_list, name="list"),
    path("export.csv", history.order_export, name="export"),
    path("chart/", history.order_chart, name="chart"),
    path("webhooks/", webhooks.delivery_list, name="webhooks"),
    path("attention/", attention.attention_list, name="attention"),
    path("attention/badge/", attention.attention_badge, name="attention_badge"),
    path("attention/bulk-resubmit/", support.bulk_resubmit, name="bulk_resubmit"),
    path("new/", entry.order_new, name="new"),
    path("new/patients/", entry.patient_search, name="patient_search"),
    path("new/patient-card/", entry.patient_card, name="patient_card"),
    path("new/line/", entry.line_row, name="line_row"),
    path("<str:reference>/", detail.order_detail, name="detail"),
    path("<str:reference>/edit/", entry.order_edit, name="edit"),
    path("<str:reference>/edit-resubmit/", support.order_edit_resubmit, name="edit_resubmit"),
    path("<str:reference>/check/", support.order_check, name="check"),
    path("<str:reference>/refresh/", detail.order_refresh, name="refresh"),
    path("<str:reference>/requests/", detail.order_requests, name="requests"),
    # Last: it would otherwise swallow the fixed paths above.
    path("<str:reference>/<slug:action>/", support.order_action, name="action"),
]
