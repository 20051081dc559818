"""Create, fetch and list orders: over real HTTP, details in-process."""

import json

from django.db import connection

from orderdesk.sandbox import testing


def line(kind: str, pk: int, count: int = 1) -> dict:
    return {kind: {"id": pk}, "count": count}


def test_creating_a_patient_order_answers_201_with_the_full_order(api, ids) -> None:
    response = api.order(
        externalOrderIds=["OD-7F3K9Q", "crm 42/ä"],
        patient={"id": ids.patient, "sex": "unknown"},
        orderItems=[line("item", ids.item, 2)],
        orderKits=[line("kit", ids.kit)],
        orderNotes=[{"note": "Leave parcel with reception."}],
        shippingOption="standard",
    )

    assert response.status_code == 201
    assert response.headers["Content-Type"] == "application/json"
    order = response.json()
    assert isinstance(order["id"], int)
    assert order["externalOrderIds"] == ["OD-7F3K9Q", "crm 42/ä"]
    assert order["patient"]["id"] == ids.patient
    assert set(order["patient"]["address"]) == {
        "lineOne",
        "lineTwo",
        "lineThree",
        "city",
        "state",
        "zipCode",
        "country",
        "note",
    }
    assert order["patient"]["site"]["name"]
    assert order["site"] is None
    assert order["currentStatus"] == "received"
    item = order["orderItems"][0]
    assert item["count"] == 2
    assert item["item"]["id"] == ids.item
    assert set(item["item"]) == {"id", "manufacturer", "name", "model", "sku", "orderable"}
    assert set(item["item"]["manufacturer"]) == {"id", "name"}
    kit = order["orderKits"][0]["kit"]
    assert kit["id"] == ids.kit
    assert kit["kitItems"][0]["item"]["manufacturer"]["name"]
    assert [event["name"] for event in order["orderEvents"]] == ["received"]
    assert order["orderEvents"][0]["eventTimestamp"].endswith("Z")
    note = order["orderNotes"][0]
    assert note["note"] == "Leave parcel with reception."
    assert note["createdBy"]["id"]
    assert note["createdAt"].endswith("Z")
    assert order["trackingNumbers"] == []
    assert order["devices"] == []
    assert order["packedKits"] == []
    assert order["shippingOption"] == "standard"
    assert order["emailLabel"] is False
    assert order["returnItems"] is None
    assert order["returnDevices"] is None
    assert order["returnPackedKits"] is None


def test_a_site_order_names_the_site_and_no_patient(api, ids) -> None:
    response = api.order(
        site={"id": ids.site, "name": "ignored"}, orderKits=[line("kit", ids.kit, 5)]
    )

    assert response.status_code == 201
    order = response.json()
    assert order["site"]["id"] == ids.site
    assert order["site"]["active"] is True
    assert order["patient"] is None
    assert order["externalOrderIds"] == []


def test_fetching_an_order_returns_what_create_returned(api, ids) -> None:
    created = api.order(patient={"id": ids.patient}, orderItems=[line("item", ids.item)]).json()

    fetched = api.get(f"/order/{created['id']}")

    assert fetched.status_code == 200
    assert fetched.json() == created


def test_fetching_an_unknown_order_is_a_404_with_a_json_message(api) -> None:
    for order_id in ("999999", str(2**70)):
        response = api.get(f"/order/{order_id}")
        assert response.status_code == 404
        assert response.json() == {"status": 404, "message": f"Order {order_id} not found"}


def test_listing_orders_pages_them_newest_first(api, ids) -> None:
    created = [
        api.order(patient={"id": ids.patient}, orderItems=[line("item", ids.item)]).json()["id"]
        for _ in range(3)
    ]

    first = api.get("/order", size=2).json()
    second = api.get("/order", size=2, page=2).json()

    assert [order["id"] for order in first["content"]] == created[::-1][:2]
    assert {k: first[k] for k in ("page", "size", "total", "first", "last")} == {
        "page": 1,
        "size": 2,
        "total": 3,
        "first": True,
        "last": False,
    }
    assert [order["id"] for order in second["content"]] == [created[0]]
    assert (second["first"], second["last"]) == (False, True)
    assert first["content"][0]["patient"]["address"]["country"] == "USA"


def test_listing_orders_uses_page_size_15_by_default(local_api) -> None:
    page = local_api.get("/order").json()

    assert page == {"content": [], "page": 1, "size": 15, "total": 0, "first": True, "last": True}


def test_server_managed_fields_in_the_body_are_ignored(local_api, local_ids) -> None:
    response = local_api.order(
        id=1234567,
        currentStatus="delivered",
        orderEvents=[{"name": "shipped", "eventTimestamp": "2020-01-01T00:00:00Z"}],
        trackingNumbers=[{"carrier": "UPS", "value": "1Z"}],
        devices=[{"id": 1}],
        packedKits=[{"kit": {"id": local_ids.kit}, "devices": []}],
        patient={"id": local_ids.patient},
        orderItems=[line("item", local_ids.item)],
    )

    order = response.json()
    assert response.status_code == 201
    assert order["id"] != 1234567
    assert order["currentStatus"] == "received"
    assert [event["name"] for event in order["orderEvents"]] == ["received"]
    assert order["trackingNumbers"] == order["devices"] == order["packedKits"] == []


def test_creating_an_order_deducts_its_items_and_kit_contents_from_stock(
    local_api, local_ids
) -> None:
    before = testing.stock(local_ids.item)

    local_api.order(
        patient={"id": local_ids.patient},
        orderItems=[line("item", local_ids.item, 3)],
        orderKits=[line("kit", local_ids.kit, 2)],  # the first kit holds one of the first item
    )

    assert testing.stock(local_ids.item) == before - 3 - 2


def test_external_order_ids_can_be_counted_by_reference(local_api, local_ids) -> None:
    body = {"patient": {"id": local_ids.patient}, "orderItems": [line("item", local_ids.item)]}
    local_api.order(**body, externalOrderIds=["OD-AAA111", "other"])
    local_api.order(**body, externalOrderIds=["OD-AAA111"])
    local_api.order(**body, externalOrderIds=["OD-AAA1111"])

    assert testing.orders_with_reference("OD-AAA111") == 2
    assert testing.orders_with_reference("OD-AAA11") == 0
    assert testing.order_count() == 3


def test_the_201_is_the_same_order_a_fetch_then_answers(
    local_api, local_ids, settings, django_assert_max_num_queries
) -> None:
    """The 201 is built from the rows just written, not read back: it must match a read."""
    settings.SANDBOX_STATUS_STEP_SECONDS = 0  # every status reached: devices, packed kits too
    for recipient in ({"patient": {"id": local_ids.patient}}, {"site": {"id": local_ids.site}}):
        # Faults ×2, 4 reads, 3 stock updates, 5 inserts, the request log, and the two
        # transactions' begin and commit (4), on PostgreSQL their SET LOCAL (2): no read-back
        # of the order (it took 7 more).
        with django_assert_max_num_queries(21 if connection.vendor == "postgresql" else 19):
            created = local_api.order(
                **recipient,
                externalOrderIds=["OD-SAME201", "second id"],
                orderItems=[line("item", local_ids.item, 2)],
                orderKits=[line("kit", local_ids.kit, 2)],
                orderNotes=[{"note": "first"}, {"note": "second"}],
                returnItems=[{"item": {"id": local_ids.item}, "count": 1}],
                shippingOption="expedited",
            )
        assert created.status_code == 201, created.content
        body = json.loads(created.content)
        fetched = local_api.get(f"/order/{body['id']}")
        assert body == json.loads(fetched.content)
        assert body["devices"]
        assert body["packedKits"]
