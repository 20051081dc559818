"""Contract: every client method against the sandbox over real HTTP (a live server), every
reply parsed by our types, every failure mode mapped to its class and audited once.

The sandbox shares no code with the client
(docs/architecture.md#the-layers-and-the-one-rule-between-them), so agreement here means
both read Impilo's documentation the same way.
"""

import pytest
from pytest_django.fixtures import Settings as SettingsWrapper

from orderdesk.audit.models import ApiCall, Outcome
from orderdesk.audit.redact import REDACTED
from orderdesk.impilo import errors
from orderdesk.impilo.client import CreateOrderRequest, ImpiloClient
from orderdesk.impilo.types import ImpiloOrder
from orderdesk.sandbox import faults
from orderdesk.sandbox.testing import SeedIds, orders_with_reference, seed_ids, set_stock

ORDER_PATH = r"/api/v3/order$"


@pytest.fixture
def ids(sandbox: str) -> SeedIds:
    return seed_ids()


def patient_order(ids: SeedIds, reference: str, **overrides: object) -> CreateOrderRequest:
    fields: dict[str, object] = {
        "patient_id": ids.patient,
        "site_id": None,
        "items": [(ids.item, 1)],
        "kits": [(ids.kit, 1)],
        "external_order_ids": [reference, "crm-42"],
        "notes": ["Leave with reception."],
    }
    fields.update(overrides)
    return CreateOrderRequest(**fields)  # type: ignore[arg-type]


def outcomes() -> list[tuple[str, str]]:
    return list(ApiCall.objects.order_by("id").values_list("action", "outcome"))


def assert_calls_clean(settings: SettingsWrapper) -> None:
    for call in ApiCall.objects.all():
        assert call.request_headers["Impilo-API-Key"] == REDACTED
        for value in (call.url, call.request_body, call.response_body, call.error_message):
            assert settings.IMPILO_API_KEY not in value


def find(client: ImpiloClient, reference: str) -> ImpiloOrder | None:
    for number in range(1, 20):
        page = client.list_orders(page=number, size=50)
        for order in page.content:
            if reference in order.external_order_ids:
                return order
        if page.last or not page.content:
            return None
    return None


def test_every_client_method_reads_the_sandbox(ids: SeedIds, settings: SettingsWrapper) -> None:
    client = ImpiloClient()

    patients = client.search_patients(size=5)
    assert patients.page == 1
    assert patients.total is not None
    assert patients.total >= len(patients.content) > 0
    assert all(patient.id for patient in patients.content)
    chosen = client.search_patients(ids=[ids.patient]).content
    assert [patient.id for patient in chosen] == [ids.patient]
    assert chosen[0].last_name
    by_name = client.search_patients(name=chosen[0].last_name, size=50).content
    assert ids.patient in {patient.id for patient in by_name}

    kits = client.list_kits(size=250)
    assert kits.content
    assert all(kit.archived is False for kit in kits.content)
    assert ids.archived_kit not in {kit.id for kit in kits.content}
    assert any(entry.item and entry.item.id for kit in kits.content for entry in kit.kit_items)

    created = client.create_order(patient_order(ids, "OD-CONTRACT1"))
    assert created.id is not None
    assert created.external_order_ids[:1] == ("OD-CONTRACT1",)
    assert created.patient is not None
    assert created.patient.id == ids.patient
    assert created.current_status
    assert created.order_items[0].item is not None
    assert created.order_items[0].item.id == ids.item
    assert created.order_kits[0].kit is not None
    assert created.order_kits[0].kit.id == ids.kit

    fetched = client.fetch_order(created.id)
    assert (fetched.id, fetched.external_order_ids) == (created.id, created.external_order_ids)
    found = find(client, "OD-CONTRACT1")
    assert found is not None
    assert found.id == created.id

    site_order = client.create_order(
        patient_order(ids, "OD-CONTRACT2", patient_id=None, site_id=ids.site, notes=[])
    )
    assert site_order.site is not None
    assert site_order.site.id == ids.site
    assert site_order.patient is None

    assert {outcome for _, outcome in outcomes()} == {Outcome.OK}
    assert [action for action, _ in outcomes()].count("order_create") == 2
    assert orders_with_reference("OD-CONTRACT1") == 1
    assert_calls_clean(settings)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"patient_id": None}, "Choose a patient or a site"),
        ({"items": [], "kits": []}, "nothing in it"),
        ({"items": [("non_orderable_item", 1)]}, "cannot be ordered at the moment"),
        ({"kits": [("loaner_kit", 2)]}, "count of 1"),
        ({"patient_id": None, "site_id": "site", "kits": [("loaner_kit", 1)]}, "not to sites"),
    ],
)
def test_the_sandbox_rejections_read_as_plain_sentences(
    ids: SeedIds, change: dict[str, object], message: str
) -> None:
    def resolve(value: object) -> object:
        if isinstance(value, str):
            return getattr(ids, value)
        if isinstance(value, list):
            return [(resolve(ref), count) for ref, count in value]
        return value

    request = patient_order(ids, "OD-REJECTED", **{k: resolve(v) for k, v in change.items()})
    with pytest.raises(errors.ImpiloRejected) as caught:
        ImpiloClient().create_order(request)
    assert message in caught.value.message
    assert caught.value.raw_message
    assert outcomes() == [("order_create", Outcome.REJECTED)]
    assert orders_with_reference("OD-REJECTED") == 0


def test_not_enough_stock_is_explained(ids: SeedIds) -> None:
    set_stock(ids.item, 0)
    with pytest.raises(errors.ImpiloRejected) as caught:
        ImpiloClient().create_order(patient_order(ids, "OD-NOSTOCK", kits=[]))
    assert caught.value.message == "Impilo has not enough stock to fill this order."
    assert caught.value.raw_message == "insufficient_inventory"


def test_a_wrong_key_is_an_auth_error(ids: SeedIds, settings: SettingsWrapper) -> None:
    settings.IMPILO_API_KEY = "not-the-sandbox-key"
    with pytest.raises(errors.ImpiloAuthError):
        ImpiloClient().list_kits()
    assert outcomes() == [("kit_list", Outcome.AUTH)]
    assert_calls_clean(settings)


def test_an_unknown_order_is_not_found(ids: SeedIds) -> None:
    with pytest.raises(errors.ImpiloNotFound):
        ImpiloClient().fetch_order(987654321)
    assert outcomes() == [("order_fetch", Outcome.NOT_FOUND)]


def test_a_reset_after_create_is_ambiguous_and_the_order_is_found_by_reference(
    ids: SeedIds,
) -> None:
    faults.inject("reset_after_create", count=1)
    client = ImpiloClient()
    with pytest.raises(errors.ImpiloAmbiguous):
        client.create_order(patient_order(ids, "OD-RESET"))
    assert orders_with_reference("OD-RESET") == 1
    assert find(client, "OD-RESET") is not None
    assert outcomes()[0] == ("order_create", Outcome.AMBIGUOUS)


def test_a_garbage_201_is_ambiguous(ids: SeedIds) -> None:
    faults.inject("garbage_201", count=1)
    with pytest.raises(errors.ImpiloAmbiguous):
        ImpiloClient().create_order(patient_order(ids, "OD-GARBAGE"))
    assert orders_with_reference("OD-GARBAGE") == 1
    assert outcomes() == [("order_create", Outcome.AMBIGUOUS)]
    assert ApiCall.objects.get().status_code == 201


def test_a_slow_create_times_out_as_ambiguous(ids: SeedIds, settings: SettingsWrapper) -> None:
    settings.IMPILO_READ_TIMEOUT = 0.3
    faults.inject("timeout_after_create", count=1, delay=1.0)
    with pytest.raises(errors.ImpiloAmbiguous):
        ImpiloClient().create_order(patient_order(ids, "OD-SLOW"))
    assert orders_with_reference("OD-SLOW") == 1
    assert outcomes() == [("order_create", Outcome.AMBIGUOUS)]


def test_a_503_is_ambiguous_though_the_sandbox_created_nothing(ids: SeedIds) -> None:
    faults.inject("status", path=ORDER_PATH, method="POST", status=503, count=1)
    with pytest.raises(errors.ImpiloAmbiguous) as caught:
        ImpiloClient().create_order(patient_order(ids, "OD-503"))
    assert caught.value.status == 503
    assert orders_with_reference("OD-503") == 0


def test_a_rate_limit_carries_the_sandbox_retry_after(ids: SeedIds) -> None:
    faults.inject("rate_limit", retry_after="5", count=1)
    with pytest.raises(errors.ImpiloRateLimited) as caught:
        ImpiloClient().search_patients(name="a")
    assert caught.value.retry_after == 5.0
    assert outcomes() == [("patient_search", Outcome.RATE_LIMITED)]
