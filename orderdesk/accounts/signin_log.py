"""The sign-in log: every sign-in and every refusal, at every door, with who, when, from
where and why refused. Password doors are recorded from Django's sign-in signals; the
OpenID Connect door records its own refusals (oidc_views.py), as those never reach them.

Only names, addresses and reasons are kept: never a password, code or token.
"""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest
from django.urls import reverse

from orderdesk.accounts import throttle
from orderdesk.accounts.models import SignInEvent, User

OIDC_BACKEND = "orderdesk.accounts.oidc.OIDCBackend"
# A password door's refusal reason when the backend gave none more precise.
PASSWORD_NOT_ACCEPTED = "username or password not accepted"  # noqa: S105
# Set on the request by a backend that refuses for a reason worth logging.
REFUSAL_REASON_ATTR = "_sign_in_refusal_reason"


def client_address(request: HttpRequest | None) -> str:
    """The address the throttle counts, cut to the column's length."""
    return throttle.client_address(request)[:64] if request is not None else ""


def record(
    request: HttpRequest | None,
    door: str,
    outcome: str,
    *,
    who: str = "",
    user: User | None = None,
    reason: str = "",
) -> SignInEvent:
    return SignInEvent.objects.create(
        door=door,
        outcome=outcome,
        who=who[:255],
        user=user,
        client_address=client_address(request),
        reason=reason[:255],
    )


def password_door(request: HttpRequest | None) -> SignInEvent.Door:
    if request is not None and request.path == reverse("admin:login"):
        return SignInEvent.Door.ADMIN
    return SignInEvent.Door.PASSWORD


@receiver(user_logged_in, dispatch_uid="sign_in_log_signed_in")
def _signed_in(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    door = SignInEvent.Door.OIDC
    if getattr(user, "backend", "") != OIDC_BACKEND:
        door = password_door(request)
    record(request, door, SignInEvent.Outcome.SIGNED_IN, who=user.get_username(), user=user)


@receiver(user_login_failed, dispatch_uid="sign_in_log_refused")
def _refused(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Only the password doors: the OpenID Connect door records its own refusals.
    if "username" not in credentials:
        return
    reason = getattr(request, REFUSAL_REASON_ATTR, "") or PASSWORD_NOT_ACCEPTED
    record(
        request,
        password_door(request),
        SignInEvent.Outcome.REFUSED,
        who=str(credentials.get("username") or ""),
        reason=reason,
    )
