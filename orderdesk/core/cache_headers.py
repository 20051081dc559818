"""Pages for a signed-in person hold patient data: no browser or proxy may keep them.

Every response to an authenticated request says `Cache-Control: no-store, private`, and
`Vary: HX-Request`, since many URLs answer htmx with a fragment of the page they serve: a
cache that ignored the header could hand one to the other (e.g. on Back).
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_cache_control, patch_vary_headers


class PrivateNoStoreMiddleware:
    """After AuthenticationMiddleware; also marks a response whose view signed someone in."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, no_store=True, private=True)
            patch_vary_headers(response, ["HX-Request"])
        return response
