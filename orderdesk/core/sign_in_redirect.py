"""An htmx request whose session has ended is sent to the sign-in page as a whole page.

LoginRequiredMiddleware answers such a request with a redirect to the sign-in page. The
browser follows it inside the htmx request, and htmx would swap the sign-in page into the
badge or panel that asked. Instead this answers 204 with HX-Redirect: htmx then loads the
sign-in page in the window, with `next` set to the page the person was on (its path only:
a query string may hold search text).
"""

from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url


def _page_path(request: HttpRequest) -> str:
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    same_site = not current.netloc or current.netloc == request.get_host()
    path = current.path
    return path if same_site and path.startswith("/") and not path.startswith("//") else "/"


class HtmxSignInRedirectMiddleware:
    """Above LoginRequiredMiddleware, so that it sees that middleware's redirects."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.headers.get("HX-Request") != "true" or response.status_code != 302:
            return response
        login_path = resolve_url(settings.LOGIN_URL)
        if urlsplit(response["Location"]).path != login_path:
            return response
        redirect = HttpResponse(status=204)
        redirect["HX-Redirect"] = f"{login_path}?{urlencode({'next': _page_path(request)})}"
        return redirect
