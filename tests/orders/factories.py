"""Small builders for order tests: catalog rows and a remembered patient choice."""

from orderdesk.catalog.models import Item, Kit, Site
from orderdesk.orders.forms import LineRow
from orderdesk.orders.patients import PatientChoice


def catalog() -> dict[str, object]:
    return {
        "item": Item.objects.get_or_create(
            impilo_id=1001, defaults=dict(name="BP Monitor", orderable=True)
        )[0],
        "item2": Item.objects.get_or_create(
            impilo_id=1002, defaults=dict(name="Scale", orderable=True)
        )[0],
        "blocked": Item.objects.get_or_create(
            impilo_id=1003, defaults=dict(name="Prototype", orderable=False)
        )[0],
        "kit": Kit.objects.get_or_create(impilo_id=311, defaults=dict(name="Starter Kit"))[0],
        "loaner": Kit.objects.get_or_create(
            impilo_id=312, defaults=dict(name="Loaner Kit", is_loaner=True)
        )[0],
        "loaner2": Kit.objects.get_or_create(
            impilo_id=313, defaults=dict(name="Loaner Kit B", is_loaner=True)
        )[0],
        "site": Site.objects.get_or_create(
            impilo_id=77, defaults=dict(name="Center City Cardiology", city="Philly")
        )[0],
        "closed_site": Site.objects.get_or_create(
            impilo_id=78, defaults=dict(name="Closed Clinic", active=False)
        )[0],
    }


def patient(**overrides: object) -> PatientChoice:
    values: dict[str, object] = {
        "id": 48213,
        "name": "Maria Lopez",
        "date_of_birth": "1957-03-14",
        "external_id": "crm-000482",
        "site_name": "Center City Cardiology",
        "city": "Philadelphia",
        "archived": False,
        "enrolled": True,
    }
    values.update(overrides)
    return PatientChoice(**values)  # type: ignore[arg-type]


def order_post(**overrides: object) -> dict[str, object]:
    """A valid New order POST for a patient, with one item line."""
    data: dict[str, object] = {
        "action": "submit",
        "form_token": "7b0c5f8e-31a4-4a51-9a3c-2b1f0f3f0c11",
        "recipient_type": "patient",
        "patient": patient().remember(),
        "site": "",
        "external_ids": "",
        "line-kind": ["item"],
        "line-id": ["1001"],
        "line-count": ["2"],
    }
    data.update(overrides)
    return data


def line(kind: str, impilo_id: int, name: str = "Item", count: int = 1) -> LineRow:
    """A validated order line, as the form hands it to services."""
    return LineRow(
        kind=kind,
        raw_id=str(impilo_id),
        raw_count=str(count),
        impilo_id=impilo_id,
        name=name,
        count=count,
    )


def make_order(user, state: str = "failed", **fields):
    """An order already in `state`, with one item line, as the pipeline would leave it."""
    from orderdesk.orders.models import Order, OrderLine

    values = {
        "created_by": user,
        "state": state,
        "recipient_type": "patient",
        "patient_impilo_id": 48213,
        "patient_name": "Maria Lopez",
        "attempts": 8,
        "attempt_limit": 8,
        "last_error": "Impilo is not answering (503)",
        "last_error_kind": "ImpiloAmbiguous",
    }
    values.update(fields)
    order = Order.objects.create(**values)
    OrderLine.objects.create(order=order, kind="item", impilo_id=1001, name="BP Monitor", count=2)
    return order
