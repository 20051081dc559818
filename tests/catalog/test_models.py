"""What the order form may offer: the catalog's query helpers."""

import pytest
from django.db import IntegrityError

from orderdesk.catalog.models import (
    Item,
    Kit,
    KitItem,
    Site,
    active_sites,
    looks_like_loaner,
    orderable_items,
    orderable_kits,
)

pytestmark = pytest.mark.django_db


def ids(queryset: object) -> set[int]:
    return set(queryset.values_list("impilo_id", flat=True))  # type: ignore[attr-defined]


def test_orderable_items_are_those_impilo_allows_and_no_admin_hid() -> None:
    Item.objects.create(impilo_id=1, name="Scale", orderable=True)
    Item.objects.create(impilo_id=2, name="Demo unit", orderable=False)
    Item.objects.create(impilo_id=3, name="Hidden", orderable=True, active=False)
    assert ids(orderable_items()) == {1}


def test_orderable_kits_leave_out_archived_and_hidden_kits() -> None:
    Kit.objects.create(impilo_id=10, name="Starter")
    Kit.objects.create(impilo_id=11, name="Old", archived=True)
    Kit.objects.create(impilo_id=12, name="Hidden", active=False)
    assert ids(orderable_kits()) == {10}


def test_a_kit_stays_orderable_when_a_part_of_it_is_not_orderable_alone() -> None:
    kit = Kit.objects.create(impilo_id=10, name="Tablet kit")
    charger = Item.objects.create(impilo_id=5, name="Charger", orderable=False)
    KitItem.objects.create(kit=kit, item=charger, count=1)
    assert ids(orderable_kits()) == {10}


def test_orderable_kits_bring_their_contents_in_one_extra_query(
    django_assert_num_queries: object,
) -> None:
    for n in range(5):
        kit = Kit.objects.create(impilo_id=100 + n, name=f"Kit {n}")
        item = Item.objects.create(impilo_id=200 + n, name=f"Item {n}", orderable=True)
        KitItem.objects.create(kit=kit, item=item, count=n + 1)
    with django_assert_num_queries(3):  # type: ignore[operator]
        listing = [
            (kit.name, [(line.item.name, line.count) for line in kit.kit_items.all()])
            for kit in orderable_kits()
        ]
    assert listing[0] == ("Kit 0", [("Item 0", 1)])


def test_active_sites_are_active_both_here_and_at_impilo() -> None:
    Site.objects.create(impilo_id=71, name="Riverside")
    Site.objects.create(impilo_id=72, name="Closed", impilo_active=False)
    Site.objects.create(impilo_id=73, name="Hidden", active=False)
    assert ids(active_sites()) == {71}


def test_an_item_appears_once_per_kit() -> None:
    kit = Kit.objects.create(impilo_id=10, name="Kit")
    item = Item.objects.create(impilo_id=1, name="Scale")
    KitItem.objects.create(kit=kit, item=item, count=1)
    with pytest.raises(IntegrityError):
        KitItem.objects.create(kit=kit, item=item, count=2)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Loaner Kit - Sleep", True), ("BP kit (LOANER)", True), ("Starter kit", False)],
)
def test_loaner_kits_are_recognised_by_name(name: str, expected: bool) -> None:
    assert looks_like_loaner(name) is expected


def test_catalog_entries_read_as_name_and_impilo_id() -> None:
    assert str(Site(impilo_id=71, name="Riverside")) == "Riverside (71)"
