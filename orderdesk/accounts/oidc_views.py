"""The OpenID Connect door: start, callback, refusal page, and log out at the provider.

With OIDC_ISSUER empty (the default) start and callback answer 404: the door is not there.
"""

import logging
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.generic import View
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
)

from orderdesk.accounts import oidc
from orderdesk.accounts.models import SignInEvent
from orderdesk.accounts.oidc_config import origin_of
from orderdesk.accounts.signin_log import record

logger = logging.getLogger(__name__)

STATUS_FOR_KIND = {"failed": 400, "no_role": 403, "disabled": 403}


def sign_in_options(request: HttpRequest) -> dict[str, object]:
    """For the login page: which doors are open (a context processor, no I/O)."""
    return {
        "oidc_enabled": oidc.enabled(),
        "oidc_provider_name": settings.OIDC_PROVIDER_NAME,
        "password_sign_in": settings.PASSWORD_SIGN_IN,
    }


def refuse(request: HttpRequest, refusal: oidc.SignInRefused) -> HttpResponse:
    """Record the refusal, end any session in this browser, and say so plainly."""
    if request.user.is_authenticated:
        auth.logout(request)
    else:
        request.session.flush()
    record(
        request,
        SignInEvent.Door.OIDC,
        SignInEvent.Outcome.REFUSED,
        who=refusal.who,
        reason=refusal.reason,
    )
    logger.warning("OpenID Connect sign-in refused: %s", refusal.reason)
    context = {"kind": refusal.kind, "provider_name": settings.OIDC_PROVIDER_NAME}
    return render(
        request,
        "registration/oidc_refused.html",
        context,
        status=STATUS_FOR_KIND.get(refusal.kind, 400),
    )


class _OnlyWhenConfigured(View):
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not oidc.enabled():
            raise Http404("No such page")
        return super().dispatch(request, *args, **kwargs)


@method_decorator(login_not_required, name="dispatch")
class StartView(_OnlyWhenConfigured, OIDCAuthenticationRequestView):  # type: ignore[misc]
    """Sends the browser to the provider with a fresh state, nonce and PKCE challenge."""

    def __init__(self, **kwargs: Any) -> None:
        View.__init__(self, **kwargs)  # the library's own reads endpoints from settings

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            metadata = oidc.discovery()
        except oidc.SignInRefused as refusal:
            return refuse(request, refusal)
        self.OIDC_OP_AUTH_ENDPOINT = metadata["authorization_endpoint"]
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        response: HttpResponse = super().get(request)
        return response


@method_decorator(login_not_required, name="dispatch")
class CallbackView(_OnlyWhenConfigured, OIDCAuthenticationCallbackView):  # type: ignore[misc]
    """Where the provider sends the browser back; every way it can fail is a refusal."""

    def get(self, request: HttpRequest) -> HttpResponse:
        try:
            response: HttpResponse = super().get(request)
            return response
        except oidc.SignInRefused as refusal:
            return refuse(request, refusal)
        except SuspiciousOperation:
            # The library's answer to a state this browser's session never issued.
            return refuse(request, oidc.SignInRefused("unknown or tampered state"))

    def login_failure(self) -> HttpResponse:
        error = self.request.GET.get("error")
        if error:
            reason = f"provider answered with an error: {error[:40]}"
        elif "code" not in self.request.GET or "state" not in self.request.GET:
            reason = "callback without a code and state"
        elif "oidc_states" not in self.request.session:
            reason = "no sign-in was started in this browser (state unknown)"
        else:
            reason = "account not active"
        return refuse(self.request, oidc.SignInRefused(reason))


class LogoutView(auth_views.LogoutView):
    """Ends the orderdesk session and, where the provider publishes an end-session
    endpoint, sends the browser there to end the provider's session too."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        id_token = request.session.get("oidc_id_token")
        response = super().post(request, *args, **kwargs)
        url = end_session_url(request, id_token) if id_token and oidc.enabled() else ""
        return HttpResponseRedirect(url) if url else response


def end_session_url(request: HttpRequest, id_token: str) -> str:
    try:
        endpoint = oidc.discovery().get("end_session_endpoint")
    except oidc.SignInRefused:
        return ""
    # The Log out form may only lead to the issuer's origin (CSP form-action, settings.py).
    if not isinstance(endpoint, str) or origin_of(endpoint) != origin_of(settings.OIDC_ISSUER):
        return ""
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_RP_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(reverse("login")),
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"
