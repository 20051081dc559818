"""Migrations 0005-0007 move the bodies and headers of existing audit rows into shared
blobs: every row reads back what it held, and identical texts end up stored once."""

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from orderdesk.audit.models import ApiCall, AuditBlob

BEFORE = [("audit", "0004_pendingcall")]
AFTER = [("audit", "0007_drop_inline_bodies")]
BODY = json.dumps({"id": 7, "currentStatus": "shipped"})


def migrate(targets: list[tuple[str, str]]):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_rows_read_the_same_after_their_texts_move_to_blobs() -> None:
    old_apps = migrate(BEFORE)
    old_call = old_apps.get_model("audit", "ApiCall")
    common = {"action": "order_fetch", "method": "GET", "url": "https://impilo.test/o/7",
              "outcome": "ok", "request_body": "", "response_body": BODY}  # fmt: skip
    for n in (1, 2):
        old_call.objects.create(
            request_id=f"r{n}",
            request_headers={"Accept": "application/json", "X-Request-ID": f"r{n}"},
            response_headers={"Date": f"day {n}", "Server": "impilo"},
            **common,
        )
    old_call.objects.create(request_id="r3", request_headers={}, response_headers={},
                            **common | {"response_body": ""})  # fmt: skip
    try:
        migrate(AFTER)
        calls = {call.request_id: call for call in ApiCall.objects.all()}
        assert calls["r2"].response_body == BODY
        assert calls["r2"].request_headers == {"Accept": "application/json", "X-Request-ID": "r2"}
        assert calls["r1"].response_headers == {"Date": "day 1", "Server": "impilo"}
        assert (calls["r3"].response_body, calls["r3"].response_headers) == ("", {})
        assert calls["r1"].response_body_blob_id == calls["r2"].response_body_blob_id
        assert AuditBlob.objects.count() == 3  # the body, one request and one response header set
    finally:
        migrate(AFTER)
