"""The audit log: one ApiCall row per request orderdesk sends to Impilo.

Rows are append-only. The model refuses updates and deletes; on PostgreSQL a trigger
(migration 0002) refuses them too, so not even raw SQL from the app can rewrite history.
The only way out is ApiCall.objects.prune(), for old calls that belong to no order.

Bodies and headers are kept once per distinct text in AuditBlob (audit/blobs.py); a row
reads them through its request_body, response_body, ... properties as if they were columns.
"""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from orderdesk.audit import blobs, redact


class Outcome(models.TextChoices):
    OK = "ok", "OK"
    REJECTED = "rejected", "Rejected"
    AUTH = "auth", "Not authorised"
    NOT_FOUND = "not_found", "Not found"
    RATE_LIMITED = "rate_limited", "Rate limited"
    UNAVAILABLE = "unavailable", "Impilo unreachable"
    AMBIGUOUS = "ambiguous", "Outcome unknown"


# error_class of a call whose process stopped before it could record the outcome.
PROCESS_STOPPED = "ProcessStopped"


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit row."""


class ApiCallQuerySet(models.QuerySet["ApiCall"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit rows cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit rows cannot be deleted; use ApiCall.objects.prune().")

    def prune(self, older_than: datetime, actions: Iterable[str] | None = None) -> int:
        """Delete calls made before older_than that belong to no order; return how many.

        Only for the retention command. Rows of an order are the evidence of what Impilo
        was asked to do for it, so they are kept whatever their age.
        """
        doomed = self.filter(order__isnull=True, at__lt=older_than)
        if actions is not None:
            doomed = doomed.filter(action__in=list(actions))
        # _raw_delete skips the refusing delete() above; no model points at ApiCall, so
        # there is nothing for Django's collector to cascade.
        removed = int(doomed._raw_delete(doomed.db))
        if removed:
            AuditBlob.objects.unused().delete()
        return removed


ApiCallManager = models.Manager.from_queryset(ApiCallQuerySet)


class RequestColumns(models.Model):
    """What a call sent and for whom: kept alike by the pending row written before the
    send and by the ApiCall row that replaces it."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # order_create, order_fetch, order_list, patient_search, kit_list
    action = models.CharField(max_length=40)
    attempt = models.PositiveIntegerField(null=True, blank=True)
    method = models.CharField(max_length=8)
    url = models.TextField()  # the API key redacted
    request_body_truncated = models.BooleanField(default=False)

    class Meta:
        abstract = True


class AuditBlobQuerySet(models.QuerySet["AuditBlob"]):
    def unused(self) -> "AuditBlobQuerySet":
        """Blobs no call refers to any more (what pruning leaves behind)."""
        unused = self
        for link in BLOB_LINKS:
            refs = ApiCall.objects.filter(**{f"{link}_blob_id": models.OuterRef("pk")})
            unused = unused.exclude(models.Exists(refs))
        return unused


class AuditBlob(models.Model):
    """One distinct body or header text of the audit log, zlib-compressed (blobs.py).

    Written once and never changed; removed only by pruning, once no call refers to it."""

    digest = models.BinaryField(max_length=32, unique=True)  # SHA-256 of the UTF-8 text
    data = models.BinaryField()
    chars = models.PositiveIntegerField()  # the text's length in characters

    objects = models.Manager.from_queryset(AuditBlobQuerySet)()

    def __str__(self) -> str:
        return f"{bytes(self.digest).hex()[:12]} ({self.chars} characters)"

    @property
    def text(self) -> str:
        return blobs.unpack(self.data)


def _blob_link() -> Any:
    # No index and no database constraint: rows are looked up by call, never by blob, and
    # pruning removes only blobs no call refers to (AuditBlob.objects.unused()).
    return models.ForeignKey(
        AuditBlob,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )


BLOB_LINKS = ("request_headers", "request_body", "response_headers", "response_body")
HEADER_LINKS = {"request_headers": "request", "response_headers": "response"}


def _stored_text(link: str) -> property:
    """A body or header dict read from its blob, or set before the row is saved."""

    def read(call: "ApiCall") -> Any:
        texts = call.__dict__.setdefault("_texts", {})
        if link not in texts:
            texts[link] = call.read_blob(link)
        return texts[link]

    def write(call: "ApiCall", value: Any) -> None:
        call.__dict__.setdefault("_texts", {})[link] = value

    return property(read, write)


class ApiCall(RequestColumns):
    at = models.DateTimeField(default=timezone.now)
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_calls",
    )
    request_id = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    request_headers_blob = _blob_link()
    request_body_blob = _blob_link()
    response_headers_blob = _blob_link()
    response_body_blob = _blob_link()
    # The per-call header values left out of the shared header blobs, by side.
    header_values = models.JSONField(default=dict, blank=True)
    response_body_truncated = models.BooleanField(default=False)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error_class = models.CharField(max_length=100, blank=True)
    error_message = models.TextField(blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome)

    objects = ApiCallManager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["-at", "-id"], name="apicall_at_idx"),
            models.Index(fields=["order", "at"], name="apicall_order_idx"),
            models.Index(fields=["action", "-at"], name="apicall_action_idx"),
            models.Index(fields=["outcome", "-at"], name="apicall_outcome_idx"),
            models.Index(fields=["status_code", "-at"], name="apicall_status_idx"),
            models.Index(fields=["request_id"], name="apicall_request_id_idx"),
        ]

    def __str__(self) -> str:
        status = self.status_code or self.error_class or "no response"
        return f"{self.action} {self.method} {status} ({self.outcome})"

    request_headers = _stored_text("request_headers")
    request_body = _stored_text("request_body")
    response_headers = _stored_text("response_headers")
    response_body = _stored_text("response_body")

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit rows cannot be updated.")
        link_blobs([self])
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit rows cannot be deleted.")

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        self.__dict__.pop("_texts", None)
        super().refresh_from_db(*args, **kwargs)

    def read_blob(self, link: str) -> Any:
        blob_id = getattr(self, f"{link}_blob_id")
        text = getattr(self, f"{link}_blob").text if blob_id else ""
        if link in HEADER_LINKS:
            own = self.header_values.get(HEADER_LINKS[link], {})
            return blobs.join_headers(text, own, self.request_id)
        return text

    @property
    def process_stopped(self) -> bool:
        """Written by recovery (audit/pending.py): the caller died before the outcome."""
        return self.error_class == PROCESS_STOPPED


def link_blobs(calls: list[ApiCall]) -> None:
    """Store the bodies and headers of unsaved calls as blobs and point the calls at them
    (bulk loaders call this before bulk_create; save() does it for one)."""
    texts: dict[tuple[int, str], str] = {}
    for index, call in enumerate(calls):
        given = call.__dict__.get("_texts", {})
        for link in BLOB_LINKS:
            value: Any = given.get(link) or ""
            if link in HEADER_LINKS:
                value, own = blobs.split_headers(dict(value or {}), call.request_id)
                if own:
                    call.header_values[HEADER_LINKS[link]] = own
                value = "" if value == "{}" else value
            if value:
                texts[index, link] = value
    ids = blobs.store(texts.values())
    for index, call in enumerate(calls):
        for link in BLOB_LINKS:
            text = texts.get((index, link))
            setattr(call, f"{link}_blob_id", ids[text] if text else None)


class PendingCall(RequestColumns):
    """A request about to be sent: written and committed before its bytes go out, and
    replaced by the call's ApiCall row in one transaction once its outcome is known.

    If the process dies mid-call the row stays, and audit.pending.recover_orphans turns it
    into an ApiCall of unknown outcome: every request Impilo received has an audit row.
    Redacted like ApiCall (models.record's rules), since it is stored too.
    """

    request_headers = models.JSONField(default=dict)
    request_body = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, unique=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    order = models.ForeignKey(
        "orders.Order",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="pending_calls",
    )

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.method} in flight since {self.at:%H:%M:%S}"


@sensitive_variables()
def record(
    *,
    action: str,
    method: str,
    url: str,
    outcome: str,
    request_id: str = "",
    actor: Any = None,
    order: Any = None,
    attempt: int | None = None,
    at: datetime | None = None,
    request_headers: Mapping[str, object] | None = None,
    request_body: str | bytes | None = None,
    status_code: int | None = None,
    response_headers: Mapping[str, object] | None = None,
    response_body: str | bytes | None = None,
    duration_ms: int | None = None,
    error_class: str = "",
    error_message: str = "",
    request_body_truncated: bool = False,
) -> ApiCall:
    """Write one audit row, redacting the API key everywhere and capping the bodies.

    Column lengths are enforced here rather than by the database: a row that fails to
    insert is a request with no record, which is worse than a shortened label.
    """
    key = settings.IMPILO_API_KEY
    cap = body_cap()
    request = request_columns(
        actor=actor,
        order=order,
        action=action,
        attempt=attempt,
        method=method,
        url=url,
        request_headers=request_headers,
        request_body=request_body,
    )
    request["request_body_truncated"] |= request_body_truncated
    resp_body, resp_cut = redact.clean_body(response_body, key, cap)
    message, _ = redact.clean_body(error_message, key, cap)
    # Keywords: the bodies and headers are properties that save() stores as blobs.
    fields: dict[str, Any] = dict(
        **request,
        at=at or timezone.now(),
        request_id=_short(request_id, 64, key),
        status_code=status_code,
        response_headers=redact.redact_headers(response_headers or {}, key),
        response_body=resp_body,
        response_body_truncated=resp_cut,
        duration_ms=duration_ms,
        error_class=_short(error_class, 100, key),
        error_message=message,
        outcome=outcome,
    )
    return ApiCall.objects.create(**fields)


@sensitive_variables()
def request_columns(
    *,
    action: str,
    method: str,
    url: str,
    actor: Any = None,
    order: Any = None,
    attempt: int | None = None,
    request_headers: Mapping[str, object] | None = None,
    request_body: str | bytes | None = None,
) -> dict[str, Any]:
    """RequestColumns' values for a call, the API key redacted and the body capped."""
    key = settings.IMPILO_API_KEY
    body, cut = redact.clean_body(request_body, key, body_cap())
    # actor and order may be given as instances or as primary keys.
    return {
        "actor_id" if isinstance(actor, int) else "actor": actor,
        "order_id" if isinstance(order, int) else "order": order,
        "action": _short(action, 40, key),
        "attempt": attempt,
        "method": _short(method, 8, key),
        "url": redact.clean_text(redact.redact_text(url, key)),
        "request_headers": redact.redact_headers(request_headers or {}, key),
        "request_body": body,
        "request_body_truncated": cut,
    }


def body_cap() -> int:
    return int(getattr(settings, "AUDIT_BODY_CAP_BYTES", 256 * 1024))


@sensitive_variables()
def _short(text: str, length: int, key: str) -> str:
    return redact.clean_text(redact.redact_text(text, key))[:length]


# --- Who looked at the audit log (recorded by audit/viewlog.py) ---------------------------


class ViewKind(models.TextChoices):
    LIST = "list", "Audit list page"
    DETAIL = "detail", "Audit detail page"
    ORDER = "order", "Order page's Impilo requests"


class AuditViewQuerySet(models.QuerySet["AuditView"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("The audit viewing log cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The audit viewing log cannot be deleted.")


class AuditView(models.Model):
    """One row per page view of audit rows: who saw which calls, when, with what filters."""

    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=8, choices=ViewKind)
    # No database constraint: pruning old calls must not touch this log, and this log
    # must not block pruning. The id stays, whether or not the call does.
    apicall = models.ForeignKey(
        ApiCall,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    apicall_ids = models.JSONField(default=list, blank=True)  # every row shown
    query = models.TextField(blank=True)

    objects = models.Manager.from_queryset(AuditViewQuerySet)()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["viewer", "-at"], name="auditview_viewer_idx"),
            models.Index(fields=["-at"], name="auditview_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.viewer_id} viewed {self.kind} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("The audit viewing log cannot be updated.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("The audit viewing log cannot be deleted.")
