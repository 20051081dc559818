from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from orderdesk.core import views as core_views
from orderdesk.orders.engine.webhook_events import impilo_webhook

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("orderdesk.accounts.urls")),
    path("orders/", include("orderdesk.orders.urls")),
    path("audit/", include("orderdesk.audit.urls")),
    path("webhooks/impilo", impilo_webhook, name="impilo_webhook"),
    path("admin/", admin.site.urls),
]

if settings.IMPILO_SANDBOX_ENABLED:
    urlpatterns.append(path(settings.SANDBOX_PATH_PREFIX, include("orderdesk.sandbox.urls")))
