"""CSV export of the Orders list: admins only, the list's filters, formula-safe cells, and a
stream whose memory does not grow with the number of orders."""

import csv
import gc
import io
import tracemalloc
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Max
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from orderdesk.orders.models import Order, State
from orderdesk.orders.selectors.csv_export import safe_cell
from tests.orders.orders_data import make_order

EXPORT = reverse("orders:export")


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_login() -> None:
    response = Client().get(EXPORT)
    assert response.status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("client_name", ["coordinator_client", "support_client"])
def test_only_admins_may_export(request, client_name) -> None:
    response = request.getfixturevalue(client_name).get(EXPORT)
    assert response.status_code == 403


@pytest.mark.django_db
def test_export_has_a_header_and_one_row_per_matching_order(admin_user, admin_client_) -> None:
    failed = make_order(admin_user, state=State.FAILED, lines=2, external_ids=["CRM-1"])
    make_order(admin_user)
    response = admin_client_.get(EXPORT + "?state=failed")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="orders-')
    header, *rows = read_csv(response)
    assert header[0] == "Reference"
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert row["Reference"] == failed.reference
    assert row["State"] == "Failed"
    assert row["Created by"] == "admin"
    assert row["External order ids"] == "CRM-1"
    assert row["Lines"] == "1 × Item 0; 1 × Item 1"


@pytest.mark.django_db
def test_export_ignores_the_page_position(admin_user, admin_client_) -> None:
    make_order(admin_user)
    for position in ("cursor", "before"):
        response = admin_client_.get(f"{EXPORT}?{position}=anything")
        assert len(read_csv(response)) == 2


@pytest.mark.django_db
def test_cells_that_a_spreadsheet_would_run_are_made_text(admin_user, admin_client_) -> None:
    make_order(admin_user, patient_name='=HYPERLINK("http://evil.test","Click")')
    make_order(admin_user, patient_name="@SUM(A1)", external_ids=["+1", "-2"])
    header, *rows = read_csv(admin_client_.get(EXPORT + "?sort=created"))
    recipient = header.index("Recipient")
    assert rows[0][recipient] == '\'=HYPERLINK("http://evil.test","Click")'
    assert rows[1][recipient] == "'@SUM(A1)"
    assert rows[1][header.index("External order ids")] == "'+1; -2"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Maria", "Maria"),
        ("", ""),
        (None, ""),
        (905512, "905512"),
    ],
)
def test_safe_cell(value, expected) -> None:
    assert safe_cell(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        " =1+1",  # spreadsheets skip leading spaces
        "   +1",
        "\u3000@x",  # an ideographic space first
        '＝HYPERLINK("http://x")',  # full-width equals
        "＋1",
        "－1",
        "＠SUM(A1)",
        " ＝1",
        "﹦1",  # small equals sign
        "\nx",
    ],
)
def test_safe_cell_guards_formulas_behind_spaces_and_in_full_width(value) -> None:
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Maria = Mary", "ＡＢＣ", " Maria", "x-1"])
def test_safe_cell_leaves_other_text_alone(value) -> None:
    assert safe_cell(value) == value


def clone_orders(times: int) -> None:
    """Double the orders table `times` times in SQL (one statement each, both databases):
    bulk_create of 100,000 model instances would take most of a minute on SQLite."""
    columns = [f.column for f in Order._meta.concrete_fields if not f.primary_key]
    table = connection.ops.quote_name(Order._meta.db_table)
    for _ in range(times):
        # Above every id and Impilo id so far: new numbers cannot collide with old ones.
        top = Order.objects.aggregate(a=Max("id"), b=Max("impilo_id"))
        offset = max(top["a"] or 0, top["b"] or 0)
        number = f"(id + {offset})"
        picked = []
        for column in columns:
            if column == "reference":
                picked.append(f"'OD-C' || CAST({number} AS VARCHAR(12))")
            elif column == "impilo_id":
                picked.append(number)
            elif column == "patient_name":
                picked.append(f"'Patient number ' || CAST({number} AS VARCHAR(12))")
            else:
                picked.append(connection.ops.quote_name(column))
        names = ", ".join(connection.ops.quote_name(column) for column in columns)
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT {', '.join(picked)} FROM {table}")  # noqa: S608


@pytest.mark.django_db
def test_export_of_100000_orders_streams_with_flat_memory(admin_user, admin_client_) -> None:
    """Measured, not timed: the peak while streaming stays flat, far below the file's size."""
    start = timezone.now() - timedelta(days=1)
    Order.objects.bulk_create(
        Order(
            recipient_type="patient",
            patient_impilo_id=n,
            patient_name=f"Patient number {n}",
            state=State.SUBMITTED,
            created_by=admin_user,
            created_at=start + timedelta(milliseconds=n),
            impilo_id=n + 1,
            impilo_status="shipped",
            external_ids=[f"CRM-{n}"],
            reference=f"OD-{n:08d}",
        )
        for n in range(3125)
    )
    clone_orders(5)  # 3,125 × 2^5 = 100,000
    assert Order.objects.count() == 100_000
    gc.collect()

    response = admin_client_.get(EXPORT)
    tracemalloc.start()
    try:
        rows = size = 0
        peaks: list[int] = []
        for chunk in response.streaming_content:
            size += len(chunk)
            rows += chunk.count(b"\n")
            if rows >= 10_000 and not peaks:
                peaks.append(tracemalloc.get_traced_memory()[1])  # after the first 10%
        peaks.append(tracemalloc.get_traced_memory()[1])
    finally:
        tracemalloc.stop()
    assert rows == 100_001
    assert size > 10_000_000
    early, overall = peaks
    assert overall < size / 4, f"peak {overall} bytes while streaming {size} bytes"
    assert overall < early * 1.5, f"memory grew: {early} after 10,000 rows, {overall} at the end"
