"""The HTTP shape of every Impilo call orderdesk makes: one typed method per endpoint.

Each method names the endpoint it calls, described in docs/impilo.md#endpoints-orderdesk-calls.
Failures arrive as ImpiloError subclasses (errors.py), raised by the session after it has
written the call's audit row.

Usage:
    client = ImpiloClient(actor=request.user)            # or order=..., attempt=...
    page = client.search_patients(name="Lopez")

Never call these inside transaction.atomic(): the session refuses (see session.py).

Each thread keeps one ImpiloSession (thread_session()), so a worker draining a backlog
reuses its kept-alive connection instead of opening one per order.
"""

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import requests
from django.conf import settings

from orderdesk.audit.actions import Action
from orderdesk.impilo.session import AuditContext, ImpiloSession, ShapeCheck
from orderdesk.impilo.types import JSON, ImpiloOrder, Kit, Page, Patient, as_int

MAX_PAGE_SIZE = 250  # Impilo's maximum (docs/impilo.md#paging)
Params = list[tuple[str, str]]
# A kept-alive connection is reused only this soon after the thread's last call. A server
# closes idle ones (gunicorn after 2 s, load balancers after a minute or so); had it done so
# just as we sent on it, a POST would be lost in a way we must treat as ambiguous.
IDLE_SECONDS = 1.0


class _ThreadSession(threading.local):
    session: ImpiloSession | None = None
    last_used = 0.0


_local = _ThreadSession()


def thread_session() -> ImpiloSession:
    """This thread's session, with no cookies from an earlier client: each client starts
    as it would with a session of its own."""
    if _local.session is None:
        _local.session = ImpiloSession()
    _local.session.cookies.clear()
    return _local.session


def _drop_idle_connections(session: ImpiloSession) -> None:
    if time.monotonic() - _local.last_used > IDLE_SECONDS:
        session.close()  # closes the pooled connections; the session stays usable


def close_thread_session() -> None:
    """Close this thread's connections; the next client starts a new session."""
    if _local.session is not None:
        _local.session.close()
        _local.session = None


@dataclass(frozen=True)
class CreateOrderRequest:
    """What orderdesk asks Impilo to ship (docs/impilo.md#create-order): a patient or a site."""

    patient_id: int | None
    site_id: int | None
    items: list[tuple[int, int]]  # (item id, count)
    kits: list[tuple[int, int]]  # (kit id, count)
    external_order_ids: list[str]
    shipping_option: str = "standard"
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> JSON:
        """Exactly the documented body. Server-managed fields (id, currentStatus,
        orderEvents, ...) are never sent; a recipient given as None is left out, so
        Impilo's own "patient or site required" check still speaks for itself."""
        body: JSON = {}
        if self.patient_id is not None:
            body["patient"] = {"id": self.patient_id}
        if self.site_id is not None:
            body["site"] = {"id": self.site_id}
        if self.items:
            body["orderItems"] = [{"item": {"id": i}, "count": n} for i, n in self.items]
        if self.kits:
            body["orderKits"] = [{"kit": {"id": k}, "count": n} for k, n in self.kits]
        body["externalOrderIds"] = list(self.external_order_ids)
        body["shippingOption"] = self.shipping_option
        if self.notes:
            body["orderNotes"] = [{"note": note} for note in self.notes]
        return body


def payload_json(request: CreateOrderRequest) -> str:
    """The exact text create_order() sends, to show and to keep with the order."""
    return json.dumps(request.to_json(), ensure_ascii=False)


class ImpiloClient:
    """One per unit of work; actor, order and attempt go on every call's audit row."""

    def __init__(
        self,
        *,
        actor: Any = None,
        order: Any = None,
        attempt: int | None = None,
        base_url: str | None = None,
    ) -> None:
        self.actor = actor
        self.order = order
        self.attempt = attempt
        self.base_url = (base_url or settings.IMPILO_BASE_URL).rstrip("/")
        self.session = thread_session()

    def __enter__(self) -> "ImpiloClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """The session is the thread's, kept for its next client (close_thread_session())."""

    # --- Orders ---------------------------------------------------------------------------

    def create_order(self, request: CreateOrderRequest) -> ImpiloOrder:
        # Reference: docs/impilo.md#create-order (POST /api/v3/order → 201 Order)
        data = self._call(
            Action.ORDER_CREATE, "POST", "/api/v3/order", body=payload_json(request), expect=_has_id
        )
        return ImpiloOrder.from_json(data)

    def fetch_order(self, impilo_id: int) -> ImpiloOrder:
        # Reference: docs/impilo.md#fetch-order-and-list-orders (GET /api/v3/order/{orderId})
        data = self._call(
            Action.ORDER_FETCH, "GET", f"/api/v3/order/{int(impilo_id)}", expect=_has_id
        )
        return ImpiloOrder.from_json(data)

    def list_orders(self, *, page: int = 1, size: int = MAX_PAGE_SIZE) -> Page[ImpiloOrder]:
        # Reference: docs/impilo.md#fetch-order-and-list-orders (GET /api/v3/order → Page)
        params = _paging(page, size)
        data = self._call(Action.ORDER_LIST, "GET", "/api/v3/order", params=params, expect=_is_page)
        return Page.from_json(data, ImpiloOrder)

    # --- Patients -------------------------------------------------------------------------

    def search_patients(
        self,
        *,
        name: str | None = None,
        external_identifier: str | None = None,
        ids: Iterable[int] | None = None,
        site_id: int | None = None,
        date_of_birth_min: date | None = None,
        date_of_birth_max: date | None = None,
        archived: bool | None = None,
        page: int = 1,
        size: int = 15,
    ) -> Page[Patient]:
        # Reference: docs/impilo.md#search-patients (GET /api/v3/patient → Page of Patient)
        params = _paging(page, size)
        params += _param("name", name) + _param("externalIdentifier", external_identifier)
        params += [("id", str(int(patient_id))) for patient_id in ids or ()]
        params += _param("siteId", site_id) + _param("archived", archived)
        params += _param("dateOfBirthMin", date_of_birth_min)
        params += _param("dateOfBirthMax", date_of_birth_max)
        data = self._call(
            Action.PATIENT_SEARCH, "GET", "/api/v3/patient", params=params, expect=_is_page
        )
        return Page.from_json(data, Patient)

    # --- Kits -----------------------------------------------------------------------------

    def list_kits(
        self, *, page: int = 1, size: int = MAX_PAGE_SIZE, archived: bool | None = False
    ) -> Page[Kit]:
        # Reference: docs/impilo.md#list-kits (the path is unpublished: IMPILO_KITS_PATH)
        params = _paging(page, size) + _param("archived", archived)
        data = self._call(
            Action.KIT_LIST, "GET", settings.IMPILO_KITS_PATH, params=params, expect=_is_page
        )
        return Page.from_json(data, Kit)

    # --- The one way out ------------------------------------------------------------------

    def _call(
        self,
        action: str,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: str | None = None,
        expect: ShapeCheck,
    ) -> JSON:
        request = requests.Request(
            method,
            self.base_url + "/" + path.lstrip("/"),
            params=params or [],
            data=body.encode("utf-8") if body is not None else None,
        )
        audit = AuditContext(
            action=action, actor=self.actor, order=self.order, attempt=self.attempt
        )
        _drop_idle_connections(self.session)
        try:
            response = self.session.send(
                self.session.prepare_request(request), audit=audit, expect=expect
            )
        finally:
            _local.last_used = time.monotonic()
        data: JSON = response.json()
        return data


def _paging(page: int, size: int) -> Params:
    if page < 1:
        raise ValueError(f"Impilo pages start at 1, got {page}")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValueError(f"Impilo page size must be 1 to {MAX_PAGE_SIZE}, got {size}")
    return [("page", str(page)), ("size", str(size))]


def _param(name: str, value: str | int | bool | date | None) -> Params:
    if value is None:
        return []
    if isinstance(value, bool):
        return [(name, "true" if value else "false")]
    if isinstance(value, date):
        return [(name, value.isoformat())]
    return [(name, str(value))]


def _has_id(data: JSON) -> str | None:
    # A created order without an id could not be found again: treat it as unreadable.
    return None if as_int(data.get("id")) is not None else "its reply had no order id"


def _is_page(data: JSON) -> str | None:
    return None if isinstance(data.get("content"), list) else "its reply had no list of results"
