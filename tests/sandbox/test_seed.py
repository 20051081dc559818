"""seed(): the fixed catalogue, plausible patients, idempotent and deterministic."""

from io import StringIO

from django.core.management import call_command
from django.db.models import Model

from orderdesk.sandbox import testing
from orderdesk.sandbox.models import Item, Kit, KitItem, Manufacturer, Patient, Site, Stock
from orderdesk.sandbox.seed import seed

MODELS: list[type[Model]] = [Manufacturer, Item, Stock, Kit, KitItem, Site, Patient]


def snapshot() -> dict[str, list[tuple]]:
    return {
        model.__name__: list(model._default_manager.order_by("pk").values_list())
        for model in MODELS
    }


def test_the_catalogue_has_sites_items_and_kits_of_every_kind(db) -> None:
    seed(0)

    assert Site.objects.count() >= 12
    assert Site.objects.filter(active=False).count() == 1
    assert Item.objects.count() == 20
    assert Item.objects.filter(orderable=False).count() == 3
    assert Kit.objects.count() == 8
    assert Kit.objects.filter(archived=True).count() == 1
    loaner = Kit.objects.get(loaner=True)
    assert "Loaner" in loaner.name
    assert not Kit.objects.filter(kit_items__isnull=True).exists()
    assert min(Stock.objects.values_list("on_hand", flat=True)) >= 10_000
    assert Patient.objects.count() == 0


def test_patients_are_plausible_and_varied(db) -> None:
    seed(600)

    patients = Patient.objects.all()
    names = {p.first_name for p in patients} | {p.last_name for p in patients}
    assert {"Zoë", "José", "Nguyễn", "O'Brien"} <= names
    assert patients.count() == 600
    assert 10 <= patients.filter(archived=True).count() <= 60
    assert 10 <= patients.filter(enrolled=False).count() <= 60
    assert set(patients.values_list("site", flat=True)) >= set(
        Site.objects.filter(active=True).values_list("id", flat=True)
    )
    first = patients.get(pk=48001)
    assert first.external_identifier == "crm-000001"
    assert first.email == first.email.lower()
    assert first.email.isascii()
    assert first.line_one
    assert first.city
    assert first.zip_code
    assert first.country == "USA"
    assert first.name_search == f"{first.first_name} {first.last_name}".casefold()
    assert patients.filter(date_of_birth__isnull=True).count() == 0


def test_seeding_twice_changes_nothing(db) -> None:
    seed(100)
    before = snapshot()

    seed(100)

    assert snapshot() == before


def test_seeding_is_deterministic_and_growing_keeps_the_first_patients(db) -> None:
    seed(80)
    full = snapshot()
    for model in reversed(MODELS):
        model._default_manager.all().delete()

    seed(30)
    seed(80)

    assert snapshot() == full


def test_reseeding_keeps_stock_that_orders_used(db) -> None:
    seed(0)
    testing.set_stock(1001, 5)

    seed(0)

    assert testing.stock(1001) == 5


def test_the_command_seeds_with_progress_output(db) -> None:
    out = StringIO()

    call_command("seed_sandbox", patients=2500, stdout=out)

    text = out.getvalue()
    assert "patients: 2000/2500" in text
    assert "patients: 2500/2500" in text
    assert "Sandbox seeded" in text
    assert Patient.objects.count() == 2500
