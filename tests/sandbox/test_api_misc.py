"""Kits, sites, the API key, unknown endpoints and the request log, over real HTTP."""

import requests

from orderdesk.sandbox import testing
from orderdesk.sandbox.models import RequestLog


def test_kits_are_listed_with_their_items(api, ids) -> None:
    page = api.get("/kit").json()

    assert page["total"] == 8
    assert [kit["id"] for kit in page["content"]] == list(range(301, 309))
    kit = page["content"][0]
    assert set(kit) == {"id", "name", "archived", "kitItems"}
    assert kit["kitItems"][0]["item"]["manufacturer"]["name"]
    loaner = next(kit for kit in page["content"] if kit["id"] == ids.loaner_kit)
    assert "Loaner" in loaner["name"]
    assert "loaner" not in loaner  # the sandbox's own marker stays inside


def test_kits_can_be_filtered_by_item_and_archived_flag(local_api, local_ids) -> None:
    active = local_api.get("/kit", archived="false").json()
    archived = local_api.get("/kit", archived="true").json()
    with_item = local_api.get("/kit", itemId=local_ids.item).json()

    assert active["total"] == 7
    assert [kit["id"] for kit in archived["content"]] == [local_ids.archived_kit]
    assert with_item["total"] >= 1
    for kit in with_item["content"]:
        assert local_ids.item in [line["item"]["id"] for line in kit["kitItems"]]
    assert local_api.get("/kit", size=3, page=3).json()["last"] is True


def test_creating_a_site_returns_it_with_an_id(api) -> None:
    body = {
        "name": "Zoë's Clinic",
        "phoneNumber": "+12155550199",
        "address": {
            "lineOne": "1 Main St",
            "city": "Media",
            "state": "PA",
            "zipCode": "19063",
            "country": "USA",
        },
    }

    response = api.post("/site", body)

    assert response.status_code == 201
    site = response.json()
    assert site["id"] > 82  # past the seeded ids, on PostgreSQL too
    assert site["name"] == "Zoë's Clinic"
    assert site["active"] is True
    assert site["address"]["lineTwo"] is None
    assert site["address"]["zipCode"] == "19063"
    order = api.order(site={"id": site["id"]}, orderItems=[{"item": {"id": 1001}, "count": 1}])
    assert order.status_code == 201


def test_a_site_needs_a_name(local_api) -> None:
    response = local_api.post("/site", {"address": {"city": "Media"}})

    assert response.status_code == 400
    assert response.json() == {"status": 400, "message": "name is required"}


def test_endpoints_the_sandbox_does_not_have_are_a_json_404(api) -> None:
    for path in ("/site", "/item", "/patient/48001", "/order/abc", "/order/"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["status"] == 404


def test_a_method_the_sandbox_does_not_serve_is_a_404_too(api) -> None:
    response = api.session.delete(api.base + "/order", timeout=5)

    assert response.status_code == 404
    assert response.json() == {
        "status": 404,
        "message": "No sandbox endpoint for DELETE /sandbox/impilo/api/v3/order",
    }


def test_a_missing_or_wrong_key_is_a_401_and_creates_nothing(api, ids) -> None:
    body = {"patient": {"id": ids.patient}, "orderItems": [{"item": {"id": ids.item}, "count": 1}]}
    anonymous = requests.post(api.base + "/order", json=body, timeout=5)
    wrong = requests.get(api.base + "/patient", headers={"Impilo-API-Key": "nope"}, timeout=5)
    unknown = requests.get(api.base + "/unknown", timeout=5)

    for response in (anonymous, wrong, unknown):
        assert response.status_code == 401
        assert response.json() == {
            "status": 401,
            "message": "Missing or invalid Impilo-API-Key header",
        }
    assert testing.order_count() == 0


def test_every_api_request_leaves_a_log_row(api, ids) -> None:
    api.get("/patient", size=1)
    api.get("/order/424242")
    requests.get(api.base + "/kit", timeout=5)
    api.post(
        "/order",
        {"patient": {"id": ids.patient}, "orderItems": [{"item": {"id": ids.item}, "count": 1}]},
    )

    rows = list(RequestLog.objects.values_list("method", "path", "query", "status"))
    assert rows == [
        ("GET", "/sandbox/impilo/api/v3/patient", "size=1", 200),
        ("GET", "/sandbox/impilo/api/v3/order/424242", "", 404),
        ("GET", "/sandbox/impilo/api/v3/kit", "", 401),
        ("POST", "/sandbox/impilo/api/v3/order", "", 201),
    ]
    assert testing.requests_received() == 4
    assert testing.requests_received(method="post") == 1
    assert testing.requests_received(path_contains="/order") == 2
