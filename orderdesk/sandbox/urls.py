"""Mounted at settings.SANDBOX_PATH_PREFIX ("sandbox/impilo/"): Impilo's paths live below it."""

from django.urls import path, re_path

from orderdesk.sandbox import fault_views, views

app_name = "sandbox"
urlpatterns = [
    path("api/v3/order", views.orders, name="api_orders"),
    path("api/v3/order/<int:order_id>", views.order_detail, name="api_order"),
    path("api/v3/patient", views.patients, name="api_patients"),
    path("api/v3/kit", views.kits, name="api_kits"),
    path("api/v3/site", views.sites, name="api_sites"),
    re_path(r"^api/", views.not_found, name="api_not_found"),
    path("faults/", fault_views.faults_page, name="faults"),
]
