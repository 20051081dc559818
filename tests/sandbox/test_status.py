"""An order's status advances with time, and what it carries grows with it (read lazily).

Two tests go over real HTTP and wait; the rest age the order and use the in-process client.
"""

import time

from orderdesk.sandbox import testing
from orderdesk.sandbox.status import STATUSES

BP_MONITOR, BP_KIT = 1001, 301  # the monitor is serialised; the kit holds one monitor


def create(api, ids, **recipient):
    body = {
        **(recipient or {"patient": {"id": ids.patient}}),
        "orderItems": [{"item": {"id": BP_MONITOR}, "count": 1}],
        "orderKits": [{"kit": {"id": BP_KIT}, "count": 2}],
    }
    response = api.order(**body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def fetch(api, order_id):
    return api.get(f"/order/{order_id}").json()


def luhn_ok(number: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(number)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def test_status_advances_one_step_per_interval_by_itself(api, ids, settings) -> None:
    settings.SANDBOX_STATUS_STEP_SECONDS = 0.3
    order_id = create(api, ids)

    deadline = time.monotonic() + 5
    while fetch(api, order_id)["currentStatus"] in ("received", "processing"):
        assert time.monotonic() < deadline, "the order never reached packed"
        time.sleep(0.1)

    order = fetch(api, order_id)
    reached = STATUSES.index(order["currentStatus"])
    assert [event["name"] for event in order["orderEvents"]] == list(STATUSES[: reached + 1])
    stamps = [event["eventTimestamp"] for event in order["orderEvents"]]
    assert stamps == sorted(stamps)
    assert all(stamp.endswith("Z") and "T" in stamp for stamp in stamps)


def test_before_packing_an_order_has_no_devices_or_tracking(local_api, local_ids) -> None:
    order_id = create(local_api, local_ids)
    testing.age_order(order_id, 1.5)

    order = fetch(local_api, order_id)

    assert order["currentStatus"] == "processing"
    assert [event["name"] for event in order["orderEvents"]] == ["received", "processing"]
    assert order["devices"] == order["packedKits"] == order["trackingNumbers"] == []


def test_once_packed_devices_and_packed_kits_appear(api, ids) -> None:
    order_id = create(api, ids)
    testing.age_order(order_id, 2.5)

    order = fetch(api, order_id)

    assert order["currentStatus"] == "packed"
    assert order["trackingNumbers"] == []
    assert len(order["devices"]) == 3  # one loose monitor, one in each of the two kits
    device = order["devices"][0]
    assert device["item"]["id"] == BP_MONITOR
    assert device["currentStatus"] == "allocated"
    kinds = {identifier["type"]: identifier["value"] for identifier in device["deviceIdentifiers"]}
    assert kinds["serial"].startswith("BP-200-")
    assert len(kinds["imei"]) == 15
    assert luhn_ok(kinds["imei"])
    assert len({d["id"] for d in order["devices"]}) == 3
    assert [packed["kit"]["id"] for packed in order["packedKits"]] == [BP_KIT, BP_KIT]
    assert [packed["devices"] for packed in order["packedKits"]] == [
        [d] for d in order["devices"][1:]
    ]


def test_once_shipped_a_tracking_number_appears(local_api, local_ids) -> None:
    order_id = create(local_api, local_ids)
    testing.age_order(order_id, 3.5)

    order = fetch(local_api, order_id)

    assert order["currentStatus"] == "shipped"
    [tracking] = order["trackingNumbers"]
    assert tracking["carrier"] == "UPS"
    assert tracking["value"].startswith("1Z")
    assert order["devices"][0]["currentStatus"] == "inTransit"


def test_a_delivered_order_puts_devices_with_the_patient_or_at_the_site(
    local_api, local_ids
) -> None:
    for_patient = create(local_api, local_ids)
    for_site = create(local_api, local_ids, site={"id": local_ids.site})
    testing.age_order(for_patient, 60)
    testing.age_order(for_site, 60)

    patient_order, site_order = fetch(local_api, for_patient), fetch(local_api, for_site)

    assert patient_order["currentStatus"] == "delivered"
    assert len(patient_order["orderEvents"]) == len(STATUSES)
    assert patient_order["devices"][0]["currentStatus"] == "withPatient"
    assert patient_order["devices"][0]["currentPatient"]["id"] == local_ids.patient
    assert site_order["devices"][0]["currentStatus"] == "availableAtSite"
    assert site_order["devices"][0]["site"]["id"] == local_ids.site


def test_reading_an_order_twice_gives_the_same_answer(local_api, local_ids) -> None:
    order_id = create(local_api, local_ids)
    testing.age_order(order_id, 60)

    assert fetch(local_api, order_id) == fetch(local_api, order_id)
    assert local_api.get("/order").json()["content"][0] == fetch(local_api, order_id)
