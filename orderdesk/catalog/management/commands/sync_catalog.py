"""`manage.py sync_catalog`: refresh sites, items and kits from Impilo now."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orderdesk.catalog.sync import sync_catalog
from orderdesk.impilo.errors import ImpiloError


class Command(BaseCommand):
    help = "Fetch kits (with their items) and patients' sites from Impilo into the catalog."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = sync_catalog(progress=self.stdout.write)
        except ImpiloError as exc:
            raise CommandError(
                f"Catalog sync failed; the catalog was not changed. {exc}\n"
                f"Check IMPILO_BASE_URL ({settings.IMPILO_BASE_URL}) and IMPILO_API_KEY; "
                "the audit log shows each request and its answer."
            ) from exc
        self.stdout.write(self.style.SUCCESS(f"Catalog synced. {report.summary()}"))
