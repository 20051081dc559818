"""What every page shows support about orders: the sending-paused banner and the badge of
the needs-attention queue. Registered in settings.TEMPLATES after core's navigation."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from orderdesk.accounts import roles
from orderdesk.orders.engine.gate import banner_text
from orderdesk.orders.selectors import attention_queue


def attention_banner_and_badge(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.has_perm(roles.WORK_QUEUE):
        return {"banners": [], "attention_count": ""}
    banners = [{"level": "danger", "text": text}] if (text := banner_text()) else []
    # Counted only if a template shows the badge: redirects, downloads and htmx fragments
    # do not pay for it, nor does the badge view (it counts for itself).
    badge = SimpleLazyObject(lambda: attention_queue.badge_label(attention_queue.count()))
    return {"banners": banners, "attention_count": badge}
