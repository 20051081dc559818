"""Sessions end after SESSION_IDLE_MINUTES without a request (see settings).

Django's SESSION_SAVE_EVERY_REQUEST gives that idle timeout by writing the session row on
every request: an UPDATE and a commit per page. Renewing it at most once per
SESSION_RENEW_SECONDS (a tenth of the idle limit, at most a minute) keeps the same
timeout, shorter by at most that much, for one write a minute instead of one per page.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

RENEWED_AT = "_renewed_at"  # epoch seconds of the session's last renewal


class SessionRenewalMiddleware:
    """Below SessionMiddleware: marks a session in use as modified when due, so that
    SessionMiddleware saves it (and resets its cookie's age) on the way out."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # is_empty(): no session, or one this request never read (nothing to renew).
        if session is None or session.is_empty():
            return response
        now = int(timezone.now().timestamp())
        if now - session.get(RENEWED_AT, 0) >= settings.SESSION_RENEW_SECONDS:
            session[RENEWED_AT] = now
        return response
