"""prune_audit: the retention of calls that belong to no order."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from orderdesk.accounts.models import User
from orderdesk.audit.models import ApiCall, AuditView, Outcome, ViewKind, record
from orderdesk.orders.models import Order


def call_at(days_ago: float, action: str = "kit_list", order: Order | None = None) -> ApiCall:
    return record(
        action=action,
        method="GET",
        url="http://impilo.test/api/v3/kit",
        outcome=Outcome.OK,
        order=order,
        at=timezone.now() - timedelta(days=days_ago),
    )


def prune(*args: str) -> str:
    out = StringIO()
    call_command("prune_audit", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def order(coordinator: User) -> Order:
    return Order.objects.create(recipient_type="patient", created_by=coordinator)


@pytest.mark.django_db
def test_prune_deletes_old_searches_and_kit_lists_and_says_how_many() -> None:
    old_search = call_at(40, "patient_search")
    old_kits = call_at(31)
    recent = call_at(29, "patient_search")

    output = prune("--days", "30")

    assert "Deleted 2 audit row(s) older than 30 days" in output
    remaining = set(ApiCall.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk}
    assert old_search.pk not in remaining
    assert old_kits.pk not in remaining


@pytest.mark.django_db
def test_prune_never_deletes_the_calls_of_an_order(order: Order) -> None:
    kept = [
        call_at(400, "order_create", order),
        call_at(400, "order_fetch", order),
        call_at(400, "patient_search", order),
    ]
    unlinked_create = call_at(400, "order_create")

    assert "Deleted 0 audit row(s)" in prune("--days", "1")
    assert set(ApiCall.objects.values_list("pk", flat=True)) == {
        *(call.pk for call in kept),
        unlinked_create.pk,
    }


@override_settings(AUDIT_RETENTION_DAYS=10)
@pytest.mark.django_db
def test_prune_keeps_the_configured_number_of_days_by_default() -> None:
    call_at(11)
    kept = call_at(9)
    assert "older than 10 days" in prune()
    assert list(ApiCall.objects.values_list("pk", flat=True)) == [kept.pk]


@pytest.mark.django_db
def test_prune_leaves_the_viewing_log_alone_even_for_pruned_calls(support: User) -> None:
    old = call_at(100)
    AuditView.objects.create(
        viewer=support, kind=ViewKind.DETAIL, apicall=old, apicall_ids=[old.pk]
    )
    prune("--days", "90")
    assert not ApiCall.objects.exists()
    view = AuditView.objects.get()
    assert view.apicall_id == old.pk
    assert view.apicall_ids == [old.pk]


@pytest.mark.django_db
def test_prune_refuses_a_retention_of_less_than_a_day() -> None:
    call_at(5)
    with pytest.raises(CommandError, match="at least 1"):
        prune("--days", "0")
    assert ApiCall.objects.count() == 1
