"""sync_catalog against the sandbox over HTTP: what it learns, what it leaves alone."""

import logging
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from orderdesk.audit.models import ApiCall, Outcome
from orderdesk.catalog.models import Item, Kit, KitItem, Site, Source
from orderdesk.catalog.sync import sync_catalog, sync_catalog_job
from orderdesk.impilo.errors import ImpiloAuthError
from orderdesk.sandbox import faults

pytestmark = pytest.mark.django_db(transaction=True)

LISTED_KITS = {301, 302, 303, 304, 305, 306, 308}  # 307 is archived at Impilo


def contents(kit_id: int) -> dict[int, int]:
    rows = KitItem.objects.filter(kit__impilo_id=kit_id)
    return dict(rows.values_list("item__impilo_id", "count"))


def test_sync_learns_kits_items_and_sites_from_impilo(sandbox: str) -> None:
    messages: list[str] = []
    report = sync_catalog(progress=messages.append)

    assert set(Kit.objects.values_list("impilo_id", flat=True)) == LISTED_KITS
    assert contents(302) == {1004: 1, 1014: 2}
    bp = Item.objects.get(impilo_id=1001)
    assert (bp.name, bp.model, bp.orderable, bp.active) == (
        "Cellular Blood Pressure Monitor",
        "BP-200",
        True,
        True,
    )
    assert bp.sku
    assert bp.manufacturer
    riverside = Site.objects.get(impilo_id=71)
    assert (riverside.name, riverside.city, riverside.state, riverside.phone) == (
        "Riverside Family Practice",
        "Philadelphia",
        "PA",
        "+12155550101",
    )
    assert riverside.source == Source.IMPILO
    assert riverside.synced_at is not None
    assert report.kits.created == 7
    assert report.items.created == Item.objects.count()
    assert report.sites.created == Site.objects.count() > 0
    assert any(message.startswith("Kits: page 1") for message in messages)
    assert messages[-1] == "Saving 7 kits, 16 items and 12 sites…"
    # Every request is in the audit log, with no order and no person behind it.
    calls = ApiCall.objects.order_by("id")
    assert [call.action for call in calls] == ["kit_list", "patient_search"]
    assert all(call.outcome == Outcome.OK and call.order_id is None for call in calls)
    assert "archived=false" in calls[0].url
    assert "size=250" in calls[1].url


def test_sync_marks_kits_with_loaner_in_their_name_as_loaners(sandbox: str) -> None:
    sync_catalog()
    assert list(Kit.objects.filter(is_loaner=True).values_list("impilo_id", flat=True)) == [308]


def test_a_second_sync_changes_nothing_and_keeps_admin_choices(sandbox: str) -> None:
    sync_catalog()
    Item.objects.filter(impilo_id=1014).update(active=False)
    Kit.objects.filter(impilo_id=308).update(is_loaner=False, active=False)
    Kit.objects.filter(impilo_id=301).update(is_loaner=True)
    Site.objects.filter(impilo_id=71).update(active=False)

    report = sync_catalog()

    assert (report.kits.created, report.kits.updated) == (0, 0)
    assert (report.items.created, report.items.updated) == (0, 0)
    assert (report.sites.created, report.sites.updated) == (0, 0)
    assert not Item.objects.get(impilo_id=1014).active
    assert Kit.objects.filter(impilo_id=308, is_loaner=False, active=False).exists()
    assert Kit.objects.get(impilo_id=301).is_loaner
    assert not Site.objects.get(impilo_id=71).active


def test_sync_corrects_what_impilo_owns(sandbox: str) -> None:
    sync_catalog()
    Item.objects.filter(impilo_id=1001).update(name="Wrong name", orderable=False)
    Kit.objects.filter(impilo_id=302).update(name="Old kit name")
    extra = Item.objects.get(impilo_id=1008)
    KitItem.objects.create(kit=Kit.objects.get(impilo_id=302), item=extra, count=9)
    KitItem.objects.filter(kit__impilo_id=303).delete()

    report = sync_catalog()

    item = Item.objects.get(impilo_id=1001)
    assert (item.name, item.orderable) == ("Cellular Blood Pressure Monitor", True)
    assert Kit.objects.get(impilo_id=302).name == "RPM Starter Kit - Weight"
    assert contents(302) == {1004: 1, 1014: 2}
    assert contents(303) == {1005: 1, 1006: 2, 1007: 1, 1015: 1}
    assert (report.items.updated, report.kits.updated) == (1, 2)


def test_a_kit_no_longer_listed_is_marked_archived(sandbox: str) -> None:
    Kit.objects.create(impilo_id=307, name="RPM Starter Kit - Weight (2022 edition)")
    Kit.objects.create(impilo_id=999, name="Gone at Impilo")
    report = sync_catalog()
    assert set(Kit.objects.filter(archived=True).values_list("impilo_id", flat=True)) == {
        307,
        999,
    }
    assert report.kits_archived == 2


def test_sites_added_by_hand_are_kept_and_updated_when_impilo_names_them(sandbox: str) -> None:
    Site.objects.create(impilo_id=71, name="Riverside (typed by hand)", source=Source.ADMIN)
    Site.objects.create(impilo_id=5555, name="Clinic with no patients yet", source=Source.ADMIN)
    sync_catalog()
    riverside = Site.objects.get(impilo_id=71)
    assert riverside.name == "Riverside Family Practice"
    assert riverside.source == Source.ADMIN  # where the row came from does not change
    assert riverside.synced_at is not None
    unseen = Site.objects.get(impilo_id=5555)
    assert (unseen.name, unseen.synced_at) == ("Clinic with no patients yet", None)


def test_the_patient_scan_stops_at_the_page_limit(sandbox: str, settings: object) -> None:
    from orderdesk.sandbox.seed import seed

    seed(260)  # two pages of 250
    settings.CATALOG_SITE_SCAN_PAGES = 1  # type: ignore[attr-defined]
    messages: list[str] = []
    report = sync_catalog(progress=messages.append)
    assert report.patient_pages == 1
    assert ApiCall.objects.filter(action="patient_search").count() == 1
    assert any("Stopped after 1 pages" in message for message in messages)


def test_a_failed_sync_changes_nothing(sandbox: str) -> None:
    faults.inject("status", path=r"/api/v3/patient$", status=401)
    with pytest.raises(ImpiloAuthError):
        sync_catalog()
    assert not Kit.objects.exists()
    assert not Item.objects.exists()
    assert list(ApiCall.objects.values_list("action", "outcome").order_by("id")) == [
        ("kit_list", Outcome.OK),
        ("patient_search", Outcome.AUTH),
    ]


def test_the_command_prints_progress_and_a_summary(sandbox: str) -> None:
    out = StringIO()
    call_command("sync_catalog", stdout=out)
    text = out.getvalue()
    assert "Kits: page 1" in text
    assert "Patients: page 1" in text
    assert "Catalog synced. Kits: 7 new" in text


def test_the_command_fails_with_a_clear_message_when_impilo_refuses(sandbox: str) -> None:
    faults.inject("status", path=r"/api/v3/kit$", status=503)
    with pytest.raises(CommandError, match="Catalog sync failed; the catalog was not changed"):
        call_command("sync_catalog", stdout=StringIO())
    assert not Kit.objects.exists()


def test_the_periodic_job_logs_a_failure_instead_of_raising(
    sandbox: str, caplog: pytest.LogCaptureFixture
) -> None:
    faults.inject("status", path=r"/api/v3/kit$", status=401)
    with caplog.at_level(logging.WARNING, logger="orderdesk.catalog.sync"):
        sync_catalog_job()
    assert "Catalog sync failed, will retry next run" in caplog.text
    faults.clear()
    sync_catalog_job()
    assert Kit.objects.count() == 7
