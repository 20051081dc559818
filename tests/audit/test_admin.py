"""The audit log in Django's admin is for reading only."""

from django.test import Client
from django.urls import reverse

from orderdesk.accounts.models import User
from orderdesk.audit.models import ApiCall, Outcome, record
from orderdesk.orders.models import Order


def make_call(**overrides: object) -> ApiCall:
    fields: dict[str, object] = {
        "action": "order_create",
        "method": "POST",
        "url": "http://impilo.test/api/v3/order",
        "request_id": "req-admin-1",
        "outcome": Outcome.OK,
        "status_code": 201,
    }
    fields.update(overrides)
    return record(**fields)  # type: ignore[arg-type]


def test_admins_can_list_and_search_calls_by_request_id_and_order(
    admin_client_: Client, admin_user: User
) -> None:
    order = Order.objects.create(recipient_type="site", created_by=admin_user)
    wanted = make_call(order=order)
    make_call(request_id="req-other")
    changelist = reverse("admin:audit_apicall_changelist")

    assert admin_client_.get(changelist).status_code == 200
    by_id = admin_client_.get(changelist, {"q": "req-admin-1"})
    assert list(by_id.context["cl"].result_list) == [wanted]
    by_order = admin_client_.get(changelist, {"q": order.reference})
    assert list(by_order.context["cl"].result_list) == [wanted]
    by_action = admin_client_.get(changelist, {"action": "order_create", "outcome": "ok"})
    assert by_action.context["cl"].result_count == 2


def test_calls_cannot_be_added_changed_or_deleted_in_the_admin(admin_client_: Client) -> None:
    call = make_call(response_body='{"id": 1}')
    change = reverse("admin:audit_apicall_change", args=[call.pk])

    page = admin_client_.get(change)
    assert page.status_code == 200
    assert 'name="response_body"' not in page.content.decode()  # shown, not editable
    assert admin_client_.get(reverse("admin:audit_apicall_add")).status_code == 403
    admin_client_.post(change, {"response_body": "rewritten", "outcome": "rejected"})
    delete = reverse("admin:audit_apicall_delete", args=[call.pk])
    assert admin_client_.post(delete, {"post": "yes"}).status_code == 403
    call.refresh_from_db()
    assert (call.response_body, call.outcome) == ('{"id": 1}', Outcome.OK)


def test_support_staff_have_no_admin_site(support_client: Client) -> None:
    response = support_client.get(reverse("admin:audit_apicall_changelist"))
    assert response.status_code == 302  # not staff: sent to the admin login


def test_admins_can_read_the_viewing_log(admin_client_: Client) -> None:
    call = make_call()
    admin_client_.get(reverse("audit:detail", args=[call.pk]))
    response = admin_client_.get(reverse("admin:audit_auditview_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
