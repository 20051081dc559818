"""`make run`'s preparation: demo users and, with the embedded sandbox, its seed data."""

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the demo users and seed the Impilo sandbox (idempotent; DEBUG only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.DEBUG:
            call_command("create_demo_users")
        if settings.IMPILO_SANDBOX_ENABLED:
            call_command("seed_sandbox")
