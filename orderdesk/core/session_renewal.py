"""Sessions end after SESSION_IDLE_MINUTES without activity, and SESSION_MAX_HOURS after
signing in whatever the activity (see settings).

Activity is a request the person made. Requests a page makes by itself on a timer (the
attention badge, the live order panel) carry the header POLL_HEADER and never count, or an
open tab on a shared workstation would stay signed in for ever.

Django's SESSION_SAVE_EVERY_REQUEST gives the idle timeout by writing the session row on
every request: an UPDATE and a commit per page. Renewing it at most once per
SESSION_RENEW_SECONDS (a tenth of the idle limit, at most a minute) keeps the same
timeout, shorter by at most that much, for one write a minute instead of one per page.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

RENEWED_AT = "_renewed_at"  # epoch seconds of the session's last renewal
SIGNED_IN_AT = "_signed_in_at"  # epoch seconds of the sign-in that started the session
POLL_HEADER = "X-Background-Poll"  # set by hx-headers on elements that poll on a timer


def now_seconds() -> int:
    return int(timezone.now().timestamp())


def is_background_poll(request: HttpRequest) -> bool:
    return request.headers.get(POLL_HEADER, "").lower() == "true"


def outlived(session: SessionBase) -> bool:
    """True once a signed-in session is SESSION_MAX_HOURS old."""
    signed_in_at = session.get(SIGNED_IN_AT)
    return signed_in_at is not None and (
        now_seconds() - int(signed_in_at) >= settings.SESSION_MAX_HOURS * 3600
    )


def note_sign_in(sender: Any, request: HttpRequest, **kwargs: Any) -> None:
    """user_logged_in receiver (core/apps.py): the start of the absolute lifetime."""
    session = getattr(request, "session", None)
    if session is not None:
        session[SIGNED_IN_AT] = now_seconds()


class SessionRenewalMiddleware:
    """Below SessionMiddleware, above AuthenticationMiddleware: ends a session past its
    absolute lifetime before anyone reads its user, and marks a session in use as modified
    when due, so that SessionMiddleware saves it (and resets its cookie's age) on the way
    out."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        # session_key: only a request that brought a session cookie loads its session.
        if session is not None and session.session_key and outlived(session):
            session.flush()
        response = self.get_response(request)
        # is_empty(): no session, or one this request never read (nothing to renew).
        if session is None or session.is_empty() or is_background_poll(request):
            return response
        now = now_seconds()
        if now - session.get(RENEWED_AT, 0) >= settings.SESSION_RENEW_SECONDS:
            session[RENEWED_AT] = now
            # A session from before the absolute lifetime existed starts its clock now.
            user = getattr(request, "user", None)
            if SIGNED_IN_AT not in session and user is not None and user.is_authenticated:
                session[SIGNED_IN_AT] = now
        return response
