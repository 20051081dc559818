import uuid

import pytest
from django.db import connection
from django.test import Client
from django_tasks_db.models import DBTaskResult

from orderdesk.orders.models import Order, OrderEvent, State
from tests.orders.factories import catalog, order_post, patient
from tests.support.threads import run_together

pytestmark = pytest.mark.django_db

NEW = "/orders/new/"


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get(NEW)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/orders/new/")


def test_a_user_without_a_role_gets_403_naming_the_role(make_user) -> None:
    client = Client()
    client.force_login(make_user("", username="norole"))
    response = client.get(NEW)
    assert response.status_code == 403
    assert b"coordinator or support or admin" in response.content


def test_the_new_order_page_shows_the_form_with_a_one_time_token(coordinator_client) -> None:
    catalog()
    response = coordinator_client.get(NEW)
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "Ship to",
        "Search patients",
        "Add item",
        "Add kit",
        "Submit order",
        "Save draft",
        "External order IDs",
        "BP Monitor",
        "Center City Cardiology",
    ):
        assert text in html
    assert "Prototype" not in html  # not orderable
    assert "Closed Clinic" not in html  # site switched off
    assert 'name="form_token"' in html


def test_submitting_a_valid_order_queues_it_with_its_task_and_redirects(
    coordinator_client, coordinator
) -> None:
    catalog()
    response = coordinator_client.post(NEW, order_post(external_ids="PO-1\nPO-2"))
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.reference}/"
    assert order.state == State.QUEUED
    assert order.created_by == coordinator
    assert order.patient_name == "Maria Lopez"
    assert order.external_ids == ["PO-1", "PO-2"]
    assert [(line.name, line.count) for line in order.lines.all()] == [("BP Monitor", 2)]
    assert DBTaskResult.objects.filter(status="READY").count() == 1
    assert list(OrderEvent.objects.values_list("to_state", flat=True)) == ["draft", "queued"]


def test_a_site_order_is_saved_with_the_site_snapshot(coordinator_client) -> None:
    catalog()
    coordinator_client.post(
        NEW,
        order_post(
            recipient_type="site",
            patient="",
            site="77",
            **{"line-kind": ["kit"], "line-id": ["311"]},
        ),
    )
    order = Order.objects.get()
    assert (order.site_impilo_id, order.site_name, order.recipient_city) == (
        77,
        "Center City Cardiology",
        "Philly",
    )
    assert order.patient_impilo_id is None


def test_the_same_form_token_twice_creates_one_order(coordinator_client) -> None:
    catalog()
    first = coordinator_client.post(NEW, order_post())
    second = coordinator_client.post(NEW, order_post())
    assert Order.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_save_draft_keeps_the_order_unsent_and_editable(coordinator_client) -> None:
    catalog()
    response = coordinator_client.post(NEW, order_post(action="draft"))
    order = Order.objects.get()
    assert order.state == State.DRAFT
    assert response["Location"] == f"/orders/{order.reference}/edit/"
    assert not DBTaskResult.objects.exists()
    page = coordinator_client.get(response["Location"])
    assert b"Maria Lopez" in page.content
    edited = order_post(**{"line-count": ["5"]})
    coordinator_client.post(response["Location"], edited)
    order.refresh_from_db()
    assert order.state == State.QUEUED
    assert order.lines.get().count == 5


def test_invalid_input_rerenders_with_errors_and_keeps_what_was_typed(coordinator_client) -> None:
    catalog()
    response = coordinator_client.post(
        NEW, order_post(external_ids="KEEP-ME\nbad\x01", **{"line-count": ["abc"]})
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Count must be a whole number from 1 to 100." in html
    assert "control characters" in html
    assert "KEEP-ME" in html
    assert 'value="abc"' in html
    assert "Maria Lopez" in html  # the chosen patient stays chosen
    assert not Order.objects.exists()


def test_adding_and_removing_lines_without_javascript(coordinator_client) -> None:
    catalog()
    added = coordinator_client.post(NEW, order_post(action="add_kit"))
    assert added.content.decode().count("data-line") == 2
    assert not Order.objects.exists()
    removed = coordinator_client.post(
        NEW,
        order_post(
            action="remove-0",
            **{"line-kind": ["item", "kit"], "line-id": ["1001", "311"], "line-count": ["1", "1"]},
        ),
    )
    html = removed.content.decode()
    assert html.count("data-line") == 1
    assert 'value="311" selected' in html


def test_the_htmx_line_row_is_a_fragment(coordinator_client) -> None:
    catalog()
    response = coordinator_client.get("/orders/new/line/?kind=kit", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "Starter Kit" in html
    assert "data-line" in html
    bad = coordinator_client.get("/orders/new/line/?kind=<script>")
    assert bad.status_code == 400


def test_the_patient_card_refuses_a_forged_reference(coordinator_client) -> None:
    chosen = patient()
    good = coordinator_client.post(
        "/orders/new/patient-card/", {"action": f"choose:{chosen.remember()}"}
    )
    assert b"Maria Lopez" in good.content
    assert b"Change patient" in good.content
    for forged in ("x:y:z", "A" * 22 + ".0", "A" * 5000):
        refused = coordinator_client.post(
            "/orders/new/patient-card/", {"action": f"choose:{forged}"}
        )
        assert refused.status_code == 400
        assert b"search for them again" in refused.content


def test_the_chosen_patient_travels_as_an_opaque_reference(coordinator_client) -> None:
    """The hidden field and the card's requests carry no name, birth date or identifier."""
    chosen = patient()
    ref = chosen.remember()
    card = coordinator_client.post("/orders/new/patient-card/", {"action": f"choose:{ref}"})
    html = card.content.decode()
    assert f'name="patient" value="{ref}"' in html
    for value in (chosen.name, chosen.date_of_birth, chosen.external_id, chosen.city):
        assert value not in ref
    assert "?token=" not in html


def test_the_picker_refuses_searches_and_choices_in_the_address(coordinator_client) -> None:
    """GET would put the search text or the patient in the URL: only POST is answered."""
    search = coordinator_client.get("/orders/new/patients/", {"patient_query": "Lopez"})
    card = coordinator_client.get("/orders/new/patient-card/", {"token": patient().remember()})
    assert (search.status_code, card.status_code) == (405, 405)


def test_a_post_without_a_csrf_token_is_refused(coordinator) -> None:
    catalog()
    client = Client(enforce_csrf_checks=True)
    client.force_login(coordinator)
    assert client.post(NEW, order_post()).status_code == 403
    assert not Order.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_submissions_of_one_form_create_one_order(coordinator) -> None:
    catalog()
    data = order_post(form_token=str(uuid.uuid4()))

    def submit(_: int) -> str:
        client = Client()
        client.force_login(coordinator)
        return client.post(NEW, data)["Location"]

    locations = run_together(submit, 20)
    assert Order.objects.count() == 1
    assert len(locations) == 20
    assert len(set(locations)) == 1
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_twin_submissions_of_one_form_make_no_statement_fail_at_the_database(
    coordinator,
) -> None:
    """A statement that fails is written to PostgreSQL's server log with its values: a
    duplicate order INSERT would put the patient's name there. The twins must not try it."""
    catalog()
    data = order_post(form_token=str(uuid.uuid4()))
    failed: list[str] = []

    def record_failures(execute, sql, params, many, context):
        try:
            return execute(sql, params, many, context)
        except Exception:
            failed.append(f"{sql} {params}")
            raise

    def submit(_: int) -> int:
        client = Client()
        client.force_login(coordinator)
        with connection.execute_wrapper(record_failures):
            return client.post(NEW, data).status_code

    # Collected here and checked below: an assert inside a thread is only a warning.
    statuses = run_together(submit, 20)
    assert statuses == [302] * 20
    assert Order.objects.count() == 1
    assert Order.objects.get().patient_name == "Maria Lopez"
    assert failed == []
