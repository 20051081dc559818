"""An order's page. The status fragment refreshes itself while the order is in flight."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from orderdesk.accounts import roles
from orderdesk.accounts.roles import role_required
from orderdesk.http import AuthedHttpRequest
from orderdesk.orders import status
from orderdesk.orders.models import Order

TEMPLATE = "orders/order_detail.html"


@role_required(roles.VIEW_ORDERS)
@require_GET
def order_detail(request: AuthedHttpRequest, reference: str) -> HttpResponse:
    order = get_object_or_404(Order.objects.select_related("created_by"), reference=reference)
    context = {
        "order": order,
        "status_text": status.describe(order),
        "status_badge": status.badge_class(order),
    }
    if request.htmx:
        return render(request, f"{TEMPLATE}#order-status", context)
    context["lines"] = order.lines.all()
    context["events"] = order.events.select_related("actor")
    return render(request, TEMPLATE, context)
