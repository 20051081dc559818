"""The helpers other apps' tests use to look inside the sandbox."""

import pytest

from orderdesk.sandbox.models import Item, Kit, Patient, Site
from orderdesk.sandbox.seed import seed
from orderdesk.sandbox.testing import seed_ids


def test_seed_ids_names_one_row_of_each_kind(db) -> None:
    seed(60)

    ids = seed_ids()

    patient = Patient.objects.get(pk=ids.patient)
    assert not patient.archived
    assert patient.enrolled
    assert Site.objects.get(patient=patient).active
    assert Patient.objects.get(pk=ids.archived_patient).archived
    assert Site.objects.get(pk=ids.site).active
    assert not Site.objects.get(pk=ids.inactive_site).active
    assert Item.objects.get(pk=ids.item).orderable
    assert not Item.objects.get(pk=ids.non_orderable_item).orderable
    assert not Kit.objects.get(pk=ids.kit).archived
    assert Kit.objects.get(pk=ids.archived_kit).archived
    assert Kit.objects.get(pk=ids.loaner_kit).loaner


def test_seed_ids_says_when_the_sandbox_is_not_seeded(db) -> None:
    with pytest.raises(LookupError, match="not seeded"):
        seed_ids()
