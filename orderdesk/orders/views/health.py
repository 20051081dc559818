"""The site root and /healthz: the database, the task queue and the status sync at a glance."""

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_tasks_db.models import DBTaskResult

from orderdesk.orders.selectors import sync_health


def home(request: HttpRequest) -> HttpResponse:
    return redirect("orders:list")


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, queue and status-sync state for load balancers and people; 503 when the
    DB is down. status_sync says whether webhooks pace the polling and how far behind the
    periodic job is (oldest_overdue_seconds)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        oldest = (
            DBTaskResult.objects.ready()
            .order_by("enqueued_at")
            .values_list("enqueued_at", flat=True)
            .first()
        )
        ready = DBTaskResult.objects.ready().count()
        status_sync = sync_health.health()
    except DatabaseError as exc:
        return JsonResponse(
            {"status": "error", "database": f"unreachable: {type(exc).__name__}"}, status=503
        )
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return JsonResponse(
        {
            "status": "ok",
            "database": "ok",
            "queue": {"ready_tasks": ready, "oldest_ready_age_seconds": round(age, 1)},
            "status_sync": status_sync,
        }
    )
