"""What orderdesk sends to Impilo for an order: built from the order's own snapshot only,
so every attempt of one order version sends the same body and the same reference."""

from orderdesk.impilo.client import CreateOrderRequest
from orderdesk.orders.models import LineKind, Order, RecipientType


def build_request(order: Order) -> CreateOrderRequest:
    lines = list(order.lines.all())
    is_patient = order.recipient_type == RecipientType.PATIENT
    return CreateOrderRequest(
        patient_id=order.patient_impilo_id if is_patient else None,
        site_id=None if is_patient else order.site_impilo_id,
        items=[(line.impilo_id, line.count) for line in lines if line.kind == LineKind.ITEM],
        kits=[(line.impilo_id, line.count) for line in lines if line.kind == LineKind.KIT],
        # Our reference always first: it is how an ambiguous attempt is found again.
        external_order_ids=[order.reference, *order.external_ids],
    )
