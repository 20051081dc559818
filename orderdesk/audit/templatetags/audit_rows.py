"""The audit log's table rows, written in Python.

Fifty rows of nine cells through the template engine were most of the page's CPU. This
writes the same HTML the template did; tests/audit/test_audit_rows.py compares the two
byte for byte. Each call carries its links (views._add_links).
"""

from collections.abc import Iterable

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from orderdesk.audit import present
from orderdesk.audit.models import ApiCall
from orderdesk.audit.templatetags.audit_tags import outcome_class

register = template.Library()

ROW = """
    <tr>
      <td><a href="{}" title="Show this call in full"><time datetime="{}">{}</time></a></td>
      <td>{}</td>
      <td>{}</td>
      <td class="text-break"><code>{}</code></td>
      <td>{}</td>
      <td><span class="badge {}">{}</span></td>
      <td>{}</td>
      <td>{}</td>
      <td><code>{}</code></td>
    </tr>
  """
NO_RESPONSE = mark_safe('<span class="text-body-secondary">no response</span>')
PROCESS_STOPPED = mark_safe(
    '<span class="text-body-secondary">no response recorded (process stopped)</span>'
)


def _order_cell(call: ApiCall) -> SafeString:
    if not call.order_id or call.order is None:
        return mark_safe("")
    order_url = getattr(call, "order_url", "")
    if order_url:
        return format_html('<a href="{}">{}</a>', order_url, call.order.reference)
    return format_html("{}", call.order.reference)


def _status_cell(call: ApiCall) -> int | SafeString:
    if call.status_code:
        return call.status_code
    return PROCESS_STOPPED if call.process_stopped else NO_RESPONSE


@register.simple_tag
def apicall_rows(calls: Iterable[ApiCall]) -> SafeString:
    html = []
    for call in calls:
        at = timezone.localtime(call.at)
        html.append(
            format_html(
                ROW,
                getattr(call, "detail_url", ""),
                at.isoformat(),
                at.strftime("%Y-%m-%d %H:%M:%S"),
                call.action,
                call.method,
                present.url_path(call.url),
                _status_cell(call),
                outcome_class(call.outcome),
                call.get_outcome_display(),
                f"{call.duration_ms} ms" if call.duration_ms is not None else "—",
                _order_cell(call),
                call.request_id,
            )
        )
    return mark_safe("".join(html))  # noqa: S308 -- built with format_html
