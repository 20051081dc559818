"""Parsing Impilo's objects: the documented examples, and everything they leave unsaid."""

from datetime import UTC, date, datetime

import pytest

from orderdesk.impilo.types import (
    Address,
    Device,
    ImpiloOrder,
    Kit,
    OrderEvent,
    Page,
    Patient,
    Site,
)
from tests.impilo.conftest import example


def test_the_documented_create_reply_parses_in_full() -> None:
    order = ImpiloOrder.from_json(example("create-order-response.json"))

    assert order.id == 905512
    assert order.external_order_ids == ("ORDERDESK-2024-000123",)
    assert order.current_status == "availableForPickup"
    assert order.site is None
    assert order.patient is not None
    assert order.patient.full_name == "Maria Lopez"
    assert order.patient.date_of_birth == date(1957, 3, 14)
    assert order.patient.site is not None
    assert order.patient.site.address is not None
    assert order.patient.site.address.one_line == (
        "800 Walnut Street, Suite 300, Philadelphia, PA, 19107, USA"
    )
    item_line = order.order_items[0]
    assert item_line.count == 2
    assert item_line.item is not None
    assert item_line.item.manufacturer is not None
    assert item_line.item.manufacturer.name == "Acme Medical"
    kit = order.order_kits[0].kit
    assert kit is not None
    assert kit.kit_items[0].item is not None
    assert kit.kit_items[0].item.sku == "0001001"
    assert order.order_events[0].at == datetime(2024, 5, 21, 16, 0, tzinfo=UTC)
    assert order.order_notes[0].created_by == "Orderdesk Service"
    assert order.shipping_option == "standard"
    assert order.email_label is False
    assert order.raw == example("create-order-response.json")


def test_the_documented_order_page_parses_devices_tracking_and_packed_kits() -> None:
    page = Page.from_json(example("order-list-page.json"), ImpiloOrder)

    assert (page.page, page.size, page.total, page.first, page.last) == (1, 15, 1, True, True)
    order = page.content[0]
    assert order.tracking_numbers[0].carrier == "UPS"
    device = order.devices[0]
    assert device.serial == "BP200-00A7F3"
    assert device.current_status == "withPatient"
    assert device.current_patient is not None
    assert device.current_patient.id == 48190
    packed = order.packed_kits[0]
    assert packed.kit is not None
    assert packed.kit.name == "RPM Starter Kit - Blood Pressure"
    assert packed.devices[0].serial == "BP200-00A7F3"
    assert page.skipped == 0


def test_the_documented_patient_page_parses() -> None:
    page = Page.from_json(example("patient-list-page.json"), Patient)
    assert [patient.id for patient in page.content] == [48213, 48214]
    assert page.content[1].address is not None
    assert page.content[1].address.note == "Side entrance"
    assert page.last is False


def test_an_empty_object_parses_to_all_nones_and_empty_lists() -> None:
    order = ImpiloOrder.from_json({})
    assert order.id is None
    assert order.patient is None
    assert order.order_items == ()
    assert order.external_order_ids == ()
    assert Patient.from_json({}) == Patient()
    assert Kit.from_json({}).kit_items == ()


def test_wrong_types_become_none_instead_of_crashing() -> None:
    order = ImpiloOrder.from_json(
        {
            "id": "905512",
            "externalOrderIds": "OD-1",
            "patient": ["not", "an", "object"],
            "site": {"id": True, "name": 7, "active": "yes", "address": "somewhere"},
            "currentStatus": {"nested": True},
            "orderItems": [None, 3, {"item": {"id": 1.0}, "count": "two"}],
            "orderEvents": {"name": "x"},
            "emailLabel": "false",
        }
    )
    assert order.id == 905512  # a 64-bit id sent as text still reads
    assert order.external_order_ids == ()
    assert order.patient is None
    assert order.site == Site(id=None, name="7", active=None, phone_number=None, address=None)
    assert order.current_status is None
    assert len(order.order_items) == 1
    assert order.order_items[0].item is not None
    assert order.order_items[0].item.id == 1
    assert order.order_items[0].count is None
    assert order.order_events == ()
    assert order.email_label is None


def test_unknown_fields_and_statuses_are_kept_verbatim_or_ignored() -> None:
    order = ImpiloOrder.from_json({"id": 1, "currentStatus": "someNewStatus", "brandNew": 1})
    assert order.current_status == "someNewStatus"
    assert order.raw["brandNew"] == 1


def test_external_order_ids_keep_only_text() -> None:
    order = ImpiloOrder.from_json({"externalOrderIds": ["OD-1", None, 42, {"x": 1}]})
    assert order.external_order_ids == ("OD-1", "42")


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("1980-01-01", date(1980, 1, 1)),
        ("1980-01-01T00:00:00Z", date(1980, 1, 1)),
        ("01-01-2000", "01-01-2000"),
        ("1980-13-45", "1980-13-45"),
        ("unknown", "unknown"),
        ("", None),
        (None, None),
        (19800101, "19800101"),
        ([], None),
    ],
)
def test_date_of_birth_is_a_date_when_it_can_be_and_text_otherwise(
    value: object, parsed: object
) -> None:
    assert Patient.from_json({"dateOfBirth": value}).date_of_birth == parsed


def test_an_event_with_an_odd_timestamp_keeps_its_text() -> None:
    event = OrderEvent.from_json({"name": "shipped", "eventTimestamp": "yesterday"})
    assert event.at is None
    assert event.event_timestamp == "yesterday"


def test_a_zip_code_sent_as_a_number_is_read_as_text() -> None:
    assert Address.from_json({"zipCode": 19107}).zip_code == "19107"


def test_a_device_without_a_serial_has_none() -> None:
    device = Device.from_json({"deviceIdentifiers": [{"type": "imei", "value": "35"}]})
    assert device.serial is None


def test_a_page_counts_entries_it_could_not_read() -> None:
    page = Page.from_json({"content": [{"id": 1}, "junk", None], "total": "3"}, Kit)
    assert [kit.id for kit in page.content] == [1]
    assert page.skipped == 2
    assert page.total == 3
    assert page.last is None


def test_a_page_without_content_parses_as_empty() -> None:
    assert Page.from_json({"content": None}, Kit).content == ()
