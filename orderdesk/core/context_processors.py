from django.http import HttpRequest
from django.urls import reverse

from orderdesk.accounts import roles


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
        "nav_links": [
            {"label": label, "url": url, "active": request.path.startswith(url)}
            for label, url, perm in links
            if user.has_perm(perm)
        ]
    }
