"""Who looked at which audit rows: one AuditView per page view (audit pages, order panel)."""

from collections.abc import Iterable

from orderdesk.accounts.models import User
from orderdesk.audit.models import ApiCall, AuditView, ViewKind


def record_view(
    *, viewer: User, kind: ViewKind, calls: Iterable[ApiCall], query: str = ""
) -> AuditView:
    """Log a page view. Call it for every page or fragment that shows audit rows."""
    ids = [call.pk for call in calls]
    return AuditView.objects.create(
        viewer=viewer,
        kind=kind,
        apicall_id=ids[0] if kind == ViewKind.DETAIL and ids else None,
        apicall_ids=ids,
        query=query[:2000],
    )
