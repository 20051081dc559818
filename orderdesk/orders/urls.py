from django.urls import path

from orderdesk.orders.views import detail, entry, lists

app_name = "orders"
urlpatterns = [
    path("", lists.order_list, name="list"),
    path("attention/", lists.attention_list, name="attention"),
    path("new/", entry.order_new, name="new"),
    path("new/patients/", entry.patient_search, name="patient_search"),
    path("new/patient-card/", entry.patient_card, name="patient_card"),
    path("new/line/", entry.line_row, name="line_row"),
    path("<str:reference>/", detail.order_detail, name="detail"),
    path("<str:reference>/edit/", entry.order_edit, name="edit"),
]
