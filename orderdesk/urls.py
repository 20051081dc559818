from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from orderdesk.orders.views import health
from orderdesk.orders.views.webhooks import impilo_webhook

urlpatterns = [
    path("", health.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("accounts/", include("orderdesk.accounts.urls")),
    path("orders/", include("orderdesk.orders.urls")),
    path("audit/", include("orderdesk.audit.urls")),
    path("webhooks/impilo", impilo_webhook, name="impilo_webhook"),
    path("admin/", admin.site.urls),
]

if settings.IMPILO_SANDBOX_ENABLED:
    urlpatterns.append(path(settings.SANDBOX_PATH_PREFIX, include("orderdesk.sandbox.urls")))
