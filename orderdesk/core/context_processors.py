from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from orderdesk.accounts import roles


def _marking_current(path: str, links: list[tuple[str, str]]) -> list[dict[str, object]]:
    # The longest matching prefix is the current page: /orders/new/ is "New order", not "Orders".
    current = max((url for _, url in links if path.startswith(url)), key=len, default=None)
    return [{"label": label, "url": url, "active": url == current} for label, url in links]


def navigation(request: HttpRequest) -> dict[str, object]:
    """The main navigation, only the links the signed-in user's role may use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_links": []}
    links = [
        ("Orders", reverse("orders:list"), roles.VIEW_ORDERS),
        ("New order", reverse("orders:new"), roles.CREATE_ORDERS),
        ("Needs attention", reverse("orders:attention"), roles.WORK_QUEUE),
        ("Audit log", reverse("audit:list"), roles.VIEW_AUDIT),
    ]
    return {
        "sandbox_enabled": settings.IMPILO_SANDBOX_ENABLED,
        "nav_links": _marking_current(
            request.path, [(label, url) for label, url, perm in links if user.has_perm(perm)]
        ),
    }
