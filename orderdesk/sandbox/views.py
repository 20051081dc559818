"""The sandbox's Impilo API (Impilo's paths), answered from the sandbox's own tables."""

from django.http import HttpRequest, HttpResponse

from orderdesk.sandbox import faults, queries, serializers
from orderdesk.sandbox.api import (
    MAX_ID,
    ApiError,
    api_endpoint,
    json_response,
    page_of,
    page_params,
    read_json,
)
from orderdesk.sandbox.ordering import create_order
from orderdesk.sandbox.sites import create_site


@api_endpoint("GET", "POST")
def orders(request: HttpRequest) -> HttpResponse:
    """POST creates (201 + the full Order); GET lists, newest first (the order is ❓ at Impilo)."""
    if request.method == "POST":
        body = serializers.order_json(create_order(read_json(request)))
        return faults.after_create(request, json_response(body, status=201))
    page, size = page_params(request)
    queryset = serializers.order_queryset().order_by("-id")
    return json_response(page_of(queryset, page, size, serializers.orders_json))


@api_endpoint("GET")
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    order = serializers.order_queryset().filter(pk=order_id).first() if order_id <= MAX_ID else None
    if order is None:
        raise ApiError(404, f"Order {order_id} not found")
    return json_response(serializers.order_json(order))


@api_endpoint("GET")
def patients(request: HttpRequest) -> HttpResponse:
    page, size = page_params(request)
    queryset = queries.patients(request)
    return json_response(page_of(queryset, page, size, serializers.patients_json))


@api_endpoint("GET")
def kits(request: HttpRequest) -> HttpResponse:
    page, size = page_params(request)
    queryset = queries.kits(request)
    return json_response(page_of(queryset, page, size, serializers.kits_json))


@api_endpoint("POST")
def sites(request: HttpRequest) -> HttpResponse:
    site = create_site(read_json(request))
    return json_response(serializers.site_json(site), status=201)


@api_endpoint()
def not_found(request: HttpRequest) -> HttpResponse:
    """Impilo has more endpoints than the sandbox; these (e.g. GET site, items) are unknown."""
    raise ApiError(404, f"No sandbox endpoint for {request.method} {request.path}")
