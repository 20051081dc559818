"""{% support_panel order %}: support's actions and the edit history of an order's payload.

An inclusion tag so the detail page needs only one line for it, and the panel's queries
run only where it is shown.
"""

import difflib
import json

from django import template

from orderdesk.accounts import roles
from orderdesk.impilo.client import payload_json
from orderdesk.orders import states
from orderdesk.orders.engine.payload import build_request
from orderdesk.orders.models import Order
from orderdesk.orders.states import State

register = template.Library()


def _pretty(payload: str) -> list[str]:
    try:
        return json.dumps(json.loads(payload), indent=2, ensure_ascii=False).splitlines()
    except ValueError:
        return payload.splitlines()


@register.inclusion_tag("orders/_support_panel.html", takes_context=True)
def support_panel(context: template.Context, order: Order) -> dict[str, object]:
    user = context["request"].user
    versions = list(order.payload_versions.select_related("replaced_by"))
    diffs = []
    if versions:
        current = payload_json(build_request(order))
        texts = [v.payload for v in versions] + [current]
        for older, newer, version in zip(texts, texts[1:], versions, strict=False):
            lines = difflib.unified_diff(
                _pretty(older),
                _pretty(newer),
                f"version {version.version}",
                f"version {version.version + 1}",
                lineterm="",
            )
            diffs.append((version, "\n".join(lines)))
    actions = {
        "can_resubmit": states.may_resubmit(order.state),
        "can_edit_resubmit": order.state == State.REJECTED,
        "can_check": states.may_check_impilo(order.state) and not order.impilo_id,
        "can_resolve": states.may_resolve(order.state),
    }
    show = user.has_perm(roles.WORK_QUEUE) and any(actions.values())
    return {"order": order, "show_actions": show, "diffs": diffs, **actions}
