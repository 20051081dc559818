"""Impilo's objects as orderdesk reads them (docs/impilo.md#the-fields-orderdesk-relies-on),
parsed tolerantly.

Impilo marks almost every field nullable and publishes no status vocabulary, so every
parser here accepts a missing, null or mistyped field as None (lists as empty), ignores
fields it does not know, and keeps status strings verbatim. Parsing never
raises on a JSON object: whether a reply is usable at all (a JSON object, a page with a
content list, an order with an id) is decided by the session, before these run.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Generic, Protocol, Self, TypeVar

JSON = dict[str, Any]


# --- Field readers: the wrong type becomes None, never an exception ----------------------


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())  # 64-bit ids sometimes travel as strings
    return None


as_int = _int


def _str(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # e.g. a zip code sent as a number
    return None


def _bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _strs(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(text for text in (_str(item) for item in value) if text is not None)


class _Parsable(Protocol):
    @classmethod
    def from_json(cls, data: JSON) -> Self: ...


P = TypeVar("P", bound=_Parsable)


def _obj(value: object, cls: type[P]) -> P | None:
    return cls.from_json(value) if isinstance(value, dict) else None


def _list(value: object, cls: type[P]) -> tuple[P, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(cls.from_json(item) for item in value if isinstance(item, dict))


def parse_date(value: object) -> date | str | None:
    """YYYY-MM-DD, or a timestamp whose date part is that; any other text kept as is
    (older docs show "01-01-2000", which could be day- or month-first)."""
    text = _str(value)
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 and text[4] == "-" else text
    except ValueError:
        return text


def parse_timestamp(value: object) -> datetime | None:
    """ISO-8601 (Impilo's examples use it; nothing guarantees it): None if it is not."""
    text = _str(value)
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return None


# --- Objects ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    line_one: str | None = None
    line_two: str | None = None
    line_three: str | None = None
    city: str | None = None
    state: str | None = None
    zip_code: str | None = None
    country: str | None = None
    note: str | None = None

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            line_one=_str(data.get("lineOne")),
            line_two=_str(data.get("lineTwo")),
            line_three=_str(data.get("lineThree")),
            city=_str(data.get("city")),
            state=_str(data.get("state")),
            zip_code=_str(data.get("zipCode")),
            country=_str(data.get("country")),
            note=_str(data.get("note")),
        )

    @property
    def one_line(self) -> str:
        parts = [self.line_one, self.line_two, self.line_three, self.city, self.state]
        parts += [self.zip_code, self.country]
        return ", ".join(part for part in parts if part)


@dataclass(frozen=True)
class Site:
    id: int | None = None
    name: str | None = None
    active: bool | None = None
    phone_number: str | None = None
    address: Address | None = None

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            id=_int(data.get("id")),
            name=_str(data.get("name")),
            active=_bool(data.get("active")),
            phone_number=_str(data.get("phoneNumber")),
            address=_obj(data.get("address"), Address),
        )


@dataclass(frozen=True)
class Patient:
    id: int | None = None
    external_identifier: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    date_of_birth: date | str | None = None  # a date when it parses, else Impilo's text
    email: str | None = None
    phone_number: str | None = None
    archived: bool | None = None
    address: Address | None = None
    site: Site | None = None
    enrolled: bool | None = None
    sex: str | None = None

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            id=_int(data.get("id")),
            external_identifier=_str(data.get("externalIdentifier")),
            first_name=_str(data.get("firstName")),
            last_name=_str(data.get("lastName")),
            date_of_birth=parse_date(data.get("dateOfBirth")),
            email=_str(data.get("email")),
            phone_number=_str(data.get("phoneNumber")),
            archived=_bool(data.get("archived")),
            address=_obj(data.get("address"), Address),
            site=_obj(data.get("site"), Site),
            enrolled=_bool(data.get("enrolled")),
            sex=_str(data.get("sex")),
        )

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True)
class Manufacturer:
    id: int | None = None
    name: str | None = None

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(id=_int(data.get("id")), name=_str(data.get("name")))


@dataclass(frozen=True)
class Item:
    id: int | None = None
    manufacturer: Manufacturer | None = None
    name: str | None = None
    model: str | None = None
    sku: str | None = None
    orderable: bool | None = None

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            id=_int(data.get("id")),
            manufacturer=_obj(data.get("manufacturer"), Manufacturer),
            name=_str(data.get("name")),
            model=_str(data.get("model")),
            sku=_str(data.get("sku")),
            orderable=_bool(data.get("orderable")),
        )


@dataclass(frozen=True)
class KitItem:
    item: Item | None = None
    count: int | None = None

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(item=_obj(data.get("item"), Item), count=_int(data.get("count")))


@dataclass(frozen=True)
class Kit:
    id: int | None = None
    name: str | None = None
    archived: bool | None = None
    kit_items: tuple[KitItem, ...] = ()

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            id=_int(data.get("id")),
            name=_str(data.get("name")),
            archived=_bool(data.get("archived")),
            kit_items=_list(data.get("kitItems"), KitItem),
        )


@dataclass(frozen=True)
class OrderLineItem:
    item: Item | None = None
    count: int | None = None

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(item=_obj(data.get("item"), Item), count=_int(data.get("count")))


@dataclass(frozen=True)
class OrderLineKit:
    kit: Kit | None = None
    count: int | None = None

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(kit=_obj(data.get("kit"), Kit), count=_int(data.get("count")))


@dataclass(frozen=True)
class OrderEvent:
    name: str | None = None  # verbatim: unpublished vocabulary (docs/impilo.md#order-statuses)
    event_timestamp: str | None = None

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(name=_str(data.get("name")), event_timestamp=_str(data.get("eventTimestamp")))

    @property
    def at(self) -> datetime | None:
        return parse_timestamp(self.event_timestamp)


@dataclass(frozen=True)
class OrderNote:
    note: str | None = None
    created_at: str | None = None
    created_by: str | None = None  # "First Last" or the e-mail of whoever wrote it

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        author = data.get("createdBy")
        name = None
        if isinstance(author, dict):
            parts = [_str(author.get("firstName")), _str(author.get("lastName"))]
            name = " ".join(part for part in parts if part) or _str(author.get("email"))
        return cls(
            note=_str(data.get("note")), created_at=_str(data.get("createdAt")), created_by=name
        )


@dataclass(frozen=True)
class TrackingNumber:
    carrier: str | None = None
    value: str | None = None

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(carrier=_str(data.get("carrier")), value=_str(data.get("value")))


@dataclass(frozen=True)
class DeviceIdentifier:
    type: str | None = None
    value: str | None = None

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(type=_str(data.get("type")), value=_str(data.get("value")))


@dataclass(frozen=True)
class Device:
    id: int | None = None
    item: Item | None = None
    current_status: str | None = None
    used: bool | None = None
    current_patient: Patient | None = None
    site: Site | None = None
    last_health_check: str | None = None
    device_identifiers: tuple[DeviceIdentifier, ...] = ()
    external_identifier: str | None = None
    disabled_readings: bool | None = None

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            id=_int(data.get("id")),
            item=_obj(data.get("item"), Item),
            current_status=_str(data.get("currentStatus")),
            used=_bool(data.get("used")),
            current_patient=_obj(data.get("currentPatient"), Patient),
            site=_obj(data.get("site"), Site),
            last_health_check=_str(data.get("lastHealthCheck")),
            device_identifiers=_list(data.get("deviceIdentifiers"), DeviceIdentifier),
            external_identifier=_str(data.get("externalIdentifier")),
            disabled_readings=_bool(data.get("disabledReadings")),
        )

    @property
    def serial(self) -> str | None:
        for identifier in self.device_identifiers:
            if identifier.type == "serial" and identifier.value:
                return identifier.value
        return None


@dataclass(frozen=True)
class PackedKit:
    kit: Kit | None = None
    devices: tuple[Device, ...] = ()

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(kit=_obj(data.get("kit"), Kit), devices=_list(data.get("devices"), Device))


@dataclass(frozen=True)
class ImpiloOrder:
    id: int | None = None
    external_order_ids: tuple[str, ...] = ()
    patient: Patient | None = None
    site: Site | None = None
    current_status: str | None = None  # verbatim (docs/impilo.md#order-statuses)
    order_items: tuple[OrderLineItem, ...] = ()
    order_kits: tuple[OrderLineKit, ...] = ()
    order_events: tuple[OrderEvent, ...] = ()
    order_notes: tuple[OrderNote, ...] = ()
    tracking_numbers: tuple[TrackingNumber, ...] = ()
    devices: tuple[Device, ...] = ()
    packed_kits: tuple[PackedKit, ...] = ()
    shipping_option: str | None = None
    email_label: bool | None = None
    # The object exactly as Impilo sent it, to store (Order.impilo_order) and show.
    raw: JSON = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_json(cls, data: JSON) -> Self:
        return cls(
            id=_int(data.get("id")),
            external_order_ids=_strs(data.get("externalOrderIds")),
            patient=_obj(data.get("patient"), Patient),
            site=_obj(data.get("site"), Site),
            current_status=_str(data.get("currentStatus")),
            order_items=_list(data.get("orderItems"), OrderLineItem),
            order_kits=_list(data.get("orderKits"), OrderLineKit),
            order_events=_list(data.get("orderEvents"), OrderEvent),
            order_notes=_list(data.get("orderNotes"), OrderNote),
            tracking_numbers=_list(data.get("trackingNumbers"), TrackingNumber),
            devices=_list(data.get("devices"), Device),
            packed_kits=_list(data.get("packedKits"), PackedKit),
            shipping_option=_str(data.get("shippingOption")),
            email_label=_bool(data.get("emailLabel")),
            raw=data,
        )


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list (docs/impilo.md#paging). Pages start at 1.

    skipped counts entries of content that were not JSON objects: a caller looking for
    one order must not conclude it is absent from a page that had unreadable entries.
    """

    content: tuple[T, ...] = ()
    page: int | None = None
    size: int | None = None
    total: int | None = None
    first: bool | None = None
    last: bool | None = None
    skipped: int = 0

    @classmethod
    def from_json(cls, data: JSON, parse: type[P]) -> "Page[P]":
        entries = data.get("content")
        entries = entries if isinstance(entries, list) else []
        objects = [entry for entry in entries if isinstance(entry, dict)]
        return Page(
            content=tuple(parse.from_json(entry) for entry in objects),
            page=_int(data.get("page")),
            size=_int(data.get("size")),
            total=_int(data.get("total")),
            first=_bool(data.get("first")),
            last=_bool(data.get("last")),
            skipped=len(entries) - len(objects),
        )
