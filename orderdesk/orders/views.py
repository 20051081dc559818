from django.http import HttpResponse
from django.shortcuts import render

from orderdesk.accounts import roles
from orderdesk.accounts.roles import role_required
from orderdesk.http import AuthedHttpRequest
from orderdesk.orders.models import Order


@role_required(roles.VIEW_ORDERS)
def order_list(request: AuthedHttpRequest) -> HttpResponse:
    orders = Order.objects.order_by("-created_at", "-id")[:50]
    return render(request, "orders/order_list.html", {"orders": orders})


@role_required(roles.CREATE_ORDERS)
def order_new(request: AuthedHttpRequest) -> HttpResponse:
    return render(request, "orders/order_new.html", {})


@role_required(roles.WORK_QUEUE)
def attention_list(request: AuthedHttpRequest) -> HttpResponse:
    return render(request, "orders/attention_list.html", {})
