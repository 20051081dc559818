"""The catalog admin: the admin role hides entries, marks loaners and adds sites by hand."""

import pytest
from django.test import Client
from django.urls import reverse

from orderdesk.catalog.models import Item, Kit, KitItem, Site, Source


@pytest.fixture
def catalog(db: None) -> dict[str, object]:
    kit = Kit.objects.create(impilo_id=308, name="Loaner Kit - Sleep Study", is_loaner=True)
    item = Item.objects.create(impilo_id=1017, name="Sleep Mat", orderable=True)
    KitItem.objects.create(kit=kit, item=item, count=1)
    site = Site.objects.create(impilo_id=71, name="Riverside", source=Source.IMPILO)
    return {"kit": kit, "item": item, "site": site}


def test_admins_see_and_search_the_catalog(admin_client_: Client, catalog: dict) -> None:
    for model in ("site", "item", "kit"):
        url = reverse(f"admin:catalog_{model}_changelist")
        assert admin_client_.get(url).status_code == 200
    found = admin_client_.get(reverse("admin:catalog_kit_changelist"), {"q": "sleep mat"})
    assert list(found.context["cl"].result_list) == [catalog["kit"]]
    kit_page = admin_client_.get(reverse("admin:catalog_kit_change", args=[catalog["kit"].pk]))
    assert "Sleep Mat" in kit_page.content.decode()  # the contents, inline


def test_admins_can_deactivate_entries_in_bulk(admin_client_: Client, catalog: dict) -> None:
    response = admin_client_.post(
        reverse("admin:catalog_item_changelist"),
        {"action": "deactivate", "_selected_action": [catalog["item"].pk]},
    )
    assert response.status_code == 302
    assert not Item.objects.get().active


def test_admins_can_add_a_site_by_hand(admin_client_: Client, catalog: dict) -> None:
    response = admin_client_.post(
        reverse("admin:catalog_site_add"),
        {"impilo_id": "4242", "name": "New clinic", "impilo_active": "on", "active": "on",
         "city": "Camden", "state": "NJ", "phone": ""},
    )  # fmt: skip
    assert response.status_code == 302
    site = Site.objects.get(impilo_id=4242)
    assert (site.name, site.source) == ("New clinic", Source.ADMIN)


def test_admins_can_mark_a_kit_as_loaner_but_not_rename_it(
    admin_client_: Client, catalog: dict
) -> None:
    kit = Kit.objects.create(impilo_id=301, name="Starter kit")
    admin_client_.post(
        reverse("admin:catalog_kit_change", args=[kit.pk]),
        {"name": "Renamed", "active": "on", "is_loaner": "on",
         "kit_items-TOTAL_FORMS": "0", "kit_items-INITIAL_FORMS": "0"},
    )  # fmt: skip
    kit.refresh_from_db()
    assert (kit.name, kit.is_loaner) == ("Starter kit", True)


def test_kits_and_items_come_only_from_impilo(admin_client_: Client, catalog: dict) -> None:
    assert admin_client_.get(reverse("admin:catalog_kit_add")).status_code == 403
    assert admin_client_.get(reverse("admin:catalog_item_add")).status_code == 403
    delete = reverse("admin:catalog_item_delete", args=[catalog["item"].pk])
    assert admin_client_.post(delete, {"post": "yes"}).status_code == 403
    assert Item.objects.exists()


def test_only_sites_typed_in_by_hand_can_be_deleted(admin_client_: Client, catalog: dict) -> None:
    typed = Site.objects.create(impilo_id=9, name="Typo clinic", source=Source.ADMIN)
    synced = catalog["site"]
    assert (
        admin_client_.post(
            reverse("admin:catalog_site_delete", args=[synced.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    admin_client_.post(reverse("admin:catalog_site_delete", args=[typed.pk]), {"post": "yes"})
    assert list(Site.objects.values_list("impilo_id", flat=True)) == [71]


def test_support_staff_cannot_edit_the_catalog(support_client: Client, support: object) -> None:
    support.is_staff = True  # type: ignore[attr-defined]
    support.save()  # type: ignore[attr-defined]
    response = support_client.get(reverse("admin:catalog_site_changelist"))
    assert response.status_code == 403
