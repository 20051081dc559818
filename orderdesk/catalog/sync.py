"""Refresh the local catalog from Impilo: kits and their items from List Kits, sites from the
sites that patients reference (Impilo lists no sites or items: docs/impilo.md#sites-items-and-kits).

Everything is fetched first and written afterwards, in one short transaction: no database
transaction stays open across an Impilo call (docs/architecture.md#from-a-request-to-impilo),
and a failed fetch changes nothing.
Writes are upserts keyed by Impilo id, so two workers running this at once do no harm.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from orderdesk.catalog.models import Item, Kit, KitItem, Site, Source, looks_like_loaner
from orderdesk.impilo.client import ImpiloClient
from orderdesk.impilo.errors import ImpiloError
from orderdesk.impilo.types import Item as ImpiloItem
from orderdesk.impilo.types import Kit as ImpiloKit
from orderdesk.impilo.types import Page
from orderdesk.impilo.types import Site as ImpiloSite

logger = logging.getLogger(__name__)

PAGE_SIZE = 250  # Impilo's maximum (docs/impilo.md#paging)
MAX_KIT_PAGES = 400  # a guard against a `last` flag that never comes; 100,000 kits
# The fields Impilo owns: a sync overwrites these, never `active` or `is_loaner`.
SITE_FIELDS = ["name", "impilo_active", "city", "state", "phone"]
ITEM_FIELDS = ["name", "model", "sku", "manufacturer", "orderable"]
KIT_FIELDS = ["name", "archived"]

Progress = Callable[[str], object]
M = TypeVar("M", Site, Item, Kit)


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{self.created} new, {self.updated} changed, {self.unchanged} unchanged"


@dataclass
class SyncReport:
    kits: Tally = field(default_factory=Tally)
    items: Tally = field(default_factory=Tally)
    sites: Tally = field(default_factory=Tally)
    kits_archived: int = 0  # gone from Impilo's list of non-archived kits
    kit_pages: int = 0
    patient_pages: int = 0

    def summary(self) -> str:
        return (
            f"Kits: {self.kits}, {self.kits_archived} no longer listed (marked archived). "
            f"Items: {self.items}. Sites: {self.sites} "
            f"(from {self.patient_pages} page(s) of patients)."
        )


def sync_catalog(
    client: ImpiloClient | None = None, progress: Progress | None = None
) -> SyncReport:
    """Fetch kits and patients' sites from Impilo, then upsert them. Raises ImpiloError."""
    client = client or ImpiloClient()
    say: Progress = progress or (lambda message: None)
    report = SyncReport()

    kits = _all_kits(client, report, say)
    sites = _sites_of_patients(client, report, say)
    items = {item_id: item for kit in kits.values() for item_id, item, _ in _entries(kit)}

    say(f"Saving {len(kits)} kits, {len(items)} items and {len(sites)} sites…")
    with transaction.atomic():
        rows = [_item_row(item_id, item) for item_id, item in items.items()]
        report.items = _upsert(Item, rows, ITEM_FIELDS)
        contents = _kit_contents(kits)
        changed = _changed_contents(contents)
        rows = [_kit_row(kit_id, kit) for kit_id, kit in kits.items()]
        report.kits = _upsert(Kit, rows, KIT_FIELDS, changed)
        _save_kit_contents(contents, changed)
        report.kits_archived = _archive_unlisted_kits(set(kits))
        rows = [_site_row(site_id, site) for site_id, site in sites.items()]
        report.sites = _upsert(Site, rows, SITE_FIELDS)
    return report


def sync_catalog_job() -> None:
    """The worker's periodic run (settings.PERIODIC_JOBS). An unreachable Impilo is routine
    here: log one line and try again next time."""
    try:
        report = sync_catalog(progress=logger.debug)
    except ImpiloError as exc:
        logger.warning("Catalog sync failed, will retry next run: %s", exc)
        return
    logger.info("Catalog sync done. %s", report.summary())


# --- Fetching -------------------------------------------------------------------------------


def _is_last(page: Page[Any], page_no: int) -> bool:
    # Every Page field may be null (docs/impilo.md#paging): stop on whichever signal comes first.
    if page.last or not page.content or len(page.content) + page.skipped < PAGE_SIZE:
        return True
    return bool(page.total is not None and page_no * PAGE_SIZE >= page.total)


def _all_kits(client: ImpiloClient, report: SyncReport, say: Progress) -> dict[int, ImpiloKit]:
    kits: dict[int, ImpiloKit] = {}
    for page_no in range(1, MAX_KIT_PAGES + 1):
        page = client.list_kits(page=page_no, size=PAGE_SIZE, archived=False)
        report.kit_pages = page_no
        kits.update((kit.id, kit) for kit in page.content if kit.id is not None)
        say(f"Kits: page {page_no}, {len(kits)} kits so far")
        if _is_last(page, page_no):
            break
    return kits


def _sites_of_patients(
    client: ImpiloClient, report: SyncReport, say: Progress
) -> dict[int, ImpiloSite]:
    sites: dict[int, ImpiloSite] = {}
    limit = settings.CATALOG_SITE_SCAN_PAGES
    for page_no in range(1, limit + 1):
        page = client.search_patients(page=page_no, size=PAGE_SIZE)
        report.patient_pages = page_no
        for patient in page.content:
            if patient.site is not None and patient.site.id is not None:
                sites[patient.site.id] = patient.site
        say(f"Patients: page {page_no}, {len(sites)} sites so far")
        if _is_last(page, page_no):
            break
    else:
        say(f"Stopped after {limit} pages of patients (CATALOG_SITE_SCAN_PAGES).")
    return sites


def _entries(kit: ImpiloKit) -> list[tuple[int, ImpiloItem, int]]:
    """(item id, item, count) for each line that names an item; a missing count is 1."""
    return [
        (entry.item.id, entry.item, max(entry.count or 1, 1))
        for entry in kit.kit_items
        if entry.item is not None and entry.item.id is not None
    ]


# --- Mapping Impilo objects to rows -----------------------------------------------------------


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _item_row(item_id: int, item: ImpiloItem) -> dict[str, Any]:
    return {
        "impilo_id": item_id,
        "name": _text(item.name) or f"Item {item_id}",
        "model": _text(item.model),
        "sku": _text(item.sku),
        "manufacturer": _text(item.manufacturer.name if item.manufacturer else None),
        "orderable": bool(item.orderable),
    }


def _kit_row(kit_id: int, kit: ImpiloKit) -> dict[str, Any]:
    name = _text(kit.name) or f"Kit {kit_id}"
    # Written on insert only: later the admin's choice stands.
    return {
        "impilo_id": kit_id,
        "name": name,
        "archived": bool(kit.archived),
        "is_loaner": looks_like_loaner(name),
    }


def _site_row(site_id: int, site: ImpiloSite) -> dict[str, Any]:
    address = site.address
    return {
        "impilo_id": site_id,
        "name": _text(site.name) or f"Site {site_id}",
        "impilo_active": site.active is not False,
        "city": _text(address.city if address else None),
        "state": _text(address.state if address else None),
        "phone": _text(site.phone_number),
        "source": Source.IMPILO,
    }


# --- Writing ----------------------------------------------------------------------------------


def _upsert(
    model: type[M], rows: list[dict[str, Any]], fields: list[str], force: Iterable[int] = ()
) -> Tally:
    """Insert new rows, rewrite the Impilo-owned `fields` of changed ones (and of the `force`
    ids, changed in another way), stamp every row seen."""
    force = set(force)
    tally = Tally()
    existing = {obj.impilo_id: obj for obj in model.objects.all()}
    now = timezone.now()
    changed: list[M] = []
    for row in rows:
        old = existing.get(row["impilo_id"])
        if old is None:
            tally.created += 1
        elif old.impilo_id not in force and all(getattr(old, f) == row[f] for f in fields):
            tally.unchanged += 1
            continue
        else:
            tally.updated += 1
        changed.append(model(**row, synced_at=now, updated_at=now))
    # An upsert, not get-then-create: a worker syncing at the same moment cannot make us fail.
    model.objects.bulk_create(
        changed,
        batch_size=500,
        update_conflicts=True,
        unique_fields=["impilo_id"],
        update_fields=[*fields, "synced_at", "updated_at"],
    )
    seen = [row["impilo_id"] for row in rows]
    for start in range(0, len(seen), 500):
        model.objects.filter(impilo_id__in=seen[start : start + 500]).update(synced_at=now)
    return tally


def _kit_contents(kits: dict[int, ImpiloKit]) -> dict[int, dict[int, int]]:
    """{kit Impilo id: {item Impilo id: count}}; an item on two lines is one, counts added."""
    contents: dict[int, dict[int, int]] = {}
    for kit_id, kit in kits.items():
        wanted = contents.setdefault(kit_id, {})
        for item_id, _, count in _entries(kit):
            wanted[item_id] = wanted.get(item_id, 0) + count
    return contents


def _changed_contents(wanted: dict[int, dict[int, int]]) -> set[int]:
    held: dict[int, dict[int, int]] = {}
    rows = KitItem.objects.values_list("kit__impilo_id", "item__impilo_id", "count")
    for kit_id, item_id, count in rows:
        held.setdefault(kit_id, {})[item_id] = count
    return {kit_id for kit_id, items in wanted.items() if held.get(kit_id, {}) != items}


def _save_kit_contents(wanted: dict[int, dict[int, int]], kit_ids: set[int]) -> None:
    kit_pk = dict(Kit.objects.filter(impilo_id__in=kit_ids).values_list("impilo_id", "pk"))
    item_pk = dict(Item.objects.values_list("impilo_id", "pk"))
    for kit_id in kit_ids:
        _replace_kit_items(
            kit_pk[kit_id], {item_pk[item]: count for item, count in wanted[kit_id].items()}
        )


def _replace_kit_items(kit_pk: int, wanted: dict[int, int]) -> None:
    KitItem.objects.filter(kit_id=kit_pk).exclude(item_id__in=wanted).delete()
    KitItem.objects.bulk_create(
        [KitItem(kit_id=kit_pk, item_id=pk, count=count) for pk, count in wanted.items()],
        update_conflicts=True,
        unique_fields=["kit", "item"],
        update_fields=["count"],
    )


def _archive_unlisted_kits(listed: set[int]) -> int:
    """List Kits returned every kit not archived; any other kit we hold is archived (or gone)."""
    stale = set(Kit.objects.filter(archived=False).values_list("impilo_id", flat=True)).difference(
        listed
    )
    if not stale:
        return 0
    return Kit.objects.filter(impilo_id__in=stale).update(archived=True, updated_at=timezone.now())
