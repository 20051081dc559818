"""Create-order validation: Impilo's documented rules and 400 messages, one case each."""

import pytest

from orderdesk.sandbox import testing
from orderdesk.sandbox.ordering import (
    BAD_COUNT,
    DEVICE_TWICE,
    NO_CONTENT,
    NON_ORDERABLE,
    RECIPIENT_BOTH,
    SHIPPING_REQUIRED,
)


def items(pk, count=1):
    return [{"item": {"id": pk}, "count": count}]


def kits(*pks, count=1):
    return [{"kit": {"id": pk}, "count": count} for pk in pks]


RETURNS = {"returnDevices": [{"id": 5}], "shippingOption": "standard"}

CASES = {
    "no recipient": (lambda i: {"orderItems": items(i.item)}, "patient or site required"),
    "null recipients": (
        lambda i: {"patient": None, "site": None, "orderItems": items(i.item)},
        "patient or site required",
    ),
    "site without id": (
        lambda i: {"site": {"name": "Clinic"}, "orderItems": items(i.item)},
        "patient or site required",
    ),
    "both recipients": (
        lambda i: {
            "patient": {"id": i.patient},
            "site": {"id": i.site},
            "orderItems": items(i.item),
        },
        RECIPIENT_BOTH,
    ),
    "text patient id": (
        lambda i: {"patient": {"id": "abc"}, "orderItems": items(i.item)},
        "patient.id must be a positive whole number",
    ),
    "unknown patient": (
        lambda i: {"patient": {"id": 1}, "orderItems": items(i.item)},
        "Patient 1 not found",
    ),
    "unknown site": (
        lambda i: {"site": {"id": 9999}, "orderItems": items(i.item)},
        "Site 9999 not found",
    ),
    "no content": (lambda i: {"patient": {"id": i.patient}}, NO_CONTENT),
    "empty lists": (
        lambda i: {"patient": {"id": i.patient}, "orderItems": [], "orderKits": []},
        NO_CONTENT,
    ),
    "returns without shipping option": (
        lambda i: {"patient": {"id": i.patient}, "returnItems": [{"item": {"id": i.item}}]},
        SHIPPING_REQUIRED,
    ),
    "unknown item": (
        lambda i: {"patient": {"id": i.patient}, "orderItems": items(5)},
        "Item 5 not found",
    ),
    "unknown kit": (
        lambda i: {"patient": {"id": i.patient}, "orderKits": kits(9)},
        "Kit 9 not found",
    ),
    "non-orderable item": (
        lambda i: {"patient": {"id": i.patient}, "orderItems": items(i.non_orderable_item)},
        NON_ORDERABLE,
    ),
    "two loaner kits": (
        lambda i: {"patient": {"id": i.patient}, "orderKits": kits(i.loaner_kit, i.loaner_kit)},
        "max_one_loaner_kit",
    ),
    "two of a loaner kit": (
        lambda i: {"patient": {"id": i.patient}, "orderKits": kits(i.loaner_kit, count=2)},
        "qty_over_one_loaner_kit",
    ),
    "loaner kit with returns": (
        lambda i: {"patient": {"id": i.patient}, "orderKits": kits(i.loaner_kit), **RETURNS},
        "no_returns_with_loaner_kit",
    ),
    "loaner kit to a site": (
        lambda i: {"site": {"id": i.site}, "orderKits": kits(i.loaner_kit)},
        "no_loaner_kit_to_site",
    ),
    "device returned twice": (
        lambda i: {
            "patient": {"id": i.patient},
            "returnDevices": [{"id": 7}],
            "returnPackedKits": [{"devices": [{"id": 7}]}],
            "emailLabel": True,
        },
        DEVICE_TWICE,
    ),
    "items not a list": (
        lambda i: {"patient": {"id": i.patient}, "orderItems": {"item": {"id": i.item}}},
        "orderItems must be a list",
    ),
    "line without item id": (
        lambda i: {"patient": {"id": i.patient}, "orderItems": [{"count": 1}]},
        "Each orderItems entry needs item.id",
    ),
    "numeric external id": (
        lambda i: {
            "patient": {"id": i.patient},
            "orderItems": items(i.item),
            "externalOrderIds": [7],
        },
        "externalOrderIds must be a list of strings (at most 500 characters)",
    ),
    "note without text": (
        lambda i: {"patient": {"id": i.patient}, "orderItems": items(i.item), "orderNotes": [{}]},
        "Each orderNotes entry needs a note (text)",
    ),
    "unknown shipping option": (
        lambda i: {
            "patient": {"id": i.patient},
            "orderItems": items(i.item),
            "shippingOption": "x",
        },
        "Unknown shippingOption 'x'",
    ),
    "body not an object": (lambda i: [1, 2], "The request body must be a JSON object (an Order)"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_rejected_order_gets_a_400_with_the_documented_message(local_api, local_ids, case):
    build, message = CASES[case]

    response = local_api.post("/order", build(local_ids))

    assert response.status_code == 400
    assert response.json() == {"status": 400, "message": message}
    assert testing.order_count() == 0


@pytest.mark.parametrize("count", [0, -1, 1.5, "2", True, None, 2**31])
def test_a_count_that_is_not_a_positive_integer_is_rejected(local_api, local_ids, count):
    line: dict = {"item": {"id": local_ids.item}}
    if count is not None:
        line["count"] = count
    body = {"patient": {"id": local_ids.patient}, "orderItems": [line]}

    response = local_api.post("/order", body)

    assert response.status_code == 400
    assert response.json()["message"] == BAD_COUNT


def test_malformed_json_is_a_400(local_api):
    response = local_api.client.post(
        local_api.prefix + "/order",
        "{not json",
        content_type="application/json",
        headers={"Impilo-API-Key": local_api.key},
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith("Malformed JSON request body")


def test_an_order_beyond_the_stock_is_insufficient_inventory_and_takes_nothing(
    local_api, local_ids
):
    testing.set_stock(1002, 1)
    before = testing.stock(local_ids.item)
    body = {
        "patient": {"id": local_ids.patient},
        "orderItems": items(local_ids.item) + items(1002, 2),
    }

    response = local_api.post("/order", body)

    assert response.status_code == 400
    assert response.json()["message"] == "insufficient_inventory"
    assert testing.stock(local_ids.item) == before
    assert testing.stock(1002) == 1


def test_one_loaner_kit_ships_to_a_patient(local_api, local_ids):
    body = {"patient": {"id": local_ids.patient}, "orderKits": kits(local_ids.loaner_kit)}

    assert local_api.post("/order", body).status_code == 201


def test_a_returns_only_order_with_an_emailed_label_is_accepted_and_echoed(local_api, local_ids):
    returns = [{"item": {"id": local_ids.item}, "count": 1}]
    body = {"patient": {"id": local_ids.patient}, "returnItems": returns, "emailLabel": True}

    response = local_api.post("/order", body)

    assert response.status_code == 201
    assert response.json()["returnItems"] == returns
    assert response.json()["emailLabel"] is True


def test_an_absurdly_nested_body_is_a_400_not_a_crash(local_api):
    response = local_api.client.post(
        local_api.prefix + "/order",
        "[" * 100_000 + "]" * 100_000,
        content_type="application/json",
        headers={"Impilo-API-Key": local_api.key},
    )

    assert response.status_code == 400
    assert response.json()["message"].startswith("Malformed JSON request body")


def test_a_body_over_django_upload_limit_is_a_413(local_api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"patient": {"id": 1}, "orderNotes": [{"note": "x" * 2000}]}

    response = local_api.post("/order", body)

    assert response.status_code == 413
    assert response.json() == {"status": 413, "message": "Request body too large"}
