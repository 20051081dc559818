"""`manage.py prune_audit [--days N]`: the audit log's retention, run daily by cron or by hand.

Only calls that belong to no order go (patient searches, kit lists and other reads). A call
of an order is the evidence of what Impilo was asked to do for it, and is kept for good; so
is any order_create, linked or not, since it may have created an order at Impilo.
"""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from orderdesk.audit.actions import Action
from orderdesk.audit.models import ApiCall

PRUNABLE_ACTIONS = [action for action in Action.values if action != Action.ORDER_CREATE]


class Command(BaseCommand):
    help = "Delete audit rows older than N days that belong to no order."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="Keep this many days (default: settings.AUDIT_RETENTION_DAYS).",
        )

    def handle(self, *args: Any, days: int | None, **options: Any) -> None:
        days = settings.AUDIT_RETENTION_DAYS if days is None else days
        if days < 1:
            raise CommandError("--days must be at least 1.")
        cutoff = timezone.now() - timedelta(days=days)
        removed = ApiCall.objects.prune(cutoff, PRUNABLE_ACTIONS)
        self.stdout.write(
            f"Deleted {removed} audit row(s) older than {days} days "
            f"(before {cutoff:%Y-%m-%d %H:%M %Z}) that belong to no order."
        )
