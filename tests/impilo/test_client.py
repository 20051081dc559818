"""The client's requests and replies, with Impilo played by `responses` (no sockets)."""

import json
from datetime import date

import pytest
import responses
from django.db import transaction
from pytest_django.fixtures import Settings as SettingsWrapper
from responses import matchers

from orderdesk.accounts.models import User
from orderdesk.audit.models import ApiCall, Outcome
from orderdesk.audit.redact import REDACTED
from orderdesk.impilo import errors
from orderdesk.impilo.client import CreateOrderRequest, ImpiloClient, payload_json
from orderdesk.impilo.session import ImpiloCallInTransaction, ImpiloSession
from orderdesk.orders.models import Order
from tests.impilo.conftest import BASE_URL, KEY, example, only_call

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("impilo_settings")]

ORDERS = f"{BASE_URL}/api/v3/order"


def patient_request(**overrides: object) -> CreateOrderRequest:
    fields: dict[str, object] = {
        "patient_id": 48213,
        "site_id": None,
        "items": [(1007, 2)],
        "kits": [(311, 1)],
        "external_order_ids": ["ORDERDESK-2024-000123"],
        "notes": ["Leave parcel with building reception."],
    }
    fields.update(overrides)
    return CreateOrderRequest(**fields)  # type: ignore[arg-type]


# --- What is sent ---------------------------------------------------------------------


def test_create_order_body_is_exactly_the_documented_patient_example() -> None:
    assert patient_request().to_json() == example("create-order-request.patient.json")


def test_create_order_body_for_a_site_omits_empty_lines_and_notes() -> None:
    request = CreateOrderRequest(
        patient_id=None,
        site_id=77,
        items=[],
        kits=[(311, 5)],
        external_order_ids=["ORDERDESK-2024-000124"],
    )
    assert request.to_json() == example("create-order-request.site.json")


def test_create_order_body_never_carries_server_managed_fields() -> None:
    body = patient_request().to_json()
    for name in ("id", "currentStatus", "orderEvents", "trackingNumbers", "devices"):
        assert name not in body
    assert "packedKits" not in body


@responses.activate
def test_create_order_sends_the_payload_text_and_every_header(coordinator: User) -> None:
    order = Order.objects.create(recipient_type="patient", created_by=coordinator)
    request = patient_request()
    responses.post(ORDERS, json=example("create-order-response.json"), status=201)

    created = ImpiloClient(actor=coordinator, order=order, attempt=3).create_order(request)

    sent = responses.calls[0].request
    assert sent.body == payload_json(request).encode()
    assert sent.headers["Impilo-API-Key"] == KEY
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["User-Agent"].startswith("orderdesk/")
    assert len(sent.headers["X-Request-ID"]) == 32
    assert created.id == 905512
    call = only_call()
    assert (call.action, call.order, call.actor, call.attempt) == (
        "order_create",
        order,
        coordinator,
        3,
    )
    assert (call.method, call.url, call.status_code) == ("POST", ORDERS, 201)
    assert call.outcome == Outcome.OK
    assert call.request_id == sent.headers["X-Request-ID"]
    assert call.request_headers["Impilo-API-Key"] == REDACTED
    assert json.loads(call.request_body) == request.to_json()
    assert json.loads(call.response_body)["id"] == 905512
    assert call.duration_ms is not None


@responses.activate
def test_every_call_gets_a_fresh_request_id() -> None:
    responses.get(f"{ORDERS}/1", json={"id": 1})
    client = ImpiloClient()
    client.fetch_order(1)
    client.fetch_order(1)
    ids = {call.request.headers["X-Request-ID"] for call in responses.calls}
    assert len(ids) == 2


@responses.activate
def test_the_key_is_read_when_sending_so_a_rotated_key_applies(
    impilo_settings: SettingsWrapper,
) -> None:
    responses.get(f"{ORDERS}/1", json={"id": 1})
    client = ImpiloClient()
    impilo_settings.IMPILO_API_KEY = "rotated-key"
    client.fetch_order(1)
    assert responses.calls[0].request.headers["Impilo-API-Key"] == "rotated-key"


@responses.activate
def test_search_patients_sends_each_filter_as_impilo_names_it() -> None:
    responses.get(f"{BASE_URL}/api/v3/patient", json=example("patient-list-page.json"))

    ImpiloClient().search_patients(
        name="Lopez",
        external_identifier="crm-000482",
        ids=[1, 2],
        site_id=77,
        date_of_birth_min=date(1950, 1, 1),
        date_of_birth_max=date(1960, 12, 31),
        archived=False,
        page=2,
        size=10,
    )

    url = responses.calls[0].request.url
    assert url == (
        f"{BASE_URL}/api/v3/patient?page=2&size=10&name=Lopez&externalIdentifier=crm-000482"
        "&id=1&id=2&siteId=77&archived=false&dateOfBirthMin=1950-01-01&dateOfBirthMax=1960-12-31"
    )
    assert only_call().action == "patient_search"


@responses.activate
def test_list_kits_uses_the_configured_path_and_hides_archived_kits_by_default(
    impilo_settings: SettingsWrapper,
) -> None:
    impilo_settings.IMPILO_KITS_PATH = "/api/v3/kits"
    responses.get(
        f"{BASE_URL}/api/v3/kits",
        json={"content": [], "page": 1, "size": 250, "total": 0, "first": True, "last": True},
        match=[matchers.query_param_matcher({"page": "1", "size": "250", "archived": "false"})],
    )
    page = ImpiloClient().list_kits()
    assert page.content == ()
    assert only_call().action == "kit_list"


@responses.activate
def test_list_orders_asks_for_the_page_and_size_given() -> None:
    responses.get(
        ORDERS,
        json=example("order-list-page.json"),
        match=[matchers.query_param_matcher({"page": "3", "size": "50"})],
    )
    page = ImpiloClient().list_orders(page=3, size=50)
    assert page.content[0].external_order_ids == ("ORDERDESK-2024-000119",)
    assert only_call().action == "order_list"


def test_page_numbers_and_sizes_outside_impilo_limits_are_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="start at 1"):
        ImpiloClient().list_orders(page=0)
    with pytest.raises(ValueError, match="1 to 250"):
        ImpiloClient().search_patients(size=251)


@responses.activate
def test_base_url_given_to_the_client_wins_over_the_setting() -> None:
    responses.get("http://elsewhere.test/root/api/v3/order/5", json={"id": 5})
    assert ImpiloClient(base_url="http://elsewhere.test/root/").fetch_order(5).id == 5


@responses.activate
def test_the_session_refuses_a_call_without_an_audit_context() -> None:
    with pytest.raises(TypeError, match="AuditContext"):
        ImpiloSession().get(f"{ORDERS}/1")
    assert not ApiCall.objects.exists()


@responses.activate
@pytest.mark.django_db(transaction=True)
def test_a_call_inside_a_transaction_is_refused_before_anything_is_sent() -> None:
    responses.get(f"{ORDERS}/1", json={"id": 1})
    with pytest.raises(ImpiloCallInTransaction), transaction.atomic():
        ImpiloClient().fetch_order(1)
    assert len(responses.calls) == 0
    ImpiloClient().fetch_order(1)  # outside the transaction it goes
    assert only_call().outcome == Outcome.OK


# --- What comes back: errors ----------------------------------------------------------


@responses.activate
@pytest.mark.parametrize(
    ("status", "body", "error_class", "outcome", "message"),
    [
        (
            400,
            {"status": 400, "message": "insufficient_inventory"},
            errors.ImpiloRejected,
            Outcome.REJECTED,
            "Impilo has not enough stock to fill this order.",
        ),
        (
            422,
            "Computer says no",
            errors.ImpiloRejected,
            Outcome.REJECTED,
            "Impilo refused the request: Computer says no",
        ),
        (401, "", errors.ImpiloAuthError, Outcome.AUTH, "did not accept orderdesk's API key"),
        (403, {"error": "Forbidden"}, errors.ImpiloAuthError, Outcome.AUTH, "refused access"),
        (404, "", errors.ImpiloNotFound, Outcome.NOT_FOUND, "no such record"),
        (500, "<h1>oops</h1>", errors.ImpiloAmbiguous, Outcome.AMBIGUOUS, "may or may not"),
        (503, "", errors.ImpiloAmbiguous, Outcome.AMBIGUOUS, "HTTP 503"),
        (302, "", errors.ImpiloAmbiguous, Outcome.AMBIGUOUS, "unexpected HTTP 302"),
        (408, "", errors.ImpiloUnavailable, Outcome.UNAVAILABLE, "Nothing was sent"),
    ],
)
def test_create_order_failures_raise_the_class_the_audit_row_names(
    status: int, body: object, error_class: type, outcome: str, message: str
) -> None:
    if isinstance(body, dict):
        responses.post(ORDERS, json=body, status=status)
    else:
        responses.post(ORDERS, body=str(body), status=status)

    with pytest.raises(errors.ImpiloError) as caught:
        ImpiloClient().create_order(patient_request())

    assert type(caught.value) is error_class
    assert caught.value.status == status
    assert message in caught.value.message
    call = only_call()
    assert (call.outcome, call.status_code) == (outcome, status)
    assert call.error_class.startswith(error_class.__name__)
    assert caught.value.message in call.error_message


@responses.activate
def test_a_rejection_keeps_impilos_own_words() -> None:
    responses.post(ORDERS, json={"message": "max_one_loaner_kit"}, status=400)
    with pytest.raises(errors.ImpiloRejected) as caught:
        ImpiloClient().create_order(patient_request())
    assert caught.value.raw_message == "max_one_loaner_kit"
    assert caught.value.message == "An order may contain at most one loaner kit."


@responses.activate
def test_a_rate_limit_says_how_long_to_wait() -> None:
    responses.get(ORDERS, status=429, headers={"Retry-After": "12"})
    with pytest.raises(errors.ImpiloRateLimited) as caught:
        ImpiloClient().list_orders()
    assert caught.value.retry_after == 12.0
    assert "12 seconds" in caught.value.message
    assert only_call().outcome == Outcome.RATE_LIMITED


@responses.activate
@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[1, 2]", b'"a string"', b"\xff\xfe", b'{"currentStatus": "x"}'],
)
def test_a_created_reply_that_is_not_an_order_is_ambiguous(body: bytes) -> None:
    responses.post(ORDERS, body=body, status=201)
    with pytest.raises(errors.ImpiloAmbiguous) as caught:
        ImpiloClient().create_order(patient_request())
    assert "may or may not have been created" in caught.value.message
    call = only_call()
    assert (call.outcome, call.status_code) == (Outcome.AMBIGUOUS, 201)


@responses.activate
@pytest.mark.parametrize("body", [b"[]", b'{"content": null}', b'{"items": []}', b"<html>"])
def test_a_list_reply_without_a_content_list_is_ambiguous_not_empty(body: bytes) -> None:
    responses.get(ORDERS, body=body, status=200)
    with pytest.raises(errors.ImpiloAmbiguous) as caught:
        ImpiloClient().list_orders()
    assert "Try again" in caught.value.message
    assert only_call().outcome == Outcome.AMBIGUOUS


@responses.activate
def test_the_key_echoed_back_by_impilo_is_redacted_from_the_audit_row() -> None:
    responses.get(
        f"{ORDERS}/7",
        json={"message": f"bad key {KEY}"},
        status=401,
        headers={"X-Echo-Key": KEY},
    )
    with pytest.raises(errors.ImpiloAuthError) as caught:
        ImpiloClient().fetch_order(7)
    call = only_call()  # asserts the key is in no column
    assert call.response_headers["X-Echo-Key"] == REDACTED
    assert caught.value.raw_message == f"bad key {REDACTED}"
