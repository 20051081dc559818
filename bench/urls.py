"""orderdesk's URLs, plus a stock Django admin for orders: the baseline the issue compares
the Orders page with.

It lives here, not in orderdesk/orders/admin.py, on purpose: an editable Order admin in the
product would let staff change an order's state around services.py
(docs/architecture.md#moves), and its COUNT(*) and LIKE search are exactly what the Orders
page was built to avoid.
"""

from typing import Any

from django.contrib import admin

from orderdesk.orders.models import Order


class StockOrderAdmin(admin.ModelAdmin[Any]):
    """Default settings, plus what an admin would first add: a state filter and a search."""

    list_filter = ["state"]
    search_fields = ["reference", "patient_name"]


if not admin.site.is_registered(Order):
    admin.site.register(Order, StockOrderAdmin)

# Imported after the registration: admin.site.urls lists the models registered when read.
from orderdesk.urls import urlpatterns  # noqa: E402

__all__ = ["urlpatterns"]
