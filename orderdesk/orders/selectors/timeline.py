"""An order's one timeline: our own events (who, from which state to which, why) merged
with the orderEvents Impilo reports, in time order.

Impilo's timestamps are unpublished in form (docs/impilo.md#the-fields-orderdesk-relies-on):
one that does not parse is kept verbatim and listed after the dated entries, rather than
dropped.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from orderdesk.impilo.types import ImpiloOrder
from orderdesk.orders.engine import status_sync
from orderdesk.orders.models import OrderEvent, State

ORDERDESK, IMPILO = "orderdesk", "Impilo"


@dataclass(frozen=True)
class Entry:
    at: datetime | None
    source: str
    who: str
    text: str
    raw_at: str = ""  # Impilo's timestamp as sent, when it could not be read


def _state_label(value: str) -> str:
    try:
        return str(State(value).label)
    except ValueError:
        return value


def local_entry(event: OrderEvent) -> Entry:
    text = event.reason
    if event.to_state:
        moved = f"{_state_label(event.from_state) if event.from_state else 'New'} → "
        moved += _state_label(event.to_state)
        text = f"{moved}. {event.reason}" if event.reason else moved
    return Entry(at=event.at, source=ORDERDESK, who=event.who, text=text)


def impilo_entries(order: ImpiloOrder | None) -> list[Entry]:
    entries = []
    for event in order.order_events if order else ():
        name = event.name or "(unnamed event)"
        label = status_sync.status_label(event.name)
        at = event.at
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=UTC)  # Impilo's examples are UTC
        entries.append(
            Entry(
                at=at,
                source=IMPILO,
                who=IMPILO,
                text=f"{name} ({label})" if label else name,
                raw_at="" if at else (event.event_timestamp or ""),
            )
        )
    return entries


def merged(events: Iterable[OrderEvent], impilo: ImpiloOrder | None) -> list[Entry]:
    entries = [local_entry(event) for event in events] + impilo_entries(impilo)
    # Stable sort: same-moment entries keep their own order, ours before Impilo's.
    return sorted(entries, key=lambda entry: (entry.at is None, entry.at or datetime.max))
