"""Sentences for people. Impilo's own words stay on the error as raw_message.

The 400 messages are the ones Impilo documents for order creation
(docs/impilo.md#the-documented-rejection-messages); clients may match on them, so they are
quoted exactly (compared without case or surrounding space).
"""

import re

# (Impilo's message, what we tell a coordinator)
REJECTIONS: list[tuple[str, str]] = [
    (
        "Order must contain at least one of: orderItems, orderKits, returnItems, "
        "returnDevices, or returnPackedKits",
        "The order has nothing in it: add at least one item or kit.",
    ),
    (
        "shippingOption is required when emailLabel is false and return items are included",
        "Choose a shipping option: Impilo needs one when the order includes returns.",
    ),
    ("patient or site required", "Choose a patient or a site to ship the order to."),
    ("insufficient_inventory", "Impilo has not enough stock to fill this order."),
    (
        "Order contains Items that are marked as non-orderable. Order cannot be placed.",
        "Some items in this order cannot be ordered at the moment (Impilo marks them "
        "non-orderable). Remove them and send the order again.",
    ),
    (
        "item_not_orderable",
        "Some items in this order cannot be ordered at the moment (Impilo marks them "
        "non-orderable). Remove them and send the order again.",
    ),
    ("max_one_loaner_kit", "An order may contain at most one loaner kit."),
    ("qty_over_one_loaner_kit", "A loaner kit can only be ordered with a count of 1."),
    ("no_returns_with_loaner_kit", "An order with a loaner kit cannot also include returns."),
    ("no_loaner_kit_to_site", "Loaner kits can only be shipped to patients, not to sites."),
]

# Only the start of this one is published; match it as a prefix.
RETURN_DEVICE_PREFIX = "Device cannot be included both as a return device and in a pa"
RETURN_DEVICE_TEXT = "A device cannot be both a return device and part of a returned packed kit."

_BY_TEXT = {raw.strip().lower(): text for raw, text in REJECTIONS}
# The snake_case codes may arrive wrapped in a longer text ("Validation failed: ...").
_CODES = [
    (re.compile(rf"\b{re.escape(raw)}\b", re.IGNORECASE), text)
    for raw, text in REJECTIONS
    if re.fullmatch(r"[a-z_]+", raw)
]

REJECTED_UNEXPLAINED = "Impilo refused the request (HTTP {status}) without saying why."
REJECTED_VERBATIM = "Impilo refused the request: {raw}"
AUTH_401 = (
    "Impilo did not accept orderdesk's API key (it may be wrong, deactivated or expired). "
    "An administrator must update IMPILO_API_KEY."
)
AUTH_403 = (
    "Impilo accepted orderdesk's API key but refused access to this (HTTP 403). "
    "An administrator should check the key's permissions in the Impilo portal."
)
NOT_FOUND = "Impilo has no such record (HTTP 404)."
RATE_LIMITED = "Impilo asks orderdesk to slow down; it will try again in {seconds} seconds."
UNAVAILABLE = "Impilo could not be reached ({why}). Nothing was sent to Impilo."
AMBIGUOUS_CREATE = (
    "Impilo did not answer clearly ({why}). The order may or may not have been created; "
    "orderdesk checks Impilo before sending it again."
)
AMBIGUOUS_READ = "Impilo did not answer clearly ({why}). Try again in a moment."


def rejection_text(raw: str, status: int | None) -> str:
    """A plain sentence for a documented message; anything else shown verbatim."""
    cleaned = raw.strip()
    if not cleaned:
        return REJECTED_UNEXPLAINED.format(status=status or "4xx")
    known = _BY_TEXT.get(cleaned.lower())
    if known:
        return known
    if cleaned.lower().startswith(RETURN_DEVICE_PREFIX.lower()):
        return RETURN_DEVICE_TEXT
    for pattern, text in _CODES:
        if pattern.search(cleaned):
            return text
    return REJECTED_VERBATIM.format(raw=cleaned)
