"""The password doors (/accounts/login/ and /admin/login/) and the switch that closes them.

With PASSWORD_SIGN_IN=false both answer 404, exactly as an address that does not exist,
so nothing tells a visitor that a password form was ever there. The login page itself
still answers GET: it carries the "Sign in with …" button.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.http import Http404, HttpRequest, HttpResponse

from orderdesk.accounts.models import OIDCIdentity, User
from orderdesk.accounts.signin_log import REFUSAL_REASON_ATTR


class PasswordBackend(ModelBackend):
    """Django's password check, refusing accounts that belong to the identity provider:
    their access must end when the provider removes them, so no local password may open
    them (one set by hand in the admin included)."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not settings.PASSWORD_SIGN_IN:
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and OIDCIdentity.objects.filter(user=user).exists():
            if request is not None:
                setattr(request, REFUSAL_REASON_ATTR, "account signs in at the identity provider")
            return None
        return user


class PasswordDoorMiddleware:
    """404 for the password doors while PASSWORD_SIGN_IN is off."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> None:
        if settings.PASSWORD_SIGN_IN or request.resolver_match is None:
            return
        name = request.resolver_match.view_name
        if name == "admin:login" or (name == "login" and request.method != "GET"):
            raise Http404("No such page")
