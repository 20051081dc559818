"""The audit log keeps what was sent and received, never the key, and never changes."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from orderdesk.accounts.models import User
from orderdesk.audit.models import ApiCall, AppendOnlyError, Outcome, record
from orderdesk.audit.redact import REDACTED
from orderdesk.orders.models import Order

KEY = "sk-live-Secret/Key+42"


def make_call(**overrides: object) -> ApiCall:
    fields: dict[str, object] = {
        "action": "kit_list",
        "method": "GET",
        "url": "https://impilo.test/api/v3/kit",
        "request_id": "abc123",
        "outcome": Outcome.OK,
    }
    fields.update(overrides)
    return record(**fields)  # type: ignore[arg-type]


@pytest.fixture
def order(coordinator: User) -> Order:
    return Order.objects.create(recipient_type="patient", created_by=coordinator)


def all_text(call: ApiCall) -> str:
    return " ".join(
        str(value)
        for value in [
            call.url,
            call.request_headers,
            call.request_body,
            call.response_headers,
            call.response_body,
            call.error_message,
            call.error_class,
            call.request_id,
        ]
    )


@override_settings(IMPILO_API_KEY=KEY)
@pytest.mark.django_db
def test_record_redacts_the_key_in_every_column() -> None:
    call = make_call(
        url=f"https://impilo.test/api/v3/kit?key={KEY}&k2=sk-live-Secret%2FKey%2B42",
        request_headers={"Impilo-API-Key": KEY, "X-Echo": f"key is {KEY}"},
        request_body=f'{{"note": "{KEY}"}}'.encode(),
        response_headers={"X-Debug": KEY},
        response_body=f"you sent {KEY}",
        error_message=f"failed for {KEY}",
    )
    call.refresh_from_db()
    assert KEY not in all_text(call)
    assert "Secret%2FKey" not in call.url
    assert call.request_headers["X-Echo"] == f"key is {REDACTED}"
    assert call.response_body == f"you sent {REDACTED}"


@override_settings(IMPILO_API_KEY=KEY)
@pytest.mark.django_db
def test_record_always_redacts_the_key_header_whatever_its_value() -> None:
    call = make_call(request_headers={"impilo-api-key": "an-old-rotated-key"})
    assert call.request_headers == {"impilo-api-key": REDACTED}


@override_settings(IMPILO_API_KEY="")
@pytest.mark.django_db
def test_record_with_no_key_configured_leaves_text_alone() -> None:
    call = make_call(response_body="plain body")
    assert call.response_body == "plain body"


@override_settings(AUDIT_BODY_CAP_BYTES=10)
@pytest.mark.django_db
def test_record_caps_bodies_and_says_so() -> None:
    call = make_call(request_body="short", response_body="é" * 20)
    call.refresh_from_db()
    assert call.request_body == "short"
    assert not call.request_body_truncated
    assert call.response_body == "é" * 5
    assert call.response_body_truncated


@pytest.mark.django_db
def test_record_keeps_a_row_for_bodies_with_nul_and_bad_utf8() -> None:
    call = make_call(response_body=b"\x00\xff{}", response_headers={"X-Odd": "a\x00b"})
    call.refresh_from_db()
    assert call.response_body == "\ufffd\ufffd{}"
    assert call.response_headers == {"X-Odd": "a\ufffdb"}


@pytest.mark.django_db
def test_record_shortens_labels_that_would_not_fit_their_columns() -> None:
    call = make_call(error_class="E" * 300, request_id="r" * 100, method="PROPFINDX")
    call.refresh_from_db()
    assert len(call.error_class) == 100
    assert len(call.request_id) == 64
    assert call.method == "PROPFIND"


@pytest.mark.django_db
def test_a_saved_call_cannot_be_saved_again() -> None:
    call = make_call()
    call.response_body = "rewritten"
    with pytest.raises(AppendOnlyError):
        call.save()


@pytest.mark.django_db
def test_a_call_cannot_be_deleted() -> None:
    call = make_call()
    with pytest.raises(AppendOnlyError):
        call.delete()
    assert ApiCall.objects.filter(pk=call.pk).exists()


@pytest.mark.django_db
def test_calls_cannot_be_updated_or_deleted_in_bulk() -> None:
    make_call()
    with pytest.raises(AppendOnlyError):
        ApiCall.objects.all().update(outcome=Outcome.REJECTED)
    with pytest.raises(AppendOnlyError):
        ApiCall.objects.filter(action="kit_list").delete()
    assert ApiCall.objects.get().outcome == Outcome.OK


@pytest.mark.django_db
def test_prune_removes_only_old_calls_without_an_order(order: Order) -> None:
    old = timezone.now() - timedelta(days=100)
    stale = make_call(at=old)
    stale_search = make_call(at=old, action="patient_search")
    kept_for_order = make_call(at=old, action="order_create", order=order)
    recent = make_call()

    removed = ApiCall.objects.prune(timezone.now() - timedelta(days=90), ["kit_list"])

    assert removed == 1
    remaining = set(ApiCall.objects.values_list("pk", flat=True))
    assert remaining == {stale_search.pk, kept_for_order.pk, recent.pk}
    assert stale.pk not in remaining


@pytest.mark.django_db
def test_prune_without_actions_removes_every_old_call_without_an_order(order: Order) -> None:
    old = timezone.now() - timedelta(days=100)
    make_call(at=old)
    make_call(at=old, action="patient_search")
    kept = make_call(at=old, action="order_fetch", order=order)

    assert ApiCall.objects.prune(timezone.now() - timedelta(days=90)) == 2
    assert list(ApiCall.objects.values_list("pk", flat=True)) == [kept.pk]


@pytest.mark.django_db
def test_calls_keep_their_order_and_actor(order: Order, coordinator: User) -> None:
    call = make_call(action="order_create", order=order, actor=coordinator, attempt=2)
    assert list(order.api_calls.all()) == [call]
    assert call.actor == coordinator
    assert call.attempt == 2


@pytest.mark.django_db
def test_the_database_itself_refuses_rewrites_on_postgresql(order: Order) -> None:
    """PostgreSQL's trigger stops raw SQL too; SQLite relies on the model alone."""
    call = make_call(order=order)
    loose = make_call()
    on_pg = connection.vendor == "postgresql"
    assert ApiCall._meta.db_table == "audit_apicall"

    def refused(sql: str, pk: int) -> bool:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [pk])
        except DatabaseError:
            return True
        return False

    assert refused("UPDATE audit_apicall SET outcome = 'x' WHERE id = %s", loose.pk) is on_pg
    assert refused("DELETE FROM audit_apicall WHERE id = %s", call.pk) is on_pg
    assert refused("DELETE FROM audit_apicall WHERE id = %s", loose.pk) is False


@pytest.mark.django_db
def test_calls_can_name_their_order_and_actor_by_id(order: Order, coordinator: User) -> None:
    call = make_call(order=order.pk, actor=coordinator.pk)
    call.refresh_from_db()
    assert (call.order, call.actor) == (order, coordinator)
