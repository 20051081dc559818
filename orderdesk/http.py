"""Typed request classes for views, so mypy knows about request.htmx and our User."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from orderdesk.accounts.models import User


class AuthedHttpRequest(HttpRequest):
    user: User
    htmx: HtmxDetails
