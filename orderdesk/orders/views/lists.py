from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from orderdesk.accounts import roles
from orderdesk.accounts.roles import role_required
from orderdesk.http import AuthedHttpRequest
from orderdesk.orders.models import ATTENTION_STATES, Order


@role_required(roles.VIEW_ORDERS)
@require_GET
def order_list(request: AuthedHttpRequest) -> HttpResponse:
    orders = Order.objects.select_related("created_by").order_by("-created_at", "-id")[:50]
    return render(request, "orders/order_list.html", {"orders": orders})


@role_required(roles.WORK_QUEUE)
@require_GET
def attention_list(request: AuthedHttpRequest) -> HttpResponse:
    orders = Order.objects.filter(state__in=ATTENTION_STATES).order_by("state_changed_at")[:50]
    return render(request, "orders/attention_list.html", {"orders": orders})
