"""`manage.py seed_sandbox [--patients N]`: the sandbox's demo data (idempotent)."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from orderdesk.sandbox.seed import seed


class Command(BaseCommand):
    help = "Seed the Impilo sandbox: sites, items, kits, stock and N patients (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--patients", type=int, default=600, help="how many (default 600)")

    def handle(self, *args: Any, patients: int, **options: Any) -> None:
        if patients < 0:
            raise CommandError("--patients must be 0 or more")
        started = time.monotonic()
        self.stdout.write(f"Seeding the Impilo sandbox with {patients} patients…")

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"  patients: {done}/{total}")

        seed(patients, progress=progress)
        elapsed = time.monotonic() - started
        self.stdout.write(self.style.SUCCESS(f"Sandbox seeded in {elapsed:.1f} s."))
