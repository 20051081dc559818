"""Create Site: its body is unpublished, so it is presumed to be the Site model (name, ...)."""

from typing import Any

from orderdesk.sandbox.api import ApiError
from orderdesk.sandbox.models import Site

# JSON field -> (column, its max_length)
ADDRESS_FIELDS = {
    "lineOne": ("line_one", 200),
    "lineTwo": ("line_two", 200),
    "lineThree": ("line_three", 200),
    "city": ("city", 100),
    "state": ("state", 50),
    "zipCode": ("zip_code", 20),
    "country": ("country", 50),
    "note": ("address_note", 200),
}


def create_site(body: object) -> Site:
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object (a Site)")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, "name is required")
    active = body.get("active", True)
    if not isinstance(active, bool):
        raise ApiError(400, "active must be true or false")
    site = Site(
        name=_text(body, "name", 200),
        active=active,
        phone_number=_text(body, "phoneNumber", 40),
    )
    address = body.get("address")
    if address is not None:
        if not isinstance(address, dict):
            raise ApiError(400, "address must be an object")
        for field, (column, limit) in ADDRESS_FIELDS.items():
            setattr(site, column, _text(address, field, limit))
    site.save()
    return site


def _text(data: dict[str, Any], field: str, limit: int) -> str:
    value = data.get(field)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError(400, f"{field} must be text")
    if len(value) > limit:
        raise ApiError(400, f"{field} is longer than {limit} characters")
    return value.strip()
